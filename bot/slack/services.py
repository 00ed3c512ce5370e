"""What the Slack listeners share: the handler, message building, the database, and sending.

Every payload leaves through `SlackServices.post_message` or `SlackServices.respond`, which check
it against Slack's limits first and retry Slack's transient failures (429 honouring
`Retry-After`, 500/503, connection errors) a bounded number of times.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.commands import CommandHandler
from bot.config import Settings
from bot.db import Database
from bot.metrics import Metrics
from bot.replies import BriefReply, HelpReply, NotFoundReply, Reply, TopicsReply
from bot.slack.limits import ensure_within_limits
from bot.slack.messages import MessageBuilder, recompose_with

log = logging.getLogger("bot.slack")

MAX_RETRIES = 3
"""Retries per Slack call for each kind of transient failure."""

RETRY_BASE_SECONDS = 0.25
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})

APOLOGY = "Sorry, Briefbot could not reach Slack to answer just now. Please try again in a minute."


def retry_handlers() -> list[AsyncRetryHandler]:
    """Retry policy for every Slack call: connection errors, 429 (Retry-After), 500/503."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=MAX_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=MAX_RETRIES),
    ]


def make_web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: Slack's URL from settings (a fake in tests), with retries."""
    token = settings.slack_bot_token.reveal() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token, base_url=settings.slack_api_url, retry_handlers=retry_handlers(), timeout=10
    )


PAYLOAD_CACHE_SIZE = 512
"""Rendered messages kept for reuse; a brief depends only on what `_cache_key` names."""


@dataclass
class SlackServices:
    """The pieces a listener needs, built once at start-up."""

    settings: Settings
    handler: CommandHandler
    builder: MessageBuilder
    db: Database
    metrics: Metrics = field(default_factory=Metrics)
    _cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = field(default_factory=OrderedDict)

    def payload(
        self, reply: Reply, *, interactive: bool, shared_by: str | None = None
    ) -> dict[str, Any]:
        """The message for a reply, cut to fit Slack's limits when it is a long brief.

        Briefs, help and topic lists are the same for everyone on a given day and fact-base
        version, so their rendered payloads are cached; replies echoing a query are not.
        """
        key = self._cache_key(reply, interactive, shared_by)
        cached = self._cache.get(key) if key else None
        if cached is not None:
            self._cache.move_to_end(key)  # type: ignore[arg-type]
            return cached
        recompose = recompose_with(self.handler, reply) if isinstance(reply, BriefReply) else None
        built = self.builder.build(
            reply, interactive=interactive, shared_by=shared_by, recompose=recompose
        )
        if key:
            self._cache[key] = built
            if len(self._cache) > PAYLOAD_CACHE_SIZE:
                self._cache.popitem(last=False)
        return built

    def _cache_key(
        self, reply: Reply, interactive: bool, shared_by: str | None
    ) -> tuple[Any, ...] | None:
        version = self.handler.knowledge.current.factbase.version
        if isinstance(reply, BriefReply):
            b = reply.brief
            return (
                "brief",
                version,
                b.topic_id,
                b.full,
                b.today,
                b.resolved_by,
                len(b.facts),
                b.stale,
                b.upcoming,
                interactive,
                shared_by,
            )
        if isinstance(reply, HelpReply):  # admins see more commands than others
            return (reply.kind, version, reply.prefix, interactive, reply.commands)
        if isinstance(reply, TopicsReply):
            return (reply.kind, version, reply.prefix, interactive)
        return None

    async def post_message(
        self, client: AsyncWebClient, *, channel: str, thread_ts: str | None = None, **payload: Any
    ) -> str | None:
        """chat.postMessage with limits checked first; Slack's error (logged) or None if posted."""
        ensure_within_limits(payload)
        try:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,  # sources are cited inline; previews would bury the brief
                unfurl_media=False,
                **payload,
            )
            return None
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            self.slack_failed("chat.postMessage", error, status=exc.response.status_code)
        except (TimeoutError, OSError) as exc:
            error = type(exc).__name__
            self.slack_failed("chat.postMessage", error)
        return error

    def slack_failed(self, method: str, error: str, *, status: int | None = None) -> None:
        """Log and count a Slack call that failed after its retries."""
        self.metrics.slack_errors.labels(method, error[:60]).inc()
        log.error(
            "slack call failed", extra={"method": method, "slack_error": error, "status": status}
        )

    def observe(
        self,
        command: str,
        reply: Reply,
        *,
        started: float,
        user: str | None,
        query: str,
        surface: str = "slack",
        slack_error: str | None = None,
    ) -> None:
        """One log line and the metrics for an answered request (the query, never a body)."""
        seconds = time.perf_counter() - started
        brief = reply.brief if isinstance(reply, BriefReply) else None
        self.metrics.requests.labels(command, reply.kind).inc()
        self.metrics.latency.labels(command).observe(seconds)
        if brief is not None:
            self.metrics.resolutions.labels(brief.resolved_by).inc()
        elif isinstance(reply, NotFoundReply):
            self.metrics.resolution_misses.inc()
        log.info(
            "request",
            extra={
                "command": command,
                "slack_error": slack_error,
                "outcome": reply.kind,
                "surface": surface,
                "topic": brief.topic_id if brief else None,
                "resolved_by": brief.resolved_by if brief else None,
                "latency_ms": round(seconds * 1000, 2),
                "user": user,
                "query": query[:200],
            },
        )

    async def respond(self, response_url: str, payload: dict[str, Any]) -> bool:
        """POST to a `response_url` with limits checked first and retries; False on failure.

        slack-sdk's webhook client retries only 429 itself, so 5xx and connection errors are
        retried here, with exponential back-off, up to `MAX_RETRIES` times.
        """
        ensure_within_limits(payload)
        client = AsyncWebhookClient(url=response_url, retry_handlers=retry_handlers(), timeout=10)
        failure = ""
        for attempt in range(MAX_RETRIES + 1):
            if attempt:
                await asyncio.sleep(RETRY_BASE_SECONDS * 2 ** (attempt - 1))
            try:
                response = await client.send_dict(payload)
            except (TimeoutError, OSError) as exc:
                failure = type(exc).__name__
                continue
            if response.status_code == 200:
                return True
            failure = f"HTTP {response.status_code}: {str(response.body)[:200]}"
            if response.status_code not in RETRYABLE_STATUSES:
                break
        self.slack_failed("response_url", failure)
        return False
