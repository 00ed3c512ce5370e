"""Knowledge gaps: what people asked that the fact base could not answer well (plain data).

A query that ended not-found, or was resolved only by word search (the weakest method), is
recorded with its time, the kind of channel and the best score, never who asked. `groups` folds
similar wordings together so curators see which topics or aliases to add.

Anyone can type anything, so both sides are bounded: at most `MAX_PER_USER_PER_DAY` gaps are
recorded per person a day (counted in memory, per process; the user id is never stored) and at
most `MAX_STORED` in total (the oldest are dropped first); `groups` compares only the
`MAX_WORDINGS` most frequent distinct wordings, so its work does not grow with the table.

This module holds no database and no Slack: the command handler and the replies use it, and
`bot.db.gaps.GapStore` stores gaps in the bot's database (imported only where it is used, so a
command line that never records a gap never imports SQLAlchemy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.text import normalize_key

if TYPE_CHECKING:
    from bot.db.gaps import GapStore as GapStore

SIMILAR_WORDING = 80.0
"""rapidfuzz token-set similarity (0-100) at which two queries count as the same wording."""

MAX_QUERY_CHARS = 300
MAX_PER_USER_PER_DAY = 50
MAX_STORED = 20_000
MAX_WORDINGS = 400
"""Distinct wordings grouped at most (the most frequent, then the most recent)."""

MAX_QUEUED = 10_000
"""Gaps waiting to be written at most; beyond it new ones are dropped (and counted), never
waited for: a request must not block on the database."""

WRITE_BATCH = 200
"""Gaps written per transaction at most."""

WRITE_INTERVAL_SECONDS = 1.0
"""How long a gap may wait to be written: a crash loses at most this window of gaps (and
whatever is queued behind a slow database)."""

Similarity = Callable[[str, str], float]


class GapLog(Protocol):
    """Where the command handler notes gaps and reads them back (`bot.db.gaps.GapStore`)."""

    def record_later(
        self,
        query: str,
        *,
        channel_type: str,
        outcome: str,
        best_score: float,
        user: str | None = None,
    ) -> None:
        """Queue a gap to be written off the request path."""

    def groups(
        self, *, since: dt.datetime | None = None, limit: int = MAX_WORDINGS
    ) -> list[GapGroup]:
        """Gaps since `since`, similar wordings grouped, most frequent first."""
        ...


@dataclass(frozen=True, slots=True)
class WordingCount:
    """One distinct wording (and outcome) of the stored gaps: how often, and when last."""

    query: str
    outcome: str
    count: int
    last_seen: dt.datetime


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


def group_wordings(rows: Iterable[WordingCount], similarity: Similarity) -> list[GapGroup]:
    """Fold wordings whose keys are at least `SIMILAR_WORDING` alike, most frequent first."""
    clusters: list[_Cluster] = []
    for row in rows:
        key = normalize_key(row.query) or row.query
        cluster = next((c for c in clusters if similarity(key, c.key) >= SIMILAR_WORDING), None)
        if cluster is None:
            cluster = _Cluster(key, row.last_seen)
            clusters.append(cluster)
        cluster.add(row.query, row.last_seen, row.outcome, row.count)
    groups = [c.group() for c in clusters]
    groups.sort(key=lambda g: (-g.count, -g.last_seen.timestamp(), g.example))
    return groups
