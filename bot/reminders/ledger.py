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
dead ones. A `sending` claim whose lease ran out belongs to a pass that died (or stalled); whoever
takes it over must look in the channel (message metadata) before posting again.

One fence covers several posts. A pass asks the database only when its local window has closed:
`hold` renews the leases of all the pass's live claims in one conditional update (the fence:
only rows this owner still holds, whose lease has not run out, are renewed), and from then on
answers from memory until `LOCAL_WINDOW` has passed on the wall clock since the reading taken
*before* that renewal (or claim, or take-over) was sent. Posts that succeeded are recorded in
batches: with the next renewal, before a pacing wait, when the pass hands them over
(`write_behind`, at each claim batch) or `RECORD_BATCH` of them wait, on the session's
write-behind thread (which also claims the next batch while this one is posted), and at the end
of the pass (also when it ends by an exception or is stopped). The rule stays "claim
before post, record after": a batch's posts wait for its claims to commit.

Why that is still exactly once:

- Take-over needs the lease to have run out: `lease_until = t0 + LEASE`, where `t0` is the owner's
  clock read before its renewal (or claim) was sent, and another pass compares that with its own
  clock. The owner starts a post only while its clock reads less than `t0 + LOCAL_WINDOW`, and
  one post (with the client's retries and waits) takes at most `delivery.POST_WORST_CASE`. So
  every post has reached Slack by `t0 + LOCAL_WINDOW + POST_WORST_CASE`, and a take-over
  happens no earlier than `t0 + LEASE` by the other pass's clock: the difference (120 - 30 - 52
  = 38 s, `delivery.FENCE_MARGIN`, pinned by a test) is what the two clocks may disagree by, or
  step by during one lease. NTP keeps them within milliseconds; a clock stepped back by more
  than that while a pass runs is outside what this design protects against.
- Claims, take-overs and renewals (with any records riding in them) commit durably; only a
  transaction of records alone lets PostgreSQL skip the WAL flush (`synchronous_commit` off):
  a local window must never outlive a lease the database lost.
- A crash loses only the records not yet written: at most `2 * RECORD_BATCH` (one batch being
  written, one filling), all from the last moments of the pass. Their rows stay `sending`; once
  their leases run out, the next pass takes them over and finds each message in its channel
  (the key in the message metadata, within the last `HISTORY_PAGES` pages of 200 messages, well
  beyond those 200) before anything is posted again: it records them as posted, it never posts
  them twice. Claims made ahead and not yet posted are taken over the same way, find nothing in
  the channel, and are posted once.
- A paused process (a stopped VM, a long GC, SIGSTOP) that wakes up after its local window has
  closed renews before its next post, and stops if fenced out: its claims may have been taken
  over. A process paused *after* its check and *during* a post (between the check and Slack
  receiving the request) for longer than the margin could still post after a take-over: that is
  the same hazard the per-post fence had (paused between its renewal and its post), only with
  the margin `LEASE - LOCAL_WINDOW - POST_WORST_CASE` instead of `LEASE - POST_WORST_CASE`.
  No lease without a fencing token checked by Slack itself can close it; Slack has none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Self

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    Insert,
    Integer,
    String,
    Update,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
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
"""How long a claim stays live (wall-clock time) after its owner last renewed it."""

LOCAL_WINDOW = LEASE / 4
"""How long after a renewal (from the wall-clock reading taken before it was sent) a pass starts
posts without asking the database again. A quarter of the lease, not half: the rest must hold a
post's worst case (`delivery.POST_WORST_CASE`, 52 s) and still leave room for clock skew. A
renewal every 30 s costs nothing measurable; a longer window would buy nothing."""

RECORD_BATCH = 100
"""Posts recorded per transaction of records alone: a crash leaves at most twice this many to be
found in their channels (well within the look's 1,000 most recent messages)."""


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


