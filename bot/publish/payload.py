"""A verified fact base as bytes, and back, without verifying a quote again.

The payload is zlib-compressed JSON: each document, topic and fact as the list of its
dataclass's field values, with the field names written once per kind, and the text of
`reminders.yaml` (reminder rules are checked against the fact base when the snapshot is loaded:
they take the replica's time zone and channel). Field names make a snapshot readable by code
that has since added a field with a default; a snapshot this code cannot read raises
`PayloadError`, and the replica keeps serving what it has.

JSON rather than pickle: a payload read from the database builds only fact base objects, never
arbitrary ones, and it was measured fast enough (`bench/snapshot_load.py`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.dates import DateSpan, PartialDate
from bot.factbase.model import (
    Citation,
    Document,
    Fact,
    FactBase,
    SourceKind,
    Topic,
    TopicSentence,
)
from bot.memory import gc_paused

FORMAT = 1
"""The payload's layout; a replica refuses a format it does not know."""


class PayloadError(ValueError):
    """A snapshot's payload that this code cannot turn back into a fact base."""


@dataclass(frozen=True)
class Contents:
    """What a snapshot holds: the verified fact base and the text of its reminder rules."""

    factbase: FactBase
    reminders: str | None


def _plain(value: object) -> object:
    """JSON for what `json` cannot write itself: dates as ISO text, dataclasses as lists."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")


def _names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def encode(factbase: FactBase, reminders: str | None) -> bytes:
    """The payload of a snapshot of `factbase` (already verified) and its reminder rules."""
    records: dict[str, list[list[object]]] = {}
    for kind, cls, items in (
        ("document", Document, factbase.documents.values()),
        ("topic", Topic, factbase.topics.values()),
        ("fact", Fact, factbase.facts.values()),
    ):
        names = _names(cls)
        records[kind] = [[getattr(item, n) for n in names] for item in items]
    document = {
        "format": FORMAT,
        "version": factbase.version,
        "fields": {"document": _names(Document), "topic": _names(Topic), "fact": _names(Fact)},
        **records,
        "outcomes": factbase.outcomes,
        "reminders": reminders,
    }
    text = json.dumps(document, default=_plain, ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode("utf-8"), 6)


def _partial(value: Sequence[int | None] | None) -> PartialDate | None:
    if value is None:
        return None
    year, month, day = value
    assert year is not None
    return PartialDate(year, month, day)


def _span(value: Sequence[Any] | None) -> DateSpan | None:
    if value is None:
        return None
    start = _partial(value[0])
    assert start is not None
    return DateSpan(start, _partial(value[1]))


def _day(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


_DECODERS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "document": {"published": _partial, "kind": SourceKind},
    "topic": {
        "aliases": tuple,
        "summary": lambda s: tuple(TopicSentence(t, tuple(f), line) for t, f, line in s),
        "reviewed": _day,
    },
    "fact": {
        "topics": tuple,
        "date": _span,
        "citations": lambda cs: tuple(Citation(s, q) for s, q in cs),
        "stated": _partial,
        "due": _partial,
        "reviewed": _day,
    },
}


def _records(kind: str, cls: Callable[..., Any], document: Mapping[str, Any]) -> list[Any]:
    names = document["fields"][kind]
    convert = [(i, _DECODERS[kind][n]) for i, n in enumerate(names) if n in _DECODERS[kind]]
    rows = document[kind]
    for row in rows:
        for i, decode in convert:
            if row[i] is not None:
                row[i] = decode(row[i])
    if names == [f.name for f in dataclasses.fields(cls)]:  # type: ignore[arg-type]
        return [cls(*row) for row in rows]  # the same code wrote it: by position, faster
    return [cls(**dict(zip(names, row, strict=True))) for row in rows]


def decode(payload: bytes, *, now: dt.datetime | None = None) -> Contents:
    """The fact base and reminder rules text a payload holds; `PayloadError` if it cannot be
    read. Quotes are not verified again: they were when the snapshot was published."""
    with gc_paused():  # a million objects that all survive: see `gc_paused`
        return _decode(payload, now)


def _decode(payload: bytes, now: dt.datetime | None) -> Contents:
    try:
        document = json.loads(zlib.decompress(payload))
    except (zlib.error, ValueError) as exc:
        raise PayloadError(f"the snapshot is unreadable: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise PayloadError(f"the snapshot's format {found!r} is not {FORMAT} (newer code?)")
    try:
        documents: list[Document] = _records("document", Document, document)
        topics: list[Topic] = _records("topic", Topic, document)
        facts: list[Fact] = _records("fact", Fact, document)
        by_topic: dict[str, list[Fact]] = defaultdict(list)
        for fact in facts:
            for topic_id in fact.topics:
                by_topic[topic_id].append(fact)
        factbase = FactBase(
            documents={d.id: d for d in documents},
            topics={t.id: t for t in topics},
            facts={f.id: f for f in facts},
            version=str(document["version"]),
            loaded_at=now or dt.datetime.now(dt.UTC),
            facts_by_topic={k: tuple(v) for k, v in by_topic.items()},
            outcomes={k: tuple(v) for k, v in document["outcomes"].items()},
        )
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise PayloadError(f"the snapshot does not fit this code's fact base: {exc}") from None
    reminders = document.get("reminders")
    return Contents(factbase, reminders if isinstance(reminders, str) else None)
