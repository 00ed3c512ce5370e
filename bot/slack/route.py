"""Slack's HTTP route, `POST /slack/events`, as a plain ASGI application.

Every slash command, event and button arrives here, so it is the bot's busiest path, and a
`/brief` already answered today costs little more than reading the request and writing the
answer. Starlette's layers around a route (its error and exception middleware, the router, the
`Request` and `Response` objects) cost about 15 µs per request on the machine
`bench/README.md` describes, as much as the bot's own work for a cached brief; they are what
the probes and metrics (`bot.server`) still use. This route reads the three headers it needs
from the ASGI scope and writes its answer itself.

What it checks, in order, each refusal a short JSON reason and never a 500:

1. the method (405 unless POST);
2. the signature headers' shape, before reading anything (401);
3. `Content-Length`, if given (400 if malformed, 413 if above `MAX_BODY_BYTES`);
4. the body, read as a stream and abandoned once past `MAX_BODY_BYTES` (413; a client that
   leaves half-way is logged and gets a 400 it will not read);
5. the signature, once, on the raw bytes (401; Bolt's own check is off);
6. the payload's shape (400, `bot.slack.payloads`).

Registered slash commands are then answered by `bot.slack.slash.SlashLane`; everything else
goes to Bolt through its Starlette adapter. An error in the bot's own code is logged with its
traceback and answered 500, as Starlette's error middleware would.
"""

from __future__ import annotations

import contextlib
import logging
import re

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from bot.slack.payloads import MalformedRequest, parse_payload
from bot.slack.services import encode_json
from bot.slack.signing import is_valid_signature, looks_signed
from bot.slack.slash import SlashLane

log = logging.getLogger("bot.server")

MAX_BODY_BYTES = 1_000_000
"""Slack's payloads are far smaller; anything larger is refused with 413, unread."""
JSON_UTF8 = b"application/json;charset=utf-8"
"""The content type of JSON answers to Slack (Bolt's own)."""
_LENGTH_RE = re.compile(rb"[0-9]{1,12}")


class _TooLarge(Exception):
    """The body went past `MAX_BODY_BYTES`."""


class _Disconnected(Exception):
    """The client went away before sending the whole body."""


class SlackRoute:
    """`POST /slack/events`: checks a request as the module docstring says, then answers it
    through the slash lane or Bolt."""

    def __init__(self, signing_secret: str, bolt: AsyncApp, lane: SlashLane) -> None:
        self._secret = signing_secret
        self.bolt = bolt
        self.lane = lane

    def __repr__(self) -> str:  # the signing secret stays out of any repr
        return f"{type(self).__name__}()"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request (the ASGI interface)."""
        try:
            await self._handle(scope, receive, send)
        except Exception:
            log.exception("request failed", extra={"path": scope.get("path")})
            with contextlib.suppress(Exception):  # unless the answer had already begun
                await _answer(send, 500, b"Internal Server Error", b"text/plain; charset=utf-8")

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _answer(
                send, 405, b"Method Not Allowed", b"text/plain; charset=utf-8", allow=b"POST"
            )
            return
        headers = dict(reversed(scope["headers"]))  # the first of repeated headers, as Starlette
        timestamp = headers.get(b"x-slack-request-timestamp", b"").decode("latin-1")
        signature = headers.get(b"x-slack-signature", b"").decode("latin-1")
        if not looks_signed(timestamp, signature):
            await _refuse(send, 401, "missing or malformed Slack signature headers")
            return
        length = headers.get(b"content-length")
        if length is not None:
            if not _LENGTH_RE.fullmatch(length):
                await _refuse(send, 400, "malformed Content-Length")
                return
            if int(length) > MAX_BODY_BYTES:
                await _refuse(send, 413, "request body too large")
                return
        try:
            body = await _read_body(receive, MAX_BODY_BYTES)
        except _TooLarge:
            await _refuse(send, 413, "request body too large")
            return
        except _Disconnected:
            log.info("client disconnected before sending the whole body")
            await _answer(send, 400, b"", None)
            return
        if not is_valid_signature(self._secret, body, timestamp, signature):
            await _refuse(send, 401, "invalid or expired signature")
            return
        content_type = headers.get(b"content-type")
        try:
            payload = parse_payload(
                body, None if content_type is None else content_type.decode("latin-1")
            )
            takes = self.lane.takes(payload)
            bolt_request = None if takes else to_async_bolt_request(Request(scope), body)
        except (MalformedRequest, ValueError, KeyError, TypeError, AttributeError) as exc:
            reason = str(exc)[:200]
            log.info("malformed Slack request refused", extra={"status": 400, "reason": reason})
            await _refuse(send, 400, "malformed request body")
            return
        if bolt_request is None:  # a registered slash command: `bot.slack.slash` says why
            await _answer(send, 200, await self.lane.answer(payload), JSON_UTF8)
            return
        response = to_starlette_response(await self.bolt.async_dispatch(bolt_request))
        await response(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The body, read as a stream and abandoned as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # "http.disconnect"
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _refuse(send: Send, status: int, reason: str) -> None:
    """A client's mistake: `status` with `{"error": reason}`."""
    await _answer(send, status, encode_json({"error": reason}), b"application/json")


async def _answer(
    send: Send, status: int, body: bytes, content_type: bytes | None, *, allow: bytes | None = None
) -> None:
    """Send a whole response: status, headers and `body` in one piece."""
    headers: list[tuple[bytes, bytes]] = [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    if allow is not None:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
