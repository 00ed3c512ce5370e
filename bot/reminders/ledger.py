"""The delivery ledger: what has been posted, claimed, retried, failed or missed, per occurrence.

Exactly-once comes from here, never from APScheduler's job store. A key is claimed with an insert
that does nothing on a duplicate, before anything is posted; only the process whose insert (or
atomic take-over update) changed a row may post. States:

    sending  -> posted             the post succeeded (Slack's ts recorded)
    sending  -> retry -> sending   a failed post, owed again after a back-off
    retry    -> failed             after MAX_ATTEMPTS
    (none)   -> missed             older than the catch-up window when first seen: not posted

A `sending` claim older than the claim timeout belongs to a process that died; whoever takes it
over must look in the channel (message metadata) before posting again.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.schema import reminder_deliveries as table

SENDING = "sending"
POSTED = "posted"
RETRY = "retry"
FAILED = "failed"
MISSED = "missed"

MAX_ATTEMPTS = 5
"""Passes that may try one occurrence before it is marked failed."""

RETRY_BACKOFF = dt.timedelta(minutes=1)
"""First back-off after a failed post; doubled per attempt (1, 2, 4, 8 minutes)."""

CLAIM_TIMEOUT = dt.timedelta(minutes=5)
"""A `sending` claim untouched for this long belongs to a process that died."""


def instance_id() -> str:
    """Who claims: host and process id, for the log and for debugging."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One ledger row."""

    key: str
    rule_id: str
    channel: str
    due_at: dt.datetime
    status: str
    attempts: int
    claimed_at: dt.datetime
    claimed_by: str
    next_attempt_at: dt.datetime | None
    posted_at: dt.datetime | None
    ts: str | None
    late: bool
    error: str | None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _row(row: Any) -> Delivery:
    due, claimed = _aware(row.due_at), _aware(row.claimed_at)
    assert due is not None and claimed is not None
    return Delivery(
        key=row.key,
        rule_id=row.rule_id,
        channel=row.channel,
        due_at=due,
        status=row.status,
        attempts=row.attempts,
        claimed_at=claimed,
        claimed_by=row.claimed_by,
        next_attempt_at=_aware(row.next_attempt_at),
        posted_at=_aware(row.posted_at),
        ts=row.ts,
        late=bool(row.late),
        error=row.error,
    )


