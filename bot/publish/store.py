"""Published snapshots in the database: publish, roll back, list, and read the newest.

Rows are only added. Publishing runs in one transaction that also sends a PostgreSQL `NOTIFY`
on `NOTIFY_CHANNEL` (delivered to listeners when it commits), so replicas following the
database switch at once; SQLite replicas, and any that missed the notification, poll.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, insert, select, text

from bot.db.schema import factbase_snapshots as table
from bot.factbase.model import Fact, FactBase
from bot.publish.payload import PayloadError, decode, encode

NOTIFY_CHANNEL = "briefbot_factbase"
"""The PostgreSQL channel a publication is announced on (its payload: the snapshot's id)."""
_PUBLISH_LOCK = 72057594037928
"""The advisory lock that serialises publications on PostgreSQL (one after the other)."""


@dataclass(frozen=True)
class Changes:
    """What a snapshot changed against the one published before it (fact ids)."""

    previous: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    rollback_of: str | None = None
    """The version republished by `publish --rollback`, if this is a rollback."""

    def summary(self) -> str:
        """One line for `briefbot history`: "12 added, 2 changed, 1 removed"."""
        parts = [
            f"{len(ids)} {word}"
            for ids, word in (
                (self.added, "added"),
                (self.changed, "changed"),
                (self.removed, "removed"),
            )
            if ids
        ]
        what = ", ".join(parts) if parts else "no fact changed"
        if self.previous is None:
            what = "first publication"
        if self.rollback_of:
            what = f"rollback to {self.rollback_of}: {what}"
        return what

    def as_json(self) -> dict[str, object]:
        """The form stored in the database and printed by `history --format json`."""
        return {
            "previous": self.previous,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
            "rollback_of": self.rollback_of,
        }


@dataclass(frozen=True)
class Snapshot:
    """One publication: which fact base, by whom, when, how big, and what it changed."""

    id: int
    version: str
    author: str
    published_at: dt.datetime
    documents: int
    topics: int
    facts: int
    rules: int
    changes: Changes

    def as_json(self) -> dict[str, object]:
        """The form `briefbot history --format json` prints."""
        return {
            "id": self.id,
            "version": self.version,
            "author": self.author,
            "published_at": self.published_at.isoformat(),
            "counts": {
                "documents": self.documents,
                "topics": self.topics,
                "facts": self.facts,
                "rules": self.rules,
            },
            "changes": self.changes.as_json(),
        }


@dataclass(frozen=True)
class Publication:
    """What `publish` did: the newest snapshot, and whether this call added it (False: that
    version was already the newest, nothing was stored)."""

    snapshot: Snapshot
    stored: bool


class UnknownVersion(LookupError):
    """`publish --rollback VERSION` names a version never published."""


_COLUMNS = [c for c in table.c if c.name != "payload"]


def _snapshot(row: object) -> Snapshot:
    values = row._mapping  # type: ignore[attr-defined]
    changes = json.loads(values["changes"])
    published_at = values["published_at"]
    if published_at.tzinfo is None:  # SQLite hands back naive UTC
        published_at = published_at.replace(tzinfo=dt.UTC)
    return Snapshot(
        id=values["id"],
        version=values["version"],
        author=values["author"],
        published_at=published_at,
        documents=values["documents"],
        topics=values["topics"],
        facts=values["facts"],
        rules=values["rules"],
        changes=Changes(
            previous=changes.get("previous"),
            added=tuple(changes.get("added", ())),
            removed=tuple(changes.get("removed", ())),
            changed=tuple(changes.get("changed", ())),
            rollback_of=changes.get("rollback_of"),
        ),
    )


def compare(before: FactBase | None, after: FactBase) -> Changes:
    """The facts `after` adds, removes and changes against `before` (None: nothing before).

    A fact is changed when anything but its place in the files differs.
    """
    if before is None:
        return Changes(added=tuple(after.facts))

    def content(fact: Fact) -> Fact:
        return dataclasses.replace(fact, path="", line=0)

    old, new = before.facts, after.facts
    return Changes(
        previous=before.version,
        added=tuple(i for i in new if i not in old),
        removed=tuple(i for i in old if i not in new),
        changed=tuple(i for i in new if i in old and content(new[i]) != content(old[i])),
    )


def _newest(connection: Connection) -> Snapshot | None:
    row = connection.execute(select(*_COLUMNS).order_by(table.c.id.desc()).limit(1)).first()
    return None if row is None else _snapshot(row)


def _payload(connection: Connection, snapshot_id: int) -> bytes:
    value = connection.execute(
        select(table.c.payload).where(table.c.id == snapshot_id)
    ).scalar_one()
    return bytes(value)


def _changes(connection: Connection, newest: Snapshot | None, after: FactBase) -> Changes:
    """What `after` changes against the newest stored snapshot; every fact counts as added
    when there is none, or when it cannot be read (a format from other code)."""
    if newest is None:
        return compare(None, after)
    try:
        before = decode(_payload(connection, newest.id)).factbase
    except PayloadError:
        return dataclasses.replace(compare(None, after), previous=newest.version)
    return compare(before, after)


class SnapshotStore:
    """The `factbase_snapshots` table: publications, newest last."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def newest(self) -> Snapshot | None:
        """The snapshot replicas serve now (the last published), or None before any."""
        with self.engine.connect() as connection:
            return _newest(connection)

    def newest_id(self) -> int | None:
        """The newest snapshot's id (what a follower polls: one small query)."""
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(table.c.id))).scalar()
        return None if value is None else int(value)

    def payload(self, snapshot_id: int) -> bytes:
        """The stored payload of one snapshot (see `bot.publish.payload`)."""
        with self.engine.connect() as connection:
            return _payload(connection, snapshot_id)

    def history(self) -> list[Snapshot]:
        """Every publication, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(*_COLUMNS).order_by(table.c.id.desc())).all()
        return [_snapshot(row) for row in rows]

    def publish(
        self,
        factbase: FactBase,
        reminders: str | None,
        *,
        rules: int,
        author: str,
        now: dt.datetime,
    ) -> Publication:
        """Store a verified fact base as the newest snapshot, unless it is the newest already."""
        with self.engine.begin() as connection:
            newest = self._lock_newest(connection)
            if newest is not None and newest.version == factbase.version:
                return Publication(newest, stored=False)
            changes = _changes(connection, newest, factbase)
            payload = encode(factbase, reminders)
            counts = (len(factbase.documents), len(factbase.topics), len(factbase.facts), rules)
            snapshot = self._insert(
                connection, factbase.version, author, now, counts, changes, payload
            )
        return Publication(snapshot, stored=True)

    def rollback(self, version: str, *, author: str, now: dt.datetime) -> Publication:
        """Republish the latest snapshot of `version` as the newest (`UnknownVersion` if none)."""
        with self.engine.begin() as connection:
            newest = self._lock_newest(connection)
            row = connection.execute(
                select(table).where(table.c.version == version).order_by(table.c.id.desc()).limit(1)
            ).first()
            if row is None:
                raise UnknownVersion(version)
            if newest is not None and newest.version == version:
                return Publication(newest, stored=False)
            earlier = _snapshot(row)
            payload = bytes(row._mapping["payload"])
            after = decode(payload).factbase
            changes = dataclasses.replace(_changes(connection, newest, after), rollback_of=version)
            counts = (earlier.documents, earlier.topics, earlier.facts, earlier.rules)
            snapshot = self._insert(connection, version, author, now, counts, changes, payload)
        return Publication(snapshot, stored=True)

    def _lock_newest(self, connection: Connection) -> Snapshot | None:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({_PUBLISH_LOCK})"))
        return _newest(connection)

    @staticmethod
    def _insert(
        connection: Connection,
        version: str,
        author: str,
        now: dt.datetime,
        counts: tuple[int, int, int, int],
        changes: Changes,
        payload: bytes,
    ) -> Snapshot:
        documents, topics, facts, rules = counts
        snapshot_id = connection.execute(
            insert(table)
            .values(
                version=version,
                author=author[:120],
                published_at=now,
                documents=documents,
                topics=topics,
                facts=facts,
                rules=rules,
                changes=json.dumps(changes.as_json()),
                payload=payload,
            )
            .returning(table.c.id)
        ).scalar_one()
        if connection.dialect.name == "postgresql":
            # Delivered to every listening replica when (and only if) this transaction commits.
            connection.execute(
                text("SELECT pg_notify(:channel, :id)"),
                {"channel": NOTIFY_CHANNEL, "id": str(snapshot_id)},
            )
        return Snapshot(
            int(snapshot_id), version, author[:120], now, documents, topics, facts, rules, changes
        )