def _arrays(**types: Any) -> Any:
    """`unnest(:each_a, :each_b, ...)`: array parameters as a table of columns a, b, ...
    (PostgreSQL). The parameters' names differ from the columns', which insert and update
    reserve for themselves."""
    params = [
        bindparam(f"each_{name}", type_=postgresql.ARRAY(kind)) for name, kind in types.items()
    ]
    return func.unnest(*params).table_valued(*types).render_derived()


def _pg_claim() -> Insert:
    """PostgreSQL's claim of a batch: one INSERT from arrays (one small statement however
    many rows, parsed once), where a multi-row VALUES cost three times as long per batch."""
    rows = _arrays(key=String(), rule_id=String(), channel=String(), due_at=DateTime(True))
    return (
        postgresql.insert(table)
        .from_select(
            [
                "key",
                "rule_id",
                "channel",
                "due_at",
                "status",
                "attempts",
                "claimed_at",
                "claimed_by",
                "late",
                "lease_until",
            ],
            select(
                rows.c.key,
                rows.c.rule_id,
                rows.c.channel,
                rows.c.due_at,
                literal(SENDING),
                literal(0),
                bindparam("claimed_now", type_=DateTime(True)),
                bindparam("claimant", type_=String()),
                literal(0),
                bindparam("lease_end", type_=DateTime(True)),
            ),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )


def _pg_record() -> Update:
    """PostgreSQL's record of a batch of posts: one UPDATE ... FROM arrays."""
    rows = _arrays(key=String(), ts=String(), posted_at=DateTime(True), late=Integer())
    return (
        update(table)
        .where(table.c.key == rows.c.key)
        .values(
            status=POSTED,
            ts=rows.c.ts,
            posted_at=rows.c.posted_at,
            late=rows.c.late,
            error=None,
            attempts=table.c.attempts + 1,
        )
    )


def _sqlite_record() -> Update:
    """SQLite's record of one post, executed once per post in one `executemany`."""
    return (
        update(table)
        .where(table.c.key == bindparam("posted_key"))
        .values(
            status=POSTED,
            ts=bindparam("posted_ts"),
            posted_at=bindparam("posted_now"),
            late=bindparam("posted_late"),
            error=None,
            attempts=table.c.attempts + 1,
        )
    )


_PG_KNOWN = select(table.c.key, table.c.status).where(
    table.c.key == func.any(bindparam("each_key", type_=postgresql.ARRAY(String())))
)
_NOT_DURABLE = text("SET LOCAL synchronous_commit TO OFF")
_PG_CLAIM = _pg_claim()
_PG_RECORD = _pg_record()
_SQLITE_RECORD = _sqlite_record()


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
        self._held: dict[str, dt.datetime] = {}
        """Claims this pass held at its last fence (or won since), each with the wall-clock
        reading taken before the statement that set its lease: its local window's start."""
        self._unrecorded: list[PostedRecord] = []
        self._connection: Connection | None = None
        self._lock = threading.Lock()
        """Taken by each transaction on the session's connection: the pass's thread and the
        session's write-behind thread use it in turns."""
        self._worker: ThreadPoolExecutor | None = None
        self._writing: Future[None] | None = None
        """The batch of records being written by the write-behind thread: one at a time, so
        that at most `2 * RECORD_BATCH` posts are ever waiting to be recorded."""

    @contextlib.contextmanager
    def session(self, *, write_behind: bool = False) -> Iterator[None]:
        """Run this ledger's statements on one connection until the block ends (one pass).

        Saves a connection check-out (and its liveness ping) per statement. With
        `write_behind`, a thread of the session's own runs what need not hold up the pass:
        claims asked for ahead (`claim_ahead`) and batches of records (`record_posted_later`),
        so their round trips overlap the pass's posts. Statements from both threads take
        turns on the one connection. The block ends once that thread has finished its work.
        """
        with self.engine.connect() as connection:
            self._connection = connection
            self._worker = (
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="reminder-ledger")
                if write_behind
                else None
            )
            try:
                yield
            finally:
                if self._worker is not None:
                    self._worker.shutdown(wait=True)
                    self._worker = None
                self._connection = None

    @contextlib.contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[Connection]:
        """A transaction on the session's connection, or on one checked out for it.

        `durable=False` (records alone) lets PostgreSQL commit without waiting for the WAL
        flush: a record lost in a crash is recovered from the channel. Claims, take-overs and
        renewals are durable: a local window must never outlive a lease the database lost.
        """
        if self._connection is None:
            with self.engine.begin() as connection:
                if not durable and self._dialect == "postgresql":
                    connection.execute(_NOT_DURABLE)
                yield connection
            return
        with self._lock, self._connection.begin():
            if not durable and self._dialect == "postgresql":
                self._connection.execute(_NOT_DURABLE)
            yield self._connection

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection to read on: the session's (in a transaction of its own) or a new one."""
        if self._connection is None:
            with self.engine.connect() as connection:
                yield connection
            return
        with self._lock, self._connection.begin():
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

        RETURNING rather than rowcount, which psycopg reports as -1 for this statement. The
        rows go as parameters of one cached statement (SQLAlchemy's "insertmanyvalues" batches
        them into multi-row INSERTs), not as a `values(rows)` compiled afresh for every batch,
        which cost four to eight times as long.
        """
        if not rows:
            return set()
        module: Any = postgresql if self._dialect == "postgresql" else sqlite
        statement = (
            module.insert(table)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.key)
        )
        with self._transaction() as connection:
            return {row.key for row in connection.execute(statement, rows)}

    def claim(
        self, *, key: str, rule_id: str, channel: str, due_at: dt.datetime, now: dt.datetime
    ) -> bool:
        """Claim a never-seen occurrence; True only for the one process whose insert won."""
        return bool(self.claim_many([(key, rule_id, channel, due_at)], now=now))

    def claim_many(
        self, items: list[tuple[str, str, str, dt.datetime]], *, now: dt.datetime
    ) -> set[str]:
        """Claim several never-seen occurrences (key, rule id, channel, due) in one statement;
        returns the keys this pass won (each held for `LOCAL_WINDOW` without a fence)."""
        if not items:
            return set()
        start = self.clock()
        if self._dialect == "postgresql":
            parameters = {
                "each_key": [item[0] for item in items],
                "each_rule_id": [item[1] for item in items],
                "each_channel": [item[2] for item in items],
                "each_due_at": [item[3] for item in items],
                "claimed_now": now,
                "claimant": self.owner,
                "lease_end": start + self.lease,
            }
            with self._transaction() as connection:
                won = {row.key for row in connection.execute(_PG_CLAIM, parameters)}
        else:
            won = self._insert(
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
                        "lease_until": start + self.lease,
                    }
                    for key, rule_id, channel, due_at in items
                ]
            )
        self._held.update(dict.fromkeys(won, start))
        return won

    def claim_ahead(
        self, items: list[tuple[str, str, str, dt.datetime]], *, now: dt.datetime
    ) -> Future[set[str]]:
        """`claim_many` on the session's write-behind thread (at once without one): the pass
        asks for the next batch's claims before posting this one's, and waits for the answer
        only when it gets there. Nothing of that batch is posted before its claims commit."""
        if self._worker is not None:
            return self._worker.submit(self.claim_many, items, now=now)
        done: Future[set[str]] = Future()
        try:
            done.set_result(self.claim_many(items, now=now))
        except Exception as exc:
            done.set_exception(exc)
        return done

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
        start = self.clock()
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
                    lease_until=start + self.lease,
                )
            ).rowcount
        if changed != 1:
            return None
        self._held[key] = start
        return _row(before)

    def hold(self, key: str) -> bool:
        """True if this pass may start a post of `key` now: the fencing check before each post.

        Answered from memory while `key` was held at the last fence (or claimed or taken over
        since) and that fence's local window is open (`LOCAL_WINDOW` on the wall clock since
        the reading taken before it was sent). Otherwise `renew` fences first. False means the
        lease ran out (another pass may have taken the claim over): the caller must not post.
        """
        start = self._held.get(key)
        if start is not None and self.clock() < start + LOCAL_WINDOW:
            return True
        self.renew()
        start = self._held.get(key)
        return start is not None and self.clock() < start + LOCAL_WINDOW

    def renew(self) -> set[str]:
        """Renew the leases of every claim this pass still holds, in one conditional update
        (the fence), recording the posts waiting to be recorded in the same transaction;
        returns the keys still held. Each gets a new local window from the wall-clock reading
        taken before the update was sent."""
        start = self.clock()
        recording = self._unrecorded
        with self._transaction() as connection:
            self._record(connection, recording)
            held = connection.execute(
                update(table)
                .where(
                    table.c.claimed_by == self.owner,
                    table.c.status == SENDING,
                    table.c.lease_until >= start,
                )
                .values(lease_until=start + self.lease)
                .returning(table.c.key)
            )
            keys = {row.key for row in held}
        del recording[:]
        self._held = dict.fromkeys(keys, start)
        return keys

    def record_posted(self, key: str, *, ts: str, now: dt.datetime, late: bool) -> None:
        """The post succeeded: keep Slack's ts now (with any posts waiting to be recorded)."""
        self.record_posted_later(key, ts=ts, now=now, late=late)
        self.flush()

    def record_posted_later(self, key: str, *, ts: str, now: dt.datetime, late: bool) -> None:
        """The post succeeded: keep Slack's ts in a later transaction: the next renewal, a
        `flush` (before a pacing wait, at the end of the pass), or, once `RECORD_BATCH` posts
        are waiting, one of their own (on the write-behind thread if the session has one,
        after the batch before it is written).

        This saves a transaction per post. A crash before that transaction leaves the rows
        `sending`, as a crash between a post and its own record always could: once their
        leases run out, the next pass takes them over and finds the posts in the channel (their
        metadata) rather than posting again.
        """
        self._held.pop(key, None)
        self._unrecorded.append(PostedRecord(key, ts, now, late))
        if len(self._unrecorded) >= RECORD_BATCH:
            self.write_behind()

    def write_behind(self) -> None:
        """Hand the posts waiting to be recorded to the write-behind thread, once the batch
        before them is written (without that thread: write them now). The pass calls it when
        the writing will overlap its posts rather than its own work."""
        if self._worker is None:
            self.flush()
            return
        self._wait_for_writing()
        if self._unrecorded:
            batch, self._unrecorded = self._unrecorded, []
            self._writing = self._worker.submit(self._write, batch)

    def _wait_for_writing(self) -> None:
        """Wait for the batch on the write-behind thread; raise what writing it raised."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def flush(self) -> None:
        """Record the posts waiting to be recorded, in one transaction, once the batch handed to
        the write-behind thread is written; raises what writing that batch raised."""
        self._wait_for_writing()
        if self._unrecorded:
            self._write(self._unrecorded)
            self._unrecorded = []

    def _write(self, records: list[PostedRecord]) -> None:
        """Record `records` in a transaction of their own."""
        with self._transaction(durable=False) as connection:
            self._record(connection, records)

    def _record(self, connection: Connection, records: list[PostedRecord]) -> None:
        """Mark `records` posted, in the caller's transaction."""
        if not records:
            return
        if self._dialect == "postgresql":
            connection.execute(
                _PG_RECORD,
                {
                    "each_key": [r.key for r in records],
                    "each_ts": [r.ts for r in records],
                    "each_posted_at": [r.now for r in records],
                    "each_late": [int(r.late) for r in records],
                },
            )
            return
        connection.execute(
            _SQLITE_RECORD,
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
        self._held.pop(key, None)
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
        self._held.pop(key, None)
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
            if self._dialect == "postgresql":  # one array parameter, not 500 scalar ones
                rows = connection.execute(_PG_KNOWN, {"each_key": keys})
                return {row.key: row.status for row in rows}
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
