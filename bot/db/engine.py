"""Connecting to the database and bringing its schema up to date."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from bot.db.schema import processed_events

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_migrate_lock = threading.Lock()
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Use the psycopg (v3) driver for plain `postgresql://` URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so processes can share the file."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # pool_pre_ping: a pooled connection whose server side was closed (a restarted or failed-over
    # PostgreSQL, terminated backends) is replaced before use instead of failing the caller.
    return create_engine(url, pool_pre_ping=True, pool_recycle=300, pool_size=5, max_overflow=5)


def with_reconnect(engine: Engine, fn: Callable[[Connection], T]) -> T:
    """Run `fn` in a transaction on `engine`; if the database dropped the connection, run it once
    more on a fresh one and return what it returns.

    Retried on `OperationalError` or any `DBAPIError` that invalidated the connection; other
    errors (an `IntegrityError`, say) propagate at once, as does a second failure. `fn` runs
    again from the start, so it must be safe to repeat: its first transaction was rolled back,
    unless the connection died after the commit had reached the server.
    """
    try:
        with engine.begin() as connection:
            return fn(connection)
    except DBAPIError as exc:
        if not (exc.connection_invalidated or isinstance(exc, OperationalError)):
            raise
    with engine.begin() as connection:
        return fn(connection)


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the lock that serialises migrations of one database across threads and processes.

    A SQLite file gets an exclusive `flock` on a file beside it (`<file>.migrate-lock`), taken
    before the first connection, so two processes starting together on a fresh file do not both
    create `alembic_version`. PostgreSQL takes an advisory lock in the migration's own
    transaction instead (see `migrate`).
    """
    with _migrate_lock:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:" or sys.platform == "win32":
            yield
            return
        import fcntl

        try:
            handle = open(f"{database}.migrate-lock", "a")  # noqa: SIM115 - closed below
        except OSError:
            # No folder, or not writable: the connection that follows fails with SQLAlchemy's
            # own error, which callers report in one line; a lock would protect nothing.
            handle = None
        if handle is None:
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Run Alembic migrations up to head on `engine` (idempotent; safe at every start-up, and
    when several processes start at once)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _migration_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several replicas may start at once: one migrates, the others wait for it. The lock
            # is held by this transaction, which also creates alembic_version on a fresh schema.
            connection.execute(text("SELECT pg_advisory_xact_lock(72057594037927)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """The bot's database: an engine whose schema is migrated, and the small queries on it."""

    def __init__(self, url: str, *, run_migrations: bool = True) -> None:
        self.engine = make_engine(url)
        if run_migrations:
            migrate(self.engine)
        self._upsert = sqlite_insert if self.engine.dialect.name == "sqlite" else pg_insert
        self.claims = (  # event claims: autocommit, one round trip each (`claim_event`)
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "sqlite"
            else create_engine(
                self.engine.url, isolation_level="AUTOCOMMIT", pool_size=5, max_overflow=5
            )
        )

    def ping(self) -> bool:
        """Whether the database answers (for `/readyz`)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def claim_event(self, event_id: str, event_type: str, now: dt.datetime | None = None) -> bool:
        """Record an Events API delivery; False when it was already handled (a retry).

        One statement, one round trip: `INSERT ... ON CONFLICT DO NOTHING RETURNING` in
        autocommit (no BEGIN or COMMIT), on connections that are not pinged before use. A
        connection the database dropped fails the statement, is discarded, and the claim is made
        once more on a fresh one (`with_reconnect`); a second failure raises.
        """
        values = {
            "event_id": event_id[:64],
            "event_type": event_type[:64],
            "received_at": now or dt.datetime.now(dt.UTC),
        }
        statement = self._upsert(processed_events).values(**values).on_conflict_do_nothing()
        claim = statement.returning(processed_events.c.event_id)
        row = with_reconnect(self.claims, lambda connection: connection.execute(claim).first())
        return row is not None

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
        if self.claims.url.get_backend_name() != "sqlite":  # its own pool
            self.claims.dispose()
