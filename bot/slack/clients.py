"""The one factory of Slack Web API clients; what each caller retries is its parameter.

The Bolt app (async) and the reminder delivery (sync, in a worker thread) use different client
classes and different retry policies, but are built the same way: Slack's URL from the settings
(a fake in tests), a timeout, and slack-sdk's own retry handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

from slack_sdk import WebClient
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.web.async_client import AsyncWebClient

TIMEOUT_SECONDS = 10
"""How long one Web API call may take before it counts as failed."""


@overload
def make_client(
    kind: type[WebClient],
    base_url: str,
    *,
    token: str | None,
    retry: Sequence[RetryHandler],
    timeout: int = TIMEOUT_SECONDS,
) -> WebClient: ...


@overload
def make_client(
    kind: type[AsyncWebClient],
    base_url: str,
    *,
    token: str | None,
    retry: Sequence[AsyncRetryHandler],
    timeout: int = TIMEOUT_SECONDS,
) -> AsyncWebClient: ...


def make_client(
    kind: Any,
    base_url: str,
    *,
    token: str | None,
    retry: Sequence[Any],
    timeout: int = TIMEOUT_SECONDS,
) -> Any:
    """A `kind` (`WebClient` or `AsyncWebClient`) calling `base_url`, retrying as `retry` says.

    `token` is None for the Bolt app's client, which takes the token from its `authorize`
    result. `retry` is the caller's policy as slack-sdk retry handlers (sync ones for a
    `WebClient`, async ones for an `AsyncWebClient`).
    """
    return kind(token=token, base_url=base_url, timeout=timeout, retry_handlers=list(retry))
