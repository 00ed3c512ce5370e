"""The fact base's data model: documents, facts with their citations, and topics.

Everything here is immutable and Slack-free. A `FactBase` is only ever built by the loader,
which has verified every quote against its document before the object exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from bot.dates import DateSpan, PartialDate

FACT_KINDS = ("event", "commitment", "figure", "position", "deadline")
DEFAULT_IMPORTANCE = 2

PROVENANCE_FIELDS = ("title", "publisher", "author", "published", "url")
"""The bibliographic fields whose provenance a document records."""

PROVENANCE_VALUES = ("declared", "verified", "inferred")
"""declared: printed in the document; verified: confirmed from the public record; inferred:
reasoned from evidence (the document's `provenance_note` says which)."""

ATTRIBUTION_VERBS = (
    "judged",
    "reported",
    "noted",
    "argued",
    "recommended",
    "wrote",
    "said",
    "described",
    "stated",
    "claimed",
    "observed",
    "warned",
)


class SourceKind(str, Enum):
    """How authoritative a source document is, most authoritative first."""

    OFFICIAL = "official"
    ANALYSIS = "analysis"
    NEWS = "news"
    COMMENTARY = "commentary"

    @property
    def rank(self) -> int:
        """0 for official sources, rising as a kind is less authoritative."""
        return _SOURCE_RANK[self]

    @property
    def attributed(self) -> bool:
        """Whether statements from this kind of source name who said them (all but official)."""
        return self is not SourceKind.OFFICIAL


_SOURCE_RANK = {kind: rank for rank, kind in enumerate(SourceKind)}


@dataclass(frozen=True, slots=True)
class Document:
    """A source document: its bibliographic details and its verbatim body."""

    id: str
    title: str
    publisher: str
    author: str
    published: PartialDate | None
    url: str
    kind: SourceKind
    path: str
    said_by: str = ""
    outlet: str = ""
    provenance: Mapping[str, str] = field(default_factory=dict)
    provenance_note: str = ""

    @property
    def published_inferred(self) -> bool:
        """Whether the publication date was inferred rather than printed or verified."""
        return self.published is not None and self.provenance.get("published") == "inferred"

    @property
    def date_label(self) -> str:
        """The publication date for readers ("July 2023", "June 2025 (inferred)", "undated")."""
        if self.published is None:
            return "undated"
        return self.published.human() + (", inferred" if self.published_inferred else "")


@dataclass(frozen=True, slots=True)
class Citation:
    """A verbatim quote from a document that supports a fact."""

    source: str
    quote: str


@dataclass(frozen=True, slots=True)
class Fact:
    """A curated statement with the verbatim quotes that support it (primary source first).

    `date` is when what the fact describes happened; `stated` when its source said it (the
    document's date unless the fact says otherwise); `due` when a target or plan falls due.
    `said_by` is who speaks: the document's speaker unless the fact names another.
    `date_inferred` marks a date reasoned from the text rather than printed in it.
    """

    @property
    def date_label(self) -> str | None:
        """The date of what the fact describes, for readers, saying when it is inferred."""
        if self.date is None:
            return None
        return self.date.human() + (", inferred" if self.date_inferred else "")

    id: str
    topics: tuple[str, ...]
    statement: str
    date: DateSpan | None
    citations: tuple[Citation, ...]
    kind: str | None = None
    importance: int = DEFAULT_IMPORTANCE
    path: str = ""
    line: int = 0
    stated: PartialDate | None = None
    stated_inferred: bool = False
    date_inferred: bool = False
    said_by: str = ""
    verb: str | None = None
    due: PartialDate | None = None
    outcome_of: str | None = None
    reviewed: dt.date | None = None

    @property
    def source(self) -> str:
        """The primary source's document id."""
        return self.citations[0].source

    @property
    def quote(self) -> str:
        """The primary source's quote."""
        return self.citations[0].quote

    @property
    def sources(self) -> tuple[str, ...]:
        """Every document id that supports this fact, primary first, without repeats."""
        return tuple(dict.fromkeys(c.source for c in self.citations))


@dataclass(frozen=True, slots=True)
class TopicSentence:
    """One sentence of a topic's summary and the facts it rests on."""

    text: str
    facts: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class Topic:
    """Something people ask about: its id, title, the names they type, and a cited summary."""

    id: str
    title: str
    aliases: tuple[str, ...]
    summary: tuple[TopicSentence, ...]
    reviewed: dt.date | None = None
    path: str = ""
    line: int = 0


@dataclass(frozen=True, eq=False)
class FactBase:
    """A verified fact base: every quote of every fact has been found in its document."""

    documents: Mapping[str, Document]
    topics: Mapping[str, Topic]
    facts: Mapping[str, Fact]
    version: str
    loaded_at: dt.datetime
    facts_by_topic: Mapping[str, tuple[Fact, ...]] = field(default_factory=dict)

    def facts_for(self, topic_id: str) -> tuple[Fact, ...]:
        """The facts tagged with a topic, in file order."""
        return self.facts_by_topic.get(topic_id, ())

    def newest_source_date(self) -> PartialDate | None:
        """The most recent publication date of any document."""
        dates = [d.published for d in self.documents.values() if d.published]
        return max(dates, key=PartialDate.sort_key) if dates else None

    outcomes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def is_commentary_only(self, fact: Fact) -> bool:
        """Whether every source of a fact is commentary (the least reliable kind)."""
        return all(self.documents[s].kind is SourceKind.COMMENTARY for s in fact.sources)

    def source_kind(self, fact: Fact) -> SourceKind:
        """The kind of a fact's primary source (which decides whether it is attributed)."""
        return self.documents[fact.source].kind

    def is_lapsed(self, fact: Fact, today: dt.date) -> bool:
        """Whether a fact's due date has passed with no fact in the base reporting the outcome."""
        return (
            fact.due is not None and fact.due.last_day() < today and not self.outcomes.get(fact.id)
        )
