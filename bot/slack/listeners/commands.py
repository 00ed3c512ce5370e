"""The `/brief` slash command: answered in the acknowledgement itself, well inside 3 seconds."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.replies import BriefReply
from bot.slack.middleware import REQUEST_CONTEXT
from bot.slack.registry import SLASH_COMMANDS
from bot.slack.services import SORRY, SlackServices

log = logging.getLogger("bot.slack")


def register(app: AsyncApp, services: SlackServices) -> None:
    """Register `/brief`."""

    @app.command(SLASH_COMMANDS[0])
    async def brief_command(
        ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """`/brief TEXT`: answered in the acknowledgement, ephemeral unless the settings say so."""
        started = time.perf_counter()
        text = str(command.get("text") or "")
        try:
            reply = await services.answer(text, context[REQUEST_CONTEXT])
            payload = services.payload(reply, interactive=True)
        except Exception:
            log.exception("failed to answer /brief")
            await ack(text=SORRY, response_type="ephemeral")
            return
        visibility = (
            services.settings.default_visibility if isinstance(reply, BriefReply) else "ephemeral"
        )
        await ack(
            text=payload["text"],
            blocks=payload["blocks"],
            response_type=visibility,
            unfurl_links=False,
            unfurl_media=False,
        )
        services.observe("/brief", reply, started=started, user=command.get("user_id"), query=text)
