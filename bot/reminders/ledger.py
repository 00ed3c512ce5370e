"""The delivery ledger: what has been posted, claimed, retried, failed or missed, per occurrence.

Exactly-once comes from here, never from APScheduler's job store. A key is claimed with an insert
that does nothing on a duplicate, before anything is posted; only the pass whose insert (or
atomic take-over update) changed a row may post. States:

    sending  -> posted             the post succeeded (Slack's ts recorded)
    sending  -> retry -> sending   a failed post, owed again after a back-off
    retry    -> failed             after MAX_ATTEMPTS
    sending  -> skipped            nothing to say (a digest with no items): not posted
    (none)   -> missed             older than the catch-up window when first seen: not posted

The ledger also remembers its first start (the first pass's `now`): nothing due before the bot
first ran reminders is owed, so a first start neither posts nor records as missed what fell due
before it existed.

A claim is a lease held by one pass (its `owner` token, unique per pass). The lease runs in
wall-clock time from the ledger's `clock`, never in a pass's logical `now` (which only says what
is due), so two passes run with different `--now` cannot mistake each other's live claims for
dead ones. The owner renews its leases before each post (`hold`), which is also the fencing
check: a conditional update that succeeds only while this pass still holds the claim. A
`sending` claim whose lease ran out belongs to a pass that died; whoever takes it over must look
in the channel (message metadata) before posting again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Self

from sqlalchemy import ColumnElement, Connection, Engine, and_, bindparam, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.schema import reminder_deliveries as table
from bot.db.schema import reminder_ledger_start

SENDING = "sending"
POSTED = "posted"
RETRY = "retry"
FAILED = "failed"
MISSED = "missed"
SKIPPED = "skipped"

MAX_ATTEMPTS = 5
"""Passes that may try one occurrence before it is marked failed."""

RETRY_BACKOFF = dt.timedelta(minutes=1)
"""First back-off after a failed post; doubled per attempt (1, 2, 4, 8 minutes)."""

LEASE = dt.timedelta(minutes=2)
"""How long a claim stays live (wall-clock time) after its owner last renewed it. Longer than one
post with the client's retries and a look in the channel; the owner renews before each post."""

RENEW_ALL_AFTER = LEASE / 8
"""The fencing check before each post renews the claim about to be posted; the owner's other
live claims (a batch waiting its turn) are renewed with it once this much wall-clock time has
passed since they last were, so they keep at least 7/8 of a lease whatever a post costs."""


def instance_id() -> str:
    """Who claims: host, process id and a random part unique to this claimant (one pass)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"[-120:]


def wall_clock() -> dt.datetime:
    """The current UTC time: what leases are measured in."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class PostedRecord:
    """A successful post waiting to be recorded: the occurrence key and Slack's ts."""

    key: str
    ts: str
    now: dt.datetime
    late: bool


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
    lease_until: dt.datetime | None


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
        lease_until=_aware(row.lease_until),
    )


