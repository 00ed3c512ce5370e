"""Composing a cited brief on a topic: data only, no formatting.

A `Brief` holds the statements to show and, for each, the numbers of the sources that support it;
templates decide how it looks. Sources are numbered in the order they are first cited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from bot.dates import PartialDate
from bot.factbase.model import Fact, FactBase

DEFAULT_KEY_FACTS = 8
DEFAULT_STALE_DAYS = 365


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """A numbered entry of a brief's source list."""

    n: int
    id: str
    title: str
    publisher: str
    date: str | None
    date_label: str
    url: str
    kind: str


@dataclass(frozen=True, slots=True)
class Quote:
    """A verbatim quote behind a statement and the number of the source it is from."""

    n: int
    text: str


@dataclass(frozen=True, slots=True)
class BriefFact:
    """A fact as a brief shows it: statement, date, citation numbers and quotes."""

    id: str
    statement: str
    date: str | None
    date_label: str | None
    kind: str | None
    citations: tuple[int, ...]
    quotes: tuple[Quote, ...]
    commentary_only: bool


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """A sentence of the topic summary with its citation numbers."""

    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class UpcomingItem:
    """A reminder occurrence listed in a brief's "Upcoming" section."""

    when: str
    label: str


@dataclass(frozen=True)
class Brief:
    """Everything a brief says, in order, with citations resolved to numbered sources."""

    query: str
    topic_id: str
    title: str
    resolved_by: str
    today: dt.date
    as_of: str | None
    as_of_label: str
    stale: bool
    stale_reason: str | None
    summary: tuple[SummaryLine, ...]
    facts: tuple[BriefFact, ...]
    timeline: tuple[BriefFact, ...]
    sources: tuple[SourceEntry, ...]
    total_facts: int
    full: bool
    upcoming: tuple[UpcomingItem, ...] = field(default=())

    @property
    def omitted(self) -> int:
        """How many of the topic's facts are not shown."""
        return self.total_facts - len(self.facts)


def rank_facts(facts: Iterable[Fact], factbase: FactBase) -> list[Fact]:
    """Facts by importance (highest first), then recency (newest first, undated last), then id.

    Within one importance, a fact resting only on commentary comes after better-sourced ones.
    """

    def key(fact: Fact) -> tuple[int, bool, int, int, int, int, str]:
        weak = factbase.is_commentary_only(fact)
        if fact.date is None:
            return (-fact.importance, weak, 1, 0, 0, 0, fact.id)
        year, month, day = fact.date.latest.sort_key()
        return (-fact.importance, weak, 0, -year, -month, -day, fact.id)

    return sorted(facts, key=key)


_RANKED: WeakKeyDictionary[FactBase, dict[str, list[Fact]]] = WeakKeyDictionary()


def _ranked_for(factbase: FactBase, topic_id: str) -> list[Fact]:
    """A topic's facts ranked, computed once per fact base (which never changes)."""
    per_topic = _RANKED.setdefault(factbase, {})
    if topic_id not in per_topic:
        per_topic[topic_id] = rank_facts(factbase.facts_for(topic_id), factbase)
    return per_topic[topic_id]


class _Numbering:
    """Numbers sources in the order they are first cited."""

    def __init__(self) -> None:
        self.order: dict[str, int] = {}

    def number(self, source_id: str) -> int:
        return self.order.setdefault(source_id, len(self.order) + 1)


def compose_brief(
    factbase: FactBase,
    topic_id: str,
    *,
    query: str,
    resolved_by: str,
    today: dt.date,
    full: bool = False,
    max_facts: int | None = None,
    stale_days: int = DEFAULT_STALE_DAYS,
    upcoming: tuple[UpcomingItem, ...] = (),
) -> Brief:
    """Compose the brief on `topic_id`: 8 key facts by default, all when `full`.

    `max_facts` caps the key facts further (used to fit a message's size limits).
    """
    topic = factbase.topics[topic_id]
    ranked = _ranked_for(factbase, topic_id)
    limit = len(ranked) if full else min(DEFAULT_KEY_FACTS, len(ranked))
    if max_facts is not None:
        limit = min(limit, max(max_facts, 0))
    shown = ranked[:limit]
    numbering = _Numbering()

    summary = tuple(
        SummaryLine(
            sentence.text,
            _unique(
                numbering.number(source)
                for fact_id in sentence.facts
                for source in factbase.facts[fact_id].sources
            ),
        )
        for sentence in topic.summary
    )
    brief_facts = tuple(_brief_fact(factbase, fact, numbering) for fact in shown)
    timeline = tuple(
        sorted((f for f in brief_facts if f.date is not None), key=lambda f: (f.date or "", f.id))
    )
    sources = tuple(
        SourceEntry(
            n=n,
            id=doc.id,
            title=doc.title,
            publisher=doc.publisher,
            date=doc.published.iso() if doc.published else None,
            date_label=doc.date_label,
            url=doc.url,
            kind=doc.kind.value,
        )
        for source_id, n in numbering.order.items()
        for doc in [factbase.documents[source_id]]
    )
    dated = [factbase.documents[s.id].published for s in sources]
    newest = max((d for d in dated if d is not None), key=PartialDate.sort_key, default=None)
    stale, reason = _staleness(newest, today, stale_days)
    return Brief(
        query=query,
        topic_id=topic.id,
        title=topic.title,
        resolved_by=resolved_by,
        today=today,
        as_of=newest.iso() if newest else None,
        as_of_label=newest.human() if newest else "undated",
        stale=stale,
        stale_reason=reason,
        summary=summary,
        facts=brief_facts,
        timeline=timeline,
        sources=sources,
        total_facts=len(ranked),
        full=full,
        upcoming=upcoming,
    )


def _brief_fact(factbase: FactBase, fact: Fact, numbering: _Numbering) -> BriefFact:
    quotes = tuple(Quote(numbering.number(c.source), c.quote) for c in fact.citations)
    return BriefFact(
        id=fact.id,
        statement=fact.statement,
        date=fact.date.iso() if fact.date else None,
        date_label=fact.date.human() if fact.date else None,
        kind=fact.kind,
        citations=_unique(q.n for q in quotes),
        quotes=quotes,
        commentary_only=factbase.is_commentary_only(fact),
    )


def _unique(numbers: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(set(numbers)))


def _staleness(
    newest: PartialDate | None, today: dt.date, stale_days: int
) -> tuple[bool, str | None]:
    if newest is None:
        return True, "none of the cited sources is dated: check for newer developments"
    age = (today - newest.first_day()).days
    if age > stale_days:
        return True, (
            f"the newest cited source ({newest.human()}) is {age} days old, "
            f"more than {stale_days}: check for newer developments"
        )
    return False, None
