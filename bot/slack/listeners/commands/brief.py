"""The `/brief` slash command through Bolt (Socket Mode): answered in the acknowledgement.

Over HTTP, `bot.server` answers it through `bot.slack.slash.SlashLane` instead, with the same
reply, acknowledgement and log line.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot.slack.middleware import STARTED, services_of
from bot.slack.slash import observe_slash, slash_reply


async def brief_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
    """`/brief TEXT`: answered in the acknowledgement, ephemeral unless the settings say so.

    If answering fails, `bot.slack.middleware.on_error` acknowledges with the same apology the
    lane sends (`COMMAND_APOLOGY`).
    """
    services = services_of(context)
    reply = await slash_reply(services, command)
    await ack(services.command_ack(reply))
    observe_slash(services, command, reply, context[STARTED])
