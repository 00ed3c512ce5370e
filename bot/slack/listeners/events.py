"""Mentions in channels (answered in a thread) and direct messages (answered in the DM).

Slack retries an event it thinks was not acknowledged; each `event_id` is claimed in the database
first, so a retry, or the same event reaching another replica, never produces a second reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import RequestContext
from bot.slack.services import SlackServices

log = logging.getLogger("bot.slack")


def register(app: AsyncApp, services: SlackServices) -> None:
    """Register `app_mention` and `message` (direct messages) listeners."""

    async def first_delivery(body: dict[str, Any]) -> bool:
        event_id = str(body.get("event_id") or "")
        if not event_id:
            return True
        event_type = str(body.get("event", {}).get("type", ""))
        fresh = await asyncio.to_thread(services.db.claim_event, event_id, event_type)
        if not fresh:
            log.info("duplicate event ignored", extra={"event_id": event_id})
        return fresh

    async def answer(
        client: AsyncWebClient, event: dict[str, Any], *, thread_ts: str | None, channel_type: str
    ) -> None:
        context = RequestContext(
            surface="slack",
            user_id=event.get("user"),
            channel_id=event.get("channel"),
            channel_type=channel_type,
            prefix="@briefbot",
        )
        started = time.perf_counter()
        text = str(event.get("text") or "")
        reply = services.handler.handle(text, context)
        payload = services.payload(reply, interactive=False)
        error = await services.post_message(
            client, channel=str(event["channel"]), thread_ts=thread_ts, **payload
        )
        command = "app_mention" if channel_type == "channel" else "message.im"
        services.observe(
            command, reply, started=started, user=event.get("user"), query=text, slack_error=error
        )

    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """`@briefbot ...` in a channel: answered in a thread on the mention."""
        if event.get("bot_id") or not await first_delivery(body):
            return
        await answer(
            client,
            event,
            thread_ts=event.get("thread_ts") or event.get("ts"),
            channel_type="channel",
        )

    @app.event("message")
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """A direct message to the bot: answered in the DM."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        if not await first_delivery(body):
            return
        await answer(client, event, thread_ts=event.get("thread_ts"), channel_type="im")
