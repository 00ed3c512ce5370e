"""Resolving what a user typed to a topic of the fact base.

The order is fixed and each step is stricter than the next: an exact id or alias, an alias named
inside a longer question, a typo-tolerant match on ids and aliases, then the words of the question
found in the facts. Anything else is "not found" with the closest topics as suggestions.
Every threshold is a named constant and every result is deterministic (ties go to the topic id
that sorts first).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from enum import Enum

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from bot.factbase.model import FactBase
from bot.text import normalize_key, words

MAX_QUERY_CHARS = 500
"""Only this much of a query is looked at; longer input is resolved on its start."""

MAX_ALIAS_WORDS = 6
"""Longest alias, in words, looked for inside a longer question."""

FUZZY_MIN_SIMILARITY = 0.75
"""Damerau-Levenshtein similarity (0..1) a whole query needs to match an id or alias by typo:
"natoo" -> "nato" is 0.80, "sth korea" -> "south korea" 0.82, "rok" -> "roc" 0.67 (no match)."""

FUZZY_MIN_LENGTH = 3
"""Queries shorter than this (after normalising) are never matched by typo."""

SEARCH_MIN_COVERAGE = 0.5
"""Share of a question's content words a topic's facts must contain to be its answer."""

SEARCH_MIN_WORD_LENGTH = 3
"""Words shorter than this are not searched for (they match too much)."""

SUGGESTION_COUNT = 3

STOPWORDS = frozenset(
    ["a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being", "below", "between", "both", "brief", "briefing", "but", "by", "can", "could", "current", "currently", "did", "do", "does", "doing", "done", "down", "during", "each", "few", "for", "from", "further", "get", "give", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "know", "latest", "let", "like", "me", "more", "most", "my", "new", "news", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "please", "same", "she", "should", "show", "so", "some", "status", "such", "summary", "tell", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "update", "us", "very", "was", "we", "were", "what", "whats", "what's", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your"]
)


class Method(str, Enum):
    """How a query was resolved, weakest last."""

    ALIAS = "alias"
    FUZZY = "fuzzy"
    SEARCH = "search"


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving a query: a topic and how it was found, or suggestions."""

    query: str
    topic_id: str | None
    method: Method | None
    score: float
    suggestions: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        """Whether a topic was found."""
        return self.topic_id is not None

    @property
    def empty(self) -> bool:
        """Whether the query had nothing to resolve (no letters or digits)."""
        return not normalize_key(self.query[:MAX_QUERY_CHARS])


class TopicResolver:
    """Resolves free text to topics of one fact base; build once per fact base, then reuse."""

    def __init__(self, factbase: FactBase) -> None:
        self._names: dict[str, str] = {}
        for topic_id in sorted(factbase.topics):
            topic = factbase.topics[topic_id]
            for name in (topic.id, *topic.aliases):
                self._names.setdefault(normalize_key(name), topic.id)
        self._name_keys = list(self._names)
        self._titles = {t.id: normalize_key(f"{t.title} {' '.join(t.aliases)}")
                        for t in factbase.topics.values()}
        self._topic_ids = sorted(factbase.topics)
        index: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for fact in factbase.facts.values():
            text = " ".join([fact.statement, *(c.quote for c in fact.citations)])
            for word in set(words(text)):
                for topic_id in fact.topics:
                    index[word][topic_id] += 1
        for topic in factbase.topics.values():
            for word in set(words(f"{topic.title} {' '.join(topic.aliases)}")):
                index[word][topic.id] += 1
        topic_count = max(len(factbase.topics), 1)
        self._index = {w: dict(t) for w, t in index.items()}
        self._idf = {w: math.log(1 + topic_count / len(t)) for w, t in self._index.items()}

    def resolve(self, query: str) -> Resolution:
        """Resolve `query` to a topic; never raises, whatever the input."""
        key = normalize_key(query[:MAX_QUERY_CHARS])
        if not key:
            return Resolution(query, None, None, 0.0, ())
        topic_id = self._names.get(key)
        if topic_id is not None:
            return Resolution(query, topic_id, Method.ALIAS, 1.0)
        contained = self._alias_inside(key)
        if contained is not None:
            return Resolution(query, contained, Method.ALIAS, 1.0)
        fuzzy = self._fuzzy(key)
        if fuzzy is not None:
            return Resolution(query, fuzzy[0], Method.FUZZY, fuzzy[1])
        searched = self._search(key)
        if searched is not None:
            return Resolution(query, searched[0], Method.SEARCH, searched[1])
        return Resolution(query, None, None, 0.0, self.suggest(key))

    def _alias_inside(self, key: str) -> str | None:
        """The topic of the longest alias that appears as whole words in the query."""
        tokens = key.split(" ")
        for size in range(min(MAX_ALIAS_WORDS, len(tokens)), 0, -1):
            for start in range(len(tokens) - size + 1):
                topic_id = self._names.get(" ".join(tokens[start : start + size]))
                if topic_id is not None and not (size == 1 and tokens[start] in STOPWORDS):
                    return topic_id
        return None

    def _fuzzy(self, key: str) -> tuple[str, float] | None:
        if len(key) < FUZZY_MIN_LENGTH:
            return None
        best = process.extractOne(
            key,
            self._name_keys,
            scorer=DamerauLevenshtein.normalized_similarity,
            score_cutoff=FUZZY_MIN_SIMILARITY,
        )
        if best is None:
            return None
        name, score, _index = best
        return self._names[name], float(score)

    def _search(self, key: str) -> tuple[str, float] | None:
        content = [w for w in dict.fromkeys(key.split(" "))
                   if w not in STOPWORDS and len(w) >= SEARCH_MIN_WORD_LENGTH]
        if not content:
            return None
        scores: dict[str, float] = defaultdict(float)
        matched: dict[str, int] = defaultdict(int)
        for word in content:
            for topic_id, count in self._index.get(word, {}).items():
                scores[topic_id] += self._idf[word] * (1 + math.log(count))
                matched[topic_id] += 1
        if not scores:
            return None
        best = min(scores, key=lambda t: (-matched[t], -scores[t], t))
        coverage = matched[best] / len(content)
        if coverage < SEARCH_MIN_COVERAGE:
            return None
        return best, round(coverage, 3)

    def suggest(self, key: str) -> tuple[str, ...]:
        """The closest topics to a normalised query, best first, for a not-found answer."""
        best: dict[str, float] = {}
        for name, score, _index in process.extract(
            key, self._name_keys, scorer=fuzz.WRatio, limit=SUGGESTION_COUNT * 8
        ):
            topic_id = self._names[name]
            best[topic_id] = max(best.get(topic_id, 0.0), float(score))
        if len(best) < SUGGESTION_COUNT:
            for _title, score, topic_id in process.extract(
                key, self._titles, scorer=fuzz.WRatio, limit=SUGGESTION_COUNT
            ):
                best.setdefault(topic_id, float(score) / 2)
        for topic_id in self._topic_ids[:SUGGESTION_COUNT]:
            best.setdefault(topic_id, 0.0)
        ranked = sorted(best, key=lambda t: (-best[t], t))
        return tuple(ranked[:SUGGESTION_COUNT])