class DeliveryLedger:
    """Claims and records reminder deliveries in the bot's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, *, owner: str | None = None) -> None:
        self.engine = engine
        self.owner = owner or instance_id()
        self._dialect = engine.dialect.name

    def _insert(self, rows: list[dict[str, Any]]) -> set[str]:
        """INSERT ... ON CONFLICT DO NOTHING RETURNING key: the keys this call inserted.

        RETURNING rather than rowcount, which psycopg reports as -1 for this statement.
        """
        if not rows:
            return set()
        module: Any = postgresql if self._dialect == "postgresql" else sqlite
        statement = (
            module.insert(table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.key)
        )
        with self.engine.begin() as connection:
            return {row.key for row in connection.execute(statement)}

    def claim(
        self, *, key: str, rule_id: str, channel: str, due_at: dt.datetime, now: dt.datetime
    ) -> bool:
        """Claim a never-seen occurrence; True only for the one process whose insert won."""
        return bool(self.claim_many([(key, rule_id, channel, due_at)], now=now))

    def claim_many(
        self, items: list[tuple[str, str, str, dt.datetime]], *, now: dt.datetime
    ) -> set[str]:
        """Claim several never-seen occurrences (key, rule id, channel, due) in one statement;
        returns the keys this process won."""
        return self._insert(
            [
                {
                    "key": key,
                    "rule_id": rule_id,
                    "channel": channel,
                    "due_at": due_at,
                    "status": SENDING,
                    "attempts": 0,
                    "claimed_at": now,
                    "claimed_by": self.owner,
                    "late": 0,
                }
                for key, rule_id, channel, due_at in items
            ]
        )

    def record_missed(
        self, *, key: str, rule_id: str, channel: str, due_at: dt.datetime, now: dt.datetime
    ) -> bool:
        """Record an occurrence first seen after its catch-up window closed (never posted)."""
        row = {
            "key": key,
            "rule_id": rule_id,
            "channel": channel,
            "due_at": due_at,
            "status": MISSED,
            "attempts": 0,
            "claimed_at": now,
            "claimed_by": self.owner,
            "late": 0,
            "error": "missed: the bot was not running within the catch-up window",
        }
        return bool(self._insert([row]))

    def take_over(self, key: str, *, now: dt.datetime) -> Delivery | None:
        """Atomically re-claim a due retry or a dead process's `sending` claim; None if not ours."""
        stale = now - CLAIM_TIMEOUT
        condition = and_(
            table.c.key == key,
            or_(
                and_(table.c.status == RETRY, table.c.next_attempt_at <= now),
                and_(table.c.status == SENDING, table.c.claimed_at < stale),
            ),
        )
        with self.engine.begin() as connection:
            before = connection.execute(select(table).where(condition)).first()
            if before is None:
                return None
            changed = connection.execute(
                update(table)
                .where(condition)
                .values(status=SENDING, claimed_at=now, claimed_by=self.owner)
            ).rowcount
        return _row(before) if changed == 1 else None

    def heartbeat(self, key: str, now: dt.datetime) -> None:
        """Refresh a claim before a slow step, so no one takes it over as dead."""
        with self.engine.begin() as connection:
            connection.execute(
                update(table)
                .where(
                    and_(
                        table.c.key == key,
                        table.c.claimed_by == self.owner,
                        table.c.status == SENDING,
                    )
                )
                .values(claimed_at=now)
            )

    def record_posted(self, key: str, *, ts: str, now: dt.datetime, late: bool) -> None:
        """The post succeeded: keep Slack's ts.

        On PostgreSQL this commit does not wait for the WAL flush: if a crash loses it, the row
        stays `sending` and the next pass finds the post in the channel (its metadata) rather
        than posting again. Claims, which must never be lost, keep synchronous commits.
        """
        with self.engine.begin() as connection:
            if self._dialect == "postgresql":
                connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
            connection.execute(
                update(table)
                .where(table.c.key == key)
                .values(
                    status=POSTED,
                    ts=ts,
                    posted_at=now,
                    late=int(late),
                    error=None,
                    attempts=table.c.attempts + 1,
                )
            )

    def record_failure(self, key: str, *, error: str, now: dt.datetime) -> str:
        """A post failed: owe it again after a back-off, or mark it failed; returns the state."""
        with self.engine.begin() as connection:
            row = connection.execute(select(table.c.attempts).where(table.c.key == key)).first()
            attempts = (row.attempts if row else 0) + 1
            status = FAILED if attempts >= MAX_ATTEMPTS else RETRY
            backoff = RETRY_BACKOFF * 2 ** (attempts - 1)
            connection.execute(
                update(table)
                .where(table.c.key == key)
                .values(
                    status=status,
                    attempts=attempts,
                    error=error[:500],
                    next_attempt_at=None if status == FAILED else now + backoff,
                )
            )
        return status

    def get(self, key: str) -> Delivery | None:
        """The row for a key, if any."""
        with self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.key == key)).first()
        return _row(row) if row else None

    def known_keys(self, keys: list[str]) -> dict[str, str]:
        """The status of each of `keys` that has a row."""
        found: dict[str, str] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                for row in connection.execute(
                    select(table.c.key, table.c.status).where(table.c.key.in_(chunk))
                ):
                    found[row.key] = row.status
        return found

    def owed(self, now: dt.datetime) -> list[Delivery]:
        """Rows another pass may take over now: due retries and dead `sending` claims."""
        stale = now - CLAIM_TIMEOUT
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table)
                .where(
                    or_(
                        and_(table.c.status == RETRY, table.c.next_attempt_at <= now),
                        and_(table.c.status == SENDING, table.c.claimed_at < stale),
                    )
                )
                .order_by(table.c.due_at, table.c.key)
            ).all()
        return [_row(r) for r in rows]

    def log(self, *, since: dt.datetime | None = None, limit: int = 200) -> list[Delivery]:
        """Recent rows, newest due first (for `briefbot reminders log`)."""
        query = select(table).order_by(table.c.due_at.desc(), table.c.key).limit(limit)
        if since is not None:
            query = query.where(table.c.due_at >= since)
        with self.engine.connect() as connection:
            return [_row(r) for r in connection.execute(query).all()]
