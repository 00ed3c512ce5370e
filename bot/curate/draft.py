"""`briefbot draft`: candidate facts from one document, chosen by rules a curator can read.

A sentence (or, in a long sentence, a clause between semicolons) becomes a candidate when it
carries at least one signal (`SIGNALS`): a commitment, a decision, a figure, a named initiative,
a date or a position. Each candidate is a fact a curator edits, with its verbatim quote (checked
by the loader's own `DocText.contains`), a statement that is the quote lightly normalised, the
dates the text states, topics suggested from the aliases and the resolver, and an importance.
Quotes a fact already uses are listed as comments, not repeated. Nothing calls the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.curate import CurateRefused
from bot.curate.textdates import TextDate, find_dates
from bot.editorial import CAPITALISED_FUNCTION_WORD
from bot.factbase import FactBase, load_factbase
from bot.factbase.common import Collector
from bot.factbase.documents import DocText, load_documents, split_front_matter
from bot.factbase.model import Document, SourceKind
from bot.ids import SLUG_RE
from bot.resolve import MAX_ALIAS_WORDS, STOPWORDS, Method, TopicResolver
from bot.text import normalize_key, normalize_quote

DRAFTS = "drafts"
MIN_WORDS = 6
"""Shorter sentences (headings, bylines, captions) are never candidates."""
CLAUSE_SPLIT_WORDS = 60
"""A sentence longer than this is split into its clauses at semicolons."""
ID_WORDS = 6
ID_MAX_CHARS = 50

_INITIATIVE_NOUNS = (
    "Partnership|Programme|Program|Agreement|Arrangement|Initiative|Strategy|Framework|Plan|"
    "Fund|Dialogue|Forum|Treaty|Declaration|Statement|Mechanism|Council|Summit|Charter|Pact|"
    "Accord|Roadmap|Action Plan|Memorandum"
)
SIGNALS: dict[str, re.Pattern[str]] = {
    "commitment": re.compile(
        r"\b(will|shall|commit(?:s|ted)?|pledged?s?|undert(?:ake|akes|ook)|aims? to|aimed to|"
        r"plans? to|planned to|intends? to|set the (?:aim|goal|target)|targets?|deadline)\b",
        re.IGNORECASE,
    ),
    "decision": re.compile(
        r"\b(decided|announced|approved|adopted|signed|launched|established|elevated|endorsed|"
        r"concluded|ratified|agreed|appointed)\b",
        re.IGNORECASE,
    ),
    "figure": re.compile(
        r"(?:(?:NZ|US|A|AU)?\$|€|£|\b(?:USD|NZD|EUR|KRW)\s?)\d[\d,.]*(?:\s?(?:million|billion|m|bn)\b)?"
        r"|\b\d[\d,.]*\s?(?:%|per ?cent\b|percent\b)"
        r"|\b\d[\d,.]*\s(?:million|billion|thousand|troops|personnel|people|tonnes|km)\b",
        re.IGNORECASE,
    ),
    "initiative": re.compile(
        rf"\b(?:[A-Z][\w'’-]+\s+(?:(?:of|for|and|on|the)\s+)?){{1,6}}"
        rf"(?:{_INITIATIVE_NOUNS})\b"
    ),
    "position": re.compile(
        r"\b(welcome[ds]?|support(?:s|ed)?|condemn(?:s|ed)?|reaffirm(?:s|ed)?|affirm(?:s|ed)?|"
        r"emphasi[sz]e[ds]?|underscore[ds]?|stress(?:es|ed)|call(?:s|ed)? (?:on|for)|"
        r"oppose[ds]?|urge[ds]?|recogni[sz]e[ds]?|believes?|argue[sd]?|should|must|"
        r"judged?s?|said|says|warned)\b",
        re.IGNORECASE,
    ),
}
"""The signals that make a sentence a candidate (dates are the fifth, from `find_dates`)."""

KIND_ORDER = (
    ("commitment", "commitment"),
    ("decision", "event"),
    ("figure", "figure"),
    ("position", "position"),
)
"""The first signal present decides the suggested kind."""

_DUE_WORDS = frozenset({"by", "before", "until", "in", "of", "within", "from"})
_STATED_WORDS = frozenset({"on"})
_SPEECH = re.compile(r"\b(said|says|stated|announced|declared|told|wrote)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"\b(?:Mr|Ms|Mrs|Dr|St|Hon|Rt|No|Vol|vs|etc|e\.g|i\.e|U\.S|U\.K|[A-Z])\.[\"”’)]?$"
)


@dataclass(frozen=True, slots=True)
class TopicSuggestion:
    """A topic a candidate may belong to, how sure (0..1) and why."""

    topic: str
    score: float
    how: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate fact: what the curator will edit, and why it was chosen."""

    id: str
    quote: str
    statement: str
    signals: tuple[str, ...]
    topics: tuple[TopicSuggestion, ...]
    kind: str | None
    importance: int
    line: int
    date: str | None = None
    stated: str | None = None
    due: str | None = None
    used_by: tuple[str, ...] = ()

    def as_fact(self, source: str) -> dict[str, Any]:
        """The candidate as a fact mapping, with its annotations under `draft:`."""
        fact: dict[str, Any] = {
            "id": self.id,
            "topics": [t.topic for t in self.topics if t.score >= TOPIC_MIN_SCORE][:3],
            "statement": self.statement,
        }
        for key in ("date", "stated", "due"):
            if getattr(self, key) is not None:
                fact[key] = getattr(self, key)
        fact.update(source=source, quote=self.quote)
        if self.kind:
            fact["kind"] = self.kind
        fact["importance"] = self.importance
        fact["draft"] = {
            "document_line": self.line,
            "signals": list(self.signals),
            "topics": [{"id": t.topic, "score": t.score, "how": t.how} for t in self.topics],
        }
        return fact


