"""Mentions in channels (answered in a thread) and direct messages (answered in the DM).

Each delivery was claimed by its `event_id` before it was acknowledged (`bot.slack.middleware`),
so a retried event never reaches these listeners twice. Every reply carries the event id in its
metadata, so a post whose answer from Slack was lost is found rather than posted again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import RequestContext
from bot.replies import ErrorReply, Reply
from bot.slack.middleware import REQUEST_CONTEXT
from bot.slack.sending import PostTarget
from bot.slack.services import SORRY, SlackServices

log = logging.getLogger("bot.slack")

PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})
"""Message subtypes written by a person. Others (`bot_message`, `message_changed`,
`message_deleted`, `channel_join`, ...) are edits, deletions or notices, never questions."""


def register(app: AsyncApp, services: SlackServices) -> None:
    """Register `app_mention` and `message` (direct messages) listeners."""

    async def answer(
        client: AsyncWebClient,
        body: dict[str, Any],
        event: dict[str, Any],
        context: RequestContext,
        *,
        thread_ts: str | None,
    ) -> None:
        started = time.perf_counter()
        text = str(event.get("text") or "")
        reply: Reply
        try:
            reply = await services.answer(text, context)
        except Exception:
            log.exception("failed to answer a message", extra={"event_id": body.get("event_id")})
            reply = ErrorReply(SORRY)
        target = PostTarget(
            channel=str(event["channel"]),
            thread_ts=thread_ts,
            key=str(body.get("event_id") or event.get("ts") or ""),
            after_ts=event.get("ts"),
        )
        error = await services.post_reply(client, reply, target)
        command = "app_mention" if context.channel_type == "channel" else "message.im"
        services.observe(
            command, reply, started=started, user=event.get("user"), query=text, slack_error=error
        )

    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """`@briefbot ...` in a channel: answered in a thread on the mention."""
        if event.get("bot_id"):
            return
        thread_ts = event.get("thread_ts") or event.get("ts")
        await answer(client, body, event, context[REQUEST_CONTEXT], thread_ts=thread_ts)

    @app.event("message")
    async def on_message(
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """A direct message to the bot (a file or a broadcast thread reply too): answered there."""
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") not in PERSON_SUBTYPES:
            return
        await answer(
            client, body, event, context[REQUEST_CONTEXT], thread_ts=event.get("thread_ts")
        )
