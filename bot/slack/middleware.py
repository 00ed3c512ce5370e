"""Bolt middleware for what every request needs before any listener sees it.

- `app_rate_limited` notices are acknowledged (200): Slack counts a failed delivery against
  the app and may disable event subscriptions.
- Each Events API delivery is claimed by its `event_id` before it is acknowledged, so a retry
  or a second replica never answers twice. The claim is retried once after a dropped database
  connection; if it still fails, Slack is answered 503 and retries the event later.
- The access policy: who asked and where (`RequestContext`) is worked out once, for every kind
  of request, and stored in the context for the listeners. Commands and events are answered by
  the handler, which says where the bot can be used; buttons, shortcuts and other interactions
  from places the policy refuses are answered with the same explanation, privately, and not run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.access import RequestContext
from bot.slack.services import SlackServices

log = logging.getLogger("bot.slack")

REQUEST_CONTEXT = "request_context"
"""The key of the `RequestContext` in Bolt's context."""

Next = Callable[[], Awaitable[None]]


def register(app: AsyncApp, services: SlackServices) -> None:
    """Install the middleware on `app`, in the order the module docstring lists."""

    @app.middleware
    async def acknowledge_rate_limit_notices(
        body: dict[str, Any], next: Next
    ) -> BoltResponse | None:
        if body.get("type") == "app_rate_limited":
            log.warning(
                "Slack is rate-limiting event deliveries to this app",
                extra={"minute": body.get("minute_rate_limited")},
            )
            return BoltResponse(status=200, body="")
        await next()
        return None

    @app.middleware
    async def claim_event(body: dict[str, Any], next: Next) -> BoltResponse | None:
        event_id = body.get("event_id")
        if body.get("type") != "event_callback" or not event_id:
            await next()
            return None
        claimed = await claim_with_one_retry(services, str(event_id), str(body["event"]["type"]))
        if claimed is None:
            return BoltResponse(status=503, body="")  # our failure: Slack retries the event
        if not claimed:
            log.info("duplicate event ignored", extra={"event_id": event_id})
            return BoltResponse(status=200, body="")
        await next()
        return None

    @app.middleware
    async def apply_access_policy(
        body: dict[str, Any], context: AsyncBoltContext, next: Next
    ) -> BoltResponse | None:
        ctx = request_context(body)
        context[REQUEST_CONTEXT] = ctx
        if is_interaction(body) and not services.handler.access.may_answer(ctx):
            log.info(
                "interaction refused: the bot does not answer there",
                extra={
                    "request_type": body.get("type"),
                    "channel": ctx.channel_id,
                    "user": ctx.user_id,
                },
            )
            response_url = body.get("response_url")
            if isinstance(response_url, str) and response_url:
                reply = services.handler.not_allowed()
                payload = {
                    **services.payload(reply, interactive=False),
                    "response_type": "ephemeral",
                    "replace_original": False,
                }
                services.spawn(services.respond(response_url, payload, keep_for_apology=False))
            return BoltResponse(status=200, body="")
        await next()
        return None


async def claim_with_one_retry(
    services: SlackServices, event_id: str, event_type: str
) -> bool | None:
    """Claim `event_id`: True if this is its first delivery, False for a retry, None on failure.

    A database that dropped its connections (a restart, terminated backends) fails the first
    attempt; the pool then replaces them and one retry goes through.
    """
    for attempt in (1, 2):
        try:
            return await asyncio.to_thread(services.db.claim_event, event_id, event_type)
        except SQLAlchemyError as exc:
            if attempt == 1:
                log.warning(
                    "could not record the event; retrying once",
                    extra={"event_id": event_id, "error": type(exc).__name__},
                )
                continue
            log.error(
                "could not record the event; asking Slack to retry it",
                extra={"event_id": event_id, "error": type(exc).__name__},
            )
    return None


def is_interaction(body: dict[str, Any]) -> bool:
    """Buttons, shortcuts, modals, menus: anything that is not a command or an Events API call."""
    return "command" not in body and body.get("type") not in (
        None,
        "event_callback",
        "url_verification",
        "ssl_check",
        "app_rate_limited",
    )


def request_context(body: dict[str, Any]) -> RequestContext:
    """Who asked and where, for any kind of request Slack sends."""
    if "command" in body:
        return RequestContext(
            surface="slack",
            user_id=body.get("user_id"),
            channel_id=body.get("channel_id"),
            channel_type=_slash_channel_type(str(body.get("channel_name") or "")),
            prefix=str(body.get("command") or "/brief"),
        )
    event = body.get("event")
    if isinstance(event, dict):
        channel = event.get("channel")
        return RequestContext(
            surface="slack",
            user_id=_id(event.get("user")),
            channel_id=_id(channel),
            channel_type="im" if event.get("channel_type") == "im" else "channel",
            prefix="@briefbot",
        )
    container = body.get("container")
    in_container = container.get("channel_id") if isinstance(container, dict) else None
    channel_id = _id(body.get("channel")) or _id(in_container)
    return RequestContext(
        surface="slack",
        user_id=_id(body.get("user")),
        channel_id=channel_id,
        channel_type="im" if (channel_id or "").startswith("D") else "channel",
        prefix="/brief",
    )


def _id(value: Any) -> str | None:
    """An id given as a string, or as an object's `id`."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _slash_channel_type(channel_name: str) -> str:
    """Slash commands name the channel; DMs and private groups have special names."""
    return {"directmessage": "im", "privategroup": "private"}.get(channel_name, "channel")
