"""The database: start-up migrations, event de-duplication and readiness (SQLite, PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db import Database, migrate, with_reconnect


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def test_migrations_create_the_schema_and_can_run_again(url: str) -> None:
    db = Database(url)
    migrate(db.engine)  # a second start-up changes nothing
    names = set(sa.inspect(db.engine).get_table_names())
    assert {
        "processed_events",
        "reminder_deliveries",
        "knowledge_gaps",
        "factbase_snapshots",
        "alembic_version",
    } <= names
    with db.engine.connect() as connection:
        assert (
            connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            == "0005"
        )
    db.dispose()


def test_an_event_id_is_handled_once_across_instances(url: str) -> None:
    first, second = Database(url), Database(url)
    assert first.claim_event("Ev123", "app_mention") is True
    assert second.claim_event("Ev123", "app_mention") is False
    assert second.claim_event("Ev124", "message") is True
    first.dispose()
    second.dispose()


def test_readiness_reports_an_unreachable_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    assert db.ping() is True
    db.dispose()
    gone = Database("postgresql+psycopg://nobody@127.0.0.1:1/none", run_migrations=False)
    assert gone.ping() is False


MIGRATE_AFTER_GO = (
    "import sys\n"
    "from bot.db import Database\n"
    "sys.stdin.readline()\n"  # wait for the test's go, so both processes migrate at once
    "Database(sys.argv[1]).dispose()\n"
    "print('migrated')\n"
)


def migrate_together(url: str) -> None:
    """Start two processes that migrate `url` at the same moment; both must succeed."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_AFTER_GO, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [p.communicate(timeout=60)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert all(o.strip().endswith("migrated") for o in outputs), outputs
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1


@pytest.mark.parametrize("attempt", range(4))
def test_two_processes_starting_together_on_a_fresh_sqlite_file_both_migrate(
    tmp_path: Path, attempt: int
) -> None:
    migrate_together(f"sqlite:///{tmp_path / 'fresh.db'}")


@pytest.mark.postgres
def test_two_processes_starting_together_on_a_fresh_postgresql_schema_both_migrate(
    postgres_url: str,
) -> None:
    migrate_together(postgres_url)


def terminate_backend(url: str, pid: int) -> None:
    """Close one server connection from PostgreSQL's side, as a restart or fail-over does."""
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


@pytest.mark.postgres
def test_a_pooled_connection_the_server_closed_is_replaced_before_use(postgres_url: str) -> None:
    db = Database(postgres_url)
    with db.engine.connect() as connection:
        pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    terminate_backend(postgres_url, pid)
    assert db.claim_event("Ev1", "app_mention") is True
    db.dispose()


@pytest.mark.postgres
def test_an_event_claim_goes_through_when_the_connection_dies_after_the_pool_checked_it(
    postgres_url: str,
) -> None:
    db = Database(postgres_url)
    killed: list[int] = []

    @sa.event.listens_for(db.claims, "before_cursor_execute")  # the engine claims run on
    def kill_first_claim(
        connection: sa.Connection, _cursor: object, statement: str, *_: object
    ) -> None:
        if statement.startswith("INSERT INTO processed_events") and not killed:
            killed.append(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
            terminate_backend(postgres_url, killed[0])

    assert db.claim_event("Ev1", "app_mention") is True
    assert killed and db.claim_event("Ev1", "app_mention") is False
    db.dispose()


@pytest.mark.postgres
def test_with_reconnect_runs_once_more_when_the_connection_dies_mid_operation(
    postgres_url: str,
) -> None:
    db = Database(postgres_url)
    pids: list[int] = []

    def operation(connection: sa.Connection) -> int:
        pids.append(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        if len(pids) == 1:
            terminate_backend(postgres_url, pids[0])
        return int(connection.execute(sa.text("SELECT 41 + 1")).scalar_one())

    assert with_reconnect(db.engine, operation) == 42
    assert len(pids) == 2 and pids[0] != pids[1]
    with pytest.raises(sa.exc.IntegrityError):  # not a dropped connection: not repeated
        with_reconnect(
            db.engine,
            lambda c: c.execute(
                sa.text(
                    "INSERT INTO processed_events VALUES ('Ev1', 'x', now()), ('Ev1', 'x', now())"
                )
            ),
        )
    db.dispose()
