"""Requests signed exactly as Slack signs them, and a `briefbot serve` subprocess to take them."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.waiting import wait_until

SIGNING_SECRET = "test-signing-secret-8f2a"
BOT_TOKEN = "xoxb-test-token-1234"


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, as Slack computes it."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class HttpResult:
    """Status, headers and body of one response."""

    status: int
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)


def post(
    url: str,
    body: bytes,
    *,
    content_type: str,
    timestamp: int | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
    signed: bool = True,
    timeout: float = 10.0,
) -> HttpResult:
    """POST `body` to `url`, signed unless told otherwise."""
    ts = int(time.time()) if timestamp is None else timestamp
    all_headers = {"Content-Type": content_type, **(headers or {})}
    if signed:
        all_headers["X-Slack-Request-Timestamp"] = str(ts)
        all_headers["X-Slack-Signature"] = signature or sign(body, ts)
    request = urllib.request.Request(url, data=body, headers=all_headers, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResult(response.status, response.read(), time.perf_counter() - started)
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, exc.read(), time.perf_counter() - started)


def mention(text: str, *, ts: str = "1700000100.000100", **extra: Any) -> dict[str, Any]:
    """An app_mention event from U0USER1 in C0CHAN1."""
    return {
        "type": "app_mention",
        "user": "U0USER1",
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": "C0CHAN1",
        "event_ts": ts,
        **extra,
    }


def direct(text: str, *, ts: str = "1700000200.000100", **extra: Any) -> dict[str, Any]:
    """A direct message event from U0USER1 in the DM D0DM1."""
    return {
        "type": "message",
        "channel_type": "im",
        "user": "U0USER1",
        "text": text,
        "ts": ts,
        "channel": "D0DM1",
        "event_ts": ts,
        **extra,
    }


def slash_form(
    text: str,
    *,
    response_url: str,
    user_id: str = "U0USER1",
    channel_id: str = "C0CHAN1",
    command: str = "/brief",
) -> bytes:
    """A form-encoded slash command body like Slack's."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "policy",
            "channel_id": channel_id,
            "channel_name": "policy-team",
            "user_id": user_id,
            "user_name": "analyst",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    ).encode()


def event_body(event: dict[str, Any], *, event_id: str) -> bytes:
    """An Events API `event_callback` envelope as JSON bytes."""
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        }
    ).encode()


def action_form(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user_id: str = "U0USER1",
    channel_id: str = "C0CHAN1",
    is_ephemeral: bool = True,
) -> bytes:
    """A block_actions interactivity body (form field `payload` holding JSON), clicked on an
    ephemeral message unless `is_ephemeral` is False (a reply in a thread, visible to all)."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user_id},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "channel": {"id": channel_id},
        "response_url": response_url,
        "container": {"type": "message", "is_ephemeral": is_ephemeral, "channel_id": channel_id},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": "1.2",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def all_text(payload: Any) -> str:
    """Every string inside a payload, joined (to look for content or unescaped markup)."""
    if isinstance(payload, dict):
        return " ".join(all_text(v) for v in payload.values())
    if isinstance(payload, list):
        return " ".join(all_text(v) for v in payload)
    return payload if isinstance(payload, str) else ""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """`briefbot serve` running as a real subprocess on a free port."""

    def __init__(
        self,
        *,
        api_url: str,
        workdir: Path,
        database_url: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = shutil.which("briefbot")
        command = [exe] if exe else [sys.executable, "-m", "bot.cli"]
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "BRIEFBOT_DATABASE_URL": database_url or f"sqlite:///{workdir / 'bot.db'}",
            **(extra_env or {}),
        }
        env.pop("SLACK_APP_TOKEN", None)
        self.log_path = workdir / "serve.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        try:
            wait_until(healthy, timeout=timeout, what="/healthz answers", process=self.process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"briefbot serve did not start ({exc}): {self.logs()}") from None

    def logs(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def post(
        self, body: bytes, *, content_type: str = "application/x-www-form-urlencoded", **kwargs: Any
    ) -> HttpResult:
        return post(self.url + "/slack/events", body, content_type=content_type, **kwargs)