class DeliveryLedger:
    """Claims and records reminder deliveries in the bot's database (SQLite or PostgreSQL).

    `owner` names the claimant (unique per pass: see `for_pass`); `clock` is the wall clock the
    leases run on (injected in tests).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        owner: str | None = None,
        clock: Callable[[], dt.datetime] = wall_clock,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.engine = engine
        self.owner = owner or instance_id()
        self.clock = clock
        self.lease = lease
        self._dialect = engine.dialect.name
        self._renewed_all_at: dt.datetime | None = None
        self._unrecorded: list[PostedRecord] = []
        self._connection: Connection | None = None

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Run this ledger's statements on one connection until the block ends (one pass).

        Saves a connection check-out (and its liveness ping) per statement. On PostgreSQL the
        session does not wait for the WAL flush at commit (`synchronous_commit` off) except
        in the transactions that must never be lost (claims, take-overs, failures), which
        turn it back on; the connection is then closed rather than returned to the pool, so
        the setting never reaches other users of the engine.
        """
        with self.engine.connect() as connection:
            if self._dialect == "postgresql":
                with connection.begin():
                    connection.execute(text("SET synchronous_commit TO OFF"))
            self._connection = connection
            try:
                yield
            finally:
                self._connection = None
                if self._dialect == "postgresql":
                    connection.invalidate()

    @contextlib.contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[Connection]:
        """A transaction on the session's connection, or on one checked out for it.

        `durable=False` (records and lease renewals) lets PostgreSQL commit without waiting
        for the WAL flush: a record or a renewal lost in a crash is recovered from the channel,
        or still leaves most of a lease (`RENEW_ALL_AFTER`).
        """
        if self._connection is None:
            with self.engine.begin() as connection:
                if not durable and self._dialect == "postgresql":
                    connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
                yield connection
            return
        with self._connection.begin():
            if durable and self._dialect == "postgresql":
                self._connection.execute(text("SET LOCAL synchronous_commit TO ON"))
            yield self._connection

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection to read on: the session's (in a transaction of its own) or a new one."""
        if self._connection is None:
            with self.engine.connect() as connection:
                yield connection
            return
        with self._connection.begin():
            yield self._connection

    def for_pass(self) -> Self:
        """The same ledger under a new owner token, for one delivery pass."""
        return type(self)(self.engine, clock=self.clock, lease=self.lease)

    def first_start(self, now: dt.datetime) -> dt.datetime:
        """When this ledger first ran a pass; recorded as `now` by the first call."""
        module: Any = postgresql if self._dialect == "postgresql" else sqlite
        with self._transaction() as connection:
            connection.execute(
                module.insert(reminder_ledger_start)
                .values(id=1, started_at=now.astimezone(dt.UTC))
                .on_conflict_do_nothing(index_elements=["id"])
            )
            started = connection.execute(
                select(reminder_ledger_start.c.started_at).where(reminder_ledger_start.c.id == 1)
            ).scalar_one()
        aware = _aware(started)
        assert aware is not None
        return aware

    def _lease_end(self) -> dt.datetime:
        return self.clock() + self.lease

    def _owed(self, now: dt.datetime) -> ColumnElement[bool]:
        """Rows a pass may take over: retries due at `now`, and claims whose lease ran out."""
        return or_(
            and_(table.c.status == RETRY, table.c.next_attempt_at <= now),
            and_(
                table.c.status == SENDING,
                or_(table.c.lease_until.is_(None), table.c.lease_until < self.clock()),
            ),
        )

    def _mine(self, key: str) -> ColumnElement[bool]:
        """The row for `key`, if this owner holds its claim."""
        return and_(table.c.key == key, table.c.claimed_by == self.owner, table.c.status == SENDING)

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
        with self._transaction() as connection:
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
        returns the keys this pass won."""
        lease_until = self._lease_end()
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
                    "lease_until": lease_until,
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
        """Atomically re-claim a due retry or an expired claim; None if not ours."""
        condition = and_(table.c.key == key, self._owed(now))
        with self._transaction() as connection:
            before = connection.execute(select(table).where(condition)).first()
            if before is None:
                return None
            changed = connection.execute(
                update(table)
                .where(condition)
                .values(
                    status=SENDING,
                    claimed_at=now,
                    claimed_by=self.owner,
                    lease_until=self._lease_end(),
                )
            ).rowcount
        return _row(before) if changed == 1 else None

    def hold(self, key: str) -> bool:
        """Renew this owner's lease of `key`; True only if it still holds it (the fencing check).

        Called immediately before each post: False means the lease ran out (another pass may
        have taken the claim over), so the caller must not post. The owner's other live claims
        are renewed too once `RENEW_ALL_AFTER` has passed since they last were, so claims
        waiting their turn in a slow batch stay live. Posts waiting to be recorded
        (`record_posted_later`) are recorded in the same transaction.
        """
        clock = self.clock()
        renew_all = self._renewed_all_at is None or clock - self._renewed_all_at >= RENEW_ALL_AFTER
        live = and_(
            table.c.claimed_by == self.owner,
            table.c.status == SENDING,
            table.c.lease_until >= clock,
        )
        recording = self._unrecorded
        with self._transaction(durable=False) as connection:
            self._record(connection, recording)
            held = connection.execute(
                update(table)
                .where(live if renew_all else and_(live, table.c.key == key))
                .values(lease_until=clock + self.lease)
                .returning(table.c.key)
            )
            holds = key in {row.key for row in held}
        del recording[:]
        if renew_all:
            self._renewed_all_at = clock
        return holds

    def record_posted(self, key: str, *, ts: str, now: dt.datetime, late: bool) -> None:
        """The post succeeded: keep Slack's ts now (with any posts waiting to be recorded)."""
        self.record_posted_later(key, ts=ts, now=now, late=late)
        self.flush()

    def record_posted_later(self, key: str, *, ts: str, now: dt.datetime, late: bool) -> None:
        """The post succeeded: keep Slack's ts in the next transaction, which is the next
        post's fencing check (`hold`) or the pass's final `flush`, whichever comes first.

        This saves a transaction per post. A crash before that transaction leaves the row
        `sending`, as a crash between a post and its own record always could: once its lease
        runs out, the next pass takes it over and finds the post in the channel (its
        metadata) rather than posting again.
        """
        self._unrecorded.append(PostedRecord(key, ts, now, late))

    def flush(self) -> None:
        """Record the posts waiting to be recorded, in one transaction."""
        if self._unrecorded:
            with self._transaction(durable=False) as connection:
                self._record(connection, self._unrecorded)
            self._unrecorded.clear()

    def _record(self, connection: Connection, records: list[PostedRecord]) -> None:
        """Mark `records` posted, in the caller's transaction."""
        if not records:
            return
        connection.execute(
            update(table)
            .where(table.c.key == bindparam("posted_key"))
            .values(
                status=POSTED,
                ts=bindparam("posted_ts"),
                posted_at=bindparam("posted_now"),
                late=bindparam("posted_late"),
                error=None,
                attempts=table.c.attempts + 1,
            ),
            [
                {
                    "posted_key": r.key,
                    "posted_ts": r.ts,
                    "posted_now": r.now,
                    "posted_late": int(r.late),
                }
                for r in records
            ],
        )

    def record_skipped(self, key: str, *, reason: str, now: dt.datetime) -> bool:
        """A claimed occurrence had nothing to post; False if this owner no longer held it."""
        with self._transaction() as connection:
            changed = connection.execute(
                update(table)
                .where(self._mine(key))
                .values(status=SKIPPED, posted_at=now, error=reason[:500])
            ).rowcount
        return bool(changed)

    def record_failure(self, key: str, *, error: str, now: dt.datetime) -> str | None:
        """A post failed: owe it again after a back-off, or mark it failed; returns the state.

        Only while this owner holds the claim (None otherwise): a pass that lost its lease must
        not hand back a claim another pass has taken over.
        """
        with self._transaction() as connection:
            row = connection.execute(select(table.c.attempts).where(self._mine(key))).first()
            if row is None:
                return None
            attempts = row.attempts + 1
            status = FAILED if attempts >= MAX_ATTEMPTS else RETRY
            backoff = RETRY_BACKOFF * 2 ** (attempts - 1)
            connection.execute(
                update(table)
                .where(self._mine(key))
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
        with self._reading() as connection:
            row = connection.execute(select(table).where(table.c.key == key)).first()
        return _row(row) if row else None

    def known_keys(self, keys: list[str]) -> dict[str, str]:
        """The status of each of `keys` that has a row."""
        found: dict[str, str] = {}
        with self._reading() as connection:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                for row in connection.execute(
                    select(table.c.key, table.c.status).where(table.c.key.in_(chunk))
                ):
                    found[row.key] = row.status
        return found

    def owed(self, now: dt.datetime) -> list[Delivery]:
        """Rows a pass may take over now: due retries and claims whose lease ran out."""
        with self._reading() as connection:
            rows = connection.execute(
                select(table).where(self._owed(now)).order_by(table.c.due_at, table.c.key)
            ).all()
        return [_row(r) for r in rows]

    def log(self, *, since: dt.datetime | None = None, limit: int = 200) -> list[Delivery]:
        """Recent rows, newest due first (for `briefbot reminders log`)."""
        query = select(table).order_by(table.c.due_at.desc(), table.c.key).limit(limit)
        if since is not None:
            query = query.where(table.c.due_at >= since)
        with self._reading() as connection:
            return [_row(r) for r in connection.execute(query).all()]