TOPIC_MIN_SCORE = 0.5
"""Suggested topics at least this sure are put in the candidate's `topics:`."""


@dataclass
class Draft:
    """Every candidate from one document, and the sentences facts already quote."""

    doc_id: str
    candidates: list[Candidate] = field(default_factory=list)
    used: list[Candidate] = field(default_factory=list)

    def to_yaml(self) -> str:
        """The draft file: a valid fact list, `draft:` annotations, used quotes as comments."""
        lines = [
            f"# Candidate facts drafted from documents/{self.doc_id}.md. Never served.",
            "# Edit each statement (a curator's paraphrase), topics, dates and importance; delete",
            "# what is not worth a fact; then: briefbot accept "
            f"{self.doc_id} FACT_ID... (or --all).",
            "# `draft:` says why each was chosen; accept drops it.",
            "",
        ]
        for candidate in self.candidates:
            lines.append(_dump([candidate.as_fact(self.doc_id)]))
        if self.used:
            lines.append("# Already quoted by a fact (not repeated):")
            for candidate in self.used:
                flat = " ".join(candidate.quote.split())
                where = f"documents/{self.doc_id}.md:{candidate.line}"
                lines.append(
                    f"#   {where}, by {', '.join(candidate.used_by)}: "
                    f"{flat[:80]}{'…' if len(flat) > 80 else ''}"
                )
        return "\n".join(lines).rstrip("\n") + "\n"


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def draft_path(seeds_dir: Path, doc_id: str) -> Path:
    """Where `briefbot draft` writes a document's candidates (a folder the loader never reads)."""
    return seeds_dir / DRAFTS / f"{doc_id}.yaml"


