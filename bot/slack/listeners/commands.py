"""The `/brief` slash command: answered in the acknowledgement itself, well inside 3 seconds."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.access import RequestContext
from bot.replies import BriefReply
from bot.slack.registry import SLASH_COMMANDS
from bot.slack.services import SlackServices

log = logging.getLogger("bot.slack")

SORRY = "Sorry, something went wrong while preparing that brief. Please try again."


def register(app: AsyncApp, services: SlackServices) -> None:
    """Register `/brief`."""

    @app.command(SLASH_COMMANDS[0])
    async def brief_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        """`/brief TEXT`: answered in the acknowledgement, ephemeral unless the settings say so."""
        started = time.perf_counter()
        text = str(command.get("text") or "")
        context = RequestContext(
            surface="slack",
            user_id=command.get("user_id"),
            channel_id=command.get("channel_id"),
            channel_type=_channel_type(str(command.get("channel_name") or "")),
            prefix="/brief",
        )
        try:
            reply = services.handler.handle(text, context)
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


def _channel_type(channel_name: str) -> str:
    """Slash commands name the channel; DMs and private groups have special names."""
    return {"directmessage": "im", "privategroup": "private"}.get(channel_name, "channel")
