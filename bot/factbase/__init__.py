"""The fact base: source documents, topics and curated facts, loaded and verified from `seeds/`."""

from __future__ import annotations

from bot.factbase.loader import LoadReport, load_factbase
from bot.factbase.model import Citation, Document, Fact, FactBase, SourceKind, Topic, TopicSentence
from bot.factbase.problems import FactBaseError, Problem

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
