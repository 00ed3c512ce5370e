"""Resolving what a user typed to a topic of the fact base.

The order is fixed and each step is stricter than the next: an exact id or alias, an alias named
inside a longer question, a typo-tolerant match on ids and aliases, then the words of the question
found in the facts. Anything else is "not found" with the closest topics as suggestions.
Every threshold is a named constant and every result is deterministic (ties go to the topic id
that sorts first).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum

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
"""How many topics a not-found answer suggests."""

SUGGEST_MAX_WORDS = 4
"""Only this many words of a query are compared one by one with the words of topic names."""

SUGGEST_MIN_SIMILARITY = 60
"""rapidfuzz `fuzz.ratio` (0..100) a query word needs with a name or word of a name to count."""

SUGGEST_WORD_WEIGHT = 0.9
"""Similarity to one word of a longer name counts this much of similarity to a whole name."""

# fmt: off
STOPWORDS = frozenset((
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "been", "before", "being", "below", "between", "both", "brief", "briefing", "but",
    "by", "can", "could", "current", "currently", "did", "do", "does", "doing", "done", "down",
    "during", "each", "few", "for", "from", "further", "get", "give", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is",
    "it", "its", "itself", "just", "know", "latest", "let", "like", "me", "more", "most", "my",
    "new", "news", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other",
    "our", "ours", "out", "over", "own", "please", "same", "she", "should", "show", "so", "some",
    "status", "such", "summary", "tell", "than", "that", "the", "their", "theirs", "them", "then",
    "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
    "update", "us", "very", "was", "we", "were", "what", "whats", "when", "where", "which",
    "while", "who", "whom", "why", "will", "with", "would", "you", "your",
))
# fmt: on
"""Words too common to find a topic by (apostrophes split words: "what's" is "what", "s")."""


class Method(StrEnum):
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
        self._topic_ids = sorted(factbase.topics)
        # Every id and alias, normalised; names are in topic-id order, so ties go to the first.
        self._names: dict[str, str] = {}
        for topic_id in self._topic_ids:
            topic = factbase.topics[topic_id]
            for name in (topic.id, *topic.aliases):
                key = normalize_key(name)
                if key:
                    self._names.setdefault(key, topic.id)
        self._name_keys = list(self._names)
        self._names_by_length = _LengthIndex(self._name_keys)
        self._most_name_words = max((k.count(" ") + 1 for k in self._name_keys), default=0)
        # A window of several words of a query is only looked up if a name starts with its word.
        self._first_words = frozenset(k.split(" ", 1)[0] for k in self._name_keys if " " in k)
        self._suggestion_names = _suggestion_names(self._names)
        self._suggestion_keys = _LengthIndex(list(self._suggestion_names))
        self._postings = _word_postings(factbase)

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
        matches = self._word_matches(key)
        searched = matches.best()
        if searched is not None:
            return Resolution(query, searched[0], Method.SEARCH, searched[1])
        return Resolution(query, None, None, 0.0, self._suggest(key, matches))

    def suggest(self, key: str) -> tuple[str, ...]:
        """The closest topics to a normalised query, best first, for a not-found answer."""
        return self._suggest(key, self._word_matches(key))

    def _alias_inside(self, key: str) -> str | None:
        """The topic of the longest alias that appears as whole words in the query."""
        tokens = key.split(" ")
        for size in range(min(MAX_ALIAS_WORDS, self._most_name_words, len(tokens)), 0, -1):
            for start in range(len(tokens) - size + 1):
                if size > 1 and tokens[start] not in self._first_words:
                    continue
                topic_id = self._names.get(" ".join(tokens[start : start + size]))
                if topic_id is not None and not (size == 1 and tokens[start] in STOPWORDS):
                    return topic_id
        return None

    def _fuzzy(self, key: str) -> tuple[str, float] | None:
        """The best id or alias within `FUZZY_MIN_SIMILARITY` of the whole query, if any.

        Damerau-Levenshtein is slow to compute, so names are first narrowed to those it could
        accept: their length is within the similarity of the query's, and, since a
        transposition costs Levenshtein two edits, their Levenshtein similarity is at least
        2 * FUZZY_MIN_SIMILARITY - 1. The narrowing keeps the names' order, so ties go to the
        same name as without it.
        """
        if len(key) < FUZZY_MIN_LENGTH:
            return None
        # RapidFuzz is imported when first needed: most queries are an exact id or alias.
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

        names, positions = self._names_by_length.window(len(key), FUZZY_MIN_SIMILARITY)
        candidates = process.extract(
            key,
            names,
            scorer=Levenshtein.normalized_similarity,
            score_cutoff=max(2 * FUZZY_MIN_SIMILARITY - 1 - 1e-9, 0.0),
            limit=None,
        )
        if not candidates:
            return None
        best = process.extractOne(
            key,
            [name for name, _score, i in sorted(candidates, key=lambda c: positions[c[2]])],
            scorer=DamerauLevenshtein.normalized_similarity,
            score_cutoff=FUZZY_MIN_SIMILARITY,
        )
        if best is None:
            return None
        name, score, _index = best
        return self._names[name], float(score)

    def _word_matches(self, key: str) -> _WordMatches:
        content = [
            w
            for w in dict.fromkeys(key.split(" "))
            if w not in STOPWORDS and len(w) >= SEARCH_MIN_WORD_LENGTH
        ]
        postings = [self._postings[w] for w in content if w in self._postings]
        return _WordMatches(len(content), postings)

    def _suggest(self, key: str, matches: _WordMatches) -> tuple[str, ...]:
        """Topics whose names look most like a word of the query, then those whose facts share
        most words with it, then the first by id; `SUGGESTION_COUNT` in all.

        Only the first `SUGGEST_MAX_WORDS` words are compared, so a long query costs no more
        than a short one.
        """
        from rapidfuzz import fuzz, process

        probes = [w for w in dict.fromkeys(key.split(" ")) if w not in STOPWORDS]
        similar: dict[str, float] = {}
        for probe in probes[:SUGGEST_MAX_WORDS]:
            # fuzz.ratio is 200 * matches / (len(a) + len(b)): only names of a length within
            # this ratio of the probe's can reach the minimum.
            ratio = SUGGEST_MIN_SIMILARITY / (200 - SUGGEST_MIN_SIMILARITY)
            names, _positions = self._suggestion_keys.window(len(probe), ratio)
            for name, score, _i in process.extract(
                probe,
                names,
                scorer=fuzz.ratio,
                score_cutoff=SUGGEST_MIN_SIMILARITY,
                limit=SUGGESTION_COUNT * 2,
            ):
                for topic_id, weight in self._suggestion_names[name]:
                    similar[topic_id] = max(similar.get(topic_id, 0.0), score * weight)
        ranked = sorted(similar, key=lambda t: (-similar[t], *matches.rank_key(t)))
        if len(ranked) < SUGGESTION_COUNT:
            ranked += [
                t for t in matches.ranked(SUGGESTION_COUNT + len(ranked)) if t not in similar
            ]
        ranked += [t for t in self._topic_ids[:SUGGESTION_COUNT] if t not in ranked]
        return tuple(ranked[:SUGGESTION_COUNT])


class _WordMatches:
    """How many of a query's content words each topic's facts contain, and how rare they are."""

    def __init__(self, content_words: int, postings: list[dict[str, float]]) -> None:
        self.content_words = content_words
        self.postings = postings
        self.matched: Counter[str] = Counter()
        for posting in postings:
            self.matched.update(posting.keys())

    def score(self, topic_id: str) -> float:
        """Rare words count more, and words in more of the topic's facts a little more."""
        return sum(p.get(topic_id, 0.0) for p in self.postings)

    def rank_key(self, topic_id: str) -> tuple[int, float, str]:
        """Most words matched first, then the highest score, then the topic id."""
        return (-self.matched[topic_id], -self.score(topic_id), topic_id)

    def best(self) -> tuple[str, float] | None:
        """The topic matching most words, with its coverage, if the coverage is enough."""
        if not self.matched:
            return None
        most = max(self.matched.values())
        coverage = most / self.content_words
        if coverage < SEARCH_MIN_COVERAGE:
            return None
        tied = [t for t, count in self.matched.items() if count == most]
        return min(tied, key=self.rank_key), round(coverage, 3)

    def ranked(self, count: int) -> list[str]:
        """The `count` best topics by `rank_key`, scoring only the ones that can be among them."""
        groups: dict[int, list[str]] = defaultdict(list)
        for topic_id, matched in self.matched.items():
            groups[matched].append(topic_id)
        out: list[str] = []
        for matched in sorted(groups, reverse=True):
            out += sorted(groups[matched], key=self.rank_key)
            if len(out) >= count:
                break
        return out[:count]


