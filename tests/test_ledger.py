"""The delivery ledger's claims and states, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.db import Database
from bot.reminders.ledger import (
    FAILED,
    LEASE,
    LOCAL_WINDOW,
    MAX_ATTEMPTS,
    MISSED,
    POSTED,
    RETRY,
    SENDING,
    DeliveryLedger,
)

NOW = dt.datetime(2026, 9, 10, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = Database(url)
    yield db
    db.dispose()


def claim(ledger: DeliveryLedger, key: str = "r:2026-09-10:0") -> bool:
    return ledger.claim(key=key, rule_id="r", channel="C1", due_at=NOW, now=NOW)


def test_only_the_first_claim_of_a_key_wins(database: Database) -> None:
    first, second = (
        DeliveryLedger(database.engine, owner="a"),
        DeliveryLedger(database.engine, owner="b"),
    )
    assert claim(first) is True
    assert claim(second) is False
    row = first.get("r:2026-09-10:0")
    assert row is not None and row.status == SENDING and row.claimed_by == "a"
    assert row.due_at == NOW


def test_posted_rows_keep_the_ts_and_are_not_owed(database: Database) -> None:
    ledger = DeliveryLedger(database.engine)
    claim(ledger)
    ledger.record_posted("r:2026-09-10:0", ts="1700.1", now=NOW, late=True)
    row = ledger.get("r:2026-09-10:0")
    assert row is not None and (row.status, row.ts, row.late) == (POSTED, "1700.1", True)
    assert ledger.owed(NOW + dt.timedelta(days=30)) == []


def test_failures_back_off_then_fail_after_the_limit(database: Database) -> None:
    ledger = DeliveryLedger(database.engine)
    claim(ledger)
    states = [ledger.record_failure("r:2026-09-10:0", error="boom", now=NOW)]
    while states[-1] == RETRY:
        row = ledger.get("r:2026-09-10:0")
        assert row is not None and row.next_attempt_at is not None
        assert ledger.take_over(row.key, now=row.next_attempt_at) is not None
        states.append(ledger.record_failure(row.key, error="boom", now=row.next_attempt_at))
    assert states == [RETRY] * (MAX_ATTEMPTS - 1) + [FAILED]
    row = ledger.get("r:2026-09-10:0")
    assert row is not None and row.attempts == MAX_ATTEMPTS and row.next_attempt_at is None


def test_a_retry_is_taken_over_once_and_only_after_its_back_off(database: Database) -> None:
    a, b = DeliveryLedger(database.engine, owner="a"), DeliveryLedger(database.engine, owner="b")
    claim(a)
    a.record_failure("r:2026-09-10:0", error="500", now=NOW)
    assert a.take_over("r:2026-09-10:0", now=NOW) is None
    later = NOW + dt.timedelta(minutes=1)
    assert [d.key for d in a.owed(later)] == ["r:2026-09-10:0"]
    assert b.take_over("r:2026-09-10:0", now=later) is not None
    assert a.take_over("r:2026-09-10:0", now=later) is None


class WallClock:
    """The wall clock leases run on, moved by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def two_passes(database: Database) -> tuple[WallClock, DeliveryLedger, DeliveryLedger]:
    """Passes "a" and "b" on one database, their leases on the same hand-moved wall clock."""
    wall = WallClock()
    return (
        wall,
        DeliveryLedger(database.engine, owner="a", clock=wall),
        DeliveryLedger(database.engine, owner="b", clock=wall),
    )


def test_a_live_claim_is_never_taken_over_whatever_the_other_pass_thinks_the_time_is(
    database: Database,
) -> None:
    wall, a, b = two_passes(database)
    claim(a)
    wall.now += LEASE - dt.timedelta(seconds=1)
    # b runs as a logical time days later: the lease is wall-clock time, so a still holds it.
    assert b.owed(NOW + dt.timedelta(days=3)) == []
    assert b.take_over("r:2026-09-10:0", now=NOW + dt.timedelta(days=3)) is None
    assert a.hold("r:2026-09-10:0") is True  # renewed for another LEASE
    wall.now += LEASE - dt.timedelta(seconds=1)
    assert b.take_over("r:2026-09-10:0", now=NOW) is None
    row = a.get("r:2026-09-10:0")
    assert row is not None and row.claimed_by == "a" and row.status == SENDING


