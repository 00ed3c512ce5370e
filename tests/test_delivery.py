"""Reminder delivery, exactly once, against the fake Slack Web API and a real database."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from bot.db import Database
from bot.factbase import FactBase, load_factbase
from bot.reminders.delivery import (
    CLIENT_RETRIES,
    FENCE_MARGIN,
    LATE_AFTER,
    MAX_POST_RETRY_AFTER,
    POST_WORST_CASE,
    ReminderDelivery,
    make_client,
)
from bot.reminders.ledger import (
    FAILED,
    LEASE,
    LOCAL_WINDOW,
    MAX_ATTEMPTS,
    MISSED,
    POSTED,
    RETRY,
    SENDING,
    SKIPPED,
    DeliveryLedger,
)
from bot.reminders.occurrences import ReminderSchedule
from bot.reminders.rules import load_reminder_rules
from bot.render import Renderer
from bot.slack.clients import TIMEOUT_SECONDS
from tests.conftest import TEMPLATES
from tests.fakeslack import FakeSlack
from tests.seedkit import make_seeds

NZ = ZoneInfo("Pacific/Auckland")
CHANNEL = "C0TEAM"
# Thursday 10 September 2026, 09:00 NZST (+12:00): the deadlines below fall due then.
DUE = dt.datetime(2026, 9, 10, 9, 0, tzinfo=NZ)


def deadline_rules(count: int, *, channel: str = CHANNEL, due: str = "2026-09-10") -> str:
    return "".join(
        f"- id: d{i:03d}\n  kind: deadline\n  title: deadline {i}\n  due: {due}\n"
        f"  lead_days: [0]\n  channel: {channel}\n"
        for i in range(count)
    )


class Clock:
    """A monotonic clock and sleep that record instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class WallClock:
    """The wall clock the ledger's leases run on, moved by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


class Rig:
    """A delivery wired to a fake Slack, a real SQLite database and synthetic rules."""

    def __init__(
        self,
        tmp_path: Path,
        slack: FakeSlack,
        rules: str,
        *,
        pacing: float = 0.0,
        timeout: int = 10,
    ) -> None:
        seeds = make_seeds(tmp_path)
        (seeds / "reminders.yaml").write_text(rules)
        self.factbase: FactBase = load_factbase(seeds).require()
        loaded, problems = load_reminder_rules(seeds / "reminders.yaml", self.factbase)
        assert [p for p in problems if p.severity == "error"] == []
        self.schedule = ReminderSchedule(loaded, NZ, CHANNEL)
        self.database = Database(f"sqlite:///{tmp_path / 'bot.db'}")
        self.wall = WallClock()
        self.ledger = DeliveryLedger(self.database.engine, clock=self.wall)
        self.clock = Clock()
        self.delivery = ReminderDelivery(
            ledger=self.ledger,
            snapshot=lambda: self,
            renderer=Renderer(TEMPLATES),
            client=make_client("xoxb-test", slack.base_url, timeout=timeout),
            pacing_seconds=pacing,
            sleep=self.clock.sleep,
            monotonic=self.clock.monotonic,
        )


@pytest.fixture
def rig(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Rig]:
    built = Rig(tmp_path, fake_slack, deadline_rules(3))
    yield built
    built.database.dispose()
    assert fake_slack.limit_violations == []


WEEKLY_DIGEST = (
    "- id: weekly\n  kind: digest\n  title: Weekly look-ahead\n  weekday: monday\n"
    '  time: "09:00"\n  horizon_days: 14\n  channel: {channel}\n'
)


def started_before(rig: Rig, when: dt.datetime) -> None:
    """The bot first ran reminders at `when` (nothing was due then)."""
    assert rig.delivery.run_due(when).posted == 0


def keys_posted(slack: FakeSlack) -> list[str]:
    return [
        c.body["metadata"]["event_payload"]["key"]
        for c in slack.posts()
        if c.status == 200 and c.response.get("ok")
    ]


def test_a_normal_pass_posts_each_due_reminder_with_its_key_and_records_the_ts(
    rig: Rig, fake_slack: FakeSlack
) -> None:
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.posted == 3 and result.late == 0
    assert sorted(keys_posted(fake_slack)) == [f"d00{i}:2026-09-10:0" for i in range(3)]
    call = fake_slack.posts()[0]
    assert call.body["channel"] == CHANNEL
    assert "Due today" in call.body["text"]
    row = rig.ledger.get("d000:2026-09-10:0")
    assert row is not None and row.status == POSTED and row.ts == call.response["ts"]


def test_nothing_is_posted_before_it_is_due(rig: Rig, fake_slack: FakeSlack) -> None:
    assert rig.delivery.run_due(DUE - dt.timedelta(seconds=1)).posted == 0
    assert fake_slack.posts() == []


def test_the_same_pass_twice_posts_once(rig: Rig, fake_slack: FakeSlack) -> None:
    now = DUE + dt.timedelta(minutes=1)
    rig.delivery.run_due(now)
    again = rig.delivery.run_due(now)
    assert again.posted == 0 and again.recovered == 0
    assert len(fake_slack.posts()) == 3


def test_rate_limited_then_success_posts_once(rig: Rig, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.posted == 3
    assert [c.status for c in fake_slack.posts()] == [429, 200, 200, 200]
    assert sorted(set(keys_posted(fake_slack))) == sorted(keys_posted(fake_slack))


def test_server_errors_beyond_the_clients_retries_are_owed_and_posted_once_later(
    rig: Rig, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500, times=3)
    now = DUE + dt.timedelta(minutes=1)
    first = rig.delivery.run_due(now)
    assert first.retrying == 1 and first.posted == 2
    row = rig.ledger.get(fake_slack.posts()[0].body["metadata"]["event_payload"]["key"])
    assert row is not None and row.status == RETRY and row.next_attempt_at is not None
    second = rig.delivery.run_due(row.next_attempt_at)
    assert second.posted == 1
    assert len(keys_posted(fake_slack)) == 3 == len(set(keys_posted(fake_slack)))


def test_a_timeout_whose_post_landed_is_found_in_the_channel_not_repeated(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(1), timeout=1)
    fake_slack.delay_next("chat.postMessage", 2.5)  # longer than the client's timeout, once
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.recovered == 1 and result.retrying == 0
    assert len(fake_slack.messages(CHANNEL)) == 1 == len(fake_slack.posts())
    row = rig.ledger.get("d000:2026-09-10:0")
    assert row is not None and row.status == POSTED
    assert row.ts == fake_slack.messages(CHANNEL)[0]["ts"]
    rig.database.dispose()


def test_a_timeout_whose_post_did_not_land_is_posted_in_the_same_pass(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(1), timeout=1)
    fake_slack.fail_next("chat.postMessage", status=500)  # not stored ...
    fake_slack.delay_next("chat.postMessage", 2.5)  # ... and answered after the client gave up
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.posted == 1 and result.retrying == 0
    assert len(fake_slack.posts()) == 2 and len(fake_slack.messages(CHANNEL)) == 1
    assert len(fake_slack.calls("conversations.history")) == 1
    rig.database.dispose()


@pytest.mark.parametrize("status", [500, None], ids=["http-500", "connection-dropped"])
def test_a_post_stored_whose_answer_was_lost_is_found_in_the_channel_not_repeated(
    tmp_path: Path, fake_slack: FakeSlack, status: int | None
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(1))
    fake_slack.lose_answer_next("chat.postMessage", status=status)
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.recovered == 1 and result.posted == 0 and result.retrying == 0
    assert len(fake_slack.messages(CHANNEL)) == 1 == len(fake_slack.posts())
    assert len(fake_slack.calls("conversations.history")) == 1
    row = rig.ledger.get("d000:2026-09-10:0")
    assert row is not None and row.status == POSTED
    assert row.ts == fake_slack.messages(CHANNEL)[0]["ts"]
    rig.database.dispose()


def test_a_502_once_is_retried_in_the_same_pass_after_a_look_in_the_channel(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(1))
    fake_slack.fail_next("chat.postMessage", status=502)
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.posted == 1 and result.retrying == 0
    assert [c.status for c in fake_slack.posts()] == [502, 200]
    assert len(fake_slack.calls("conversations.history")) == 1
    assert len(fake_slack.messages(CHANNEL)) == 1
    rig.database.dispose()


def test_errors_that_say_nothing_was_stored_are_retried_without_a_look_in_the_channel(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(2))
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    fake_slack.fail_next("chat.postMessage", error="fatal_error")
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.posted == 1 and result.retrying == 1
    assert [c.status for c in fake_slack.posts()] == [429, 200, 200]
    assert fake_slack.calls("conversations.history") == []
    rig.database.dispose()


def test_always_failing_is_marked_failed_after_the_limit_and_logged(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(1))
    fake_slack.always_fail("chat.postMessage", error="not_in_channel")
    now = DUE + dt.timedelta(minutes=1)
    statuses = []
    for _attempt in range(MAX_ATTEMPTS):
        rig.delivery.run_due(now)
        row = rig.ledger.get("d000:2026-09-10:0")
        assert row is not None
        statuses.append(row.status)
        now = row.next_attempt_at or now + dt.timedelta(hours=1)
    assert statuses == [RETRY] * (MAX_ATTEMPTS - 1) + [FAILED]
    assert "not_in_channel" in (rig.ledger.get("d000:2026-09-10:0").error or "")  # type: ignore[union-attr]
    rig.delivery.run_due(now + dt.timedelta(days=1))
    assert [r.status for r in rig.ledger.log()] == [FAILED]
    rig.database.dispose()


def test_after_three_hours_down_reminders_are_posted_once_marked_late(
    rig: Rig, fake_slack: FakeSlack
) -> None:
    started_before(rig, DUE - dt.timedelta(days=1))
    result = rig.delivery.run_due(DUE + dt.timedelta(hours=3))
    assert result.posted == 3 and result.late == 3
    assert "late" in fake_slack.posts()[0].body["text"].lower()
    assert all(r.late for r in rig.ledger.log())
    assert rig.delivery.run_due(DUE + dt.timedelta(hours=3, minutes=1)).posted == 0


def test_after_five_days_down_old_reminders_are_missed_and_recent_ones_posted(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rules = deadline_rules(2) + deadline_rules(1, due="2026-09-14").replace("d000", "recent")
    rig = Rig(tmp_path, fake_slack, rules)
    started_before(rig, DUE - dt.timedelta(days=1))
    now = DUE + dt.timedelta(days=5)  # 15 September: the 10th is 5 days old, the 14th 1 day
    result = rig.delivery.run_due(now)
    assert result.missed == 2 and result.posted == 1 and result.late == 1
    assert keys_posted(fake_slack) == ["recent:2026-09-14:0"]
    statuses = {r.key: r.status for r in rig.ledger.log()}
    assert statuses["d000:2026-09-10:0"] == MISSED and statuses["d001:2026-09-10:0"] == MISSED
    rig.delivery.run_due(now + dt.timedelta(minutes=5))
    assert len(fake_slack.posts()) == 1
    rig.database.dispose()


def test_posts_to_one_channel_are_paced(tmp_path: Path, fake_slack: FakeSlack) -> None:
    rig = Rig(
        tmp_path,
        fake_slack,
        deadline_rules(3) + deadline_rules(1, channel="C0OTHER").replace("d000", "other"),
        pacing=1.0,
    )
    rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert len(fake_slack.posts()) == 4
    assert rig.clock.slept == [1.0, 1.0]  # the other channel's post did not wait
    rig.database.dispose()


def test_a_dead_claim_is_resolved_by_looking_in_the_channel(
    rig: Rig, fake_slack: FakeSlack
) -> None:
    now = DUE + dt.timedelta(minutes=1)
    key = "d000:2026-09-10:0"
    assert rig.ledger.claim(key=key, rule_id="d000", channel=CHANNEL, due_at=DUE, now=now)
    result = rig.delivery.run_due(now)
    assert result.posted == 2  # the claimed one belongs to someone else for now
    # A pass running as a much later time still leaves a live claim alone ...
    assert rig.delivery.run_due(now + dt.timedelta(hours=1)).posted == 0
    # ... and takes it over once its lease has run out.
    rig.wall.now += LEASE + dt.timedelta(seconds=1)
    assert rig.delivery.run_due(now).posted == 1
    history = [c for c in fake_slack.calls("conversations.history")]
    assert history and history[-1].body["include_all_metadata"] in (True, "true", "1")
    assert sorted(keys_posted(fake_slack)) == sorted(set(keys_posted(fake_slack)))


def test_late_threshold_is_respected(rig: Rig, fake_slack: FakeSlack) -> None:
    assert rig.delivery.run_due(DUE + LATE_AFTER).late == 0
    assert len(fake_slack.posts()) == 3


def test_an_overdue_reminder_already_in_the_channel_is_recorded_not_reposted(
    rig: Rig, fake_slack: FakeSlack
) -> None:
    rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert len(fake_slack.posts()) == 3
    # The database is restored from a backup taken before those posts: the ledger forgets them.
    with rig.database.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM reminder_deliveries")
    result = rig.delivery.run_due(DUE + dt.timedelta(hours=2))
    assert result.recovered == 3 and result.posted == 0
    assert len(fake_slack.posts()) == 3


def test_the_first_start_owes_nothing_that_fell_due_before_it(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rules = (
        deadline_rules(1)
        + deadline_rules(1, due="2026-09-14").replace("d000", "after")
        + WEEKLY_DIGEST.format(channel="C0DIGEST")
    )
    rig = Rig(tmp_path, fake_slack, rules)
    # First start a day after d000 fell due (within the catch-up window) and five weeks of
    # Monday digests after the look-back began: none of them is owed.
    first = rig.delivery.run_due(DUE + dt.timedelta(days=1))
    assert (first.posted, first.missed, first.skipped) == (0, 0, 0)
    assert fake_slack.posts() == [] and rig.ledger.log() == []
    later = rig.delivery.run_due(dt.datetime(2026, 9, 14, 9, 1, tzinfo=NZ))
    assert keys_posted(fake_slack) == ["after:2026-09-14:0"] and later.missed == 0
    rig.database.dispose()


def test_a_reminder_due_just_before_the_first_start_is_still_posted(
    rig: Rig, fake_slack: FakeSlack
) -> None:
    assert rig.delivery.run_due(DUE + LATE_AFTER - dt.timedelta(seconds=1)).posted == 3


def test_an_empty_digest_is_recorded_as_skipped_not_posted(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rules = (
        WEEKLY_DIGEST.format(channel=CHANNEL)
        + WEEKLY_DIGEST.format(channel="C0BUSY").replace("id: weekly", "id: busy")
        + deadline_rules(1, channel="C0BUSY", due="2026-09-18")
    )
    rig = Rig(tmp_path, fake_slack, rules)
    started_before(rig, DUE)
    monday = dt.datetime(2026, 9, 14, 9, 1, tzinfo=NZ)
    result = rig.delivery.run_due(monday)
    assert result.skipped == 1 and result.posted == 1
    assert [c.body["channel"] for c in fake_slack.posts()] == ["C0BUSY"]
    row = rig.ledger.get("weekly:2026-09-14:0")
    assert row is not None and row.status == SKIPPED and "nothing to list" in (row.error or "")
    assert rig.delivery.run_due(monday + dt.timedelta(minutes=1)).skipped == 0
    rig.database.dispose()


def test_every_reminder_log_line_names_its_occurrence_key(
    tmp_path: Path, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.reminders")
    rules = deadline_rules(2) + deadline_rules(1, due="2026-09-14").replace("d000", "recent")
    rig = Rig(tmp_path, fake_slack, rules)
    started_before(rig, DUE - dt.timedelta(days=1))
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    rig.delivery.run_due(DUE + dt.timedelta(days=5))  # two missed, one failed
    fake_slack.lose_answer_next("chat.postMessage")
    rig.delivery.run_due(DUE + dt.timedelta(days=6))  # its retry: unanswered, then found
    lines = [r for r in caplog.records if r.name == "bot.reminders" and not hasattr(r, "summary")]
    assert {r.getMessage().split(":")[0] for r in lines} >= {
        "reminder missed",
        "reminder post failed; will retry",
        "reminder post unanswered; looking in the channel",
        "reminder found already posted",
    }
    for record in lines:
        key = getattr(record, "key", None)
        assert key and key in record.getMessage(), record.getMessage()
    rig.database.dispose()


def test_the_start_up_check_names_a_reminder_channel_the_bot_is_not_in_and_what_to_do(
    tmp_path: Path, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(
        tmp_path,
        fake_slack,
        deadline_rules(1) + deadline_rules(1, channel="C0OTHER").replace("d000", "other"),
    )
    fake_slack.remove_bot_from("C0OTHER")
    problems = rig.delivery.check_channels()
    assert sorted(c.body["channel"] for c in fake_slack.calls("conversations.info")) == [
        "C0OTHER",
        CHANNEL,
    ]
    assert len(problems) == 1
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "#c0other (C0OTHER)" in error.getMessage()
    assert "invite @briefbot to #c0other" in error.getMessage()
    rig.database.dispose()


def test_the_start_up_check_says_when_slack_cannot_tell(
    rig: Rig, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail_next("conversations.info", error="missing_scope")
    (problem,) = rig.delivery.check_channels()
    assert "channels:read" in problem
    assert any(
        r.levelno == logging.WARNING and "channels:read" in r.getMessage() for r in caplog.records
    )


def test_posting_where_the_bot_is_not_a_member_records_a_clear_reason(
    rig: Rig, fake_slack: FakeSlack
) -> None:
    fake_slack.remove_bot_from(CHANNEL)
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.retrying == 3 and fake_slack.messages(CHANNEL) == []
    row = rig.ledger.get("d000:2026-09-10:0")
    assert row is not None and row.status == RETRY
    assert row.error is not None and "not_in_channel" in row.error
    assert f"invite @briefbot to {CHANNEL}" in row.error


@pytest.mark.parametrize("posts", [6, 40])
def test_a_pass_commits_the_same_few_transactions_however_many_it_posts_within_one_window(
    tmp_path: Path, fake_slack: FakeSlack, posts: int
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(posts))
    commits: list[int] = []
    event.listen(rig.database.engine, "commit", lambda _conn: commits.append(1))
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    pass_commits = len(commits)
    assert result.posted == posts
    assert {r.key: r.status for r in rig.ledger.log()} == {
        f"d{i:03d}:2026-09-10:0": POSTED for i in range(posts)
    }
    # first start, known keys, one claim batch, what is owed, and the records at the end: the
    # claims' own leases cover every post (the wall clock does not move), so no fence is asked
    assert pass_commits == 1 + 1 + 1 + 1 + 1
    rig.database.dispose()


def test_posts_are_recorded_before_the_pass_waits_on_a_channels_pacing(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(3), pacing=1.0)
    seen_while_waiting: list[dict[str, str]] = []

    def sleep(seconds: float) -> None:
        seen_while_waiting.append({r.key: r.status for r in rig.ledger.log()})
        rig.clock.sleep(seconds)

    rig.delivery._sleep = sleep
    rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert [sorted(s.values()) for s in seen_while_waiting] == [
        [POSTED, SENDING, SENDING],
        [POSTED, POSTED, SENDING],
    ]
    rig.database.dispose()


class AfterEachPost:
    """The rig's Slack client, calling `then(n)` after its n-th successful post (from 1)."""

    def __init__(self, client: Any, then: Callable[[int], None]) -> None:
        self.client = client
        self.then = then
        self.posts = 0

    def chat_postMessage(self, **kwargs: Any) -> Any:
        response = self.client.chat_postMessage(**kwargs)
        self.posts += 1
        self.then(self.posts)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def statuses(rig: Rig) -> dict[str, str]:
    """What the database says now (read on a connection of its own, not the pass's)."""
    return {r.key: r.status for r in rig.ledger.log()}


