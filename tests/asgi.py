"""Driving the real ASGI application in-process: signed Slack requests, streamed bodies.

`call` speaks ASGI to the Starlette app `briefbot serve` runs, so a test controls the body chunk by
chunk (a chunked upload, a client that disconnects) and counts what the server read. `Bot` is that
app with its runtime and the fake Slack it talks to: the scenario tests' subject.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Secret, Settings
from bot.runtime import Runtime
from bot.server import create_http_app
from tests.fakeslack import FakeSlack
from tests.slackreq import BOT_TOKEN, SIGNING_SECRET, event_body, sign

Asgi = Any
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class Result:
    """What the application answered, and how many body chunks it asked for."""

    status: int = 0
    body: bytes = b""
    chunks_read: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def settings_for(api_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings serving HTTP against a fake Slack, with a SQLite file in `tmp_path`."""
    base: dict[str, Any] = {
        "slack_bot_token": Secret(BOT_TOKEN),
        "slack_signing_secret": Secret(SIGNING_SECRET),
        "slack_api_url": api_url,
        "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
        "reminders_enabled": False,
        "watch_seeds": False,
    }
    return Settings(**{**base, **overrides})


def build_runtime(api_url: str, tmp_path: Path, **overrides: Any) -> Runtime:
    """A `Runtime` as `briefbot serve` builds it."""
    return Runtime.build(settings_for(api_url, tmp_path, **overrides))


def signed_headers(
    body: bytes,
    content_type: str,
    *,
    timestamp: int | None = None,
    extra: dict[str, str] | None = None,
) -> list[tuple[bytes, bytes]]:
    """Headers of a request Slack signed, with Content-Length unless `extra` replaces them."""
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "content-type": content_type,
        "content-length": str(len(body)),
        "x-slack-request-timestamp": str(ts),
        "x-slack-signature": sign(body, ts),
        **(extra or {}),
    }
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items() if v]


async def call(
    app: Asgi,
    path: str,
    headers: list[tuple[bytes, bytes]],
    chunks: Iterable[bytes],
    *,
    disconnect_after: int | None = None,
    method: str = "POST",
) -> Result:
    """One HTTP request through the ASGI `app`; the body is sent as `chunks`, one per receive.

    With `disconnect_after`, the client goes away after sending that many chunks.
    """
    result = Result()
    source: Iterator[bytes] = iter(chunks)
    pending = next(source, None)

    async def receive() -> dict[str, Any]:
        nonlocal pending
        if disconnect_after is not None and result.chunks_read >= disconnect_after:
            return {"type": "http.disconnect"}
        chunk = pending if pending is not None else b""
        pending = next(source, None)
        result.chunks_read += 1
        return {"type": "http.request", "body": chunk, "more_body": pending is not None}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            result.status = message["status"]
            result.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 3000),
    }
    await app(scope, receive, send)
    return result


async def post_signed(app: Asgi, body: bytes, content_type: str = FORM, **kwargs: Any) -> Result:
    """A request signed as Slack signs it, to `/slack/events`."""
    return await call(app, "/slack/events", signed_headers(body, content_type, **kwargs), [body])


@dataclass
class Bot:
    """The served application, its runtime and the fake Slack it talks to."""

    runtime: Runtime
    app: Asgi
    slack: FakeSlack

    async def post(self, body: bytes, content_type: str = FORM, **kwargs: Any) -> Result:
        """A signed request to `/slack/events`."""
        return await post_signed(self.app, body, content_type, **kwargs)

    async def event(self, event: dict[str, Any], event_id: str, **kwargs: Any) -> Result:
        """An Events API delivery of `event`."""
        return await self.post(event_body(event, event_id=event_id), JSON, **kwargs)

    def run(self, *requests: Any) -> list[Result]:
        """Send the requests (coroutines of `post`/`event`) in order, then wait for the work
        done after each was acknowledged; their results."""

        async def scenario() -> list[Result]:
            results = [await request for request in requests]
            await settle()
            return results

        return asyncio.run(scenario())


async def settle() -> None:
    """Wait for the work Bolt and the services run after acknowledging a request."""
    current = asyncio.current_task()
    while pending := [t for t in asyncio.all_tasks() if t is not current and not t.done()]:
        await asyncio.gather(*pending, return_exceptions=True)


def make_bot(fake: FakeSlack, tmp_path: Path, **overrides: Any) -> Iterator[Bot]:
    """A `Bot` served in-process (settings `overrides` on top of `settings_for`), then closed."""
    runtime = build_runtime(fake.base_url, tmp_path, **overrides)
    try:
        yield Bot(runtime, create_http_app(runtime), fake)
    finally:
        runtime.close()