def test_claims_waiting_their_turn_in_a_slow_batch_stay_live_while_the_owner_posts(
    database: Database,
) -> None:
    wall, a, b = two_passes(database)
    keys = [f"r:2026-09-10:{n}" for n in range(4)]
    for key in keys:
        claim(a, key)
    for n, key in enumerate(keys):  # each post takes most of a lease: the batch takes 3 leases
        assert a.hold(key) is True
        wall.now += LEASE * 3 / 4
        assert all(b.take_over(waiting, now=NOW) is None for waiting in keys[n + 1 :])
    rows = [a.get(key) for key in keys]
    assert all(row is not None and row.claimed_by == "a" for row in rows)


def test_an_expired_claim_is_taken_over_and_fences_its_old_owner_out(database: Database) -> None:
    wall, a, b = two_passes(database)
    claim(a)
    wall.now += LEASE + dt.timedelta(seconds=1)
    assert [d.key for d in b.owed(NOW)] == ["r:2026-09-10:0"]
    taken = b.take_over("r:2026-09-10:0", now=NOW)
    assert taken is not None and taken.claimed_by == "a"
    assert a.hold("r:2026-09-10:0") is False  # the fencing check: a must not post
    assert a.record_failure("r:2026-09-10:0", error="late answer", now=NOW) is None
    assert b.hold("r:2026-09-10:0") is True
    row = b.get("r:2026-09-10:0")
    assert row is not None and row.claimed_by == "b" and row.status == SENDING


def test_an_expired_lease_is_not_renewed_by_its_old_owner(database: Database) -> None:
    wall = WallClock()
    a = DeliveryLedger(database.engine, owner="a", clock=wall)
    claim(a)
    wall.now += LEASE + dt.timedelta(seconds=1)
    assert a.hold("r:2026-09-10:0") is False


def test_each_pass_claims_under_its_own_owner_token(database: Database) -> None:
    ledger = DeliveryLedger(database.engine)
    first, second = ledger.for_pass(), ledger.for_pass()
    assert len({ledger.owner, first.owner, second.owner}) == 3
    assert claim(first)
    assert second.hold("r:2026-09-10:0") is False and first.hold("r:2026-09-10:0") is True


def test_missed_is_recorded_once_and_listed_in_the_log(database: Database) -> None:
    ledger = DeliveryLedger(database.engine)
    assert ledger.record_missed(
        key="old:2026-09-01:0",
        rule_id="old",
        channel="C1",
        due_at=NOW - dt.timedelta(days=9),
        now=NOW,
    )
    assert not ledger.record_missed(
        key="old:2026-09-01:0",
        rule_id="old",
        channel="C1",
        due_at=NOW - dt.timedelta(days=9),
        now=NOW,
    )
    claim(ledger)
    assert ledger.known_keys(["old:2026-09-01:0", "r:2026-09-10:0", "nope"]) == {
        "old:2026-09-01:0": MISSED,
        "r:2026-09-10:0": SENDING,
    }
    assert [r.key for r in ledger.log()] == ["r:2026-09-10:0", "old:2026-09-01:0"]
    assert [r.key for r in ledger.log(since=NOW - dt.timedelta(days=1))] == ["r:2026-09-10:0"]


def renewals(database: Database) -> list[str]:
    """Every lease renewal (the fence) sent to `database` from now on, as SQL."""
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and "lease_until" in statement:
            sent.append(statement)

    event.listen(database.engine, "before_cursor_execute", seen)
    return sent


def test_within_its_local_window_a_pass_holds_its_claims_without_asking_the_database(
    database: Database,
) -> None:
    wall = WallClock()
    a = DeliveryLedger(database.engine, owner="a", clock=wall)
    keys = [f"r:2026-09-10:{n}" for n in range(3)]
    assert a.claim_many([(key, "r", "C1", NOW) for key in keys], now=NOW) == set(keys)
    sent = renewals(database)
    wall.now += LOCAL_WINDOW - dt.timedelta(seconds=1)
    assert all(a.hold(key) for key in keys)
    assert sent == []
    wall.now += dt.timedelta(seconds=1)  # the window has closed: the next check is a fence
    assert a.hold(keys[0]) is True
    assert len(sent) == 1
    assert a.hold(keys[1]) is True and a.hold(keys[2]) is True  # one fence renewed them all
    assert len(sent) == 1
    row = a.get(keys[2])
    assert row is not None and row.lease_until == wall.now + LEASE


