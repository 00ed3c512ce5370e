"""A fake Slack Web API on 127.0.0.1, for tests driving the real slack-sdk and slack-bolt clients.

`FakeSlack` answers `auth.test`, `chat.postMessage`, `chat.postEphemeral`, `chat.update`,
`conversations.history`, `conversations.replies`, `conversations.info`, `conversations.open`,
`views.publish` (the App Home, limits checked like a message's blocks),
`assistant.threads.setSuggestedPrompts` / `setTitle` / `setStatus`, `functions.completeSuccess` /
`completeError` (with the bot token or a workflow's `xwfp-` token), posts to `response_url`s
(`/response/<anything>`) and file uploads (`files.getUploadURLExternal`, the upload URL it hands
out, `files.completeUploadExternal`: see `files`), records every call, checks every message it
receives against `bot.slack.limits`, and can be scripted to fail (HTTP 429 with `Retry-After`,
5xx, `ok: false`), to answer late or slowly, to hold answers until released (`hold`), or to
handle a call and then lose its answer (`lose_answer_next`: a message stored, then HTTP 500 or a
dropped connection). Point a client at it with
`WebClient(token="xoxb-test", base_url=fake.base_url)`.

Behaviour worth knowing, copied from Slack:
- API methods need `Authorization: Bearer xoxb-...`; otherwise they answer `not_authed`.
- `conversations.history` lists a channel's messages newest first and leaves out thread replies
  (messages whose `thread_ts` differs from their `ts`); `metadata` only with `include_all_metadata`.
- Ephemeral messages never appear in the history.
- The bot is a member of every channel unless `remove_bot_from(channel)` was called: then
  `conversations.info` says `is_member: false` and `chat.postMessage` answers `not_in_channel`.
- A message that breaks Slack's limits is answered `{"ok": false, "error": "invalid_blocks"}` (HTTP
  200 for API methods, 400 for a `response_url`), not stored, and listed in `limit_violations`.
- chat.postMessage answers `msg_blocks_too_long` above `POST_MESSAGE_BLOCKS_TEXT_LIMIT` characters
  of block text, below the documented total that `bot.slack.limits` checks.

Use the `fake_slack` fixture, or `with FakeSlack() as fake: ...`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.slack.limits import blocks_text_length, check_message

__all__ = ["RESPONSE_URL", "UPLOAD", "Call", "FakeSlack", "fake_slack"]

RESPONSE_URL = "response_url"
"""The `Call.method` of a post to a response_url."""
HOLD_LIMIT = 10.0
"""Seconds a held answer (`FakeSlack.hold`) waits for `release` at most."""
UPLOAD = "upload"
"""The `Call.method` of a file's bytes posted to an upload URL from files.getUploadURLExternal."""

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"
BOT_USER_NAME = "briefbot"
TEAM_URL = "https://briefbot-test.slack.com/"

