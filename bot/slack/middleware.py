"""Bolt middleware: what every request needs before a listener runs, and the app's error handler.

In order:
- `provide_services`: the one place listeners get their services from (`services_of(context)`),
  and the moment the request started, for its latency.
- `acknowledge_rate_limit_notices`: `app_rate_limited` notices are acknowledged (200): Slack
  counts a failed delivery against the app and may disable event subscriptions.
- `claim_event`: each Events API delivery is claimed by its `event_id` before it is
  acknowledged, so a retry or a second replica never answers twice. A dropped database
  connection is replaced and the claim made once more (`bot.db.with_reconnect`); if it still
  fails, Slack is answered 503 and retries.
- `apply_access_policy`: who asked and where (`RequestContext`) is worked out once, for every
  kind of request, and stored in the context. Commands and events are answered by the handler,
  which says where the bot can be used; buttons, shortcuts and other interactions from places
  the policy refuses are answered with the same explanation, privately, and not run.

Bolt's `next()` does not wrap the listener (it only lets the chain go on), so what must happen
after a listener is done by `observe` (the request log line and metrics, timed from
`provide_services`), which every listener calls once, and by `on_error`, Bolt's error handler:
the apology when a listener fails, and a quiet 200 for events no listener takes (edits, other
bots' messages), which Slack would otherwise retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.access import RequestContext
from bot.replies import ErrorReply, Reply
from bot.slack.sending import PostTarget
from bot.slack.services import COMMAND_APOLOGY, SORRY, SlackServices

log = logging.getLogger("bot.slack")

SERVICES = "briefbot_services"
"""The key of the `SlackServices` in Bolt's context."""
STARTED = "briefbot_started"
"""The key of the request's start (`time.perf_counter()`) in Bolt's context."""
REQUEST_CONTEXT = "request_context"
"""The key of the `RequestContext` in Bolt's context."""

Next = Callable[[], Awaitable[None]]


def register(app: AsyncApp, services: SlackServices) -> None:
    """Install the middleware on `app`, in the order the module docstring lists, and `on_error`."""

    async def provide_services(context: AsyncBoltContext, next: Next) -> None:
        context[SERVICES] = services
        context[STARTED] = time.perf_counter()
        await next()

    app.middleware(provide_services)
    app.middleware(acknowledge_rate_limit_notices)
    app.middleware(claim_event)
    app.middleware(apply_access_policy)
    app.error(on_error)


def services_of(context: AsyncBoltContext) -> SlackServices:
    """The services `provide_services` put in the context."""
    return cast(SlackServices, context[SERVICES])


def asker(context: AsyncBoltContext) -> RequestContext:
    """Who asked and where, as `apply_access_policy` worked it out."""
    return cast(RequestContext, context[REQUEST_CONTEXT])


def observe(
    context: AsyncBoltContext,
    command: str,
    reply: Reply,
    *,
    query: str,
    slack_error: str | None = None,
    clicked: bool = False,
) -> None:
    """The request log line and metrics for an answered request, timed from its start."""
    services_of(context).observe(
        command,
        reply,
        started=context[STARTED],
        user=asker(context).user_id,
        query=query,
        slack_error=slack_error,
        clicked=clicked,
    )


async def acknowledge_rate_limit_notices(body: dict[str, Any], next: Next) -> BoltResponse | None:
    """Answer Slack's `app_rate_limited` notices 200, with a warning in the log."""
    if body.get("type") == "app_rate_limited":
        log.warning(
            "Slack is rate-limiting event deliveries to this app",
            extra={"minute": body.get("minute_rate_limited")},
        )
        return BoltResponse(status=200, body="")
    await next()
    return None


async def claim_event(
    body: dict[str, Any], context: AsyncBoltContext, next: Next
) -> BoltResponse | None:
    """Let an Events API delivery through only the first time its `event_id` is seen."""
    event_id = body.get("event_id")
    if body.get("type") != "event_callback" or not event_id:
        await next()
        return None
    services = services_of(context)
    claimed = await claim(services, str(event_id), str(body["event"]["type"]))
    if claimed is None:
        return BoltResponse(status=503, body="")  # our failure: Slack retries the event
    if not claimed:
        log.info("duplicate event ignored", extra={"event_id": event_id})
        return BoltResponse(status=200, body="")
    await next()
    return None


async def apply_access_policy(
    body: dict[str, Any], context: AsyncBoltContext, next: Next
) -> BoltResponse | None:
    """Store who asked and where; refuse, privately, interactions from where the bot is not used."""
    services = services_of(context)
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


async def on_error(
    error: Exception,
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Bolt's error handler: ignored events get 200; a failed listener, the apology.

    A slash command not yet acknowledged gets the apology as its answer; an event, a reply
    where the answer would have gone; a button, a private message through its response_url.
    """
    if isinstance(error, BoltUnhandledRequestError):
        if body.get("type") == "event_callback":
            return BoltResponse(status=200, body="")  # an edit, a notice, another bot: not ours
        log.info("request no listener takes", extra={"request_type": _kind(body)})
        return None  # an unknown command or action: Bolt's 404
    log.error("listener failed", exc_info=error, extra={"request_type": _kind(body)})
    services = context.get(SERVICES)
    if not isinstance(services, SlackServices):
        return None
    if "command" in body:
        if response is None:  # already acknowledged
            return None
        return BoltResponse(status=200, body=dict(COMMAND_APOLOGY))
    event = body.get("event")
    if isinstance(event, dict) and "channel" in event:
        reply: Reply = ErrorReply(SORRY)
        await services.post_reply(client, reply, reply_target(body, event))
        return None
    response_url = body.get("response_url")
    if isinstance(response_url, str) and response_url:
        apology = {"text": SORRY, "response_type": "ephemeral", "replace_original": False}
        await services.respond(response_url, apology, keep_for_apology=False)
    return None


def reply_target(body: dict[str, Any], event: dict[str, Any]) -> PostTarget:
    """Where the answer to an event goes: a mention's thread (started on it if need be), or the
    direct message (its thread if any); marked with the event's id against duplicates."""
    thread_ts = event.get("thread_ts")
    if event.get("type") == "app_mention":
        thread_ts = thread_ts or event.get("ts")
    return PostTarget(
        channel=str(event["channel"]),
        thread_ts=thread_ts,
        key=str(body.get("event_id") or event.get("ts") or ""),
        after_ts=event.get("ts"),
    )


def _kind(body: dict[str, Any]) -> str:
    return str(body.get("command") or body.get("type") or "unknown")


async def claim(services: SlackServices, event_id: str, event_type: str) -> bool | None:
    """Claim `event_id`: True if this is its first delivery, False for a retry, None when the
    database cannot record it (after `Database.claim_event`'s one reconnect)."""
    try:
        return await asyncio.to_thread(services.db.claim_event, event_id, event_type)
    except SQLAlchemyError as exc:
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


def request_context(body: Mapping[str, Any]) -> RequestContext:
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
    view = body.get("view")
    from_home = isinstance(view, dict) and view.get("type") == "home"  # answered in the DM
    return RequestContext(
        surface="slack",
        user_id=_id(body.get("user")),
        channel_id=channel_id,
        channel_type="im" if from_home or (channel_id or "").startswith("D") else "channel",
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
