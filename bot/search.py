"""Finding facts across topics by the words of a question (`briefbot search`, `/brief search`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.factbase.model import Fact, FactBase
from bot.resolve import MAX_QUERY_CHARS, SEARCH_MIN_COVERAGE, SEARCH_MIN_WORD_LENGTH, STOPWORDS
from bot.text import normalize_key, words

MAX_SEARCH_HITS = 20


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A fact that matched a search and the share of the search words it contains."""

    fact: Fact
    coverage: float


class FactSearch:
    """An inverted index of the words in facts' statements and quotes."""

    def __init__(self, factbase: FactBase) -> None:
        self._facts = factbase.facts
        index: dict[str, list[str]] = defaultdict(list)
        for fact in factbase.facts.values():
            text = " ".join([fact.statement, *(c.quote for c in fact.citations)])
            for word in set(words(text)):
                index[word].append(fact.id)
        self._index = dict(index)

    def search(self, query: str, *, limit: int = MAX_SEARCH_HITS) -> list[SearchHit]:
        """Facts containing at least half of the query's content words, best first."""
        content = [
            w
            for w in dict.fromkeys(normalize_key(query[:MAX_QUERY_CHARS]).split(" "))
            if w and w not in STOPWORDS and len(w) >= SEARCH_MIN_WORD_LENGTH
        ]
        if not content:
            return []
        matched: dict[str, int] = defaultdict(int)
        for word in content:
            for fact_id in self._index.get(word, ()):
                matched[fact_id] += 1
        hits = [
            SearchHit(self._facts[fact_id], count / len(content))
            for fact_id, count in matched.items()
            if count / len(content) >= SEARCH_MIN_COVERAGE
        ]
        hits.sort(key=lambda h: (-h.coverage, -h.fact.importance, h.fact.id))
        return hits[:limit]
