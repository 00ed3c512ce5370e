"""`briefbot serve` as a real process at its edges: the token at start-up, slow clients, logs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.server import (
    KEEP_ALIVE_SECONDS,
    MAX_CONCURRENT_CONNECTIONS,
    MAX_INCOMPLETE_EVENT_BYTES,
    create_http_app,
    uvicorn_config,
)
from bot.slack.work import MAX_CONCURRENT_EVENTS
from tests.asgi import JSON, build_runtime
from tests.conftest import ROOT
from tests.fakeslack import FakeSlack
from tests.slackreq import (
    BOT_TOKEN,
    SIGNING_SECRET,
    BotProcess,
    event_body,
    mention,
    slash_form,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(
        api_url=fake_slack.base_url,
        workdir=tmp_path,
        extra_env={"BRIEFBOT_REMINDERS": "off", "BRIEFBOT_WATCH_SEEDS": "false"},
    )
    yield process
    process.stop()


def test_a_cold_start_while_auth_test_fails_still_answers_the_first_brief(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.fail_next("auth.test", error="internal_error")
    bot = BotProcess(
        api_url=fake_slack.base_url,
        workdir=tmp_path,
        extra_env={"BRIEFBOT_REMINDERS": "off", "BRIEFBOT_WATCH_SEEDS": "false"},
    )
    try:
        checks = len(fake_slack.calls("auth.test"))
        answer = bot.post(slash_form("nato", response_url=fake_slack.response_url()))
        assert answer.json()["blocks"][0]["text"]["text"] == "New Zealand and NATO"
        assert "reinstall" not in answer.body.decode()
        assert len(fake_slack.calls("auth.test")) == checks  # none per request
        logs = bot.logs()
        assert "slack token verified" in logs and "internal_error" in logs
        assert "will be unused" not in logs and "will be ignored" not in logs
    finally:
        bot.stop()


def test_a_refused_token_stops_start_up_with_one_clear_line(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.always_fail("auth.test", error="invalid_auth")
    exe = shutil.which("briefbot")
    command = [exe] if exe else [sys.executable, "-m", "bot.cli"]
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "BRIEFBOT_REMINDERS": "off",
        "BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }
    done = subprocess.run(
        [*command, "serve", "--port", "65001"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in done.stdout
    assert BOT_TOKEN not in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_request_with_hostile_control_characters_leaves_json_logs_one_line_each(
    bot: BotProcess, fake_slack: FakeSlack
) -> None:
    bot.post(slash_form('nato\n{"forged": true}\x1b[2J', response_url=fake_slack.response_url()))
    lines = [line for line in bot.logs().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines)
    assert "\x1b" not in bot.logs() and "color_message" not in bot.logs()


def test_uvicorn_bounds_idle_connections_headers_and_concurrency(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    runtime = build_runtime(fake_slack.base_url, tmp_path)
    try:
        config = uvicorn_config(create_http_app(runtime), host="127.0.0.1", port=0)
    finally:
        runtime.close()
    assert config.timeout_keep_alive == KEEP_ALIVE_SECONDS
    assert config.limit_concurrency == MAX_CONCURRENT_CONNECTIONS
    assert config.h11_max_incomplete_event_size == MAX_INCOMPLETE_EVENT_BYTES
    unit = (ROOT / "deploy" / "systemd" / "briefbot.service").read_text()
    assert "LimitNOFILE=65536" in unit


def test_a_shutdown_finishes_the_replies_to_events_it_already_acknowledged(
    bot: BotProcess, fake_slack: FakeSlack
) -> None:
    """40 mentions acknowledged while Slack holds chat.postMessage: 32 replies are in flight and
    8 wait for a slot when SIGTERM comes. The process stops taking requests, then finishes all
    40 before it exits."""
    fake_slack.hold("chat.postMessage")
    for n in range(40):
        event = mention(f"nato {n}", ts=f"1700000300.{n:06d}")
        answer = bot.post(event_body(event, event_id=f"EvShutdown{n}"), content_type=JSON)
        assert answer.status == 200
    wait_until(
        lambda: len(fake_slack.calls("chat.postMessage")) == MAX_CONCURRENT_EVENTS,
        timeout=10,
        what="the first replies reach Slack",
    )
    bot.process.send_signal(signal.SIGTERM)
    wait_until(  # uvicorn has stopped taking requests; the replies are still owed
        lambda: "finishing replies already acknowledged" in bot.logs(),
        timeout=15,
        what="the drain starts",
        process=bot.process,
    )
    assert bot.process.poll() is None
    fake_slack.release("chat.postMessage")
    assert bot.process.wait(timeout=20) == 0
    assert len(fake_slack.messages("C0CHAN1")) == 40
    assert "unfinished at exit" not in bot.logs()
