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


class SourceKind(str, Enum):
    """How authoritative a source document is."""

    OFFICIAL = "official"
    ANALYSIS = "analysis"
    COMMENTARY = "commentary"


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

    @property
    def date_label(self) -> str:
        """The publication date for readers, or "undated"."""
        return self.published.human() if self.published else "undated"

    def age_days(self, today: dt.date) -> int | None:
        """Days from the earliest day the document may date from to `today` (None if undated)."""
        if self.published is None:
            return None
        return (today - self.published.first_day()).days


@dataclass(frozen=True, slots=True)
class Citation:
    """A verbatim quote from a document that supports a fact."""

    source: str
    quote: str


@dataclass(frozen=True, slots=True)
class Fact:
    """A curated statement with the verbatim quotes that support it (primary source first)."""

    id: str
    topics: tuple[str, ...]
    statement: str
    date: DateSpan | None
    citations: tuple[Citation, ...]
    kind: str | None = None
    importance: int = DEFAULT_IMPORTANCE
    path: str = ""
    line: int = 0

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


@dataclass(frozen=True, slots=True)
class Topic:
    """Something people ask about: its id, title, the names they type, and a cited summary."""

    id: str
    title: str
    aliases: tuple[str, ...]
    summary: tuple[TopicSentence, ...]


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

    def is_commentary_only(self, fact: Fact) -> bool:
        """Whether every source of a fact is commentary (the least reliable kind)."""
        return all(self.documents[s].kind is SourceKind.COMMENTARY for s in fact.sources)
