"""`briefbot accept`: move chosen candidates from `seeds/drafts/ID.yaml` into `seeds/facts/ID.yaml`.

The candidates' text is moved as the curator left it (comments and layout kept), minus each one's
`draft:` annotations. Then the whole fact base is verified as `briefbot check` does; if it does
not load, both files are put back byte for byte and the problems are shown at their lines in the
draft, where the curator fixes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.curate import CurateRefused
from bot.curate.draft import draft_path
from bot.factbase import FactBase, load_factbase
from bot.factbase.problems import Problem, display_path, iter_problem_lines
from bot.factbase.yamlsrc import LineDict, YamlSyntaxError, load_yaml

DRAFT_KEY = "draft"


@dataclass(frozen=True, slots=True)
class AcceptOutcome:
    """What `accept` did: the facts moved (none when the check failed) and every problem."""

    moved: tuple[str, ...]
    facts_path: Path
    problems: tuple[str, ...]
    factbase: FactBase | None
    left_in_draft: int

    @property
    def ok(self) -> bool:
        """Whether the candidates were moved (the fact base verified with them)."""
        return self.factbase is not None


@dataclass(frozen=True, slots=True)
class _Item:
    """One candidate in the draft file: its id and the lines it spans (0-based, end excluded)."""

    id: str
    start: int
    end: int
    draft_line: int | None
    """The 0-based line of its `draft:` key, if any."""


def accept(
    seeds_dir: Path, doc_id: str, fact_ids: Sequence[str] = (), *, take_all: bool = False
) -> AcceptOutcome:
    """Move the named candidates (or all) into the facts file, only if the base then verifies."""
    source = draft_path(seeds_dir, doc_id)
    try:
        draft_bytes = source.read_bytes()
    except OSError:
        raise CurateRefused(f"no draft {source}: run `briefbot draft {doc_id}` first") from None
    text = draft_bytes.decode("utf-8", errors="replace")
    items = _items(text, source)
    if not take_all and not fact_ids:
        raise CurateRefused(f"name the candidates to accept from {source}, or give --all")
    by_id = {item.id: item for item in items}
    unknown = [fid for fid in fact_ids if fid not in by_id]
    if unknown:
        raise CurateRefused(f"no candidate {unknown[0]!r} in {source}")
    chosen = items if take_all else [by_id[fid] for fid in dict.fromkeys(fact_ids)]
    if not chosen:
        raise CurateRefused(f"{source} has no candidates left")

    target = seeds_dir / "facts" / f"{doc_id}.yaml"
    facts_bytes = target.read_bytes() if target.exists() else None
    lines = text.splitlines()
    facts_text = facts_bytes.decode("utf-8") if facts_bytes is not None else _facts_header(doc_id)
    if facts_text and not facts_text.endswith("\n"):
        facts_text += "\n"
    moved_lines: dict[int, int] = {}  # 1-based line in the facts file -> line in the draft
    next_line = facts_text.count("\n") + 1
    for item in chosen:
        facts_text += "\n"
        next_line += 1
        for index in _kept_lines(item, lines):
            facts_text += lines[index] + "\n"
            moved_lines[next_line] = index + 1
            next_line += 1
    taken = {id(item) for item in chosen}
    left = [item for item in items if id(item) not in taken]
    remaining = _without(lines, [i for i in chosen])

    target.write_text(facts_text, encoding="utf-8")
    if left:
        source.write_text(remaining, encoding="utf-8")
    else:
        source.unlink()
    report = load_factbase(seeds_dir)
    if report.factbase is None:
        _restore(target, facts_bytes)
        _restore(source, draft_bytes)
        shown_target = display_path(target, seeds_dir)
        shown_draft = display_path(source, seeds_dir)
        problems = [
            Problem(shown_draft, moved_lines[p.line], p.message, p.severity)
            if p.path == shown_target and p.line in moved_lines
            else p
            for p in report.problems
            if p.severity == "error"
        ]
        return AcceptOutcome((), target, tuple(iter_problem_lines(problems)), None, len(items))
    return AcceptOutcome(
        tuple(item.id for item in chosen),
        target,
        tuple(iter_problem_lines(report.problems)),
        report.factbase,
        len(left),
    )


def _items(text: str, source: Path) -> list[_Item]:
    """The candidates of a draft file with the lines each spans."""
    try:
        data = load_yaml(text)
    except YamlSyntaxError as exc:
        raise CurateRefused(f"{source}:{exc.line}: {exc.message}") from None
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(i, LineDict) for i in data):
        raise CurateRefused(f"{source}: must be a list of candidate facts")
    starts = [item.line - 1 for item in data]
    lines = text.splitlines()
    items = []
    for n, item in enumerate(data):
        fact_id = item.get("id")
        if not isinstance(fact_id, str):
            raise CurateRefused(f"{source}:{item.line}: a candidate without an id")
        end = starts[n + 1] if n + 1 < len(data) else len(lines)
        if n + 1 == len(data):  # the last one ends before the comments that follow it
            end = next(
                (i for i in range(starts[n] + 1, len(lines)) if lines[i].startswith("#")), end
            )
        draft_line = item.key_lines.get(DRAFT_KEY)
        items.append(
            _Item(fact_id, starts[n], end, draft_line - 1 if draft_line is not None else None)
        )
    return items


def _kept_lines(item: _Item, lines: list[str]) -> list[int]:
    """The item's lines without its `draft:` block and trailing blank lines."""
    kept = []
    skipping_indent: int | None = None
    for index in range(item.start, item.end):
        line = lines[index]
        indent = len(line) - len(line.lstrip())
        if index == item.draft_line:
            skipping_indent = indent
            continue
        if skipping_indent is not None and (not line.strip() or indent > skipping_indent):
            continue
        skipping_indent = None
        kept.append(index)
    while kept and not lines[kept[-1]].strip():
        kept.pop()
    return kept


def _without(lines: list[str], items: list[_Item]) -> str:
    """The draft's text without the given items' lines."""
    dropped = {index for item in items for index in range(item.start, item.end)}
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped) + "\n"


def _facts_header(doc_id: str) -> str:
    return f"# Facts from documents/{doc_id}.md (accepted from a draft).\n"


def _restore(path: Path, content: bytes | None) -> None:
    """Put a file back as it was: its bytes, or absent."""
    if content is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(content)
