"""The `/brief` slash command: answered in the acknowledgement itself, well inside 3 seconds."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot.replies import BriefReply
from bot.slack.middleware import asker, observe, services_of


async def brief_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
    """`/brief TEXT`: answered in the acknowledgement, ephemeral unless the settings say so.

    If answering fails, `bot.slack.middleware.on_error` acknowledges with an apology.
    """
    services = services_of(context)
    text = str(command.get("text") or "")
    reply = await services.answer(text, asker(context))
    payload = services.payload(reply, interactive=True)
    visibility = services.settings.default_visibility if isinstance(reply, BriefReply) else None
    await ack(
        text=payload["text"],
        blocks=payload["blocks"],
        response_type=visibility or "ephemeral",
        unfurl_links=False,
        unfurl_media=False,
    )
    observe(context, str(command.get("command") or "/brief"), reply, query=text)
