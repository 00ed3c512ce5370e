"""The fact base the bot is serving, swappable as a whole when curators change `seeds/`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from bot.factbase import FactBase, load_factbase
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
    """Holds the current `Knowledge`; readers take a snapshot, a reload swaps it whole."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._knowledge = knowledge
        self._lock = threading.Lock()

    @property
    def current(self) -> Knowledge:
        """The fact base now being served."""
        return self._knowledge

    def replace(self, knowledge: Knowledge) -> None:
        """Serve `knowledge` from now on (readers holding the old snapshot finish with it)."""
        with self._lock:
            self._knowledge = knowledge

    @classmethod
    def load(cls, seeds_dir: Path) -> KnowledgeHolder:
        """Load the seeds, raising `FactBaseError` listing every problem when they do not verify."""
        return cls(Knowledge.build(load_factbase(seeds_dir).require()))