def test_a_pass_whose_local_window_closes_renews_before_its_next_post_recording_the_last(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(3))
    renewals: list[str] = []
    event.listen(
        rig.database.engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_a: (
            renewals.append(sql)
            if sql.lstrip().upper().startswith("UPDATE") and "lease_until" in sql
            else None
        ),
    )
    seen: list[dict[str, str]] = []

    def window_closes(_n: int) -> None:
        seen.append(statuses(rig))
        rig.wall.now += LOCAL_WINDOW  # each post takes a whole window

    rig.delivery.client = AfterEachPost(rig.delivery.client, window_closes)  # type: ignore[assignment]
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.posted == 3 and result.lost == 0
    assert len(renewals) == 2  # before the second and the third post
    # each post was recorded by the fence before the next one
    assert [sorted(s.values()) for s in seen] == [
        [SENDING] * 3,
        [POSTED, SENDING, SENDING],
        [POSTED, POSTED, SENDING],
    ]
    assert set(statuses(rig).values()) == {POSTED}
    rig.database.dispose()


def test_a_pass_fenced_out_after_its_window_closed_posts_nothing_more(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(3))
    other = DeliveryLedger(rig.database.engine, owner="other", clock=rig.wall)
    now = DUE + dt.timedelta(minutes=1)

    def paused_past_its_lease(n: int) -> None:
        if n == 1:
            rig.wall.now += LEASE + dt.timedelta(seconds=1)
            for key in ("d001:2026-09-10:0", "d002:2026-09-10:0"):
                assert other.take_over(key, now=now) is not None

    rig.delivery.client = AfterEachPost(rig.delivery.client, paused_past_its_lease)  # type: ignore[assignment]
    result = rig.delivery.run_due(now)
    assert result.posted == 1 and result.lost == 2
    assert keys_posted(fake_slack) == ["d000:2026-09-10:0"]
    rows = {r.key: (r.status, r.claimed_by) for r in rig.ledger.log()}
    assert rows == {
        "d000:2026-09-10:0": (POSTED, rows["d000:2026-09-10:0"][1]),
        "d001:2026-09-10:0": (SENDING, "other"),
        "d002:2026-09-10:0": (SENDING, "other"),
    }
    rig.database.dispose()


