"""A replica that follows the database: load the newest published snapshot, and switch when a
new one is published (PostgreSQL `LISTEN`, with polling as the fallback and on SQLite)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.factbase.problems import Problem
from bot.publish.payload import PayloadError, decode
from bot.publish.store import NOTIFY_CHANNEL, SnapshotStore
from bot.reminders.occurrences import ReminderSchedule
from bot.reminders.rules import REMINDERS_FILE, parse_reminder_rules
from bot.state import Knowledge, LoadResult

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("bot.publish")

POLL_SECONDS = 2.0
"""How often a follower looks for a new snapshot when no notification arrives."""
NOTHING_PUBLISHED = "no fact base has been published to the database: run `briefbot publish`"


class DatabaseFactBase:
    """Where a replica with `BRIEFBOT_FACTBASE=database` gets its snapshot: the newest one."""

    def __init__(
        self, store: SnapshotStore, *, timezone: ZoneInfo, default_channel: str | None
    ) -> None:
        self.store = store
        self.timezone = timezone
        self.default_channel = default_channel
        self.attempted: int | None = None
        """The id of the snapshot last loaded or refused (a follower loads each id once)."""

    def load(self) -> LoadResult:
        """The newest snapshot as a `Knowledge`, or the problem that stopped it (no snapshot,
        a payload this code cannot read, reminder rules that no longer check)."""
        snapshot = self.store.newest()
        where = "database"
        if snapshot is None:
            return LoadResult(None, [Problem(where, 0, NOTHING_PUBLISHED)])
        where = f"snapshot {snapshot.version}"
        self.attempted = snapshot.id
        try:
            contents = decode(self.store.payload(snapshot.id))
        except PayloadError as exc:
            return LoadResult(None, [Problem(where, 0, str(exc))])
        rules, rule_problems = (
            parse_reminder_rules(
                contents.reminders, f"{where}: {REMINDERS_FILE}", contents.factbase
            )
            if contents.reminders is not None
            else ([], [])
        )
        if any(p.severity == "error" for p in rule_problems):
            return LoadResult(None, list(rule_problems), list(rule_problems))
        schedule = ReminderSchedule(rules, self.timezone, self.default_channel)
        knowledge = Knowledge.build(contents.factbase, schedule)
        return LoadResult(knowledge, list(rule_problems), list(rule_problems))


class SnapshotFollower:
    """A background loop that calls `reload` when a snapshot newer than the one last loaded
    is published: at once on a PostgreSQL notification, else within `poll_seconds`."""

    def __init__(
        self,
        source: DatabaseFactBase,
        reload: Callable[[], object],
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.source = source
        self.reload = reload
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Follow in a daemon thread until `stop`."""
        self._thread = threading.Thread(target=self._run, name="factbase-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following (the thread ends within one poll)."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_seconds + 5)

    def check(self) -> bool:
        """Reload if a newer snapshot than the one last attempted is published; True if so."""
        try:
            newest = self.source.store.newest_id()
        except SQLAlchemyError as exc:
            log.warning("cannot look for a new fact base: %s", type(exc).__name__)
            return False
        if newest is None or newest == self.source.attempted:
            return False
        self.reload()
        return True

    def _run(self) -> None:
        engine = self.source.store.engine
        while not self.stopping.is_set():
            listener = _listen(engine) if engine.dialect.name == "postgresql" else None
            try:
                while not self.stopping.is_set():
                    self._wait(listener)
                    try:
                        self.check()
                    except Exception:
                        log.exception("following the published fact base failed")
            except Exception as exc:  # the listening connection broke: listen afresh
                log.warning("fact base notifications lost (%s); polling", type(exc).__name__)
                self.stopping.wait(self.poll_seconds)
            finally:
                if listener is not None:
                    listener.close()

    def _wait(self, listener: _Listener | None) -> None:
        """Until a notification arrives, `poll_seconds` pass, or the follower stops."""
        if listener is None:
            self.stopping.wait(self.poll_seconds)
            return
        for _notice in listener.connection.notifies(timeout=self.poll_seconds, stop_after=1):
            pass


class _Listener:
    """A dedicated PostgreSQL connection listening on `NOTIFY_CHANNEL`."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()


def _listen(engine: Engine) -> _Listener | None:
    """A connection listening for publications, or None (logged) when one cannot be made:
    the follower then polls."""
    import psycopg

    url = engine.url.set(drivername="postgresql")
    try:
        connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
        connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
    except psycopg.Error as exc:
        log.warning("cannot listen for fact base notifications (%s); polling", type(exc).__name__)
        return None
    return _Listener(connection)
