"""Operating a running bot: metrics, live fact-base reloads, knowledge gaps, access control."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEEDS
from tests.fakeslack import FakeSlack
from tests.slackreq import BotProcess, all_text, event_body, slash_form
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

ADMIN = "U0ADMIN"
ADMIN_TOKEN = "admin-token-for-tests-0123456789"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 if absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            got = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
            if got == wanted:
                return float(match.group(3))
    return 0.0


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def running(fake_slack: FakeSlack, tmp_path: Path, seeds_copy: Path) -> Iterator[BotProcess]:
    bot = BotProcess(
        api_url=fake_slack.base_url,
        workdir=tmp_path,
        extra_env={
            "BRIEFBOT_SEEDS_DIR": str(seeds_copy),
            "BRIEFBOT_ADMIN_USERS": ADMIN,
            "BRIEFBOT_REMINDERS": "off",
            "BRIEFBOT_ADMIN_TOKEN": ADMIN_TOKEN,
        },
    )
    yield bot
    bot.stop()


def test_metrics_count_real_requests(running: BotProcess, fake_slack: FakeSlack) -> None:
    status, before = get(running.url + "/metrics")
    assert status == 200 and "briefbot_factbase_facts" in before
    url = fake_slack.response_url()
    running.post(slash_form("nato", response_url=url))
    running.post(slash_form("natoo", response_url=url))
    running.post(slash_form("zzqx weather", response_url=url))
    _status, after = get(running.url + "/metrics")
    assert metric(after, "briefbot_requests_total", command="/brief", outcome="brief") == 2
    assert metric(after, "briefbot_requests_total", command="/brief", outcome="not_found") == 1
    assert metric(after, "briefbot_resolutions_total", method="fuzzy") == 1
    assert metric(after, "briefbot_resolution_misses_total") == 1
    assert metric(after, "briefbot_request_seconds_count", command="/brief") == 3
    assert metric(after, "briefbot_factbase_facts") > 80


def test_slack_api_errors_are_counted_by_method_and_error(
    running: BotProcess, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    event = {
        "type": "app_mention",
        "user": "U0USER1",
        "text": "<@UBOT> rok",
        "ts": "1.1",
        "channel": "C0GONE",
        "event_ts": "1.1",
    }
    running.post(event_body(event, event_id="EvM1"), content_type="application/json")
    wait_until(
        lambda: (
            metric(
                get(running.url + "/metrics")[1],
                "briefbot_slack_api_errors_total",
                method="chat.postMessage",
                error="channel_not_found",
            )
            == 1
        )
    )


def break_a_quote(seeds: Path) -> None:
    path = seeds / "facts" / "mfat-regional-security.yaml"
    text = path.read_text()
    assert "We also administer the Pacific Security Fund" in text
    path.write_text(
        text.replace(
            "We also administer the Pacific Security Fund",
            "We also administer the Pacific Safety Fund",
            1,
        )
    )


def test_a_broken_edit_leaves_the_last_good_fact_base_and_reports_degraded(
    running: BotProcess, seeds_copy: Path, fake_slack: FakeSlack
) -> None:
    _status, ready = get(running.url + "/readyz")
    version = json.loads(ready)["factbase"]["version"]
    break_a_quote(seeds_copy)
    running.process.send_signal(signal.SIGHUP)
    wait_until(lambda: json.loads(get(running.url + "/readyz")[1])["status"] == "degraded")
    status, body = get(running.url + "/readyz")
    ready_now = json.loads(body)
    assert status == 200 and ready_now["factbase"]["version"] == version
    assert any(
        re.search(r"mfat-regional-security\.yaml:\d+: error: .*does not occur", p)
        for p in ready_now["problems"]
    )
    answer = running.post(slash_form("pacific security", response_url=fake_slack.response_url()))
    assert answer.status == 200 and "Pacific" in all_text(answer.json())
    assert "does not occur" in running.logs()


def add_alias(topics: Path, alias: str) -> None:
    text = topics.read_text()
    assert "  aliases:\n" in text
    topics.write_text(text.replace("  aliases:\n", f"  aliases:\n    - {alias}\n", 1))


def test_briefbot_reload_and_the_watcher_pick_up_a_good_edit(
    running: BotProcess, seeds_copy: Path, fake_slack: FakeSlack
) -> None:
    topics = seeds_copy / "topics.yaml"
    add_alias(topics, "zealandia defence")
    env = {**os.environ, "PORT": str(running.port), "BRIEFBOT_ADMIN_TOKEN": ADMIN_TOKEN}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "reload"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "reloaded" in result.stdout, result.stderr
    answer = running.post(slash_form("zealandia defence", response_url=fake_slack.response_url()))
    assert "No topic matches" not in all_text(answer.json())
    # the watcher, without any signal: add another alias and wait for the version to change
    version = json.loads(get(running.url + "/readyz")[1])["factbase"]["version"]
    add_alias(topics, "kiwi outlook")
    wait_until(
        lambda: json.loads(get(running.url + "/readyz")[1])["factbase"]["version"] != version,
        timeout=20,
    )
    answer = running.post(slash_form("kiwi outlook", response_url=fake_slack.response_url()))
    assert "No topic matches" not in all_text(answer.json())


def reload_status(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        url + "/admin/reload", data=b"", method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_reload_endpoint_needs_the_admin_token_even_from_this_machine(running: BotProcess) -> None:
    # Behind a reverse proxy on the same host every request comes from 127.0.0.1.
    assert reload_status(running.url, {"X-Forwarded-For": "203.0.113.9"}) == 401
    assert reload_status(running.url, {"Authorization": "Bearer wrong-token-0123456789"}) == 401
    assert reload_status(running.url, {"Authorization": f"Bearer {ADMIN_TOKEN}"}) == 200
    assert "admin-token-for-tests" not in running.logs()


def test_reload_endpoint_is_disabled_without_an_admin_token(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot = BotProcess(
        api_url=fake_slack.base_url,
        workdir=tmp_path,
        extra_env={"BRIEFBOT_REMINDERS": "off", "BRIEFBOT_WATCH_SEEDS": "false"},
    )
    try:
        request = urllib.request.Request(bot.url + "/admin/reload", data=b"", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
        assert "BRIEFBOT_ADMIN_TOKEN" in refused.value.read().decode()
    finally:
        bot.stop()


def test_about_shows_version_counts_and_newest_source(
    running: BotProcess, fake_slack: FakeSlack
) -> None:
    body = running.post(slash_form("about", response_url=fake_slack.response_url())).json()
    text = all_text(body)
    version = json.loads(get(running.url + "/readyz")[1])["factbase"]["version"]
    assert version in text and "facts" in text and "28 October 2025" in text


def test_gaps_are_recorded_and_shown_to_admins_only(
    running: BotProcess, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    url = fake_slack.response_url()
    for query in [
        "fisheries in antarctica",
        "antarctica fisheries",
        "antarctic fisheries",
        "moon base",
    ]:
        running.post(slash_form(query, response_url=url, user_id="U0ANALYST"))
    refused = all_text(
        running.post(slash_form("gaps", response_url=url, user_id="U0ANALYST")).json()
    )
    assert "only Briefbot's admins" in refused

    def shown() -> str:
        return all_text(running.post(slash_form("gaps", response_url=url, user_id=ADMIN)).json())

    wait_until(lambda: "3×" in shown())
    assert "moon base" in shown() and "U0ANALYST" not in shown()
    help_for_admin = all_text(
        running.post(slash_form("help", response_url=url, user_id=ADMIN)).json()
    )
    help_for_analyst = all_text(
        running.post(slash_form("help", response_url=url, user_id="U0ANALYST")).json()
    )
    assert "/brief gaps" in help_for_admin and "/brief gaps" not in help_for_analyst
    env = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}
    listed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "gaps", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    groups = json.loads(listed.stdout)
    assert groups[0]["count"] == 3 and {g["example"] for g in groups} >= {"moon base"}


def test_access_control_by_channel_and_direct_message(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot = BotProcess(
        api_url=fake_slack.base_url,
        workdir=tmp_path,
        extra_env={
            "BRIEFBOT_ALLOWED_CHANNELS": "C0ALLOWED",
            "BRIEFBOT_ALLOW_DMS": "false",
            "BRIEFBOT_REMINDERS": "off",
        },
    )
    try:
        url = fake_slack.response_url()
        elsewhere = all_text(
            bot.post(slash_form("nato", response_url=url, channel_id="C0OTHER")).json()
        )
        assert "doesn't answer here" in elsewhere and "<#C0ALLOWED>" in elsewhere
        allowed = bot.post(slash_form("nato", response_url=url, channel_id="C0ALLOWED")).json()
        assert allowed["blocks"][0]["text"]["text"] == "New Zealand and NATO"
        dm = {
            "type": "message",
            "channel_type": "im",
            "user": "U0USER1",
            "text": "nato",
            "ts": "2.1",
            "channel": "D0DM",
            "event_ts": "2.1",
        }
        bot.post(event_body(dm, event_id="EvA1"), content_type="application/json")
        (call,) = fake_slack.wait_for("chat.postMessage")
        assert "doesn't answer here" in all_text(call.body["blocks"])
    finally:
        bot.stop()


@pytest.mark.postgres
def test_the_start_up_log_never_shows_database_passwords(
    fake_slack: FakeSlack, tmp_path: Path, postgres_url: str
) -> None:
    # PostgreSQL here trusts local connections, so the passwords are carried but not needed.
    url = postgres_url.replace("postgres@", "postgres:hunter1@", 1)
    url += "&password=hunter2&sslpassword=hunter3"
    bot = BotProcess(
        api_url=fake_slack.base_url,
        workdir=tmp_path,
        database_url=url,
        extra_env={"BRIEFBOT_REMINDERS": "off", "BRIEFBOT_WATCH_SEEDS": "false"},
    )
    try:
        assert get(bot.url + "/readyz")[0] == 200
        logs = bot.logs()
        assert "postgres:***@127.0.0.1" in logs and "password=***" in logs
        assert "hunter" not in logs
    finally:
        bot.stop()
