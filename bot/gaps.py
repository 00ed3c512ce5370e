"""Knowledge gaps: what people asked that the fact base could not answer well.

A query that ended not-found, or was resolved only by word search (the weakest method), is
recorded with its time, the kind of channel and the best score, never who asked. `groups` folds
similar wordings together so curators see which topics or aliases to add.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from sqlalchemy import Engine, insert, select

from bot.db.schema import knowledge_gaps as table
from bot.text import normalize_key

log = logging.getLogger("bot.gaps")

SIMILAR_WORDING = 80.0
"""rapidfuzz token-set similarity (0-100) at which two queries count as the same wording."""

MAX_QUERY_CHARS = 300


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

    def add(self, query: str, seen: dt.datetime, outcome: str) -> None:
        self.count += 1
        self.wordings[query] = self.wordings.get(query, 0) + 1
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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gaps")

    def record(
        self,
        query: str,
        *,
        channel_type: str,
        outcome: str,
        best_score: float,
        now: dt.datetime | None = None,
    ) -> None:
        """Write one gap now (used by the background recorder and by tests)."""
        with self.engine.begin() as connection:
            connection.execute(
                insert(table).values(
                    query=" ".join(query.split())[:MAX_QUERY_CHARS],
                    created_at=now or dt.datetime.now(dt.UTC),
                    channel_type=(channel_type or "unknown")[:16],
                    outcome=outcome[:16],
                    best_score=float(best_score),
                )
            )

    def record_later(
        self, query: str, *, channel_type: str, outcome: str, best_score: float
    ) -> None:
        """Queue a gap to be written off the request path; failures are logged, not raised."""

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

    def groups(self, *, since: dt.datetime | None = None, limit: int = 5000) -> list[GapGroup]:
        """Gaps since `since`, similar wordings grouped, most frequent first."""
        query = (
            select(table.c.query, table.c.created_at, table.c.outcome)
            .order_by(table.c.created_at.desc())
            .limit(limit)
        )
        if since is not None:
            query = query.where(table.c.created_at >= since)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        clusters: list[_Cluster] = []
        for row in rows:
            key = normalize_key(row.query) or row.query
            seen = row.created_at
            if seen.tzinfo is None:
                seen = seen.replace(tzinfo=dt.UTC)
            cluster = next(
                (c for c in clusters if fuzz.token_set_ratio(key, c.key) >= SIMILAR_WORDING), None
            )
            if cluster is None:
                cluster = _Cluster(key, seen)
                clusters.append(cluster)
            cluster.add(row.query, seen, row.outcome)
        groups = [c.group() for c in clusters]
        groups.sort(key=lambda g: (-g.count, -g.last_seen.timestamp(), g.example))
        return groups

    def close(self) -> None:
        """Finish queued writes and stop the writer thread."""
        self._writer.shutdown(wait=True)
