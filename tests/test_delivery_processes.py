"""`briefbot reminders run-due` as real processes: killed mid-delivery, and two at once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.fakeslack import FakeSlack
from tests.seedkit import make_seeds
from tests.test_delivery import CHANNEL, DUE, deadline_rules
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def env_for(
    tmp_path: Path, slack: FakeSlack, database_url: str, rules: str, *, pacing: str = "0"
) -> dict[str, str]:
    seeds = make_seeds(tmp_path)
    (seeds / "reminders.yaml").write_text(rules)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BRIEFBOT_"))}
    return {
        **clean,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.base_url,
        "BRIEFBOT_SEEDS_DIR": str(seeds),
        "BRIEFBOT_REMINDER_CHANNEL": CHANNEL,
        "BRIEFBOT_DATABASE_URL": database_url,
        "BRIEFBOT_REMINDER_PACING_SECONDS": pacing,
    }


def run_due(env: dict[str, str], now: dt.datetime) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "reminders", "run-due", "--now", now.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def statuses(database_url: str) -> dict[str, str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT key, status FROM reminder_deliveries"))
            return {row.key: row.status for row in rows}
    except sa.exc.OperationalError:
        return {}
    finally:
        engine.dispose()


def expire_leases(database_url: str) -> None:
    """Move every claim's lease into the past: as if the ledger's lease time had gone by."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE reminder_deliveries SET lease_until = :past"),
                {"past": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)},
            )
    finally:
        engine.dispose()


def posted_keys(slack: FakeSlack) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in slack.messages(CHANNEL)]


def test_killed_between_claim_and_post_then_restarted_posts_once(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    env = env_for(tmp_path, fake_slack, url, deadline_rules(2), pacing="30")
    now = DUE + dt.timedelta(minutes=1)
    process = run_due(env, now)
    # d000 is posted; d001 is claimed and waits for the channel's pacing: kill it there.
    wait_until(
        lambda: statuses(url) == {"d000:2026-09-10:0": "posted", "d001:2026-09-10:0": "sending"}
    )
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert posted_keys(fake_slack) == ["d000:2026-09-10:0"]
    expire_leases(url)
    restart = run_due(
        {**env, "BRIEFBOT_REMINDER_PACING_SECONDS": "0"}, now + dt.timedelta(minutes=6)
    )
    output, _ = restart.communicate(timeout=60)
    assert restart.returncode == 0, output
    assert sorted(posted_keys(fake_slack)) == ["d000:2026-09-10:0", "d001:2026-09-10:0"]
    assert set(statuses(url).values()) == {"posted"}


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_killed_with_several_posts_unrecorded_then_restarted_posts_nothing_twice(
    tmp_path: Path, fake_slack: FakeSlack, request: pytest.FixtureRequest, database: str
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'bot.db'}"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    env = env_for(tmp_path, fake_slack, url, deadline_rules(5))
    # Three posts are answered (and wait in memory to be recorded); the fourth is stored by
    # Slack but its answer never comes: the pass is killed there.
    fake_slack.hold("chat.postMessage", after=3)
    now = DUE + dt.timedelta(minutes=1)
    process = run_due(env, now)
    fake_slack.wait_for("chat.postMessage", count=4, timeout=30)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    fake_slack.clear_failures()
    assert len(posted_keys(fake_slack)) == 4
    assert set(statuses(url).values()) == {"sending"}  # none of the four was recorded
    expire_leases(url)
    restart = run_due(env, now + dt.timedelta(minutes=6))
    output, _ = restart.communicate(timeout=60)
    assert restart.returncode == 0 and "posted 1 (late 0), recovered 4" in output, output
    keys = posted_keys(fake_slack)
    assert sorted(keys) == [f"d{i:03d}:2026-09-10:0" for i in range(5)]
    assert len(fake_slack.calls("chat.postMessage")) == 5
    assert set(statuses(url).values()) == {"posted"}


def test_sigterm_mid_pass_records_what_was_posted_and_stops(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    env = env_for(tmp_path, fake_slack, url, deadline_rules(6))
    fake_slack.hold("chat.postMessage", after=3)
    process = run_due(env, DUE + dt.timedelta(minutes=1))
    fake_slack.wait_for("chat.postMessage", count=4, timeout=30)
    process.send_signal(signal.SIGTERM)  # while the fourth post waits for its answer
    fake_slack.release("chat.postMessage")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and "posted 4" in output and "stopped" in output, output
    assert len(posted_keys(fake_slack)) == 4 == len(fake_slack.calls("chat.postMessage"))
    recorded = statuses(url)
    assert sorted(recorded.values()) == ["posted"] * 4 + ["sending"] * 2
    assert {k for k, v in recorded.items() if v == "posted"} == set(posted_keys(fake_slack))


def test_killed_between_post_and_record_then_restarted_does_not_post_again(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    env = env_for(tmp_path, fake_slack, url, deadline_rules(1))
    fake_slack.delay_next("chat.postMessage", 30)
    now = DUE + dt.timedelta(minutes=1)
    process = run_due(env, now)
    fake_slack.wait_for("chat.postMessage", timeout=30)  # Slack has it; the answer is delayed
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert statuses(url) == {"d000:2026-09-10:0": "sending"}
    expire_leases(url)
    restart = run_due(env, now + dt.timedelta(minutes=6))
    output, _ = restart.communicate(timeout=60)
    assert restart.returncode == 0 and "recovered 1" in output, output
    assert posted_keys(fake_slack) == ["d000:2026-09-10:0"]
    assert len(fake_slack.calls("chat.postMessage")) == 1
    assert statuses(url) == {"d000:2026-09-10:0": "posted"}


@pytest.mark.postgres
def test_two_processes_at_the_same_instant_on_postgresql_post_each_occurrence_once(
    tmp_path: Path, fake_slack: FakeSlack, postgres_url: str
) -> None:
    env = env_for(tmp_path, fake_slack, postgres_url, deadline_rules(200))
    now = DUE + dt.timedelta(minutes=1)
    processes = [run_due(env, now), run_due(env, now)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    keys = posted_keys(fake_slack)
    assert len(keys) == 200 and len(set(keys)) == 200
    assert len(fake_slack.calls("chat.postMessage")) == 200
    assert set(statuses(postgres_url).values()) == {"posted"}


@pytest.mark.postgres
def test_overlapping_passes_with_different_now_under_a_slow_slack_post_each_occurrence_once(
    tmp_path: Path, fake_slack: FakeSlack, postgres_url: str
) -> None:
    # Pass A (09:01) is mid-batch when pass B (09:07, more than a claim time-out later in its
    # logical time) starts: B must not take A's live claims over.
    fake_slack.slow_down("chat.postMessage", 0.3)
    env = env_for(tmp_path, fake_slack, postgres_url, deadline_rules(16))
    first = run_due(env, DUE + dt.timedelta(minutes=1))
    fake_slack.wait_for("chat.postMessage", count=2, timeout=60)
    second = run_due(env, DUE + dt.timedelta(minutes=7))
    outputs = [p.communicate(timeout=120)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    keys = posted_keys(fake_slack)
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 16
    assert len(fake_slack.calls("chat.postMessage")) == 16
    assert set(statuses(postgres_url).values()) == {"posted"}
