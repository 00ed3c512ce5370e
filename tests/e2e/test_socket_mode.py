"""`briefbot serve --socket-mode` against a fake Socket Mode WebSocket and the fake Web API."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from tests.fakeslack import FakeSlack
from tests.slackreq import BOT_TOKEN, free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

APP_TOKEN = "xapp-1-A1-test-app-token"


class FakeSocketMode:
    """A WebSocket endpoint speaking Slack's Socket Mode envelopes, in its own thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/link"
        self.acks: list[dict[str, Any]] = []
        self.probe_port = 0
        self.connected = threading.Event()
        self._acked = threading.Condition()
        self._outbox: asyncio.Queue[dict[str, Any]] | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._outbox = asyncio.Queue()
        app = web.Application()
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A1"},
                "debug_info": {"host": "fake", "approximate_connection_time": 3600},
            }
        )
        self.connected.set()
        assert self._outbox is not None

        async def pump() -> None:
            assert self._outbox is not None
            while True:
                await ws.send_json(await self._outbox.get())

        sender = asyncio.ensure_future(pump())
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                with self._acked:
                    self.acks.append(json.loads(message.data))
                    self._acked.notify_all()
        sender.cancel()
        return ws

    def start(self) -> FakeSocketMode:
        self._thread.start()
        self._ready.wait(10)
        return self

    def send(self, envelope: dict[str, Any]) -> None:
        assert self._outbox is not None
        self._loop.call_soon_threadsafe(self._outbox.put_nowait, envelope)

    def wait_ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        with self._acked:
            self._acked.wait_for(
                lambda: any(a.get("envelope_id") == envelope_id for a in self.acks), timeout
            )
            return next(a for a in self.acks if a.get("envelope_id") == envelope_id)

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def socket_bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[FakeSocketMode, FakeSlack]]:
    socket = FakeSocketMode().start()
    fake_slack.socket_url = socket.url
    probe_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BRIEFBOT_"))}
    env.update(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": fake_slack.base_url,
            "PORT": str(probe_port),
            "BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        }
    )
    log = open(tmp_path / "socket.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--socket-mode"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        assert socket.connected.wait(30), (tmp_path / "socket.log").read_text()
        socket.probe_port = probe_port
        yield socket, fake_slack
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        socket.stop()


def test_slash_command_over_socket_mode_is_acknowledged_with_the_brief(
    socket_bot: tuple[FakeSocketMode, FakeSlack],
) -> None:
    socket, _slack = socket_bot
    socket.send(
        {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "command": "/brief",
                "text": "rok",
                "user_id": "U0USER1",
                "channel_id": "C0CHAN1",
                "team_id": "T1",
                "api_app_id": "A1",
                "response_url": "https://hooks.invalid/x",
                "trigger_id": "1.2",
            },
        }
    )
    ack = socket.wait_ack("env-1")
    assert ack["payload"]["response_type"] == "ephemeral"
    assert ack["payload"]["blocks"][0]["text"]["text"] == "New Zealand and the Republic of Korea"


def test_mention_over_socket_mode_is_answered_in_its_thread(
    socket_bot: tuple[FakeSocketMode, FakeSlack],
) -> None:
    socket, slack = socket_bot
    event = {
        "type": "app_mention",
        "user": "U0USER1",
        "text": "<@UBOT> nato",
        "ts": "1700.1",
        "channel": "C0CHAN1",
        "event_ts": "1700.1",
    }
    socket.send(
        {
            "envelope_id": "env-2",
            "type": "events_api",
            "accepts_response_payload": False,
            "payload": {
                "type": "event_callback",
                "event_id": "EvS1",
                "team_id": "T1",
                "api_app_id": "A1",
                "event": event,
            },
        }
    )
    socket.wait_ack("env-2")
    (call,) = slack.wait_for("chat.postMessage", timeout=10)
    assert call.body["thread_ts"] == "1700.1"
    assert slack.limit_violations == []


def test_socket_mode_still_serves_probes_and_metrics(
    socket_bot: tuple[FakeSocketMode, FakeSlack],
) -> None:
    import urllib.request

    socket, _slack = socket_bot
    base = f"http://127.0.0.1:{socket.probe_port}"

    def healthz() -> object:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    wait_until(lambda: healthz() is not None, timeout=10, what="/healthz answers")
    assert healthz() == {"status": "ok"}
    with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
        assert json.loads(response.read())["status"] == "ready"
    with urllib.request.urlopen(base + "/metrics", timeout=5) as response:
        assert b"briefbot_factbase_facts" in response.read()
    request = urllib.request.Request(base + "/slack/events", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 404  # Slack reaches this bot by Socket Mode, not HTTP
