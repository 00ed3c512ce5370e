"""Loading `seeds/` into a verified `FactBase`, reporting every problem with file and line.

The loader never stops at the first problem: a curator fixing the fact base wants the whole list.
A `FactBase` is only returned when there are no errors; warnings never block loading.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.dates import parse_date_span
from bot.factbase.model import (
    DEFAULT_IMPORTANCE,
    FACT_KINDS,
    Citation,
    Document,
    Fact,
    FactBase,
    SourceKind,
    Topic,
    TopicSentence,
)
from bot.factbase.problems import FactBaseError, Problem, display_path
from bot.factbase.yamlsrc import LineDict, YamlSyntaxError, load_yaml
from bot.text import normalize_key, normalize_quote

MIN_TOPIC_FACTS = 5
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
URL_RE = re.compile(r"https?://[^\s<>|]+", re.IGNORECASE)

DOCUMENT_FIELDS = {"id", "title", "publisher", "author", "published", "url", "kind", "noise",
                   "noise_after"}
DOCUMENT_REQUIRED = {"id", "title", "publisher", "kind"}
TOPIC_FIELDS = {"id", "title", "aliases", "summary"}
SENTENCE_FIELDS = {"text", "facts"}
FACT_FIELDS = {"id", "topics", "statement", "date", "source", "quote", "kind", "importance", "also"}
FACT_REQUIRED = {"id", "topics", "statement", "source", "quote"}
ALSO_FIELDS = {"source", "quote"}
SUMMARY_SENTENCES = 2

# A noise line is replaced by this marker so that no quote can match across it.
_NOISE_MARK = "\x00"


@dataclass
class LoadReport:
    """The outcome of loading: the fact base (None when there are errors) and every problem."""

    factbase: FactBase | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop the fact base from loading."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems worth a curator's attention that do not stop loading."""
        return [p for p in self.problems if p.severity == "warning"]

    def require(self) -> FactBase:
        """The fact base, or `FactBaseError` with every problem when it did not load."""
        if self.factbase is None:
            raise FactBaseError(self.problems)
        return self.factbase


@dataclass
class _DocText:
    """A document's body as verification sees it: normalised, with noise lines masked."""

    clean: str
    noise_only: str


