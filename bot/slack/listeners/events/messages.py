"""Mentions in channels (answered in a thread) and direct messages (answered in the DM).

Each delivery was claimed by its `event_id` before it was acknowledged (`bot.slack.middleware`),
so a retried event never reaches these listeners twice. Every reply carries the event id in its
metadata, so a post whose answer from Slack was lost is found rather than posted again.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.middleware import asker, observe, reply_target, services_of


async def from_a_person(event: dict[str, Any]) -> bool:
    """Bolt matcher: not written by a bot (the bot's own replies come back as events too)."""
    return not event.get("bot_id")


async def answer_mention(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """`@briefbot ...` in a channel: answered in a thread on the mention."""
    await _answer("app_mention", body, event, client, context)


async def answer_direct_message(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """A direct message to the bot (a file or a broadcast thread reply too): answered there."""
    await _answer("message.im", body, event, client, context)


async def _answer(
    command: str,
    body: dict[str, Any],
    event: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    services = services_of(context)
    text = str(event.get("text") or "")
    reply = await services.answer(text, asker(context))
    error = await services.post_reply(client, reply, reply_target(body, event))
    observe(context, command, reply, query=text, slack_error=error)
