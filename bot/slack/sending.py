"""Sending to Slack without duplicates: chat.postMessage and response_url posts.

chat.postMessage has no idempotency key. A 5xx answer, a dropped connection or a timeout after
the request was sent does not mean nothing was posted: Slack may have stored the message. Every
reply therefore carries message metadata naming the event it answers, and after an ambiguous
failure the channel (or thread) is searched for that metadata before the post is tried again.
429 and `ok: false` mean nothing was stored; slack-sdk retries 429 itself (honouring
`Retry-After`).

A `response_url` takes at most 5 posts within 30 minutes, and answers 404 once it has expired:
`ResponseUrlBudget` counts the posts per URL so retries and an apology never exceed 5 together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("bot.slack")

MAX_ATTEMPTS = 4
"""Attempts per chat.postMessage (the first and 3 retries)."""
RETRY_BASE_SECONDS = 0.25
REPLY_EVENT_TYPE = "briefbot_reply"
"""The message metadata `event_type` on every reply; its payload's `key` names what it answers."""
LOOKUP_LIMIT = 200

RESPONSE_URL_POSTS = 5
"""Slack accepts at most this many posts to one response_url within 30 minutes."""
RESPONSE_URL_WINDOW_SECONDS = 30 * 60
RESPONSE_URL_TRACKED = 4096
"""URLs remembered at most (oldest forgotten first); a URL expires after 30 minutes anyway."""

KNOWN_ERRORS = frozenset(
    {
        "account_inactive",
        "channel_not_found",
        "expired_url",
        "fatal_error",
        "internal_error",
        "invalid_auth",
        "invalid_blocks",
        "is_archived",
        "missing_scope",
        "msg_blocks_too_long",
        "no_text",
        "not_authed",
        "not_in_channel",
        "ratelimited",
        "request_timeout",
        "service_unavailable",
        "token_revoked",
        "too_many_posts",
        "ClientError",
        "OSError",
        "TimeoutError",
    }
)
"""Error labels the metrics use; anything else is counted as "other" (labels stay bounded)."""


def error_label(error: str) -> str:
    """`error` if it is one of Slack's error codes the bot knows, else `"other"`."""
    if error in KNOWN_ERRORS:
        return error
    if error.startswith("http_") and error[5:].isdigit() and len(error) == 8:
        return error
    return "other"


def reply_metadata(key: str) -> dict[str, Any]:
    """The metadata marking a reply to `key` (an Events API `event_id`)."""
    return {"event_type": REPLY_EVENT_TYPE, "event_payload": {"key": key}}


@dataclass(frozen=True, slots=True)
class PostTarget:
    """Where a reply goes and what marks it: the channel, thread, and the key in its metadata.

    `after_ts` is the `ts` of the message answered: the reply can only be newer.
    """

    channel: str
    thread_ts: str | None
    key: str
    after_ts: str | None = None


async def post_without_duplicates(
    client: AsyncWebClient, target: PostTarget, payload: Mapping[str, Any]
) -> tuple[str | None, int | None]:
    """Post `payload` once: (None, None) when posted, else (Slack's error, HTTP status).

    After an ambiguous failure the reply is looked for first; if the look itself fails, the post
    is not tried again (a missing reply is logged; a duplicate could not be taken back).
    """
    error, status = "", None
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_BASE_SECONDS * 2 ** (attempt - 1))
        try:
            await client.chat_postMessage(
                channel=target.channel,
                thread_ts=target.thread_ts,
                unfurl_links=False,  # sources are cited inline; previews would bury the brief
                unfurl_media=False,
                metadata=reply_metadata(target.key),
                **payload,
            )
            return None, None
        except SlackApiError as exc:
            error, status = str(exc.response.get("error")), exc.response.status_code
            if status < 500:
                return error, status  # Slack refused it: nothing was stored
            error = error if error in KNOWN_ERRORS else f"http_{status}"
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            error, status = _exception_label(exc), None
        found = await _already_posted(client, target)
        if found is None:
            log.error(
                "could not tell whether a reply was posted; not posting it again",
                extra={"channel": target.channel, "key": target.key, "slack_error": error},
            )
            return error, status
        if found:
            log.info("reply was posted although Slack's answer was lost", extra={"key": target.key})
            return None, None
    return error, status


async def _already_posted(client: AsyncWebClient, target: PostTarget) -> bool | None:
    """Whether a message with `target`'s metadata is in the thread or channel; None: unknown."""
    for attempt in range(2):
        try:
            if target.thread_ts:
                response = await client.conversations_replies(
                    channel=target.channel,
                    ts=target.thread_ts,
                    include_all_metadata=True,
                    limit=LOOKUP_LIMIT,
                )
            else:
                response = await client.conversations_history(
                    channel=target.channel,
                    oldest=target.after_ts or "0",
                    include_all_metadata=True,
                    limit=LOOKUP_LIMIT,
                )
        except (SlackApiError, TimeoutError, OSError, aiohttp.ClientError):
            if attempt:
                return None
            await asyncio.sleep(RETRY_BASE_SECONDS)
            continue
        return any(_marks(m, target.key) for m in response.get("messages") or [])
    return None


def _marks(message: Any, key: str) -> bool:
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != REPLY_EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("key") == key


def _exception_label(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "TimeoutError"
    return "ClientError" if isinstance(exc, aiohttp.ClientError) else "OSError"


@dataclass
class ResponseUrlBudget:
    """How many posts each response_url has left (5 per 30 minutes), remembered for a while."""

    clock: Any = time.monotonic
    _used: OrderedDict[str, tuple[float, int]] = field(default_factory=OrderedDict)

    def left(self, url: str) -> int:
        """Posts `url` still accepts."""
        first, used = self._used.get(url, (0.0, 0))
        if used and self.clock() - first > RESPONSE_URL_WINDOW_SECONDS:
            return 0  # expired: Slack answers 404 now
        return RESPONSE_URL_POSTS - used

    def spend(self, url: str) -> None:
        """Count one post to `url`."""
        first, used = self._used.pop(url, (self.clock(), 0))
        self._used[url] = (first, used + 1)
        while len(self._used) > RESPONSE_URL_TRACKED:
            self._used.popitem(last=False)

    def exhaust(self, url: str) -> None:
        """`url` takes no more posts (Slack said it expired)."""
        first, _used = self._used.pop(url, (self.clock(), 0))
        self._used[url] = (first, RESPONSE_URL_POSTS)
