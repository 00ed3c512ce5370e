"""Knowledge gaps: what people asked that the fact base could not answer well.

A query that ended not-found, or was resolved only by word search (the weakest method), is
recorded with its time, the kind of channel and the best score, never who asked. `groups` folds
similar wordings together so curators see which topics or aliases to add.

Anyone can type anything, so both sides are bounded: at most `MAX_PER_USER_PER_DAY` gaps are
recorded per person a day (counted in memory, per process; the user id is never stored) and at
most `MAX_STORED` in total (the oldest are dropped first); `groups` compares only the
`MAX_WORDINGS` most frequent distinct wordings, so its work does not grow with the table.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from sqlalchemy import Engine, delete, func, insert, select

from bot.db.schema import knowledge_gaps as table
from bot.text import normalize_key

log = logging.getLogger("bot.gaps")

SIMILAR_WORDING = 80.0
"""rapidfuzz token-set similarity (0-100) at which two queries count as the same wording."""

MAX_QUERY_CHARS = 300
MAX_PER_USER_PER_DAY = 50
MAX_STORED = 20_000
MAX_WORDINGS = 400
"""Distinct wordings grouped at most (the most frequent, then the most recent)."""

Similarity = Callable[[str, str], float]


@dataclass(frozen=True, slots=True)
class GapGroup:
    """Similar queries counted together, with the most common wording as the example."""

    example: str
    count: int
    last_seen: dt.datetime
    wordings: tuple[str, ...]
    outcomes: tuple[str, ...]


@dataclass
class _Cluster:
    """Gaps being grouped under one wording."""

    key: str
    last_seen: dt.datetime
    count: int = 0
    wordings: dict[str, int] = field(default_factory=dict)
    outcomes: set[str] = field(default_factory=set)

    def add(self, query: str, seen: dt.datetime, outcome: str, count: int = 1) -> None:
        self.count += count
        self.wordings[query] = self.wordings.get(query, 0) + count
        self.last_seen = max(self.last_seen, seen)
        self.outcomes.add(outcome)

    def group(self) -> GapGroup:
        ordered = sorted(self.wordings, key=lambda w: (-self.wordings[w], w))
        return GapGroup(
            example=ordered[0],
            count=self.count,
            last_seen=self.last_seen,
            wordings=tuple(ordered[:5]),
            outcomes=tuple(sorted(self.outcomes)),
        )


class GapStore:
    """Records gaps in the bot's database and reads them back grouped."""

    def __init__(self, engine: Engine, *, similarity: Similarity = fuzz.token_set_ratio) -> None:
        self.engine = engine
        self.similarity = similarity
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gaps")
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
        """Write one gap now (used by the background recorder and by tests), dropping the
        oldest gaps beyond `MAX_STORED`."""
        with self.engine.begin() as connection:
            result = connection.execute(
                insert(table).values(
                    query=" ".join(query.split())[:MAX_QUERY_CHARS],
                    created_at=now or dt.datetime.now(dt.UTC),
                    channel_type=(channel_type or "unknown")[:16],
                    outcome=outcome[:16],
                    best_score=float(best_score),
                )
            )
            (new_id,) = result.inserted_primary_key or (None,)
            if new_id is not None and new_id > MAX_STORED:
                connection.execute(delete(table).where(table.c.id <= new_id - MAX_STORED))

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
        """Queue a gap to be written off the request path; failures are logged, not raised.

        Beyond `MAX_PER_USER_PER_DAY` gaps from one person today, nothing is recorded.
        """
        if not self.allow(user):
            return

        def write() -> None:
            try:
                self.record(
                    query, channel_type=channel_type, outcome=outcome, best_score=best_score
                )
            except Exception:
                log.exception("could not record a knowledge gap")

        self._writer.submit(write)

    def flush(self) -> None:
        """Wait for queued writes (tests, shutdown)."""
        self._writer.submit(lambda: None).result(timeout=30)

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
        clusters: list[_Cluster] = []
        for row in rows:
            key = normalize_key(row.query) or row.query
            last = row.seen if row.seen.tzinfo else row.seen.replace(tzinfo=dt.UTC)
            cluster = next(
                (c for c in clusters if self.similarity(key, c.key) >= SIMILAR_WORDING), None
            )
            if cluster is None:
                cluster = _Cluster(key, last)
                clusters.append(cluster)
            cluster.add(row.query, last, row.outcome, row.n)
        groups = [c.group() for c in clusters]
        groups.sort(key=lambda g: (-g.count, -g.last_seen.timestamp(), g.example))
        return groups

    def close(self) -> None:
        """Finish queued writes and stop the writer thread."""
        self._writer.shutdown(wait=True)
