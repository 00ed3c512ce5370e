"""The one snapshot of served state: everything derived from `seeds/`, swapped whole on reload.

A `Knowledge` holds the verified fact base, the indexes built on it (resolver, search) and the
reminder schedule from `reminders.yaml`. It is immutable; a reload builds a new one and the
`KnowledgeHolder` swaps one reference, so a request, a brief or a reminder pass that took a
snapshot sees one version of everything from start to end.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.factbase import FactBase, load_factbase
from bot.factbase.problems import FactBaseError, Problem
from bot.reminders.occurrences import ReminderSchedule
from bot.reminders.rules import REMINDERS_FILE, load_reminder_rules
from bot.resolve import TopicResolver
from bot.search import FactSearch

UTC = ZoneInfo("UTC")


@dataclass(frozen=True, eq=False)
class Knowledge:
    """A verified fact base with its indexes and reminder schedule; replaced whole, never
    mutated."""

    factbase: FactBase
    resolver: TopicResolver
    search: FactSearch
    schedule: ReminderSchedule = field(default_factory=lambda: ReminderSchedule((), UTC, None))

    @property
    def version(self) -> str:
        """The fact base's content version (a hash of the files it was loaded from)."""
        return self.factbase.version

    @classmethod
    def build(cls, factbase: FactBase, schedule: ReminderSchedule | None = None) -> Knowledge:
        """Build the indexes for a fact base (and attach its reminder schedule)."""
        return cls(
            factbase,
            TopicResolver(factbase),
            FactSearch(factbase),
            schedule if schedule is not None else ReminderSchedule((), UTC, None),
        )


@dataclass(frozen=True)
class LoadResult:
    """What loading `seeds/` gave: the snapshot (None when anything has errors) and every
    problem, fact base and reminder rules alike."""

    knowledge: Knowledge | None
    problems: list[Problem]
    rule_problems: list[Problem] = field(default_factory=list)
    """The part of `problems` found in `reminders.yaml`."""

    @property
    def errors(self) -> list[Problem]:
        """The problems that stopped the snapshot from being built."""
        return [p for p in self.problems if p.severity == "error"]

    def require(self) -> Knowledge:
        """The snapshot, or `FactBaseError` with every problem."""
        if self.knowledge is None:
            raise FactBaseError(self.problems)
        return self.knowledge


def load_knowledge(
    seeds_dir: Path | str, *, timezone: ZoneInfo = UTC, default_channel: str | None = None
) -> LoadResult:
    """Load and verify `seeds/`: the fact base, then its reminder rules; a snapshot only when
    neither has errors."""
    report = load_factbase(seeds_dir)
    if report.factbase is None:
        return LoadResult(None, list(report.problems))
    schedule, rule_problems = load_schedule(
        seeds_dir, report.factbase, timezone=timezone, default_channel=default_channel
    )
    problems = [*report.problems, *rule_problems]
    if any(p.severity == "error" for p in rule_problems):
        return LoadResult(None, problems, rule_problems)
    return LoadResult(Knowledge.build(report.factbase, schedule), problems, rule_problems)


def load_schedule(
    seeds_dir: Path | str,
    factbase: FactBase,
    *,
    timezone: ZoneInfo,
    default_channel: str | None,
) -> tuple[ReminderSchedule, list[Problem]]:
    """The rules in `seeds/reminders.yaml` with the given defaults, and every problem in them."""
    rules, problems = load_reminder_rules(Path(seeds_dir) / REMINDERS_FILE, factbase)
    return ReminderSchedule(rules, timezone, default_channel), problems


class KnowledgeHolder:
    """Holds the current `Knowledge`; readers take a snapshot, a reload swaps it whole."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._knowledge = knowledge
        self._lock = threading.Lock()

    @property
    def current(self) -> Knowledge:
        """The snapshot now being served."""
        return self._knowledge

    def replace(self, knowledge: Knowledge) -> None:
        """Serve `knowledge` from now on (readers holding the old snapshot finish with it)."""
        with self._lock:
            self._knowledge = knowledge

    @classmethod
    def load(
        cls,
        seeds_dir: Path | str,
        *,
        timezone: ZoneInfo = UTC,
        default_channel: str | None = None,
    ) -> KnowledgeHolder:
        """Load the seeds, raising `FactBaseError` listing every problem when they do not
        verify."""
        return cls(
            load_knowledge(seeds_dir, timezone=timezone, default_channel=default_channel).require()
        )
