"""What the Slack listeners share: the handler, message building, the database, and sending.

Every payload leaves through `SlackServices.post_reply` or `SlackServices.respond`, which check
it against Slack's limits first and retry Slack's transient failures a bounded number of times
without posting twice (see `bot.slack.sending`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.access import RequestContext
from bot.commands import CommandHandler, parse_line
from bot.config import Settings
from bot.db import Database
from bot.lru import Lru
from bot.metrics import Metrics
from bot.replies import BriefReply, NotFoundReply, Reply
from bot.slack.clients import make_client
from bot.slack.home import HomeTabs
from bot.slack.limits import (
    MAX_TOTAL_BLOCKS_TEXT_CHARS,
    POST_MESSAGE_BLOCKS_TEXT_BUDGET,
    ensure_within_limits,
)
from bot.slack.messages import MessageBuilder
from bot.slack.sending import (
    MAX_ATTEMPTS,
    RETRY_BASE_SECONDS,
    PostTarget,
    ResponseUrlBudget,
    error_label,
    post_without_duplicates,
)
from bot.slack.work import EventWork
from bot.status_replies import HelpReply, TopicsReply

log = logging.getLogger("bot.slack")

MAX_RETRIES = 3
"""Retries of a 429 (honouring `Retry-After`) inside slack-sdk, per call."""
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
RECUT_TEXT_BUDGET = 7_000
"""Block text of a brief posted again after Slack refused it as too long."""
TOO_LONG_ERRORS = frozenset({"msg_blocks_too_long", "invalid_blocks"})

APOLOGY = "Sorry, Briefbot could not reach Slack to answer just now. Please try again in a minute."
SORRY = "Sorry, something went wrong while preparing that answer. Please try again."
COMMAND_APOLOGY: dict[str, Any] = {"text": SORRY, "response_type": "ephemeral"}
"""The acknowledgement of a slash command whose answer failed."""


def retry_handlers() -> list[AsyncRetryHandler]:
    """slack-sdk's own retries: only 429, which says nothing was stored.

    5xx answers and dropped connections may come after Slack stored a message, so they are
    retried by `bot.slack.sending` after looking for the message, never blindly.
    """
    return [AsyncRateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES)]


def make_web_client(settings: Settings, *, with_token: bool = True) -> AsyncWebClient:
    """The listeners' client: `bot.slack.clients.make_client` with `retry_handlers()` (429 only)
    and the replies' timeout (`BRIEFBOT_SLACK_REPLY_TIMEOUT_SECONDS`), after which a post is
    looked for.

    Without the token for the Bolt app, which takes it from its `authorize` result.
    """
    token = settings.slack_bot_token.reveal() if settings.slack_bot_token and with_token else None
    return make_client(
        AsyncWebClient,
        settings.slack_api_url,
        token=token,
        retry=retry_handlers(),
        timeout=settings.slack_reply_timeout_seconds,
    )


PAYLOAD_CACHE_SIZE = 512
"""Rendered messages kept for reuse; a brief depends only on what `cache_key` names."""


@dataclass
class SlackServices:
    """The pieces a listener needs, built once at start-up."""

    settings: Settings
    handler: CommandHandler
    builder: MessageBuilder
    db: Database
    metrics: Metrics = field(default_factory=Metrics)
    response_urls: ResponseUrlBudget = field(default_factory=ResponseUrlBudget)
    home: HomeTabs = field(default_factory=HomeTabs)
    work: EventWork = field(default_factory=EventWork)
    """What runs after a request was answered: event replies, refusals to buttons (bounded,
    drained at exit)."""
    _cache: Lru[dict[str, Any]] = field(default_factory=lambda: Lru(PAYLOAD_CACHE_SIZE))
    _encoded: Lru[bytes] = field(default_factory=lambda: Lru(PAYLOAD_CACHE_SIZE))

    async def answer(self, text: str, context: RequestContext) -> Reply:
        """The handler's reply: on the event loop, or in a thread for a command that may block.

        Answering a topic query, help or topics does no I/O (knowledge gaps are queued for
        `bot.db.gaps`' batch writer) and takes well under a millisecond, less than a hop to a
        thread; under load, such hops also hand the GIL back and forth with the loop, which is
        what made p99 climb (`bench/README.md`). Commands that read the database or reload
        (`Command.blocking`, `Line.blocks`) still run in a thread.
        """
        line = parse_line(text)
        if line.blocks:
            return await asyncio.to_thread(self.handler.handle, text, context, line=line)
        return self.handler.handle(text, context, line=line)

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        """Run `work` after the current request has been answered (`self.work`); errors are
        logged."""
        self.work.submit(work)

    def payload(
        self,
        reply: Reply,
        *,
        interactive: bool,
        shared_by: str | None = None,
        max_text_chars: int = MAX_TOTAL_BLOCKS_TEXT_CHARS,
    ) -> dict[str, Any]:
        """The message for a reply, cut to fit Slack's limits when it is a long brief.

        Briefs, help and topic lists are the same for everyone on a given day and fact-base
        version, so their rendered payloads are cached; replies echoing a query are not.
        """

        def build() -> dict[str, Any]:
            return self.builder.build(
                reply, interactive=interactive, shared_by=shared_by, max_text_chars=max_text_chars
            )

        key = self.cache_key(reply, interactive=interactive, shared_by=shared_by)
        return build() if key is None else self._cache.get_or_make((*key, max_text_chars), build)

    def command_ack(self, reply: Reply) -> dict[str, Any]:
        """A slash command's acknowledgement for `reply`: its message, ephemeral unless it is a
        brief and the settings make briefs public (a new dict; the blocks are shared)."""
        payload = self.payload(reply, interactive=True)
        public = isinstance(reply, BriefReply)
        return {
            "text": payload["text"],
            "response_type": self.settings.default_visibility if public else "ephemeral",
            "unfurl_links": False,
            "unfurl_media": False,
            "blocks": payload["blocks"],
        }

    def command_ack_bytes(self, reply: Reply) -> bytes:
        """`command_ack(reply)` as JSON, encoded once per cached message."""

        def encode() -> bytes:
            return encode_json(self.command_ack(reply))

        key = self.cache_key(reply, interactive=True)
        return encode() if key is None else self._encoded.get_or_make(key, encode)

    def cache_key(
        self, reply: Reply, *, interactive: bool, shared_by: str | None = None
    ) -> tuple[Any, ...] | None:
        """What a reply's rendered message depends on, or None for a reply that echoes its
        query (not cached)."""
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
                b.upcoming,
                interactive,
                shared_by,
            )
        if isinstance(reply, HelpReply):  # admins see more commands than others
            return (reply.kind, version, reply.prefix, interactive, reply.commands)
        if isinstance(reply, TopicsReply):
            return (reply.kind, version, reply.prefix, interactive)
        return None

    async def post_reply(
        self, client: AsyncWebClient, reply: Reply, target: PostTarget
    ) -> str | None:
        """Post `reply` with chat.postMessage, at most once; Slack's error (logged) or None.

        A brief keeps a margin below Slack's total text limit; if Slack still refuses it as too
        long, it is cut further and posted once more.
        """
        budget = POST_MESSAGE_BLOCKS_TEXT_BUDGET
        payload = self.payload(reply, interactive=False, max_text_chars=budget)
        ensure_within_limits(payload)
        error, status = await post_without_duplicates(client, target, payload)
        if error in TOO_LONG_ERRORS and isinstance(reply, BriefReply):
            log.warning(
                "Slack refused a brief as too long; cutting it further",
                extra={"slack_error": error},
            )
            payload = self.payload(reply, interactive=False, max_text_chars=RECUT_TEXT_BUDGET)
            error, status = await post_without_duplicates(client, target, payload)
        if error is not None:
            self.slack_failed("chat.postMessage", error, status=status)
        return error

    async def post_ephemeral(
        self, client: AsyncWebClient, payload: dict[str, Any], *, channel: str, user: str
    ) -> str | None:
        """chat.postEphemeral to `user` in `channel`, limits checked first; Slack's error (logged)
        or None. Nothing to de-duplicate: an ephemeral message is seen once, then gone."""
        ensure_within_limits(payload)
        try:
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                text=payload["text"],
                blocks=payload["blocks"],
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            self.slack_failed("chat.postEphemeral", error, status=exc.response.status_code)
            return error
        return None

    def slack_failed(self, method: str, error: str, *, status: int | None = None) -> None:
        """Log and count a Slack call that failed after its retries (bounded metric labels)."""
        self.metrics.slack_errors.labels(method, error_label(error)).inc()
        log.error(
            "slack call failed",
            extra={"method": method, "slack_error": error[:200], "status": status},
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
        clicked: bool = False,
    ) -> None:
        """One log line and the metrics for an answered request (the query, never a body).

        A button click names its topic itself: it counts as a `button` resolution, not as the
        method that resolved the original query.
        """
        seconds = time.perf_counter() - started
        brief = reply.brief if isinstance(reply, BriefReply) else None
        resolved_by = None if brief is None else "button" if clicked else brief.resolved_by
        self.metrics.observe_request(
            command,
            reply.kind,
            seconds,
            resolved_by="" if isinstance(reply, NotFoundReply) else resolved_by,
        )
        if not log.isEnabledFor(logging.INFO):  # logging at WARNING: no line, nothing to build
            return
        log.info(
            "request",
            extra={
                "command": command,
                "slack_error": slack_error,
                "outcome": reply.kind if slack_error is None else "failed",
                "reply": reply.kind,
                "surface": surface,
                "topic": brief.topic_id if brief else None,
                "resolved_by": resolved_by,
                "latency_ms": round(seconds * 1000, 2),
                "user": user,
                "query": query[:200],
            },
        )

    async def respond(
        self, response_url: str, payload: dict[str, Any], *, keep_for_apology: bool = True
    ) -> str | None:
        """POST to a `response_url` with limits checked first; None if delivered, else the error.

        Attempts are counted per URL (Slack takes 5 posts): with `keep_for_apology`, one is left
        for `respond_or_apologise`'s apology. A 404 means the URL expired and is final.
        """
        ensure_within_limits(payload)
        client = AsyncWebhookClient(
            url=response_url, timeout=self.settings.slack_reply_timeout_seconds
        )
        reserve = 1 if keep_for_apology else 0
        error, status = "too_many_posts", None
        for attempt in range(MAX_ATTEMPTS):
            if self.response_urls.left(response_url) <= reserve:
                break
            if attempt:
                await asyncio.sleep(RETRY_BASE_SECONDS * 2 ** (attempt - 1))
            self.response_urls.spend(response_url)
            try:
                response = await client.send_dict(payload)
            except (TimeoutError, OSError, aiohttp.ClientError) as exc:
                error, status = type(exc).__name__, None
                continue
            status = response.status_code
            if status == 200:
                return None
            error = _webhook_error(status, response.body)
            if status == 404:
                self.response_urls.exhaust(response_url)
                break
            if status not in RETRYABLE_STATUSES:
                break
        self.slack_failed("response_url", error, status=status)
        return error

    async def respond_or_apologise(self, response_url: str, payload: dict[str, Any]) -> str | None:
        """`respond`, then a short ephemeral apology if that failed and the URL still takes one."""
        error = await self.respond(response_url, payload)
        if error is not None and self.response_urls.left(response_url) > 0:
            apology = {"text": APOLOGY, "response_type": "ephemeral", "replace_original": False}
            await self.respond(response_url, apology, keep_for_apology=False)
        return error


def encode_json(body: dict[str, Any]) -> bytes:
    """A JSON answer's bytes: compact, UTF-8 (what Slack's examples send)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _webhook_error(status: int, body: str) -> str:
    """Slack's error code from a response_url's answer (plain text or JSON), else `http_NNN`."""
    if status == 404:
        return "expired_url"
    text = (body or "").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text
    if isinstance(parsed, dict):
        parsed = parsed.get("error")
    if isinstance(parsed, str) and parsed.replace("_", "").isalnum() and len(parsed) <= 60:
        return parsed
    return f"http_{status}"
