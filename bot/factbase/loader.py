"""Loading `seeds/` into a verified `FactBase`, reporting every problem with file and line.

The loader never stops at the first problem: a curator fixing the fact base wants the whole list.
A `FactBase` is only returned when there are no errors; warnings never block loading.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.factbase.common import Collector
from bot.factbase.documents import load_documents
from bot.factbase.facts import link_outcomes, load_facts
from bot.factbase.model import Document, Fact, FactBase, Topic
from bot.factbase.problems import FactBaseError, Problem
from bot.factbase.topics import check_topic_summaries, load_topics
from bot.factbase.yamlsrc import load_yaml
from bot.memory import gc_paused

MIN_TOPIC_FACTS = 5


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


def load_factbase(seeds_dir: Path | str, *, now: dt.datetime | None = None) -> LoadReport:
    """Load and verify `seeds_dir` (documents, topics, facts); see `seeds/README.md`."""
    with gc_paused():
        return _load(Path(seeds_dir), now)


def _load(root: Path, now: dt.datetime | None) -> LoadReport:
    out = Collector(root)
    if not root.is_dir():
        out.error(root, 0, "seeds directory does not exist")
        return LoadReport(None, out.problems)
    digest = hashlib.sha256()
    documents, texts = load_documents(root / "documents", out, digest)
    topics_path = root / "topics.yaml"
    topics = load_topics(topics_path, out, digest)
    seen_ids: set[str] = set()
    before_facts = len(out.problems)
    facts = load_facts(root / "facts", out, digest, documents, texts, topics, seen_ids)
    _collapse_cascades(root, documents, topics, out, before_facts)
    check_topic_summaries(topics_path, topics, seen_ids, out)
    outcomes = link_outcomes(facts, out, seen_ids)
    if any(p.severity == "error" for p in out.problems):
        return LoadReport(None, out.problems)  # coverage is only meaningful once all loads
    by_topic: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts.values():
        for topic_id in fact.topics:
            by_topic[topic_id].append(fact)
    _warn_coverage(root, documents, topics, facts, by_topic, out)
    factbase = FactBase(
        documents=documents,
        topics={t.id: t for t, _line in topics.values()},
        facts=facts,
        version=digest.hexdigest()[:12],
        loaded_at=now or dt.datetime.now(dt.UTC),
        facts_by_topic={k: tuple(v) for k, v in by_topic.items()},
        outcomes=outcomes,
    )
    return LoadReport(factbase, out.problems)


# --- cascades --------------------------------------------------------------------------------

_UNKNOWN_REFERENCE = re.compile(
    r": unknown (topic|source) ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")$"
)
"""The end of a fact's "unknown topic 'x'" / "unknown source 'x'" error (the id as its repr)."""


def _collapse_cascades(
    root: Path,
    documents: dict[str, Document],
    topics: dict[str, tuple[Topic, int]],
    out: Collector,
    first: int,
) -> None:
    """Fold facts' references to topics or documents that failed to load into one line each.

    One mistake in a topic (or a topics file that does not parse) would otherwise be buried
    under an "unknown topic" error for every fact citing it, and `/readyz` or `/brief reload`,
    which show only the first errors, would never show the cause. Such a reference is not a
    mistake of its own: it is reported once, as a warning, after the error that explains it.
    A fact citing a topic or document that exists nowhere is still an error where it stands.
    """
    failed = _failed_ids(root, documents, topics, out)
    if not failed:
        return
    folded: dict[tuple[str, str], set[tuple[str, int]]] = defaultdict(set)  # -> facts' places
    kept = out.problems[:first]
    for problem in out.problems[first:]:
        match = _UNKNOWN_REFERENCE.search(problem.message)
        if problem.severity == "error" and match and match.group(1) in failed:
            kind, shown = match.groups()
            ids = failed[kind]
            if ids is None or shown in ids:
                folded[kind, "" if ids is None else shown].add((problem.path, problem.line))
                continue
        kept.append(problem)
    out.problems = kept
    for (kind, shown), places in sorted(folded.items()):
        where = root / "topics.yaml" if kind == "topic" else root / "documents"
        what = f"{kind} {shown}, which did not load" if shown else f"{kind}s that could not be read"
        out.warning(where, 0, f"{len(places)} fact(s) cite {what} (see the error above)")


def _failed_ids(
    root: Path, documents: dict[str, Document], topics: dict[str, tuple[Topic, int]], out: Collector
) -> dict[str, set[str] | None]:
    """For topics and sources: the reprs of ids that are defined but did not load (None: every
    id is unknown because the file or folder could not be read at all)."""
    failed: dict[str, set[str] | None] = {}
    topics_path = root / "topics.yaml"
    if topics_path in out.unreadable or not topics_path.is_file():
        failed["topic"] = None
    elif _has_errors(out, topics_path):
        declared = _declared_topic_ids(topics_path)
        failed["topic"] = {repr(t) for t in declared - topics.keys()}
    folder = root / "documents"
    if not folder.is_dir():
        failed["source"] = None
    elif _has_errors(out, folder):
        declared = {path.stem for path in folder.glob("*.md")}
        failed["source"] = {repr(d) for d in declared - documents.keys()}
    return {kind: ids for kind, ids in failed.items() if ids is None or ids}


def _has_errors(out: Collector, path: Path) -> bool:
    shown = out.shown(path)
    return any(p.severity == "error" and p.path.startswith(shown) for p in out.problems)


def _declared_topic_ids(path: Path) -> set[str]:
    """The ids topics.yaml gives its topics, valid or not (the file is known to parse)."""
    try:
        items = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(items, list):
        return set()
    return {i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)}


# --- coverage --------------------------------------------------------------------------------


def _warn_coverage(
    root: Path,
    documents: dict[str, Document],
    topics: dict[str, tuple[Topic, int]],
    facts: dict[str, Fact],
    by_topic: dict[str, list[Fact]],
    out: Collector,
) -> None:
    cited = {source for fact in facts.values() for source in fact.sources}
    for doc in documents.values():
        if doc.id not in cited:
            out.warning(
                root / "documents" / f"{doc.id}.md", 1, f"document {doc.id!r} is cited by no fact"
            )
    for topic, line in topics.values():
        count = len(by_topic.get(topic.id, []))
        if count < MIN_TOPIC_FACTS:
            out.warning(
                root / "topics.yaml",
                line,
                f"topic {topic.id!r} has {count} fact(s); fewer than {MIN_TOPIC_FACTS}",
            )