class _LengthIndex:
    """Strings sorted by length, to take those whose length is within a ratio of another's."""

    def __init__(self, keys: list[str]) -> None:
        order = sorted(range(len(keys)), key=lambda i: (len(keys[i]), i))
        self.keys = [keys[i] for i in order]
        self.positions = order  # where each of `keys` was in the list given
        self._lengths = [len(keys[i]) for i in order]

    def window(self, length: int, ratio: float) -> tuple[list[str], list[int]]:
        """The keys whose length L has min(L, length) / max(L, length) >= ratio, shortest
        first, and the positions they had in the list given."""
        low = bisect.bisect_left(self._lengths, math.ceil(length * ratio - 1e-9))
        high = bisect.bisect_right(self._lengths, math.floor(length / ratio + 1e-9))
        return self.keys[low:high], self.positions[low:high]


def _suggestion_names(names: dict[str, str]) -> dict[str, list[tuple[str, float]]]:
    """Each name and each word of a name, with the topics it names and how much it counts.

    A word of a longer name counts `SUGGEST_WORD_WEIGHT` of a whole name, so "natto" suggests
    the topic named "nato" before one also called "nato ip4".
    """
    weights: dict[str, dict[str, float]] = defaultdict(dict)
    for name, topic_id in names.items():
        for word in name.split(" "):
            if word not in STOPWORDS:
                current = weights[word].get(topic_id, 0.0)
                weights[word][topic_id] = max(current, SUGGEST_WORD_WEIGHT)
    for name, topic_id in names.items():
        weights[name][topic_id] = 1.0
    return {word: sorted(topics.items()) for word, topics in weights.items()}


