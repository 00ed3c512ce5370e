"""Resolving what a user typed to a topic: each step, each threshold at its edge, any input."""

from __future__ import annotations

import datetime as dt
import gc
import math
import random
import tracemalloc
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.factbase import FactBase, load_factbase
from bot.factbase.model import Citation, Fact, Topic
from bot.resolve import (
    FUZZY_MIN_LENGTH,
    FUZZY_MIN_SIMILARITY,
    MAX_QUERY_CHARS,
    SEARCH_MIN_COVERAGE,
    SEARCH_MIN_WORD_LENGTH,
    SUGGESTION_COUNT,
    Method,
    TopicResolver,
    _word_postings,
)
from bot.text import words
from tests.seedkit import fact_yaml, make_seeds

# --- on the bundled fact base -----------------------------------------------------------------


@pytest.fixture(scope="module")
def resolver(factbase: FactBase) -> TopicResolver:
    return TopicResolver(factbase)


@pytest.mark.parametrize(
    ("query", "topic_id"),
    [
        ("nato", "nato"),
        ("NATO", "nato"),
        ("  Nato. ", "nato"),
        ("NZ-ROK", "rok"),
        ("nz rok", "rok"),
        (" Republic of Korea! ", "rok"),
        ("REPUBLIC   OF\tKOREA", "rok"),
        ("pacific-security", "pacific-security"),
        ("Pacific Security", "pacific-security"),
    ],
)
def test_exact_id_or_alias_ignores_case_punctuation_and_spacing(
    resolver: TopicResolver, query: str, topic_id: str
) -> None:
    result = resolver.resolve(query)
    assert (result.topic_id, result.method, result.score) == (topic_id, Method.ALIAS, 1.0)


@pytest.mark.parametrize(
    ("query", "topic_id"),
    [
        ("what's the latest on the ITPP?", "nato"),
        ("what do we know about the ITPP?", "nato"),
        ("@briefbot anything new from Seoul today", "rok"),
        ("tell me about the vilnius summit please", "nato"),
    ],
)
def test_alias_inside_a_question(resolver: TopicResolver, query: str, topic_id: str) -> None:
    result = resolver.resolve(query)
    assert (result.topic_id, result.method) == (topic_id, Method.ALIAS)


def test_longest_alias_inside_a_question_wins(resolver: TopicResolver) -> None:
    # "nato" alone names nato; "nato summit" is a longer alias of the same topic, and
    # "korea" in the same question is shorter than "republic of korea".
    assert resolver.resolve("republic of korea and nato").topic_id == "rok"


def test_a_stopword_alone_inside_a_question_names_nothing(resolver: TopicResolver) -> None:
    assert resolver.resolve("what about it").topic_id is None


def test_typo_matches_by_fuzzy_similarity(resolver: TopicResolver) -> None:
    natoo = resolver.resolve("natoo")
    assert (natoo.topic_id, natoo.method) == ("nato", Method.FUZZY)
    assert natoo.score == pytest.approx(0.8)  # one edit in five letters
    koria = resolver.resolve("south koria")
    assert (koria.topic_id, koria.method) == ("rok", Method.FUZZY)
    transposed = resolver.resolve("ntao")  # a transposition is one edit (Damerau)
    assert (transposed.topic_id, transposed.method) == ("nato", Method.FUZZY)


def test_sth_korea_finds_the_republic_of_korea(resolver: TopicResolver) -> None:
    assert resolver.resolve("sth korea").topic_id == "rok"


def test_words_of_a_question_find_the_topic_whose_facts_hold_them(
    resolver: TopicResolver,
) -> None:
    assert resolver.resolve("pacific security fund").topic_id == "pacific-security"


def test_not_found_gives_exactly_three_suggestions_deterministically(
    resolver: TopicResolver, factbase: FactBase
) -> None:
    first = resolver.resolve("nonsense qqq")
    assert first.topic_id is None and first.method is None and first.found is False
    assert len(first.suggestions) == SUGGESTION_COUNT == 3
    assert len(set(first.suggestions)) == 3
    assert set(first.suggestions) <= set(factbase.topics)
    assert resolver.resolve("nonsense qqq") == first
    assert TopicResolver(factbase).resolve("nonsense qqq") == first


def test_suggestions_favour_topics_whose_names_look_like_the_query(
    resolver: TopicResolver,
) -> None:
    assert resolver.resolve("tell me about natto things").suggestions[0] == "nato"
    assert resolver.resolve("pasifik").suggestions[0] == "pacific-security"


@pytest.mark.parametrize("query", ["", "   ", "?!", "\n\t", "— … —", "<>"])
def test_empty_query_resolves_to_nothing_and_says_it_was_empty(
    resolver: TopicResolver, query: str
) -> None:
    result = resolver.resolve(query)
    assert result.empty and not result.found
    assert result.suggestions == ()


