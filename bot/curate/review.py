"""`briefbot review` and `/brief review`: the curator's worklist, most urgent first.

Lapsed targets with no outcome, topics past the staleness threshold, knowledge gaps (with the
topic an alias would send them to), unattributed analysis, facts no topic uses, drafts waiting.
The rules are `bot.editorial`'s and the gaps `bot.gaps`'s: this only gathers and orders them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml

from bot.editorial import editorial_by_rule
from bot.gaps import GapGroup
from bot.replies import Reply
from bot.state import Knowledge
from bot.text import normalize_key

NO_DATABASE = "no database configured"

SECTIONS = (
    ("lapsed", "Lapsed targets with no outcome"),
    ("stale", "Topics past the staleness threshold"),
    ("gaps", "Knowledge gaps"),
    ("unattributed", "Unattributed analysis"),
    ("unused", "Facts no topic uses"),
    ("drafts", "Drafts waiting"),
)
"""The worklist's sections, most urgent first."""


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One thing to look at: where it is (file:line, when it has one), what, and what to do."""

    where: str
    what: str
    action: str = ""


@dataclass(frozen=True, slots=True)
class ReviewSection:
    """A kind of work, with its items (empty when there is nothing to do) or why it is unknown."""

    id: str
    title: str
    items: tuple[ReviewItem, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class ReviewReply(Reply):
    """The curator's worklist, section by section."""

    sections: tuple[ReviewSection, ...]
    version: str
    today: str
    template: ClassVar[str] = "review"
    kind: ClassVar[str] = "review"

    @property
    def total(self) -> int:
        """How many items there are to look at in all."""
        return sum(len(section.items) for section in self.sections)

    def as_json(self) -> dict[str, Any]:
        """The `--format json` form: version, day and each section's items."""
        return {
            "version": self.version,
            "today": self.today,
            "sections": [
                {
                    "id": s.id,
                    "title": s.title,
                    "note": s.note or None,
                    "items": [
                        {"where": i.where or None, "what": i.what, "action": i.action or None}
                        for i in s.items
                    ],
                }
                for s in self.sections
            ],
        }


def curator_review(
    knowledge: Knowledge,
    *,
    today: dt.date,
    stale_days: int,
    gaps: Sequence[GapGroup] | None,
    gaps_note: str = NO_DATABASE,
    drafts_dir: Path | None = None,
) -> ReviewReply:
    """The worklist for the fact base being served. `gaps` is None when no database records
    them (`gaps_note` says why); `drafts_dir` None when drafts are not visible from here."""
    factbase = knowledge.factbase
    rules = editorial_by_rule(factbase, today=today, stale_days=stale_days)
    items: dict[str, tuple[ReviewItem, ...]] = {
        rule: tuple(ReviewItem(f"{p.path}:{p.line}", p.message) for p in rules[rule])
        for rule in ("lapsed", "stale", "unattributed", "unused")
    }
    notes = {"gaps": "", "drafts": ""}
    if gaps is None:
        notes["gaps"] = f"knowledge gaps: {gaps_note}"
        items["gaps"] = ()
    else:
        items["gaps"] = tuple(_gap_item(group, knowledge) for group in gaps)
    if drafts_dir is None:
        notes["drafts"] = "drafts are on the curator's machine: run `briefbot review` there"
        items["drafts"] = ()
    else:
        items["drafts"] = tuple(_drafts(drafts_dir, drafts_dir.parent.parent))
    sections = tuple(
        ReviewSection(key, title, items[key], notes.get(key, "")) for key, title in SECTIONS
    )
    return ReviewReply(sections, factbase.version, today.isoformat())


def _gap_item(group: GapGroup, knowledge: Knowledge) -> ReviewItem:
    """A gap, with the topics the resolver finds closest: the alias to add, or a new topic."""
    suggestions = knowledge.resolver.suggest(normalize_key(group.example))
    what = f'{group.count}x "{group.example}" ({", ".join(group.outcomes)})'
    if not suggestions:
        return ReviewItem("", what, "a new topic?")
    others = f" (or {', '.join(suggestions[1:])})" if len(suggestions) > 1 else ""
    return ReviewItem(
        "", what, f'add "{group.example}" as an alias of {suggestions[0]}{others}, or a new topic'
    )


def _drafts(folder: Path, root: Path) -> list[ReviewItem]:
    """Each draft file with how many candidates wait in it."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            count = f"{len(data)} candidate(s)" if isinstance(data, list) else "no candidates"
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            count = "not readable YAML"
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        found.append(
            ReviewItem(f"{shown}", count, f"edit, then briefbot accept {path.stem} FACT_ID...")
        )
    return found
