"""Facts: `facts/*.yaml`, each statement with the verbatim quotes that support it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.dates import parse_date_span, parse_day, parse_partial_field
from bot.factbase.common import (
    Collector,
    check_fields,
    load_mappings,
    not_one_of,
    parsed_field,
    str_list,
)
from bot.factbase.documents import DocText
from bot.factbase.model import (
    ATTRIBUTION_VERBS,
    DEFAULT_IMPORTANCE,
    FACT_KINDS,
    Citation,
    Document,
    Fact,
    Topic,
)
from bot.factbase.yamlsrc import LineDict
from bot.ids import SLUG_RE
from bot.text import clip, normalize_quote

FACT_FIELDS = {
    "id",
    "topics",
    "statement",
    "date",
    "source",
    "quote",
    "kind",
    "importance",
    "also",
    "stated",
    "stated_inferred",
    "date_inferred",
    "said_by",
    "verb",
    "due",
    "outcome_of",
    "reviewed",
}
FACT_REQUIRED = {"id", "topics", "statement", "source", "quote"}
ALSO_FIELDS = {"source", "quote"}


def load_facts(
    folder: Path,
    out: Collector,
    digest: Any,
    documents: dict[str, Document],
    texts: dict[str, DocText],
    topics: dict[str, tuple[Topic, int]],
    seen_ids: set[str],
) -> dict[str, Fact]:
    """Every fact in `facts/*.yaml`, verified against its documents and topics, by id."""
    facts: dict[str, Fact] = {}
    if not folder.is_dir():
        out.error(folder, 0, "facts folder is missing")
        return facts
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not paths:
        out.error(folder, 0, "no fact files (*.yaml)")
    for path in paths:
        for item in load_mappings(
            path, out, digest, "facts", "each fact must be a mapping (id, topics, statement, ...)"
        ):
            if isinstance(item.get("id"), str):
                seen_ids.add(item["id"])
            fact = _fact_from(path, item, out, documents, texts, topics)
            if fact is None:
                continue
            if fact.id in facts:
                first = facts[fact.id]
                out.error(
                    path,
                    item.line_of("id"),
                    f"duplicate fact id {fact.id!r} (first at {first.path}:{first.line})",
                )
                continue
            facts[fact.id] = fact
    return facts


def _fact_from(
    path: Path,
    item: LineDict,
    out: Collector,
    documents: dict[str, Document],
    texts: dict[str, DocText],
    topics: dict[str, tuple[Topic, int]],
) -> Fact | None:
    fact_id = item.get("id")
    label = f"fact {fact_id!r}"
    ok = check_fields(item, FACT_FIELDS, FACT_REQUIRED, path, out, label)
    if not isinstance(fact_id, str) or not SLUG_RE.fullmatch(fact_id):
        out.error(path, item.line_of("id"), f"{label}: id must be a slug of a-z, 0-9 and '-'")
        ok = False
    topic_ids = str_list(item.get("topics"))
    if topic_ids is None:
        if "topics" in item:
            out.error(path, item.line_of("topics"), f"{label}: topics must be a list of topic ids")
        ok = False
        topic_ids = []
    for topic_id in topic_ids:
        if topic_id not in topics:
            out.error(path, item.line_of("topics"), f"{label}: unknown topic {topic_id!r}")
            ok = False
    statement = item.get("statement")
    if "statement" in item and (not isinstance(statement, str) or not statement.strip()):
        out.error(path, item.line_of("statement"), f"{label}: statement must be non-empty text")
        ok = False
    good_date, date = parsed_field(item, "date", parse_date_span, path, out, label)
    good_stated, stated = parsed_field(item, "stated", parse_partial_field, path, out, label)
    good_due, due = parsed_field(item, "due", parse_partial_field, path, out, label)
    good_reviewed, reviewed = parsed_field(item, "reviewed", parse_day, path, out, label)
    ok = ok and good_date and good_stated and good_due and good_reviewed
    stated_inferred = item.get("stated_inferred")
    date_inferred = item.get("date_inferred", False)
    for key, flag in (("stated_inferred", stated_inferred), ("date_inferred", date_inferred)):
        if flag is not None and not isinstance(flag, bool):
            out.error(path, item.line_of(key), f"{label}: {key}: true or false")
            ok = False
    said_by = item.get("said_by")
    if said_by is not None and not isinstance(said_by, str):
        out.error(path, item.line_of("said_by"), f"{label}: said_by must be text")
        ok = False
    verb = item.get("verb")
    if verb is not None and verb not in ATTRIBUTION_VERBS:
        out.error(
            path,
            item.line_of("verb"),
            f"{label}: {not_one_of('verb', verb, ATTRIBUTION_VERBS)}",
        )
        ok = False
    outcome_of = item.get("outcome_of")
    if outcome_of is not None and (
        not isinstance(outcome_of, str) or not SLUG_RE.fullmatch(outcome_of)
    ):
        out.error(path, item.line_of("outcome_of"), f"{label}: outcome_of must be a fact id")
        ok = False
    kind = item.get("kind")
    if kind is not None and kind not in FACT_KINDS:
        out.error(
            path,
            item.line_of("kind"),
            f"{label}: {not_one_of('kind', kind, FACT_KINDS)}",
        )
        ok = False
    importance = item.get("importance", DEFAULT_IMPORTANCE)
    if isinstance(importance, bool) or not isinstance(importance, int) or not 1 <= importance <= 3:
        out.error(path, item.line_of("importance"), f"{label}: importance must be 1, 2 or 3")
        ok = False
    citations = []
    primary = _citation(path, item, out, documents, texts, label)
    if primary is None:
        ok = False
    else:
        citations.append(primary)
    also = item.get("also", [])
    if not isinstance(also, list):
        out.error(path, item.line_of("also"), f"{label}: also must be a list of source and quote")
        ok = False
        also = []
    for extra in also:
        if not isinstance(extra, LineDict):
            out.error(
                path, item.line_of("also"), f"{label}: each also entry needs source and quote"
            )
            ok = False
            continue
        if not check_fields(extra, ALSO_FIELDS, ALSO_FIELDS, path, out, f"{label} also"):
            ok = False
            continue
        citation = _citation(path, extra, out, documents, texts, label)
        if citation is None:
            ok = False
        else:
            citations.append(citation)
    if not ok or not isinstance(fact_id, str) or not isinstance(statement, str):
        return None
    document = documents[citations[0].source]
    if stated is None:
        stated = document.published
        inferred = document.published_inferred
    else:
        inferred = False
    if isinstance(stated_inferred, bool):
        inferred = stated_inferred and stated is not None
    return Fact(
        id=fact_id,
        topics=tuple(topic_ids),
        statement=" ".join(statement.split()),
        date=date,
        citations=tuple(citations),
        kind=kind,
        importance=importance,
        path=out.shown(path),
        line=item.line,
        stated=stated,
        stated_inferred=inferred,
        date_inferred=date_inferred is True and date is not None,
        said_by=" ".join(said_by.split()) if isinstance(said_by, str) else document.said_by,
        verb=verb,
        due=due,
        outcome_of=outcome_of,
        reviewed=reviewed,
    )


def _citation(
    path: Path,
    item: LineDict,
    out: Collector,
    documents: dict[str, Document],
    texts: dict[str, DocText],
    label: str,
) -> Citation | None:
    source, quote = item.get("source"), item.get("quote")
    if source is None or quote is None:
        return None  # reported as a missing field
    if not isinstance(source, str) or source not in documents:
        out.error(path, item.line_of("source"), f"{label}: unknown source {source!r}")
        return None
    if not isinstance(quote, str) or not quote.strip():
        out.error(path, item.line_of("quote"), f"{label}: quote must be non-empty text")
        return None
    text = texts[source]
    if text.contains(quote):
        return Citation(source, " ".join(quote.split()))
    where = (
        "lies in web-page noise" if normalize_quote(quote) in text.noise_only else "does not occur"
    )
    out.error(
        path,
        item.line_of("quote"),
        f"{label}: quote {clip(' '.join(quote.split()), 60)!r} {where} in {documents[source].path}",
    )
    return None


def link_outcomes(
    facts: dict[str, Fact], out: Collector, seen_ids: set[str] | frozenset[str] = frozenset()
) -> dict[str, tuple[str, ...]]:
    """For each target fact, the ids of the facts that report its outcome (`outcome_of`).

    A target written in the files but not loaded (`seen_ids`) has its own error already.
    """
    outcomes: dict[str, list[str]] = {}
    for fact in facts.values():
        if fact.outcome_of is None:
            continue
        target = facts.get(fact.outcome_of)
        if target is None and fact.outcome_of in seen_ids:
            continue
        if target is None:
            out.error(
                out.root.parent / fact.path,
                fact.line,
                f"fact {fact.id!r}: outcome_of names unknown fact {fact.outcome_of!r}",
            )
        elif target.due is None:
            out.error(
                out.root.parent / fact.path,
                fact.line,
                f"fact {fact.id!r}: outcome_of {target.id!r}, which has no due date",
            )
        else:
            outcomes.setdefault(target.id, []).append(fact.id)
    return {k: tuple(v) for k, v in outcomes.items()}