def test_only_the_start_of_a_very_long_query_is_read(resolver: TopicResolver) -> None:
    filler = "zq " * (MAX_QUERY_CHARS // 3 + 1)
    assert len(filler) > MAX_QUERY_CHARS
    assert resolver.resolve(filler + "nato").topic_id is None
    assert resolver.resolve("nato " + filler).topic_id == "nato"


unicode_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # any code point but surrogates
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(unicode_text)
def test_any_text_resolves_without_error_and_deterministically(
    resolver: TopicResolver, text: str
) -> None:
    first = resolver.resolve(text)
    assert resolver.resolve(text) == first
    if first.found:
        assert first.method is not None and first.suggestions == ()
    elif not first.empty:
        assert len(first.suggestions) == SUGGESTION_COUNT


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0), st.sampled_from(["", "nato ", "what about "]))
def test_ten_thousand_characters_of_random_unicode_resolve(
    resolver: TopicResolver, seed: int, prefix: str
) -> None:
    rng = random.Random(seed)
    code_points = [
        rng.choice(
            [
                rng.randrange(0, 0x20),  # control characters too
                rng.randrange(0x20, 0xD800),
                rng.randrange(0xE000, 0x110000),
            ]
        )
        for _ in range(10_000)
    ]
    text = prefix + "".join(map(chr, code_points))
    first = resolver.resolve(text)
    assert resolver.resolve(text) == first
    if prefix == "nato ":
        assert first.topic_id == "nato"


# --- thresholds at their edges, on fact bases made for them ------------------------------------

NONSENSE = ["zzqx", "wwqv", "jjxq", "qqvz", "xxjw", "vvqj"]  # in no name, fact or quote


def _topics(names: dict[str, list[str]], summary_fact: str) -> str:
    out = []
    for topic_id, aliases in names.items():
        out.append(
            f"- id: {topic_id}\n  title: Topic {topic_id}\n  aliases: {aliases}\n  summary:\n"
            f"    - text: One.\n      facts: [{summary_fact}]\n"
            f"    - text: Two.\n      facts: [{summary_fact}]\n"
        )
    return "".join(out)


def _resolver(tmp_path: Path, names: dict[str, list[str]], facts: str) -> TopicResolver:
    seeds = make_seeds(tmp_path, topics=_topics(names, "f1"), facts=facts)
    return TopicResolver(load_factbase(seeds).require())


def _fuzzy_edge_lengths() -> tuple[int, int]:
    """The shortest name length at which one edit still reaches FUZZY_MIN_SIMILARITY, and that
    length minus one, at which it no longer does."""
    at = math.ceil(1 / (1 - FUZZY_MIN_SIMILARITY) - 1e-9)
    assert 1 - 1 / at >= FUZZY_MIN_SIMILARITY > 1 - 1 / (at - 1)
    assert at - 1 >= FUZZY_MIN_LENGTH
    return at, at - 1


def test_fuzzy_match_exactly_at_the_threshold_resolves_and_just_below_does_not(
    tmp_path: Path,
) -> None:
    at, below = _fuzzy_edge_lengths()
    long_name, short_name = "qzvxkjwq"[:at], "wjkxqvzq"[:below]
    resolver = _resolver(
        tmp_path,
        {"alpha": [long_name], "beta": [short_name]},
        fact_yaml("f1", topics="[alpha, beta]"),
    )
    at_edge = resolver.resolve(long_name[:-1] + "y")  # one substitution
    assert (at_edge.topic_id, at_edge.method) == ("alpha", Method.FUZZY)
    assert at_edge.score == pytest.approx(1 - 1 / at)
    if FUZZY_MIN_SIMILARITY == 0.75:
        assert at_edge.score == FUZZY_MIN_SIMILARITY  # exactly at it, not merely above
    just_below = resolver.resolve(short_name[:-1] + "y")
    assert just_below.topic_id is None


def test_fuzzy_match_ties_go_to_the_topic_id_that_sorts_first(tmp_path: Path) -> None:
    resolver = _resolver(
        tmp_path, {"beta": ["qzvxab"], "alpha": ["qzvxba"]}, fact_yaml("f1", topics="[alpha, beta]")
    )
    result = resolver.resolve("qzvxaa")  # one substitution from each
    assert (result.topic_id, result.method) == ("alpha", Method.FUZZY)


def test_word_search_exactly_at_the_coverage_threshold_resolves_and_below_does_not(
    tmp_path: Path,
) -> None:
    share = Fraction(SEARCH_MIN_COVERAGE).limit_denominator(len(NONSENSE) - 1)
    assert share == SEARCH_MIN_COVERAGE
    found, unknown = share.numerator, share.denominator - share.numerator
    facts = fact_yaml("f1", topics="[alpha]") + fact_yaml(
        "f2",
        topics="[beta]",
        statement="Fisheries patrols and cyber security were covered.",
        quote="covers fisheries patrols and cyber security",
    )
    resolver = _resolver(tmp_path, {"alpha": ["first"], "beta": ["second"]}, facts)
    known_words = ["fisheries", "patrols", "cyber", "security"][:found]
    at_edge = resolver.resolve(" ".join(known_words + NONSENSE[:unknown]))
    assert (at_edge.topic_id, at_edge.method) == ("beta", Method.SEARCH)
    assert at_edge.score == pytest.approx(SEARCH_MIN_COVERAGE)
    below = resolver.resolve(" ".join(known_words + NONSENSE[: unknown + 1]))
    assert below.topic_id is None and len(below.suggestions) == 2  # all there are


