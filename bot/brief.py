"""Composing a cited brief on a topic: data only, no formatting.

A `Brief` holds the statements to show and, for each, the numbers of the sources that support it;
templates decide how it looks. Sources are numbered in the order they are first cited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from weakref import WeakKeyDictionary

from bot.dates import parse_partial_date
from bot.factbase.model import Fact, FactBase, SourceKind
from bot.statements import claim, similar, spoken, status_of, voice_of

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
    """A fact as a brief shows it: what is said, by whom and when, its standing and its quotes.

    `statement` is the sentence the brief prints (attributed where the speaker is not the
    source's government); `claim` is the bare statement. `date` is when what it describes
    happened, `stated` when its source said it, `due` when a target falls due; `lapsed` is a
    target whose date has passed with no outcome reported, and `status` says so in words.
    """

    id: str
    statement: str
    date: str | None
    date_label: str | None
    kind: str | None
    citations: tuple[int, ...]
    quotes: tuple[Quote, ...]
    commentary_only: bool
    claim: str = ""
    said_by: str = ""
    attributed: bool = False
    stated: str | None = None
    stated_label: str | None = None
    stated_inferred: bool = False
    date_inferred: bool = False
    due: str | None = None
    lapsed: bool = False
    status: str | None = None
    source_kind: str = "official"
    old: bool = False
    outcome_of: str | None = None

    @property
    def when_label(self) -> str | None:
        """The date a key-fact line shows: the event's, else when an official source said it
        (an attributed statement already names its date)."""
        if self.date_label:
            return self.date_label
        if not self.attributed and self.stated_label:
            return f"stated {self.stated_label}"
        return None


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
    as_of_inferred: bool = False
    stale_facts: tuple[str, ...] = field(default=())
    stale_days: int = DEFAULT_STALE_DAYS

    @property
    def omitted(self) -> int:
        """How many of the topic's facts are not shown."""
        return self.total_facts - len(self.facts)


def topic_importance(fact: Fact, topic_id: str) -> int:
    """A fact's importance under a topic: as curated under its first (primary) topic, one less
    (at least 1) under the others, so a topic leads with its own material."""
    if not fact.topics or fact.topics[0] == topic_id:
        return fact.importance
    return max(fact.importance - 1, 1)


def rank_facts(facts: Iterable[Fact], factbase: FactBase, topic_id: str) -> list[Fact]:
    """A topic's facts in the order a policy adviser would pick key facts.

    Importance under the topic first; then the most authoritative kind of source (official,
    analysis, news, commentary); then the most recently stated (a source with no known date
    is not pushed back for that); then file order. Near-duplicates (`similar`) of a fact
    already taken move behind every distinct fact, so the key facts never say one thing twice.
    """

    def key(indexed: tuple[int, Fact]) -> tuple[int, int, int, int, int, int]:
        order, fact = indexed
        rank = factbase.source_kind(fact).rank
        if factbase.is_commentary_only(fact):
            rank = SourceKind.COMMENTARY.rank
        year, month, day = fact.stated.sort_key() if fact.stated else (9999, 0, 0)
        return (-topic_importance(fact, topic_id), rank, -year, -month, -day, order)

    ordered = [fact for _order, fact in sorted(enumerate(facts), key=key)]
    distinct: list[Fact] = []
    repeats: list[Fact] = []
    for fact in ordered:
        (repeats if any(similar(fact, kept) for kept in distinct) else distinct).append(fact)
    return _outcomes_follow_targets(distinct + repeats, factbase)


def _outcomes_follow_targets(ranked: list[Fact], factbase: FactBase) -> list[Fact]:
    """Each target followed at once by the facts reporting its outcome (taken in from other
    topics when they are filed elsewhere), so a brief never shows a plan without its result."""
    present = {fact.id for fact in ranked}
    reports = {
        target: [factbase.facts[i] for i in ids]
        for target, ids in factbase.outcomes.items()
        if target in present
    }
    placed = {f.id for found in reports.values() for f in found}
    result: list[Fact] = []
    for fact in ranked:
        if fact.id in placed:
            continue
        result.append(fact)
        result.extend(reports.get(fact.id, ()))
    return result


_RANKED: WeakKeyDictionary[FactBase, dict[str, list[Fact]]] = WeakKeyDictionary()


def rankings(factbase: FactBase) -> dict[str, list[Fact]]:
    """The topics ranked so far for a fact base, by topic id: `bot.cache` keeps them with the
    seeds and gives them back to the fact base it loads (ranking is a pure function of it)."""
    return _RANKED.setdefault(factbase, {})


def _ranked_for(factbase: FactBase, topic_id: str) -> list[Fact]:
    """A topic's facts ranked, computed once per fact base (which never changes)."""
    per_topic = rankings(factbase)
    if topic_id not in per_topic:
        per_topic[topic_id] = rank_facts(factbase.facts_for(topic_id), factbase, topic_id)
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
    while 0 < limit < len(ranked) and ranked[limit].outcome_of == ranked[limit - 1].id:
        limit -= 1  # a target is shown with the report of its outcome, or not at all
    shown = ranked[:limit]
    numbering = _Numbering()
    cutoff = today - dt.timedelta(days=stale_days)

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
    brief_facts = tuple(_brief_fact(factbase, fact, numbering, today, cutoff) for fact in shown)
    timeline = tuple(
        sorted(
            (f for f in brief_facts if f.date is not None and f.kind != "position"),
            key=lambda f: (f.date or "", f.id),
        )
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
    cited = [factbase.documents[s.id] for s in sources]
    newest = max(
        (d for d in cited if d.published is not None),
        key=lambda d: (
            d.published.sort_key() if d.published else (0, 0, 0),
            not d.published_inferred,
        ),
        default=None,
    )
    stale_facts = tuple(f.id for f in brief_facts if f.old)
    stale, reason = _staleness(
        newest.published.first_day() if newest and newest.published else None,
        newest.date_label if newest else "undated",
        today,
        stale_days,
        brief_facts,
    )
    as_of = newest.published if newest else None
    return Brief(
        query=query,
        topic_id=topic.id,
        title=topic.title,
        resolved_by=resolved_by,
        today=today,
        as_of=as_of.iso() if as_of else None,
        as_of_label=newest.date_label if newest else "undated",
        stale=stale,
        stale_reason=reason,
        summary=summary,
        facts=brief_facts,
        timeline=timeline,
        sources=sources,
        total_facts=len(ranked),
        full=full,
        upcoming=upcoming,
        as_of_inferred=newest.published_inferred if newest else False,
        stale_facts=stale_facts,
        stale_days=stale_days,
    )


def first_facts(brief: Brief, n: int) -> Brief:
    """`brief` showing only its first `n` key facts (what fits in a message too small for all).

    The timeline and the staleness warning cover the facts shown and `omitted` counts the rest;
    the sources keep their numbers (one cited only by a left-out fact stays listed).
    """
    n = max(n, 0)
    while 0 < n < len(brief.facts) and brief.facts[n].outcome_of == brief.facts[n - 1].id:
        n -= 1  # never cut between a target and the report of its outcome
    facts = brief.facts[:n]
    if len(facts) == len(brief.facts):
        return brief
    shown = {f.id for f in facts}
    newest = parse_partial_date(brief.as_of).first_day() if brief.as_of else None
    stale, reason = _staleness(newest, brief.as_of_label, brief.today, brief.stale_days, facts)
    return replace(
        brief,
        facts=facts,
        timeline=tuple(f for f in brief.timeline if f.id in shown),
        stale=stale,
        stale_reason=reason,
        stale_facts=tuple(f.id for f in facts if f.old),
    )


def _brief_fact(
    factbase: FactBase, fact: Fact, numbering: _Numbering, today: dt.date, cutoff: dt.date
) -> BriefFact:
    quotes = tuple(Quote(numbering.number(c.source), c.quote) for c in fact.citations)
    voice = voice_of(factbase, fact)
    status = status_of(factbase, fact, today)
    statement = spoken(factbase, fact)
    if status:
        statement = f"{statement.rstrip('.')} ({status})."
    return BriefFact(
        id=fact.id,
        statement=statement,
        date=fact.date.iso() if fact.date else None,
        date_label=fact.date_label,
        kind=fact.kind,
        citations=_unique(q.n for q in quotes),
        quotes=quotes,
        commentary_only=factbase.is_commentary_only(fact),
        claim=claim(fact),
        said_by=voice.said_by,
        attributed=voice.attribution is not None,
        stated=fact.stated.iso() if fact.stated else None,
        stated_label=voice.stated_label,
        stated_inferred=voice.stated_inferred,
        date_inferred=fact.date_inferred,
        due=fact.due.iso() if fact.due else None,
        lapsed=factbase.is_lapsed(fact, today),
        status=status,
        source_kind=factbase.source_kind(fact).value,
        outcome_of=fact.outcome_of,
        old=fact.stated is not None and fact.stated.first_day() < cutoff,
    )


def _unique(numbers: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(set(numbers)))


def _staleness(
    newest: dt.date | None,
    newest_label: str,
    today: dt.date,
    stale_days: int,
    facts: tuple[BriefFact, ...],
) -> tuple[bool, str | None]:
    """Whether a brief may be out of date, and a reason that names what is old.

    `newest` is the first day of the newest cited source's date (None: none is dated).
    """
    if newest is None:
        return True, "none of the cited sources is dated: check for newer developments"
    old = [f for f in facts if f.old]
    age = (today - newest).days
    if age <= stale_days and not old:
        return False, None
    newest_part = f"the newest cited source ({newest_label}) is {age} days old"
    if not old:
        return age > stale_days, (
            f"{newest_part}, more than {stale_days}: check for newer developments"
        )
    positions = [str(i) for i, f in enumerate(facts, 1) if f.old]
    which = (
        "every key fact was"
        if len(old) == len(facts)
        else f"key fact{'s' if len(old) > 1 else ''} {_ranges(positions)} "
        f"{'were' if len(old) > 1 else 'was'}"
    )
    return True, (
        f"{which} stated more than {stale_days} days ago, and {newest_part}: "
        "check for newer developments"
    )


def _ranges(numbers: list[str]) -> str:
    """ "1, 2, 3, 5" as "1-3, 5"."""
    values = [int(n) for n in numbers]
    parts: list[str] = []
    start = prev = values[0]
    for value in [*values[1:], None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if value is not None:
            start = prev = value
    return ", ".join(parts)