class _Collector:
    """Accumulates problems for one load, with paths shown relative to the seeds' parent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.unreadable: set[Path] = set()
        self._shown: dict[Path, str] = {}

    def shown(self, path: Path) -> str:
        """`path` as messages and facts show it (computed once per file: there are many facts)."""
        text = self._shown.get(path)
        if text is None:
            text = self._shown[path] = display_path(path, self.root)
        return text

    def error(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self.shown(path), line, message, "error"))

    def warning(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self.shown(path), line, message, "warning"))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large fact base is built.

    Loading allocates millions of small objects that all survive, so the collector would run
    again and again over a growing heap for nothing (about half of the time of loading 50,000
    facts). Nothing built here forms reference cycles; the collector is resumed afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_factbase(seeds_dir: Path | str, *, now: dt.datetime | None = None) -> LoadReport:
    """Load and verify `seeds_dir` (documents, topics, facts); see `seeds/README.md`."""
    with _gc_paused():
        return _load(Path(seeds_dir), now)


def _load(root: Path, now: dt.datetime | None) -> LoadReport:
    out = _Collector(root)
    if not root.is_dir():
        out.error(root, 0, "seeds directory does not exist")
        return LoadReport(None, out.problems)
    digest = hashlib.sha256()
    documents, texts = _load_documents(root / "documents", out, digest)
    topics_path = root / "topics.yaml"
    topics = _load_topics(topics_path, out, digest)
    seen_ids: set[str] = set()
    facts = _load_facts(root / "facts", out, digest, documents, texts, topics, seen_ids)
    _check_topic_summaries(topics_path, topics, seen_ids, out)
    by_topic: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts.values():
        for topic_id in fact.topics:
            by_topic[topic_id].append(fact)
    _warn_coverage(root, documents, topics, facts, by_topic, out)
    if any(p.severity == "error" for p in out.problems):
        return LoadReport(None, out.problems)
    factbase = FactBase(
        documents=documents,
        topics={t.id: t for t, _line in topics.values()},
        facts=facts,
        version=digest.hexdigest()[:12],
        loaded_at=now or dt.datetime.now(dt.UTC),
        facts_by_topic={k: tuple(v) for k, v in by_topic.items()},
    )
    return LoadReport(factbase, out.problems)


# --- documents -------------------------------------------------------------------------------


def _read(path: Path, out: _Collector, digest: Any) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        out.error(path, 0, f"cannot read: {exc.strerror}")
        return None
    digest.update(path.name.encode() + b"\0" + raw + b"\0")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        out.error(path, line, "not UTF-8 text")
        return None


def _split_front_matter(text: str) -> tuple[str, str] | None:
    """Split `---\\nYAML\\n---\\nBODY`; None when the file has no front-matter block."""
    if not text.startswith("---\n") and not text.startswith("---\r\n"):
        return None
    lines = text.splitlines(keepends=True)
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    return None


def _load_documents(
    folder: Path, out: _Collector, digest: Any
) -> tuple[dict[str, Document], dict[str, _DocText]]:
    documents: dict[str, Document] = {}
    texts: dict[str, _DocText] = {}
    if not folder.is_dir():
        out.error(folder, 0, "documents folder is missing")
        return documents, texts
    for path in sorted(folder.glob("*.md")):
        text = _read(path, out, digest)
        if text is None:
            continue
        split = _split_front_matter(text)
        if split is None:
            out.error(path, 1, "no front-matter block: the file must start with '---' and a "
                               "YAML block closed by '---'")
            continue
        header_text, body = split
        try:
            header = load_yaml(header_text)
        except YamlSyntaxError as exc:
            out.error(path, exc.line + 1, exc.message)
            continue
        if not isinstance(header, LineDict):
            out.error(path, 2, "front matter must be a mapping of fields")
            continue
        doc = _document_from(path, header, body, out)
        if doc is None:
            continue
        document, doc_text = doc
        if document.id in documents:
            out.error(path, header.line_of("id") + 1,
                      f"duplicate document id {document.id!r} (also {documents[document.id].path})")
            continue
        documents[document.id] = document
        texts[document.id] = doc_text
    return documents, texts


def _document_from(
    path: Path, header: LineDict, body: str, out: _Collector
) -> tuple[Document, _DocText] | None:
    def line(key: str) -> int:
        return header.line_of(key) + 1  # +1: the opening '---'

    ok = True
    for key in sorted(set(header) - DOCUMENT_FIELDS, key=str):
        allowed = ", ".join(sorted(DOCUMENT_FIELDS))
        out.error(path, line(key), f"unknown field {key!r} (allowed: {allowed})")
        ok = False
    for key in sorted(DOCUMENT_REQUIRED - set(header)):
        out.error(path, header.line + 1, f"missing field {key!r}")
        ok = False
    doc_id = _text_field(header, "id", path, out, line)
    if doc_id is not None:
        if not SLUG_RE.match(doc_id):
            out.error(path, line("id"), f"id {doc_id!r} must be a slug of a-z, 0-9 and '-'")
            ok = False
        elif doc_id != path.stem:
            out.error(path, line("id"), f"id {doc_id!r} does not match the file name {path.name!r}")
            ok = False
    strings = {k: _text_field(header, k, path, out, line) for k in
               ("title", "publisher", "author", "url")}
    if strings["url"] and not URL_RE.fullmatch(strings["url"]):
        # Only web addresses become links; "<!channel|...>" is a mention in Slack's syntax.
        out.error(path, line("url"), f"url {strings['url']!r} must be an http(s) address "
                                     "without spaces, or empty")
        ok = False
    published = None
    try:
        span = parse_date_span(header.get("published"))
        if span is not None and span.is_range:
            raise ValueError("a publication date cannot be a range")
        published = span.start if span else None
    except ValueError as exc:
        out.error(path, line("published"), f"published: {exc}")
        ok = False
    kind = None
    try:
        kind = SourceKind(header.get("kind"))
    except ValueError:
        if "kind" in header:
            out.error(path, line("kind"), f"kind {header.get('kind')!r} must be one of "
                                          f"{', '.join(k.value for k in SourceKind)}")
        ok = False
    doc_text = _mask_noise(path, header, body, out, line)
    if not ok or doc_id is None or kind is None or doc_text is None or strings["title"] is None:
        return None
    return (
        Document(
            id=doc_id,
            title=strings["title"] or "",
            publisher=strings["publisher"] or "",
            author=strings["author"] or "",
            published=published,
            url=strings["url"] or "",
            kind=kind,
            path=out.shown(path),
        ),
        doc_text,
    )


def _text_field(header: LineDict, key: str, path: Path, out: _Collector, line: Any) -> str | None:
    value = header.get(key)
    if value is None:
        return "" if key not in DOCUMENT_REQUIRED else None
    if not isinstance(value, str):
        out.error(path, line(key), f"{key} must be text, got {type(value).__name__}")
        return None
    if key in DOCUMENT_REQUIRED and not value.strip():
        out.error(path, line(key), f"{key} must not be empty")
        return None
    return value.strip()


def _mask_noise(
    path: Path, header: LineDict, body: str, out: _Collector, line: Any
) -> _DocText | None:
    """Normalise the body, replacing each noise line by a marker no quote can cross."""
    raw_lines = body.splitlines()
    norm_lines = [normalize_quote(text) for text in raw_lines]
    noise = header.get("noise") or []
    after = header.get("noise_after")
    if not isinstance(noise, list) or not all(isinstance(n, str) and n.strip() for n in noise):
        out.error(path, line("noise"), "noise must be a list of line starts (non-empty text)")
        return None
    if after is not None and not (isinstance(after, str) and after.strip()):
        out.error(path, line("noise_after"), "noise_after must be the start of a line (text)")
        return None
    is_noise = [False] * len(raw_lines)
    ok = True
    for entry in noise:
        start = normalize_quote(entry)
        hits = [i for i, text in enumerate(norm_lines) if text.startswith(start)]
        if not hits:
            out.error(path, line("noise"), f"noise entry {entry!r} starts no line of the document")
            ok = False
        for i in hits:
            is_noise[i] = True
    if after is not None:
        start = normalize_quote(after)
        first = next((i for i, text in enumerate(norm_lines) if text.startswith(start)), None)
        if first is None:
            out.error(path, line("noise_after"),
                      f"noise_after {after!r} starts no line of the document")
            ok = False
        else:
            for i in range(first, len(raw_lines)):
                is_noise[i] = True
    if not ok:
        return None
    pairs = list(zip(norm_lines, is_noise, strict=True))
    clean = " ".join(_NOISE_MARK if noisy else text for text, noisy in pairs)
    noise_only = " ".join(text if noisy else _NOISE_MARK for text, noisy in pairs)
    return _DocText(clean=" ".join(clean.split()), noise_only=" ".join(noise_only.split()))


# --- topics ----------------------------------------------------------------------------------


def _load_list_file(path: Path, out: _Collector, digest: Any, what: str) -> list[Any]:
    text = _read(path, out, digest)
    if text is None:
        return []
    try:
        data = load_yaml(text)
    except YamlSyntaxError as exc:
        out.error(path, exc.line, exc.message)
        out.unreadable.add(path)
        return []
    if data is None:
        return []
    if not isinstance(data, list):
        out.error(path, getattr(data, "line", 1), f"the file must be a list of {what}")
        return []
    return data


def _check_fields(item: LineDict, allowed: set[str], required: set[str], path: Path,
                  out: _Collector, what: str) -> bool:
    if item.keys() <= allowed and item.keys() >= required:
        return True  # the usual case, checked without building sets
    ok = True
    for key in sorted(set(item) - allowed, key=str):  # YAML keys may be numbers or null
        out.error(path, item.line_of(key),
                  f"{what}: unknown field {key!r} (allowed: {', '.join(sorted(allowed))})")
        ok = False
    for key in sorted(required - set(item)):
        out.error(path, item.line, f"{what}: missing field {key!r}")
        ok = False
    return ok


def _str_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return None
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return [v.strip() for v in value]
    return None


def _load_topics(path: Path, out: _Collector, digest: Any) -> dict[str, tuple[Topic, int]]:
    topics: dict[str, tuple[Topic, int]] = {}
    alias_owner: dict[str, str] = {}
    if not path.is_file():
        out.error(path, 0, "topics.yaml is missing")
        return topics
    for item in _load_list_file(path, out, digest, "topics"):
        if not isinstance(item, LineDict):
            out.error(path, 1, "each topic must be a mapping with id, title, aliases, summary")
            continue
        label = f"topic {item.get('id')!r}"
        ok = _check_fields(item, TOPIC_FIELDS, TOPIC_FIELDS, path, out, label)
        topic_id = item.get("id")
        if not isinstance(topic_id, str) or not SLUG_RE.match(topic_id):
            out.error(path, item.line_of("id"), f"{label}: id must be a slug of a-z, 0-9 and '-'")
            continue
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            out.error(path, item.line_of("title"), f"{label}: title must be non-empty text")
            ok = False
        aliases = _str_list(item.get("aliases", []))
        if aliases is None:
            out.error(path, item.line_of("aliases"), f"{label}: aliases must be a list of text")
            ok = False
            aliases = []
        summary = _topic_summary(item, path, out, label)
        if summary is None:
            ok = False
        if topic_id in topics:
            out.error(path, item.line_of("id"),
                      f"duplicate topic id {topic_id!r} (first at line {topics[topic_id][1]})")
            continue
        for name in [topic_id, *aliases]:
            key = normalize_key(name)
            if not key:
                out.error(path, item.line_of("aliases"), f"{label}: alias {name!r} has no letters")
                ok = False
            elif alias_owner.get(key, topic_id) != topic_id:
                out.error(path, item.line_of("aliases"),
                          f"{label}: alias {name!r} is already a name of topic "
                          f"{alias_owner[key]!r}")
                ok = False
            else:
                alias_owner[key] = topic_id
        if ok and summary is not None and isinstance(title, str):
            topics[topic_id] = (Topic(topic_id, title.strip(), tuple(aliases), summary), item.line)
    return topics


def _topic_summary(item: LineDict, path: Path, out: _Collector, label: str
                   ) -> tuple[TopicSentence, ...] | None:
    raw = item.get("summary")
    if not isinstance(raw, list) or len(raw) != SUMMARY_SENTENCES:
        out.error(path, item.line_of("summary"),
                  f"{label}: summary must be a list of exactly {SUMMARY_SENTENCES} sentences, "
                  "each with text and facts")
        return None
    sentences = []
    for sentence in raw:
        if not isinstance(sentence, LineDict):
            out.error(path, item.line_of("summary"),
                      f"{label}: a summary sentence must be a mapping")
            return None
        if not _check_fields(sentence, SENTENCE_FIELDS, SENTENCE_FIELDS, path, out,
                             f"{label} summary"):
            return None
        text, facts = sentence.get("text"), _str_list(sentence.get("facts"))
        if not isinstance(text, str) or not text.strip() or not facts:
            out.error(path, sentence.line,
                      f"{label}: a summary sentence needs text and a non-empty list of fact ids")
            return None
        sentences.append(TopicSentence(" ".join(text.split()), tuple(facts)))
    return tuple(sentences)


def _check_topic_summaries(path: Path, topics: dict[str, tuple[Topic, int]],
                           fact_ids: set[str], out: _Collector) -> None:
    """Summaries must cite facts that exist (an invalid fact is reported where it stands)."""
    if any(p.parent.name == "facts" for p in out.unreadable):
        return  # the facts are unknown, not missing: the syntax error says why
    for topic, line in topics.values():
        for sentence in topic.summary:
            for fact_id in sentence.facts:
                if fact_id not in fact_ids:
                    out.error(path, line,
                              f"topic {topic.id!r}: summary cites unknown fact {fact_id!r}")


# --- facts -----------------------------------------------------------------------------------


def _load_facts(
    folder: Path,
    out: _Collector,
    digest: Any,
    documents: dict[str, Document],
    texts: dict[str, _DocText],
    topics: dict[str, tuple[Topic, int]],
    seen_ids: set[str],
) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    if not folder.is_dir():
        out.error(folder, 0, "facts folder is missing")
        return facts
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not paths:
        out.error(folder, 0, "no fact files (*.yaml)")
    for path in paths:
        for item in _load_list_file(path, out, digest, "facts"):
            if not isinstance(item, LineDict):
                out.error(path, 1, "each fact must be a mapping (id, topics, statement, ...)")
                continue
            if isinstance(item.get("id"), str):
                seen_ids.add(item["id"])
            fact = _fact_from(path, item, out, documents, texts, topics)
            if fact is None:
                continue
            if fact.id in facts:
                first = facts[fact.id]
                out.error(path, item.line_of("id"),
                          f"duplicate fact id {fact.id!r} (first at {first.path}:{first.line})")
                continue
            facts[fact.id] = fact
    return facts


def _fact_from(
    path: Path,
    item: LineDict,
    out: _Collector,
    documents: dict[str, Document],
    texts: dict[str, _DocText],
    topics: dict[str, tuple[Topic, int]],
) -> Fact | None:
    fact_id = item.get("id")
    label = f"fact {fact_id!r}"
    ok = _check_fields(item, FACT_FIELDS, FACT_REQUIRED, path, out, label)
    if not isinstance(fact_id, str) or not SLUG_RE.match(fact_id):
        out.error(path, item.line_of("id"), f"{label}: id must be a slug of a-z, 0-9 and '-'")
        ok = False
    topic_ids = _str_list(item.get("topics"))
    if topic_ids is None or not topic_ids:
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
    date = None
    try:
        date = parse_date_span(item.get("date"))
    except ValueError as exc:
        out.error(path, item.line_of("date"), f"{label}: date: {exc}")
        ok = False
    kind = item.get("kind")
    if kind is not None and kind not in FACT_KINDS:
        out.error(path, item.line_of("kind"),
                  f"{label}: kind {kind!r} must be one of {', '.join(FACT_KINDS)}")
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
            out.error(path, item.line_of("also"),
                      f"{label}: each also entry needs source and quote")
            ok = False
            continue
        if not _check_fields(extra, ALSO_FIELDS, ALSO_FIELDS, path, out, f"{label} also"):
            ok = False
            continue
        citation = _citation(path, extra, out, documents, texts, label)
        if citation is None:
            ok = False
        else:
            citations.append(citation)
    if not ok or not isinstance(fact_id, str) or not isinstance(statement, str):
        return None
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
    )


def _citation(
    path: Path,
    item: LineDict,
    out: _Collector,
    documents: dict[str, Document],
    texts: dict[str, _DocText],
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
    wanted = normalize_quote(quote)
    text = texts[source]
    if wanted in text.clean:
        return Citation(source, " ".join(quote.split()))
    where = "lies in web-page noise" if wanted in text.noise_only else "does not occur"
    out.error(path, item.line_of("quote"),
              f"{label}: quote {_clip(quote)!r} {where} in {documents[source].path}")
    return None


def _clip(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- coverage --------------------------------------------------------------------------------


def _warn_coverage(
    root: Path,
    documents: dict[str, Document],
    topics: dict[str, tuple[Topic, int]],
    facts: dict[str, Fact],
    by_topic: dict[str, list[Fact]],
    out: _Collector,
) -> None:
    cited = {source for fact in facts.values() for source in fact.sources}
    for doc in documents.values():
        if doc.id not in cited:
            out.warning(root / "documents" / f"{doc.id}.md", 1,
                        f"document {doc.id!r} is cited by no fact")
    for topic, line in topics.values():
        count = len(by_topic.get(topic.id, []))
        if count < MIN_TOPIC_FACTS:
            out.warning(root / "topics.yaml", line,
                        f"topic {topic.id!r} has {count} fact(s); fewer than {MIN_TOPIC_FACTS}")


def iter_problem_lines(problems: Iterable[Problem]) -> list[str]:
    """Problems as the lines `briefbot check` prints, errors first, each sorted by file and line."""
    ordered = sorted(problems, key=lambda p: (p.severity != "error", p.path, p.line, p.message))
    return [str(p) for p in ordered]