_FIRST_TS_MICROS = 1_700_000_000_000_000
_TS_STEP_MICROS = 100
_MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage", RESPONSE_URL}
)
_JSON_STRING_FIELDS = ("blocks", "metadata", "attachments", "view", "prompts", "outputs")
_HISTORY_DEFAULT_LIMIT = 100
_HISTORY_MAX_LIMIT = 999
_STATUS_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}
POST_MESSAGE_BLOCKS_TEXT_LIMIT = 11_000
"""chat.postMessage answers `msg_blocks_too_long` above this much block text (Slack has been seen
to refuse ~11,300 characters that a response_url accepted)."""


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake received, failed or not, with what it answered."""

    method: str
    """The API method (`chat.postMessage`), or `"response_url"`."""
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    """Query parameters and body, parsed; `blocks` and `metadata` are JSON-decoded."""
    time: float
    """`time.time()` when the request arrived."""
    status: int = 200
    """The HTTP status the fake answered."""
    response: dict[str, Any] = field(default_factory=dict)
    """The JSON the fake answered."""
    http_method: str = "POST"


@dataclass(slots=True)
class _Failure:
    status: int
    error: str
    retry_after: int | None
    remaining: int | None
    """Calls still to fail; `None` for ever."""


@dataclass(slots=True)
class _Delay:
    seconds: float
    remaining: int


@dataclass(slots=True)
class _LostAnswer:
    status: int | None
    """The status answered instead; `None` drops the connection without an answer."""
    remaining: int


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    """Close the connection without answering."""


class FakeSlack:
    """A fake Slack Web API server in a daemon thread; see the module docstring."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._always: dict[str, _Failure] = {}
        self._delays: dict[str, deque[_Delay]] = {}
        self._slow: dict[str, float] = {}
        self._lost_answers: dict[str, deque[_LostAnswer]] = {}
        self._not_member: set[str] = set()
        self._held: dict[str, threading.Event] = {}
        self._held_after: dict[str, int] = {}
        self._answered: dict[str, int] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._ts_counter = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.limit_violations: list[str] = []
        """Every limit violation seen, as `"<method>: <violation>"`; tests assert it stays empty."""
        self.server_errors: list[str] = []
        """Exceptions raised inside the fake itself: bugs in the fake, not in the code tested."""
        self.socket_url: str | None = None
        """What `apps.connections.open` hands out (a Socket Mode test's WebSocket server)."""

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Start serving on a random port of 127.0.0.1; return self."""
        if self._server is not None:
            raise RuntimeError("FakeSlack is already running")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; delayed answers are cut short."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5.0)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the fake listens on."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The server's root URL, e.g. `http://127.0.0.1:PORT/`."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def base_url(self) -> str:
        """The Web API base URL for `WebClient(base_url=...)`, e.g. `http://127.0.0.1:PORT/api/`."""
        return f"{self.url}api/"

    def response_url(self, name: str = "T1/1/abc") -> str:
        """A response_url pointing at the fake, for slash-command and interaction payloads."""
        return f"{self.url}response/{name}"

    # -- inspection ------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received so far (of `method`, if given), oldest first."""
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def posts(self) -> list[Call]:
        """The `chat.postMessage` calls received so far, failed ones included."""
        return self.calls("chat.postMessage")

    def responses(self) -> list[Call]:
        """The posts to response_urls received so far."""
        return self.calls(RESPONSE_URL)

    def files(self, channel: str) -> list[dict[str, Any]]:
        """Files shared into `channel` by files.completeUploadExternal, oldest first: `id`,
        `filename`, `title`, `initial_comment` and the uploaded `content` (bytes)."""
        with self._cond:
            return [dict(f) for f in self._uploads.values() if f.get("channel") == channel]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Every message stored in `channel` (thread replies too), oldest first."""
        with self._cond:
            return [dict(m) for m in self._messages.get(channel, [])]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least `count` calls of `method` arrived; return them all.

        Raises `TimeoutError` if they have not arrived within `timeout` seconds.
        """
        with self._cond:
            arrived = self._cond.wait_for(
                lambda: sum(c.method == method for c in self._calls) >= count, timeout
            )
            calls = [c for c in self._calls if c.method == method]
        if not arrived:
            raise TimeoutError(
                f"expected {count} {method} call(s) within {timeout}s, got {len(calls)}"
            )
        return calls

    def reset(self) -> None:
        """Forget calls, messages, violations and scripted failures; keep serving."""
        with self._cond:
            self._calls.clear()
            self._messages.clear()
            self._uploads.clear()
            self.limit_violations.clear()
            self.server_errors.clear()
            self._clear_failures_locked()

    # -- scripting -------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail; scripts queue up in order.

        Without `error` the call fails with HTTP `status` (default 429, with a `Retry-After:
        retry_after` header; pass `retry_after=None` to leave it out). With `error` and no
        `status` it is answered HTTP 200 `{"ok": false, "error": error}`, as Slack does.
        `method` may be `"response_url"`.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        failure = _make_failure(status, error, retry_after, times)
        with self._cond:
            self._failures.setdefault(method, deque()).append(failure)

    def always_fail(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = 1,
    ) -> None:
        """Make every call of `method` fail (as `fail_next` describes) until `clear_failures`."""
        with self._cond:
            self._always[method] = _make_failure(status, error, retry_after, None)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` only after `seconds`, to provoke timeouts."""
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._cond:
            self._delays.setdefault(method, deque()).append(_Delay(seconds, times))

    def slow_down(self, method: str, seconds: float) -> None:
        """Answer every call of `method` only after `seconds` (a slow Slack) until `clear_failures`.

        The call is handled (a message stored) at once; only the answer waits.
        """
        with self._cond:
            self._slow[method] = seconds

    def lose_answer_next(self, method: str, *, status: int | None = 500, times: int = 1) -> None:
        """Handle the next `times` successful calls of `method` (a message is stored), then lose
        the answer: reply HTTP `status` instead, or with `status=None` drop the connection.

        As Slack can: the caller cannot tell that its message was posted.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._cond:
            self._lost_answers.setdefault(method, deque()).append(_LostAnswer(status, times))

    def hold(self, method: str, *, after: int = 0) -> None:
        """Handle calls of `method` at once (a message is stored) but keep their answers until
        `release(method)`; at most `HOLD_LIMIT` seconds, so a test that fails cannot hang.

        `after` calls from now are answered at once first (a pass posts that many, then hangs).
        """
        with self._cond:
            self._held[method] = threading.Event()
            self._held_after[method] = after

    def release(self, method: str) -> None:
        """Send the answers `hold` kept, and answer later calls of `method` at once."""
        with self._cond:
            gate = self._held.pop(method, None)
            self._held_after.pop(method, None)
        if gate is not None:
            gate.set()

    def answered(self, method: str) -> int:
        """How many calls of `method` have had their answer sent."""
        with self._cond:
            return self._answered.get(method, 0)

    def remove_bot_from(self, channel: str) -> None:
        """Make the bot not a member of `channel` (as without `chat:write.public`)."""
        with self._cond:
            self._not_member.add(channel)

    def clear_failures(self) -> None:
        """Drop every scripted failure and delay."""
        with self._cond:
            self._clear_failures_locked()

    def _clear_failures_locked(self) -> None:
        for gate in self._held.values():
            gate.set()
        self._held.clear()
        self._held_after.clear()
        self._failures.clear()
        self._always.clear()
        self._delays.clear()
        self._slow.clear()
        self._lost_answers.clear()

    # -- request handling (called from the server's threads) -------------------------------------

    def _handle(
        self,
        *,
        http_method: str,
        path: str,
        headers: dict[str, str],
        body: dict[str, Any],
        invalid_json: bool = False,
    ) -> tuple[_Answer, float, str, threading.Event | None]:
        """Decide the answer to one request, record the call, and say how long to delay it, the
        method, and the gate (`hold`) to wait on before answering."""
        received = time.time()
        if path.startswith("/api/"):
            method = path.removeprefix("/api/")
        elif path.startswith("/response/") and http_method == "POST":
            method = RESPONSE_URL
        elif path.startswith("/upload/") and http_method == "POST":
            method = UPLOAD
        else:
            return _Answer(404, {"ok": False, "error": "not_found"}), 0.0, path, None
        with self._cond:
            if invalid_json:
                answer = _Answer(400 if method == RESPONSE_URL else 200, _error("invalid_json"))
            else:
                answer = self._lose_answer_locked(
                    method, self._answer_locked(method, headers, body)
                )
            delay = self._take_delay_locked(method)
            self._calls.append(
                Call(
                    method=method,
                    path=path,
                    headers=headers,
                    body=body,
                    time=received,
                    status=answer.status,
                    response=answer.body,
                    http_method=http_method,
                )
            )
            self._cond.notify_all()
            gate = self._held.get(method)
            if gate is not None and self._held_after.get(method, 0) > 0:
                self._held_after[method] -= 1
                gate = None
        return answer, delay, method, gate

    def _answer_locked(
        self, method: str, headers: Mapping[str, str], body: dict[str, Any]
    ) -> _Answer:
        if method == "apps.connections.open":
            if not _has_token(headers, "xapp-"):
                return _Answer(200, {"ok": False, "error": "not_allowed_token_type"})
            if self.socket_url is None:
                return _Answer(200, {"ok": False, "error": "socket_mode_not_enabled"})
            return _Answer(200, {"ok": True, "url": self.socket_url})
        workflow_token = method.startswith("functions.") and _has_token(headers, "xwfp-")
        if method not in (RESPONSE_URL, UPLOAD) and not (_is_bot_token(headers) or workflow_token):
            return _Answer(200, {"ok": False, "error": "not_authed"})
        failure = self._take_failure_locked(method)
        if failure is not None:
            extra = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return _Answer(failure.status, {"ok": False, "error": failure.error}, extra)
        if method in _MESSAGE_METHODS:
            violations = check_message(body)
            if violations:
                self.limit_violations.extend(f"{method}: {v}" for v in violations)
                status = 400 if method == RESPONSE_URL else 200
                return _Answer(status, {"ok": False, "error": "invalid_blocks"})
        if method == "chat.postMessage" and _too_long(body):
            return _Answer(200, _error("msg_blocks_too_long"))
        handler = _API_METHODS.get(method)
        if handler is None:
            return _Answer(200, {"ok": False, "error": "unknown_method"})
        return _Answer(200, handler(self, body))

    def _take_failure_locked(self, method: str) -> _Failure | None:
        return _take(self._failures.get(method)) or self._always.get(method)

    def _lose_answer_locked(self, method: str, answer: _Answer) -> _Answer:
        """`answer`, or a lost one (`lose_answer_next`) once the call has been handled."""
        queue = self._lost_answers.get(method)
        if not queue or not answer.body.get("ok"):
            return answer
        lost = queue[0]
        lost.remaining -= 1
        if lost.remaining <= 0:
            queue.popleft()
        if lost.status is None:
            return _Answer(0, {}, drop=True)  # recorded as status 0: no answer
        return _Answer(lost.status, _error(_STATUS_ERRORS.get(lost.status, f"http_{lost.status}")))

    def _take_delay_locked(self, method: str) -> float:
        queue = self._delays.get(method)
        if not queue:
            return self._slow.get(method, 0.0)
        delay = queue[0]
        delay.remaining -= 1
        if delay.remaining <= 0:
            queue.popleft()
        return delay.seconds

    def _wait(self, seconds: float) -> None:
        """Sleep for a delayed answer, but wake as soon as the fake stops."""
        self._stopping.wait(seconds)

    def _next_ts(self) -> str:
        self._ts_counter += 1
        micros = _FIRST_TS_MICROS + self._ts_counter * _TS_STEP_MICROS
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # -- API methods (called with the lock held) -------------------------------------------------

    def _auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": TEAM_URL,
            "team": "Briefbot Test",
            "user": BOT_USER_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if not isinstance(channel, str) or not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not body.get("text") and not body.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if channel in self._not_member:
            return {"ok": False, "error": "not_in_channel"}
        ts = self._next_ts()
        message = _message_from(body, ts)
        self._messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _post_ephemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if not isinstance(channel, str) or not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not body.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if not body.get("text") and not body.get("blocks"):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = body.get("channel"), body.get("ts")
        for message in self._messages.get(str(channel), []):
            if message["ts"] == ts:
                for key in ("text", "blocks", "metadata", "attachments"):
                    if key in body:
                        message[key] = body[key]
                message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
                return {
                    "ok": True,
                    "channel": channel,
                    "ts": ts,
                    "text": message.get("text", ""),
                    "message": dict(message),
                }
        return {"ok": False, "error": "message_not_found"}

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if not isinstance(channel, str) or not channel:
            return {"ok": False, "error": "channel_not_found"}
        inclusive = _truthy(body.get("inclusive"))
        with_metadata = _truthy(body.get("include_all_metadata"))
        try:
            oldest = _parse_ts(body.get("oldest"), Decimal(0))
            latest = _parse_ts(body.get("latest"), Decimal("Infinity"))
            limit = int(body.get("limit") or _HISTORY_DEFAULT_LIMIT)
            offset = int(str(body.get("cursor") or "0").removeprefix("offset:"))
        except (InvalidOperation, ValueError):
            return {"ok": False, "error": "invalid_arguments"}
        limit = max(1, min(limit, _HISTORY_MAX_LIMIT))

        def in_range(ts: Decimal) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        selected = [
            m
            for m in reversed(self._messages.get(channel, []))
            if _in_history(m) and in_range(Decimal(m["ts"]))
        ]
        page = selected[offset : offset + limit]
        has_more = offset + limit < len(selected)
        messages = []
        for message in page:
            shown = dict(message)
            if not with_metadata:
                shown.pop("metadata", None)
            messages.append(shown)
        return {
            "ok": True,
            "messages": messages,
            "has_more": has_more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": f"offset:{offset + limit}" if has_more else ""},
        }

    def _replies(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: a thread's parent and replies, oldest first (people's messages
        never reach the fake, so a thread may show only the bot's replies)."""
        channel, ts = body.get("channel"), body.get("ts")
        if not isinstance(channel, str) or not channel:
            return {"ok": False, "error": "channel_not_found"}
        with_metadata = _truthy(body.get("include_all_metadata"))
        thread = [
            m for m in self._messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        shown = [dict(m) for m in thread]
        if not with_metadata:
            for message in shown:
                message.pop("metadata", None)
        return {"ok": True, "messages": shown, "has_more": False}

    def _conversation_info(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if not isinstance(channel, str) or not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": True,
                "is_member": channel not in self._not_member,
            },
        }

    def _response_url(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def _conversation_open(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.open with one user: the bot's direct conversation with them."""
        users = str(body.get("users") or "")
        if not users or "," in users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": f"D{users}"}}

    def _get_upload_url(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            length = int(body.get("length") or 0)
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not body.get("filename") or length < 1:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self._uploads) + 1:05d}"
        self._uploads[file_id] = {"id": file_id, "filename": body["filename"], "length": length}
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}upload/{file_id}"}

    def _upload(self, body: dict[str, Any]) -> dict[str, Any]:
        """The file's bytes (`body["content"]`), which must be as long as announced."""
        upload = self._uploads.get(str(body.get("file_id")))
        content = body.get("content")
        if upload is None or not isinstance(content, bytes) or len(content) != upload["length"]:
            return {"ok": False, "error": "invalid_upload"}
        upload["content"] = content
        return {"ok": True}

    def _complete_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            files = json.loads(str(body.get("files") or "[]"))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        shared = []
        for item in files:
            upload = self._uploads.get(str(item.get("id")))
            if upload is None or "content" not in upload:
                return {"ok": False, "error": "file_not_found"}
            upload.update(
                title=item.get("title"),
                channel=body.get("channel_id"),
                initial_comment=body.get("initial_comment"),
            )
            shared.append(
                {"id": upload["id"], "title": upload["title"], "name": upload["filename"]}
            )
        return {"ok": True, "files": shared}

    def _views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        view, user = body.get("view"), body.get("user_id")
        if not isinstance(user, str) or not user:
            return _error("user_not_found")
        if not isinstance(view, dict) or view.get("type") != "home":
            return _error("invalid_arguments")
        violations = check_message({"blocks": view.get("blocks")})
        if violations:
            self.limit_violations.extend(f"views.publish: {v}" for v in violations)
            return _error("invalid_blocks")
        return {"ok": True, "view": {"id": f"V{user}", **view}}

    def _assistant_thread(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("channel_id") or not body.get("thread_ts"):
            return _error("invalid_arguments")
        return {"ok": True}

    def _complete_function(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("function_execution_id"):
            return _error("invalid_arguments")
        return {"ok": True}


_API_METHODS = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.update": FakeSlack._update,
    "conversations.history": FakeSlack._history,
    "conversations.replies": FakeSlack._replies,
    "conversations.info": FakeSlack._conversation_info,
    "conversations.open": FakeSlack._conversation_open,
    "files.getUploadURLExternal": FakeSlack._get_upload_url,
    "files.completeUploadExternal": FakeSlack._complete_upload,
    "views.publish": FakeSlack._views_publish,
    "assistant.threads.setSuggestedPrompts": FakeSlack._assistant_thread,
    "assistant.threads.setTitle": FakeSlack._assistant_thread,
    "assistant.threads.setStatus": FakeSlack._assistant_thread,
    "functions.completeSuccess": FakeSlack._complete_function,
    "functions.completeError": FakeSlack._complete_function,
    RESPONSE_URL: FakeSlack._response_url,
    UPLOAD: FakeSlack._upload,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a client that hung up is not worth a word.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, http_method: str) -> None:
        fake = self.server.fake
        try:
            parts = urlsplit(self.path)
            headers = dict(self.headers.items())
            raw = self._read_body()
            body: dict[str, Any] = _decode_json_fields(
                dict(parse_qsl(parts.query, keep_blank_values=True))
            )
            try:
                if parts.path.startswith("/upload/"):  # a file's bytes, not a form
                    body.update(file_id=parts.path.removeprefix("/upload/"), content=raw)
                else:
                    body.update(_parse_body(raw, self.headers.get("Content-Type", "")))
                invalid_json = False
            except ValueError:
                body["raw_body"] = raw.decode("utf-8", errors="replace")
                invalid_json = True
            answer, delay, method, gate = fake._handle(
                http_method=http_method,
                path=parts.path,
                headers=headers,
                body=body,
                invalid_json=invalid_json,
            )
        except Exception as exc:
            fake.server_errors.append(f"{type(exc).__name__}: {exc}")
            answer, delay = _Answer(500, {"ok": False, "error": "fake_slack_error"}), 0.0
            method, gate = "", None
        if gate is not None:
            gate.wait(HOLD_LIMIT)
        if delay > 0:
            fake._wait(delay)
        if answer.drop:
            self.close_connection = True
            return
        payload = json.dumps(answer.body).encode("utf-8")
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            with fake._cond:
                fake._answered[method] = fake._answered.get(method, 0) + 1
        except OSError:
            pass  # the client gave up (timed out) before the answer came

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """Parse a JSON or form-encoded body, and `blocks`/`metadata` sent as JSON strings in it.

    Slack accepts those fields as JSON strings in both kinds of body (form bodies can hold nothing
    else), so a `WebClient` user may pass `blocks=json.dumps(...)`.
    """
    body: dict[str, Any]
    if not raw:
        return {}
    text = raw.decode("utf-8")
    if "json" in content_type or text.lstrip().startswith("{"):
        parsed = json.loads(text)  # ValueError: the caller answers invalid_json
        if not isinstance(parsed, dict):
            raise ValueError("a JSON body must be an object")
        body = parsed
    else:
        body = dict(parse_qsl(text, keep_blank_values=True))
    return _decode_json_fields(body)


def _decode_json_fields(body: dict[str, Any]) -> dict[str, Any]:
    """`blocks`, `view`, `outputs` and the like sent as JSON strings (in a form body or the
    query string, as slack-sdk sends some methods' arguments), decoded in place."""
    for key in _JSON_STRING_FIELDS:
        value = body.get(key)
        if isinstance(value, str):
            # Invalid JSON is left as a string, which the limit check reports.
            with contextlib.suppress(ValueError):
                body[key] = json.loads(value)
    return body


def _message_from(body: Mapping[str, Any], ts: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "team": TEAM_ID,
        "text": body.get("text") or "",
        "ts": ts,
    }
    for key in ("blocks", "metadata", "attachments", "thread_ts", "reply_broadcast"):
        if body.get(key) is not None:
            message[key] = body[key]
    return message


def _make_failure(
    status: int | None, error: str | None, retry_after: int | None, times: int | None
) -> _Failure:
    if status is None:
        status = 200 if error is not None else 429
    if error is None:
        error = _STATUS_ERRORS.get(status, f"http_{status}")
    return _Failure(
        status=status,
        error=error,
        retry_after=retry_after if status == 429 else None,
        remaining=times,
    )


def _take(queue: deque[_Failure] | None) -> _Failure | None:
    """The first scripted failure in `queue`, used up once more (None when there is none)."""
    if not queue:
        return None
    failure = queue[0]
    assert failure.remaining is not None
    failure.remaining -= 1
    if failure.remaining <= 0:
        queue.popleft()
    return failure


def _too_long(body: Mapping[str, Any]) -> bool:
    blocks = body.get("blocks")
    return isinstance(blocks, list) and blocks_text_length(blocks) > POST_MESSAGE_BLOCKS_TEXT_LIMIT


def _in_history(message: Mapping[str, Any]) -> bool:
    """Whether `conversations.history` shows `message`: not a thread reply, unless broadcast."""
    is_reply = message.get("thread_ts", message["ts"]) != message["ts"]
    return not is_reply or _truthy(message.get("reply_broadcast"))


def _error(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


def _is_bot_token(headers: Mapping[str, str]) -> bool:
    return _has_token(headers, "xoxb-")


def _has_token(headers: Mapping[str, str], prefix: str) -> bool:
    for name, value in headers.items():
        if name.lower() == "authorization":
            return value.startswith(f"Bearer {prefix}")
    return False


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"1", "true"})


def _parse_ts(value: Any, default: Decimal) -> Decimal:
    if value is None or value == "":
        return default
    parsed = Decimal(str(value))
    if parsed.is_nan():
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running `FakeSlack`, stopped after the test."""
    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()
