"""The one snapshot of served state: everything derived from `seeds/`, swapped whole on reload.

A `Knowledge` holds the verified fact base, the indexes built on it (resolver, search) and the
reminder schedule from `reminders.yaml`. It is immutable; a reload builds a new one and the
`KnowledgeHolder` swaps one reference, so a request, a brief or a reminder pass that took a
snapshot sees one version of everything from start to end.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.factbase.model import FactBase
from bot.factbase.problems import FactBaseError, Problem
from bot.reminders.model import REMINDERS_FILE, ReminderRule
from bot.reminders.occurrences import ReminderSchedule
from bot.resolve import TopicResolver
from bot.search import FactSearch

if TYPE_CHECKING:
    from bot.cache import SeedCache

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


@dataclass(frozen=True)
class VerifiedSeeds:
    """What verifying `seeds/` gives before any setting applies: the fact base (None when it
    has errors), its reminder rules, and every problem in either.

    A pure function of the seed files (and the code), which is why `bot.cache` may keep it,
    indexes and all.
    """

    factbase: FactBase | None
    problems: tuple[Problem, ...]
    rules: tuple[ReminderRule, ...] = ()
    rule_problems: tuple[Problem, ...] = ()
    resolver: TopicResolver | None = None
    """The fact base's indexes (built only for seeds that can be served)."""
    search: FactSearch | None = None

    @property
    def storable(self) -> bool:
        """Whether these seeds can be served (no errors anywhere), the only ones worth keeping."""
        return self.factbase is not None and not any(
            p.severity == "error" for p in self.rule_problems
        )


def verify_seeds(seeds_dir: Path | str) -> VerifiedSeeds:
    """Load and verify `seeds/`: the fact base, then (when it has no errors) its reminder rules."""
    # The loaders (and PyYAML) are imported here, not at the top: a start from the cache
    # (`bot.cache`) never verifies anything.
    from bot.factbase.loader import load_factbase
    from bot.reminders.rules import load_reminder_rules

    report = load_factbase(seeds_dir)
    if report.factbase is None:
        return VerifiedSeeds(None, tuple(report.problems))
    factbase = report.factbase
    rules, rule_problems = load_reminder_rules(Path(seeds_dir) / REMINDERS_FILE, factbase)
    seeds = VerifiedSeeds(factbase, tuple(report.problems), tuple(rules), tuple(rule_problems))
    if not seeds.storable:
        return seeds
    return dataclasses.replace(seeds, resolver=TopicResolver(factbase), search=FactSearch(factbase))


def load_knowledge(
    seeds_dir: Path | str,
    *,
    timezone: ZoneInfo = UTC,
    default_channel: str | None = None,
    cache: SeedCache | None = None,
) -> LoadResult:
    """Load and verify `seeds/` (or take them from `cache` when it holds the same files): the
    fact base, then its reminder rules; a snapshot only when neither has errors."""
    seeds = cache.verified(seeds_dir, verify_seeds) if cache else verify_seeds(seeds_dir)
    if seeds.factbase is None:
        return LoadResult(None, list(seeds.problems))
    rule_problems = list(seeds.rule_problems)
    problems = [*seeds.problems, *rule_problems]
    if not seeds.storable:
        return LoadResult(None, problems, rule_problems)
    factbase = seeds.factbase
    knowledge = Knowledge(
        factbase,
        seeds.resolver or TopicResolver(factbase),
        seeds.search or FactSearch(factbase),
        ReminderSchedule(seeds.rules, timezone, default_channel),
    )
    return LoadResult(knowledge, problems, rule_problems)


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