def _word_postings(factbase: FactBase) -> dict[str, dict[str, float]]:
    """For each word of the facts (statements and quotes) and of topic titles and aliases, the
    topics it occurs in, weighted: idf * (1 + log(number of the topic's facts with the word)).

    Time and memory grow linearly with the facts: each topic's words are counted in C
    (`Counter.update`), no (word, topic) pair object is ever made, each topic's counts are
    dropped as they are folded into the postings, and equal weights share one float.
    """
    per_topic: dict[str, Counter[str]] = defaultdict(Counter)  # topic -> word -> facts
    for fact in factbase.facts.values():
        text = " ".join([fact.statement, *(c.quote for c in fact.citations)])
        fact_words = set(words(text))
        for topic_id in fact.topics:
            per_topic[topic_id].update(fact_words)
    for topic in factbase.topics.values():
        per_topic[topic.id].update(set(words(f"{topic.title} {' '.join(topic.aliases)}")))
    topics_with: Counter[str] = Counter()  # word -> topics
    for counted in per_topic.values():
        topics_with.update(counted.keys())
    topic_count = max(len(factbase.topics), 1)
    weights: dict[int, dict[int, float]] = defaultdict(dict)  # topics -> facts -> weight
    postings: dict[str, dict[str, float]] = defaultdict(dict)
    for topic_id in list(per_topic):
        for word, n in per_topic.pop(topic_id).items():
            df = topics_with[word]
            weight = weights[df].get(n)
            if weight is None:
                idf = math.log(1 + topic_count / df)
                weight = weights[df][n] = idf * (1 + math.log(n))
            postings[word][topic_id] = weight
    return dict(postings)
