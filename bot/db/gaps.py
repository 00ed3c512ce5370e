"""Knowledge gaps in the bot's database: written in batches off the request path, read grouped.

A request only puts its gap on a bounded queue (`MAX_QUEUED`; when full, the gap is dropped and
counted in `dropped`, never waited for). One writer thread writes what is queued in one
transaction per `WRITE_BATCH` gaps or per `WRITE_INTERVAL_SECONDS`, whichever comes first, and
drops the oldest rows beyond `MAX_STORED` in the same transaction. `flush()` waits for what is
queued; `close()` (called by the runtime at shutdown) writes everything queued, then stops the
writer. A crash (the process killed) loses only the gaps not yet written: at most about
`WRITE_INTERVAL_SECONDS` of them, more only if the database was slower than the requests.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import Engine, delete, func, insert, select

from bot import gaps
from bot.db.schema import knowledge_gaps as table
from bot.gaps import MAX_PER_USER_PER_DAY, MAX_WORDINGS, GapGroup, Similarity, WordingCount

log = logging.getLogger("bot.gaps")

_STOP = object()
"""Put on the queue by `close`: the writer writes what came before it, then ends."""
_FLUSH = object()
"""Put on the queue by `flush`: the writer writes what came before it without waiting."""


class GapStore:
    """Records gaps in the bot's database (batched, off the request path) and reads them back
    grouped."""

    def __init__(self, engine: Engine, *, similarity: Similarity = fuzz.token_set_ratio) -> None:
        self.engine = engine
        self.similarity = similarity
        self.dropped = 0
        """Gaps not recorded because the queue was full."""
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=gaps.MAX_QUEUED)
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._closed = False
        self._per_user: dict[tuple[str, dt.date], int] = {}
        self._per_user_lock = threading.Lock()

    def record(
        self,
        query: str,
        *,
        channel_type: str,
        outcome: str,
        best_score: float,
        now: dt.datetime | None = None,
    ) -> None:
        """Write one gap now (tests; requests use `record_later`)."""
        self._write([_row(query, channel_type, outcome, best_score, now)])

    def allow(self, user: str | None, today: dt.date | None = None) -> bool:
        """Count one gap for `user` today; False once they reached `MAX_PER_USER_PER_DAY`."""
        day = today or dt.datetime.now(dt.UTC).date()
        key = (user or "", day)
        with self._per_user_lock:
            if any(d != day for _u, d in self._per_user):
                self._per_user = {k: v for k, v in self._per_user.items() if k[1] == day}
            used = self._per_user.get(key, 0)
            if used >= MAX_PER_USER_PER_DAY:
                return False
            self._per_user[key] = used + 1
            return True

    def record_later(
        self,
        query: str,
        *,
        channel_type: str,
        outcome: str,
        best_score: float,
        user: str | None = None,
    ) -> None:
        """Queue a gap for the writer; never blocks. Beyond `MAX_PER_USER_PER_DAY` gaps from
        one person today, or when the queue is full (counted in `dropped`), nothing is
        recorded."""
        if self._closed or not self.allow(user):
            return
        self._start_writer()
        try:
            self._queue.put_nowait(_row(query, channel_type, outcome, best_score, None))
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "knowledge-gap queue full; gaps dropped", extra={"dropped": self.dropped}
                )

    def flush(self) -> None:
        """Write every gap queued so far now, and wait until it is written (or failed and
        logged)."""
        if self._writer is not None and not self._closed:
            self._queue.put(_FLUSH)
            self._queue.join()

    def close(self) -> None:
        """Write every queued gap, then stop the writer (the runtime's shutdown calls this)."""
        with self._writer_lock:
            self._closed = True
            writer = self._writer
        if writer is not None:
            self._queue.put(_STOP)  # waits for room: everything before it is written first
            writer.join()

    def groups(
        self, *, since: dt.datetime | None = None, limit: int = MAX_WORDINGS
    ) -> list[GapGroup]:
        """Gaps since `since`, similar wordings grouped, most frequent first.

        Only the `limit` most frequent distinct wordings (then the most recent) are compared,
        so the work is bounded whatever the table holds.
        """
        seen = func.max(table.c.created_at).label("seen")
        count = func.count().label("n")
        query = (
            select(table.c.query, table.c.outcome, count, seen)
            .group_by(table.c.query, table.c.outcome)
            .order_by(count.desc(), seen.desc())
            .limit(min(limit, MAX_WORDINGS))
        )
        if since is not None:
            query = query.where(table.c.created_at >= since)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return gaps.group_wordings(
            (
                WordingCount(
                    row.query,
                    row.outcome,
                    row.n,
                    row.seen if row.seen.tzinfo else row.seen.replace(tzinfo=dt.UTC),
                )
                for row in rows
            ),
            self.similarity,
        )

    def _start_writer(self) -> None:
        if self._writer is None:
            with self._writer_lock:
                if self._writer is None and not self._closed:
                    self._writer = threading.Thread(
                        target=self._write_queued, name="gaps-writer", daemon=True
                    )
                    self._writer.start()

    def _write_queued(self) -> None:
        """The writer thread: batches of up to `WRITE_BATCH`, at most `WRITE_INTERVAL_SECONDS`
        after the first of a batch was queued, until `close`."""
        stopping = False
        while not stopping:
            batch: list[dict[str, Any]] = []
            while len(batch) < gaps.WRITE_BATCH:
                try:
                    item = self._queue.get(timeout=gaps.WRITE_INTERVAL_SECONDS if batch else None)
                except queue.Empty:
                    break
                if item is _STOP or item is _FLUSH:
                    self._queue.task_done()
                    stopping = item is _STOP
                    break
                batch.append(item)
            if not batch:
                continue
            try:
                self._write(batch)
            except Exception:
                log.exception("could not record %d knowledge gaps", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Insert `rows` and drop the oldest gaps beyond `MAX_STORED`, in one transaction."""
        with self.engine.begin() as connection:
            connection.execute(insert(table), rows)
            newest = connection.execute(select(func.max(table.c.id))).scalar_one()
            if newest is not None and newest > gaps.MAX_STORED:
                connection.execute(delete(table).where(table.c.id <= newest - gaps.MAX_STORED))


def _row(
    query: str, channel_type: str, outcome: str, best_score: float, now: dt.datetime | None
) -> dict[str, Any]:
    return {
        "query": " ".join(query.split())[: gaps.MAX_QUERY_CHARS],
        "created_at": now or dt.datetime.now(dt.UTC),
        "channel_type": (channel_type or "unknown")[:16],
        "outcome": outcome[:16],
        "best_score": float(best_score),
    }