def draft_document(seeds_dir: Path, doc_id: str) -> Draft:
    """The candidates in document `doc_id` of the (verified) fact base in `seeds_dir`."""
    report = load_factbase(seeds_dir)
    if report.factbase is None:
        raise CurateRefused(f"{seeds_dir}: the fact base has errors: run `briefbot check`")
    factbase = report.factbase
    document = factbase.documents.get(doc_id)
    if document is None:
        raise CurateRefused(f"no document {doc_id!r} in {seeds_dir / 'documents'}")
    _documents, texts = load_documents(
        seeds_dir / "documents", Collector(seeds_dir), hashlib.sha256()
    )
    content = (seeds_dir / "documents" / f"{doc_id}.md").read_text(encoding="utf-8")
    split = split_front_matter(content)
    assert split is not None  # the loader has just read it
    header_lines = split[0].count("\n") + 2  # and the two '---' lines
    return select(document, split[1], texts[doc_id], factbase, first_line=header_lines + 1)


def select(
    document: Document, body: str, text: DocText, factbase: FactBase, *, first_line: int = 1
) -> Draft:
    """Choose the candidates in `body` (the document's verbatim text) by `SIGNALS`; `line`
    counts from `first_line`, the body's first line in its file."""
    resolver = TopicResolver(factbase)
    names = _topic_names(factbase)
    used_quotes = [
        (normalize_quote(c.quote), fact.id)
        for fact in factbase.facts.values()
        for c in fact.citations
        if c.source == document.id
    ]
    taken = set(factbase.facts)
    result = Draft(document.id)
    for line_no, piece in _pieces(body, first_line):
        if not text.contains(piece):
            continue  # web-page noise, which no quote may come from
        signals = _signals(piece)
        if not signals:
            continue
        wanted = normalize_quote(piece)
        used_by = tuple(fid for quote, fid in used_quotes if wanted in quote or quote in wanted)
        dates = _dates(piece, document, signals)
        candidate = Candidate(
            id=_fact_id(piece, taken),
            quote=piece,
            statement=_statement(piece, document),
            signals=tuple(signals),
            topics=suggest_topics(piece, names, resolver),
            kind=_kind(signals),
            importance=_importance(signals),
            line=line_no,
            used_by=used_by,
            **dates,
        )
        (result.used if used_by else result.candidates).append(candidate)
    return result


def _pieces(body: str, first_line: int) -> Iterator[tuple[int, str]]:
    """Each sentence of the body (a long one split into clauses) with its line in the file's
    body, skipping those too short to be a fact."""
    for index, line in enumerate(body.splitlines(), start=first_line):
        sentences: list[str] = []
        for part in _SENTENCE_END.split(line.strip()):
            if sentences and _ABBREVIATION.search(sentences[-1]):
                sentences[-1] += " " + part
            elif part:
                sentences.append(part)
        for sentence in sentences:
            parts = (
                [p.strip() for p in sentence.split(";")]
                if len(sentence.split()) > CLAUSE_SPLIT_WORDS
                else [sentence]
            )
            for part in parts:
                if len(part.split()) >= MIN_WORDS:
                    yield index, part


def _signals(text: str) -> list[str]:
    """Each signal in `text` as "name: what matched"."""
    found = []
    for name, pattern in SIGNALS.items():
        match = pattern.search(text)
        if match:
            found.append(f"{name}: {match.group(0).strip()}")
    dates = find_dates(text)
    if dates:
        found.append(f"date: {', '.join(d.date.human() for d in dates)}")
    return found


def _dates(text: str, document: Document, signals: list[str]) -> dict[str, str | None]:
    """`due`, `stated` and `date` as the text states them (ISO partial dates).

    - due: a date after "by", "before", "until", "in"... in a sentence with a commitment, no
      earlier than the document's publication;
    - stated: a date after "on" in a sentence that reports speech ("said on 3 May 2025");
    - date: otherwise the first date to the month or day, in a sentence with a decision.
    """
    published = document.published.first_day() if document.published else dt.date.min
    has = {s.split(":", 1)[0] for s in signals}
    result: dict[str, str | None] = {"date": None, "stated": None, "due": None}
    rest: list[TextDate] = []
    for found in find_dates(text):
        if (
            result["due"] is None
            and "commitment" in has
            and found.before in _DUE_WORDS
            and found.date.last_day() >= published
        ):
            result["due"] = found.date.iso()
        elif result["stated"] is None and found.before in _STATED_WORDS and _SPEECH.search(text):
            result["stated"] = found.date.iso()
        else:
            rest.append(found)
    if "decision" in has:
        dated = [d for d in rest if d.date.month is not None]
        if dated and (document.published is None or dated[0].date <= document.published):
            result["date"] = dated[0].date.iso()
    return result


