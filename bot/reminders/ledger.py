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

import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from sqlalchemy import ColumnElement, Engine, and_, or_, select, text, update
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


def instance_id() -> str:
    """Who claims: host, process id and a random part unique to this claimant (one pass)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"[-120:]


def wall_clock() -> dt.datetime:
    """The current UTC time: what leases are measured in."""
    return dt.datetime.now(dt.UTC)


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

    def for_pass(self) -> Self:
        """The same ledger under a new owner token, for one delivery pass."""
        return type(self)(self.engine, clock=self.clock, lease=self.lease)

    def first_start(self, now: dt.datetime) -> dt.datetime:
        """When this ledger first ran a pass; recorded as `now` by the first call."""
        module: Any = postgresql if self._dialect == "postgresql" else sqlite
        with self.engine.begin() as connection:
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
        with self.engine.begin() as connection:
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
        """Renew this owner's live leases; True only if it still holds `key` (the fencing check).

        Called immediately before each post: False means the lease ran out (another pass may
        have taken the claim over), so the caller must not post. Every other live claim of this
        owner is renewed too, so claims waiting their turn in a slow batch stay live.
        """
        with self.engine.begin() as connection:
            held = connection.execute(
                update(table)
                .where(
                    and_(
                        table.c.claimed_by == self.owner,
                        table.c.status == SENDING,
                        table.c.lease_until >= self.clock(),
                    )
                )
                .values(lease_until=self._lease_end())
                .returning(table.c.key)
            )
            return key in {row.key for row in held}

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

    def record_skipped(self, key: str, *, reason: str, now: dt.datetime) -> bool:
        """A claimed occurrence had nothing to post; False if this owner no longer held it."""
        with self.engine.begin() as connection:
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
        with self.engine.begin() as connection:
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
        """Rows a pass may take over now: due retries and claims whose lease ran out."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table).where(self._owed(now)).order_by(table.c.due_at, table.c.key)
            ).all()
        return [_row(r) for r in rows]

    def log(self, *, since: dt.datetime | None = None, limit: int = 200) -> list[Delivery]:
        """Recent rows, newest due first (for `briefbot reminders log`)."""
        query = select(table).order_by(table.c.due_at.desc(), table.c.key).limit(limit)
        if since is not None:
            query = query.where(table.c.due_at >= since)
        with self.engine.connect() as connection:
            return [_row(r) for r in connection.execute(query).all()]
