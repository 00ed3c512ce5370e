"""APScheduler really wakes the delivery pass; the ledger keeps it to one post per occurrence."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.reminders.delivery import PassResult
from bot.reminders.scheduler import JOB_ID, ReminderScheduler
from tests.fakeslack import FakeSlack
from tests.slackreq import BotProcess
from tests.test_delivery import CHANNEL, DUE, Rig, deadline_rules

NZ = ZoneInfo("Pacific/Auckland")


def test_the_tick_is_a_cron_trigger_in_the_teams_zone_without_jitter() -> None:
    scheduler = ReminderScheduler(lambda now: None, NZ)  # type: ignore[arg-type, return-value]
    assert isinstance(scheduler.trigger, CronTrigger)
    assert scheduler.trigger.timezone == NZ
    assert scheduler.trigger.jitter is None
    fire = scheduler.trigger.get_next_fire_time(
        None, dt.datetime(2026, 9, 27, 1, 59, 30, tzinfo=NZ)
    )
    assert fire is not None and fire.second == 0 and fire.tzinfo is not None


def test_scheduled_ticks_post_each_due_reminder_once(tmp_path: Path, fake_slack: FakeSlack) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(3))
    ticks: list[dt.datetime] = []
    ticked = threading.Condition()

    def run_due(now: dt.datetime):  # type: ignore[no-untyped-def]
        result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
        with ticked:
            ticks.append(now)
            ticked.notify_all()
        return result

    scheduler = ReminderScheduler(run_due, NZ, cron={"second": "*"})
    scheduler.start()
    try:
        job = scheduler.scheduler.get_job(JOB_ID)
        assert job is not None and job.trigger.timezone == NZ
        fake_slack.wait_for("chat.postMessage", count=3, timeout=10)
        with ticked:
            ticked.wait_for(lambda: len(ticks) >= 3, timeout=10)
    finally:
        scheduler.shutdown()
        rig.database.dispose()
    assert len(ticks) >= 3
    assert all(t.tzinfo is not None for t in ticks)
    assert len(fake_slack.posts()) == 3


def test_serve_posts_a_due_reminder_from_its_start_up_pass(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    from tests.seedkit import make_seeds

    due = dt.datetime.now(NZ) - dt.timedelta(minutes=5)
    seeds = make_seeds(tmp_path / "s")
    (seeds / "reminders.yaml").write_text(
        f"- id: serve-check\n  kind: deadline\n  title: the check\n  due: {due:%Y-%m-%d}\n"
        f'  time: "{due:%H:%M}"\n  weekend: same_day\n  lead_days: [0]\n'
    )
    bot = BotProcess(
        api_url=fake_slack.base_url,
        workdir=tmp_path,
        extra_env={
            "BRIEFBOT_SEEDS_DIR": str(seeds),
            "BRIEFBOT_REMINDER_CHANNEL": CHANNEL,
            "BRIEFBOT_REMINDER_PACING_SECONDS": "0",
        },
    )
    try:
        (call,) = fake_slack.wait_for("chat.postMessage", timeout=15)
    finally:
        bot.stop()
    assert call.body["channel"] == CHANNEL
    assert call.body["metadata"]["event_payload"]["key"] == f"serve-check:{due:%Y-%m-%d}:0"


def test_apscheduler_adds_no_info_lines_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    ticked = threading.Event()

    def run_due(now: dt.datetime) -> PassResult:
        ticked.set()
        return PassResult()

    scheduler = ReminderScheduler(run_due, NZ, cron={"second": "*"})
    scheduler.start()
    try:
        assert ticked.wait(timeout=10)
    finally:
        scheduler.shutdown()
    noisy = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("apscheduler") and r.levelno < logging.WARNING
    ]
    assert noisy == []
    assert any(r.name == "bot.reminders" for r in caplog.records)  # our own line still logs