def _kind(signals: list[str]) -> str | None:
    """The fact kind of the first signal in `KIND_ORDER` that the sentence carries."""
    has = {s.split(":", 1)[0] for s in signals}
    return next((kind for name, kind in KIND_ORDER if name in has), None)


def _importance(signals: list[str]) -> int:
    """3 a named initiative decided or committed to; 2 two or more kinds of signal; else 1."""
    has = {s.split(":", 1)[0] for s in signals}
    if "initiative" in has and has & {"commitment", "decision"}:
        return 3
    return 2 if len(has) >= 2 else 1


def _statement(quote: str, document: Document) -> str:
    """The quote lightly normalised: straight quotes, one space, a final full stop; for an
    attributed source, a clause that reads after "… reported that"."""
    text = normalize_quote(quote).rstrip(" ;,:")
    if not text.endswith((".", "!", "?")):
        text += "."
    if document.kind is not SourceKind.OFFICIAL and CAPITALISED_FUNCTION_WORD.match(text):
        text = text[0].lower() + text[1:]
    return text


def _fact_id(quote: str, taken: set[str]) -> str:
    """A readable, unused fact id from the quote's first content words."""
    content = [w for w in normalize_key(quote).split(" ") if w not in STOPWORDS and w.isascii()]
    base = ""
    for word in content[:ID_WORDS]:
        candidate = f"{base}-{word}" if base else word
        if len(candidate) > ID_MAX_CHARS:
            break
        base = candidate
    base = base if SLUG_RE.fullmatch(base or "-") else "candidate"
    fact_id, n = base, 2
    while fact_id in taken:
        fact_id, n = f"{base}-{n}", n + 1
    taken.add(fact_id)
    return fact_id


def _topic_names(factbase: FactBase) -> dict[str, str]:
    """Every topic id and alias, normalised, to its topic."""
    names: dict[str, str] = {}
    for topic_id in sorted(factbase.topics):
        topic = factbase.topics[topic_id]
        for name in (topic.id, *topic.aliases):
            key = normalize_key(name)
            if key:
                names.setdefault(key, topic_id)
    return names


def suggest_topics(
    text: str, names: dict[str, str], resolver: TopicResolver
) -> tuple[TopicSuggestion, ...]:
    """Topics for a sentence, best first: every topic whose id or alias it names (score 1),
    then the resolver's answer for the whole sentence (its score)."""
    tokens = normalize_key(text).split(" ")
    found: dict[str, TopicSuggestion] = {}
    for size in range(min(MAX_ALIAS_WORDS, len(tokens)), 0, -1):
        for start in range(len(tokens) - size + 1):
            name = " ".join(tokens[start : start + size])
            topic = names.get(name)
            if topic is None or topic in found or (size == 1 and name in STOPWORDS):
                continue
            found[topic] = TopicSuggestion(topic, 1.0, f"names alias {name!r}")
    resolution = resolver.resolve(text)
    if resolution.topic_id is not None and resolution.topic_id not in found:
        how = "words of its facts" if resolution.method is Method.SEARCH else "resolver"
        found[resolution.topic_id] = TopicSuggestion(
            resolution.topic_id, round(resolution.score, 2), how
        )
    return tuple(sorted(found.values(), key=lambda s: -s.score))  # stable: longest alias first