def test_the_local_window_runs_from_the_clock_read_before_the_renewal_was_sent(
    database: Database,
) -> None:
    wall = WallClock()
    a = DeliveryLedger(database.engine, owner="a", clock=wall)
    claim(a)
    wall.now += LOCAL_WINDOW
    read_before = wall.now
    slow = dt.timedelta(seconds=20)

    def slow_round_trip(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            wall.now += slow  # the renewal takes 20 s to reach the database

    event.listen(database.engine, "before_cursor_execute", slow_round_trip)
    assert a.hold("r:2026-09-10:0") is True
    event.remove(database.engine, "before_cursor_execute", slow_round_trip)
    row = a.get("r:2026-09-10:0")
    assert row is not None and row.lease_until == read_before + LEASE
    sent = renewals(database)
    wall.now = read_before + LOCAL_WINDOW  # only LOCAL_WINDOW - 20 s after the answer
    assert a.hold("r:2026-09-10:0") is True
    assert len(sent) == 1


def test_a_pass_whose_window_closed_after_its_claims_were_taken_over_is_fenced_out(
    database: Database,
) -> None:
    wall, a, b = two_passes(database)
    keys = [f"r:2026-09-10:{n}" for n in range(2)]
    a.claim_many([(key, "r", "C1", NOW) for key in keys], now=NOW)
    assert a.hold(keys[0]) is True
    a.record_posted_later(keys[0], ts="1700.1", now=NOW, late=False)
    wall.now += LEASE + dt.timedelta(seconds=1)  # a was paused for longer than its lease
    assert b.take_over(keys[1], now=NOW) is not None
    assert a.hold(keys[1]) is False  # the post waiting to be recorded rode in that fence
    row = a.get(keys[0])
    assert row is not None and (row.status, row.ts) == (POSTED, "1700.1")


def test_posts_waiting_to_be_recorded_are_flushed_every_record_batch(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.reminders.ledger.RECORD_BATCH", 2)
    a = DeliveryLedger(database.engine, owner="a")
    keys = [f"r:2026-09-10:{n}" for n in range(3)]
    a.claim_many([(key, "r", "C1", NOW) for key in keys], now=NOW)
    for n, key in enumerate(keys):
        a.record_posted_later(key, ts=f"1700.{n}", now=NOW, late=False)
    assert a.known_keys(keys) == {keys[0]: POSTED, keys[1]: POSTED, keys[2]: SENDING}
    a.flush()
    assert set(a.known_keys(keys).values()) == {POSTED}


def test_a_write_behind_session_claims_ahead_and_writes_records_in_its_own_thread(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.reminders.ledger.RECORD_BATCH", 2)
    a = DeliveryLedger(database.engine, owner="a")
    keys = [f"r:2026-09-10:{n}" for n in range(5)]
    threads: set[str] = set()
    event.listen(
        database.engine,
        "before_cursor_execute",
        lambda *_args: threads.add(threading.current_thread().name),
    )
    with a.session(write_behind=True):
        claims = a.claim_ahead([(key, "r", "C1", NOW) for key in keys], now=NOW)
        assert claims.result() == set(keys)
        assert a.claim_ahead([(keys[0], "r", "C1", NOW)], now=NOW).result() == set()
        for n, key in enumerate(keys):
            a.record_posted_later(key, ts=f"1700.{n}", now=NOW, late=False)
        a.flush()
    assert set(a.known_keys(keys).values()) == {POSTED}
    assert any(name.startswith("reminder-ledger") for name in threads)


def test_a_record_batch_that_failed_behind_the_pass_is_raised_by_the_next_flush(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.reminders.ledger.RECORD_BATCH", 2)
    a = DeliveryLedger(database.engine, owner="a")
    keys = [f"r:2026-09-10:{n}" for n in range(2)]
    a.claim_many([(key, "r", "C1", NOW) for key in keys], now=NOW)

    def records_fail(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.current_thread().name.startswith("reminder-ledger"):
            raise RuntimeError("the database went away")

    event.listen(database.engine, "before_cursor_execute", records_fail)
    with a.session(write_behind=True):
        for n, key in enumerate(keys):
            a.record_posted_later(key, ts=f"1700.{n}", now=NOW, late=False)
        with pytest.raises(RuntimeError, match="went away"):
            a.flush()
    event.remove(database.engine, "before_cursor_execute", records_fail)
    assert set(a.known_keys(keys).values()) == {SENDING}  # found in the channel by a take-over