def test_posts_are_recorded_when_the_pass_ends_by_an_exception(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(4))

    def fails_after_the_second(n: int) -> None:
        if n == 2:
            raise RuntimeError("the pass breaks")

    rig.delivery.client = AfterEachPost(rig.delivery.client, fails_after_the_second)  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="the pass breaks"):
        rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert sorted(statuses(rig).values()) == [POSTED, SENDING, SENDING, SENDING]
    assert statuses(rig)[keys_posted(fake_slack)[0]] == POSTED
    rig.database.dispose()


def test_a_stopped_pass_records_what_it_posted_and_posts_no_more(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(4))
    rig.delivery.client = AfterEachPost(  # type: ignore[assignment]
        rig.delivery.client, lambda n: rig.delivery.stop() if n == 2 else None
    )
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.stopped and result.posted == 2 and "stopped" in result.summary()
    assert len(fake_slack.posts()) == 2
    assert sorted(statuses(rig).values()) == [POSTED, POSTED, SENDING, SENDING]
    assert rig.delivery.run_due(DUE + dt.timedelta(minutes=2)).posted == 0  # stays stopped
    rig.database.dispose()


def test_a_post_rate_limited_for_longer_than_the_fence_allows_is_not_waited_out(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rig = Rig(tmp_path, fake_slack, deadline_rules(1))
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=MAX_POST_RETRY_AFTER + 50)
    result = rig.delivery.run_due(DUE + dt.timedelta(minutes=1))
    assert result.retrying == 1 and result.posted == 0
    assert [c.status for c in fake_slack.posts()] == [429]  # no second send after 60 s
    rig.database.dispose()


def test_the_fence_margin_leaves_half_a_minute_for_clock_skew() -> None:
    # A post started at the last moment of a local window, with every timeout and every
    # Retry-After wait the client allows, still reaches Slack this long before another pass's
    # clock could call the lease expired: what the two clocks may disagree by.
    assert dt.timedelta(seconds=30) <= FENCE_MARGIN
    assert FENCE_MARGIN == LEASE - LOCAL_WINDOW - POST_WORST_CASE
    assert dt.timedelta(seconds=(1 + CLIENT_RETRIES) * TIMEOUT_SECONDS) < POST_WORST_CASE
