"""Knowledge gaps stay bounded: what one person can plant, what is kept, what grouping costs."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rapidfuzz import fuzz
from sqlalchemy import event, func, insert, select

from bot import gaps as gaps_module
from bot.db import Database
from bot.db.gaps import GapStore
from bot.db.schema import knowledge_gaps
from bot.gaps import MAX_PER_USER_PER_DAY, MAX_WORDINGS


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'gaps.db'}")
    yield db
    db.dispose()


def stored(db: Database) -> list[str]:
    with db.engine.connect() as connection:
        return list(
            connection.execute(
                select(knowledge_gaps.c.query).order_by(knowledge_gaps.c.id)
            ).scalars()
        )


def test_one_person_cannot_record_more_than_the_daily_cap(database: Database) -> None:
    store = GapStore(database.engine)
    for n in range(MAX_PER_USER_PER_DAY + 20):
        store.record_later(
            f"junk {n}", channel_type="im", outcome="not_found", best_score=0, user="U0SPAMMER"
        )
    store.record_later(
        "moon base", channel_type="im", outcome="not_found", best_score=0, user="U0OTHER"
    )
    store.flush()
    store.close()
    queries = stored(database)
    assert len(queries) == MAX_PER_USER_PER_DAY + 1
    assert "moon base" in queries


def test_the_daily_cap_starts_again_the_next_day(database: Database) -> None:
    store = GapStore(database.engine)
    day = dt.date(2026, 11, 23)
    assert all(store.allow("U1", day) for _ in range(MAX_PER_USER_PER_DAY))
    assert not store.allow("U1", day)
    assert store.allow("U1", day + dt.timedelta(days=1))
    store.close()


def test_the_oldest_gaps_are_dropped_beyond_the_total_cap(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gaps_module, "MAX_STORED", 10)
    store = GapStore(database.engine)
    for n in range(15):
        store.record(f"query {n}", channel_type="im", outcome="not_found", best_score=0)
    store.close()
    assert stored(database) == [f"query {n}" for n in range(5, 15)]


def test_grouping_compares_a_bounded_number_of_wordings(database: Database) -> None:
    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    rows = [
        {
            "query": f"w{n} x{n * 7919 % 10007} y{n * 104729 % 99991}",
            "created_at": now,
            "channel_type": "im",
            "outcome": "not_found",
            "best_score": 0.0,
        }
        for n in range(2_000)
    ]
    rows += [{**rows[0], "query": "antarctic fisheries"}] * 3
    with database.engine.begin() as connection:
        connection.execute(insert(knowledge_gaps), rows)
        assert connection.execute(select(func.count()).select_from(knowledge_gaps)).scalar() == 2003
    comparisons = 0

    def counting(a: str, b: str) -> float:
        nonlocal comparisons
        comparisons += 1
        return float(fuzz.token_set_ratio(a, b))

    store = GapStore(database.engine, similarity=counting)
    groups = store.groups()
    store.close()
    assert comparisons <= MAX_WORDINGS * (MAX_WORDINGS - 1) // 2
    assert groups[0].example == "antarctic fisheries" and groups[0].count == 3


def test_gaps_queued_then_closed_are_all_written_in_a_few_transactions(
    database: Database,
) -> None:
    store = GapStore(database.engine)
    commits: list[int] = []
    event.listen(database.engine, "commit", lambda _conn: commits.append(1))
    for n in range(450):
        store.record_later(
            f"query {n}", channel_type="im", outcome="not_found", best_score=0, user=f"U{n}"
        )
    store.close()
    assert stored(database) == [f"query {n}" for n in range(450)]
    assert len(commits) <= 10  # batches of up to WRITE_BATCH, not one transaction per gap
    store.record_later("after close", channel_type="im", outcome="not_found", best_score=0)
    assert len(stored(database)) == 450


def test_a_full_queue_drops_and_counts_gaps_rather_than_waiting(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gaps_module, "MAX_QUEUED", 5)
    store = GapStore(database.engine)
    blocker = database.engine.connect()
    blocker.exec_driver_sql("BEGIN IMMEDIATE")  # the writer waits on SQLite's write lock
    try:
        for n in range(20):
            store.record_later(f"q{n}", channel_type="im", outcome="not_found", best_score=0)
        # Five wait in the queue, one more may already be in the writer's hands.
        assert store.dropped in (14, 15)
    finally:
        blocker.rollback()
        blocker.close()
    store.close()
    assert len(stored(database)) == 20 - store.dropped


def test_a_killed_process_keeps_the_gaps_it_flushed(tmp_path: Path) -> None:
    """The crash window (README, CONTRIBUTING): gaps queued since the last write are lost."""
    url = f"sqlite:///{tmp_path / 'gaps.db'}"
    script = (
        "import os, sys\n"
        "from bot.db import Database\n"
        "from bot.db.gaps import GapStore\n"
        "store = GapStore(Database(sys.argv[1]).engine)\n"
        "for n in range(3):\n"
        "    store.record_later(f'kept {n}', channel_type='im', outcome='not_found', "
        "best_score=0)\n"
        "store.flush()\n"
        "store.record_later('in the window', channel_type='im', outcome='not_found', "
        "best_score=0)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    process = subprocess.run([sys.executable, "-c", script, url], capture_output=True)
    assert process.returncode == -signal.SIGKILL
    db = Database(url)
    try:
        assert stored(db)[:3] == ["kept 0", "kept 1", "kept 2"]
        assert len(stored(db)) <= 4
    finally:
        db.dispose()


def test_the_command_handler_and_replies_import_no_database() -> None:
    """`briefbot brief` imports the handler: SQLAlchemy and Alembic were most of its start-up."""
    code = (
        "import sys, bot.commands, bot.replies; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'bot.db') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
