"""The fact base: source documents, topics and curated facts, loaded and verified from `seeds/`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.factbase.model import Citation, Document, Fact, FactBase, SourceKind, Topic, TopicSentence
from bot.factbase.problems import FactBaseError, Problem

if TYPE_CHECKING:
    from bot.factbase.loader import LoadReport, load_factbase

__all__ = [
    "Citation",
    "Document",
    "Fact",
    "FactBase",
    "FactBaseError",
    "LoadReport",
    "Problem",
    "SourceKind",
    "Topic",
    "TopicSentence",
    "load_factbase",
]


def __getattr__(name: str) -> object:
    """The loader's names, imported on first use: the model alone (all a cached snapshot of the
    seeds needs) does not import the loader or PyYAML."""
    if name in ("LoadReport", "load_factbase"):
        from bot.factbase import loader

        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
