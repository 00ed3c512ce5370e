"""The fact base the bot is serving, swappable as a whole when curators change `seeds/`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from bot.factbase import FactBase, LoadReport, load_factbase
from bot.resolve import TopicResolver
from bot.search import FactSearch


@dataclass(frozen=True)
class Knowledge:
    """A verified fact base with the indexes built on it; replaced whole, never mutated."""

    factbase: FactBase
    resolver: TopicResolver
    search: FactSearch

    @classmethod
    def build(cls, factbase: FactBase) -> Knowledge:
        """Build the indexes for a fact base."""
        return cls(factbase, TopicResolver(factbase), FactSearch(factbase))


class KnowledgeHolder:
    """Holds the current `Knowledge`; readers take a snapshot, a reload swaps it atomically."""

    def __init__(self, knowledge: Knowledge, seeds_dir: Path | None = None) -> None:
        self._knowledge = knowledge
        self._lock = threading.Lock()
        self.seeds_dir = seeds_dir
        self.last_report: LoadReport | None = None

    @property
    def current(self) -> Knowledge:
        """The fact base now being served."""
        return self._knowledge

    def reload(self) -> LoadReport:
        """Load `seeds_dir` again; swap it in only if it verifies, else keep the last good one."""
        if self.seeds_dir is None:
            raise RuntimeError("no seeds directory to reload from")
        with self._lock:
            report = load_factbase(self.seeds_dir)
            self.last_report = report
            if report.factbase is not None:
                self._knowledge = Knowledge.build(report.factbase)
            return report

    @classmethod
    def load(cls, seeds_dir: Path) -> KnowledgeHolder:
        """Load the seeds, raising `FactBaseError` listing every problem when they do not verify."""
        report = load_factbase(seeds_dir)
        holder = cls(Knowledge.build(report.require()), seeds_dir)
        holder.last_report = report
        return holder