def test_short_words_and_stopwords_are_not_searched(tmp_path: Path) -> None:
    facts = fact_yaml(
        "f1", topics="[alpha]", statement="An EU and US plan.", quote="Ministers met in Wellington"
    )
    resolver = _resolver(tmp_path, {"alpha": ["first"]}, facts)
    assert len("eu") < SEARCH_MIN_WORD_LENGTH
    assert resolver.resolve("eu").topic_id is None
    assert resolver.resolve("what about the plan").topic_id == "alpha"
    assert resolver.resolve("what about the").topic_id is None


def test_search_prefers_the_topic_matching_more_words(tmp_path: Path) -> None:
    facts = fact_yaml(
        "f1",
        topics="[alpha]",
        statement="Fisheries were discussed.",
        quote="covers fisheries patrols",
    ) + fact_yaml(
        "f2",
        topics="[beta]",
        statement="Fisheries and cyber security were covered.",
        quote="covers fisheries patrols and cyber security",
    )
    resolver = _resolver(tmp_path, {"alpha": ["first"], "beta": ["second"]}, facts)
    assert resolver.resolve("fisheries cyber").topic_id == "beta"
    # One word each way: the tie goes by the score, then the id that sorts first.
    assert resolver.resolve("fisheries").topic_id == "alpha"


def test_suggestions_are_padded_with_the_first_topics_when_nothing_is_close(
    tmp_path: Path,
) -> None:
    names = {"delta": ["fourth"], "alpha": ["first"], "gamma": ["third"], "beta": ["second"]}
    resolver = _resolver(tmp_path, names, fact_yaml("f1", topics="[alpha, beta, gamma, delta]"))
    assert resolver.resolve("qqqq xxxx").suggestions == ("alpha", "beta", "delta")
    close = resolver.resolve("thirdx zzqx")
    assert close.topic_id is None and close.suggestions[0] == "gamma"


# --- building the resolver for a large fact base ------------------------------------------------


def _synthetic_factbase(facts: int, topics: int, seed: int) -> FactBase:
    """Facts of 6-20 words from a 2,000-word vocabulary, a third of them on two topics."""
    rng = random.Random(seed)
    vocabulary = [f"w{n}x{rng.randrange(10**6)}" for n in range(2000)]
    topic_map = {
        f"t{n:03d}": Topic(f"t{n:03d}", f"Topic {vocabulary[n]}", (f"alias {n}",), ())
        for n in range(topics)
    }
    ids = list(topic_map)
    fact_map = {}
    for n in range(facts):
        on = {ids[n % topics], rng.choice(ids) if rng.random() < 0.3 else ids[n % topics]}
        text = " ".join(rng.choices(vocabulary, k=rng.randint(6, 20)))
        fact_map[f"f{n}"] = Fact(
            f"f{n}", tuple(sorted(on)), f"Reportedly {text}.", None, (Citation("d", text),)
        )
    return FactBase({}, topic_map, fact_map, "test", dt.datetime(2026, 11, 23, tzinfo=dt.UTC))


def test_word_weights_are_idf_times_one_plus_log_of_the_facts_holding_the_word() -> None:
    factbase = _synthetic_factbase(2000, 40, seed=3)
    facts_with: dict[tuple[str, str], int] = {}
    for fact in factbase.facts.values():
        text = " ".join([fact.statement, *(c.quote for c in fact.citations)])
        for word in set(words(text)):
            for topic_id in fact.topics:
                facts_with[word, topic_id] = facts_with.get((word, topic_id), 0) + 1
    for topic in factbase.topics.values():
        for word in set(words(f"{topic.title} {' '.join(topic.aliases)}")):
            facts_with[word, topic.id] = facts_with.get((word, topic.id), 0) + 1
    expected: dict[str, dict[str, float]] = {}
    for (word, topic_id), n in facts_with.items():
        expected.setdefault(word, {})[topic_id] = n
    for word, topics in expected.items():
        idf = math.log(1 + len(factbase.topics) / len(topics))
        expected[word] = {t: idf * (1 + math.log(n)) for t, n in topics.items()}

    assert _word_postings(factbase) == expected


def test_building_the_resolver_allocates_little_more_than_it_keeps() -> None:
    """Peak allocations while building, per fact: the build once held every (word, topic) pair
    as a tuple in a Counter beside two copies of the counts, about 1.8 KB a fact here."""
    factbase = _synthetic_factbase(10_000, 50, seed=5)
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        resolver = TopicResolver(factbase)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resolver.resolve(factbase.topics["t007"].aliases[0]).topic_id == "t007"
    assert (peak - before) / len(factbase.facts) < 1000
