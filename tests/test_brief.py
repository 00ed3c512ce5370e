"""Composing a brief: which facts, in what order, cited how, and how old it is."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from pathlib import Path

import pytest

from bot.brief import DEFAULT_KEY_FACTS, DEFAULT_STALE_DAYS, Brief, compose_brief, rank_facts
from bot.dates import PartialDate, parse_partial_date
from bot.factbase import FactBase, SourceKind, load_factbase
from tests.seedkit import DOC, fact_yaml, make_seeds, topics_yaml

TODAY = dt.date(2026, 11, 23)


def brief_on(factbase: FactBase, topic_id: str, **kwargs: object) -> Brief:
    options: dict[str, object] = {"query": topic_id, "resolved_by": "alias", "today": TODAY}
    options.update(kwargs)
    return compose_brief(factbase, topic_id, **options)  # type: ignore[arg-type]


def topics_with_more_than_key_facts(factbase: FactBase) -> list[str]:
    return sorted(t for t in factbase.topics if len(factbase.facts_for(t)) > DEFAULT_KEY_FACTS)


def test_real_seeds_have_topics_longer_than_a_short_brief(factbase: FactBase) -> None:
    assert {"nato", "rok"} <= set(topics_with_more_than_key_facts(factbase))


@pytest.mark.parametrize("topic_id", ["nato", "rok", "pacific-security"])
def test_short_brief_has_eight_key_facts_and_counts_the_rest(
    factbase: FactBase, topic_id: str
) -> None:
    brief = brief_on(factbase, topic_id)
    total = len(factbase.facts_for(topic_id))
    assert DEFAULT_KEY_FACTS == 8
    assert len(brief.facts) == 8
    assert brief.total_facts == total
    assert brief.omitted == total - 8
    assert not brief.full


@pytest.mark.parametrize("topic_id", ["nato", "rok"])
def test_full_brief_has_every_fact_of_the_topic(factbase: FactBase, topic_id: str) -> None:
    brief = brief_on(factbase, topic_id, full=True)
    assert {f.id for f in brief.facts} == {f.id for f in factbase.facts_for(topic_id)}
    assert brief.omitted == 0 and brief.full


def test_key_facts_are_the_first_of_the_full_ranking(factbase: FactBase) -> None:
    short, full = brief_on(factbase, "rok"), brief_on(factbase, "rok", full=True)
    assert [f.id for f in short.facts] == [f.id for f in full.facts][:DEFAULT_KEY_FACTS]


def test_max_facts_cuts_further_and_the_rest_is_counted(factbase: FactBase) -> None:
    brief = brief_on(factbase, "nato", full=True, max_facts=3)
    assert len(brief.facts) == 3
    assert brief.omitted == len(factbase.facts_for("nato")) - 3
    assert brief_on(factbase, "nato", max_facts=-1).facts == ()


def _recency(factbase: FactBase, fact_id: str) -> tuple[int, int, int, int]:
    date = factbase.facts[fact_id].date
    if date is None:
        return (0, 0, 0, 0)  # undated: after every dated fact
    return (1, *date.latest.sort_key())


@pytest.mark.parametrize("topic_id", ["nato", "rok", "pacific-security", "ukraine"])
def test_facts_rank_by_importance_then_recency(factbase: FactBase, topic_id: str) -> None:
    ranked = rank_facts(factbase.facts_for(topic_id), factbase)
    assert sorted(f.id for f in ranked) == sorted(f.id for f in factbase.facts_for(topic_id))
    for a, b in pairwise(ranked):
        assert a.importance >= b.importance, (a.id, b.id)
        if a.importance != b.importance:
            continue
        weak_a, weak_b = factbase.is_commentary_only(a), factbase.is_commentary_only(b)
        # Within one importance, facts resting only on commentary come last.
        assert weak_a <= weak_b, (a.id, b.id)
        if weak_a == weak_b:
            assert _recency(factbase, a.id) >= _recency(factbase, b.id), (a.id, b.id)
            if _recency(factbase, a.id) == _recency(factbase, b.id):
                assert a.id < b.id


@pytest.mark.parametrize("topic_id", ["nato", "rok", "pacific-security"])
@pytest.mark.parametrize("full", [False, True])
def test_every_citation_is_a_listed_source_and_every_source_is_cited(
    factbase: FactBase, topic_id: str, full: bool
) -> None:
    brief = brief_on(factbase, topic_id, full=full)
    numbers = [s.n for s in brief.sources]
    assert numbers == list(range(1, len(numbers) + 1))
    cited = {n for f in brief.facts for n in f.citations}
    cited |= {n for line in brief.summary for n in line.citations}
    assert cited == set(numbers)
    for fact in brief.facts:
        assert fact.citations == tuple(sorted({q.n for q in fact.quotes}))
        by_number = {s.n: s.id for s in brief.sources}
        sources = [by_number[q.n] for q in fact.quotes]
        assert sources == [c.source for c in factbase.facts[fact.id].citations]


def test_sources_are_numbered_in_the_order_they_are_first_cited(factbase: FactBase) -> None:
    brief = brief_on(factbase, "nato", full=True)
    order = [n for line in brief.summary for n in line.citations]
    order += [q.n for f in brief.facts for q in f.quotes]
    first_seen = list(dict.fromkeys(order))
    assert first_seen == sorted(first_seen)


def test_a_corroborated_fact_cites_every_source(factbase: FactBase) -> None:
    corroborated = [f for f in factbase.facts_for("nato") if len(f.sources) > 1]
    assert corroborated, "the bundled seeds have corroborated NATO facts"
    brief = brief_on(factbase, "nato", full=True)
    shown = {f.id: f for f in brief.facts}
    for fact in corroborated:
        assert len(shown[fact.id].citations) == len(fact.sources)


@pytest.mark.parametrize("topic_id", ["nato", "rok", "pacific-security", "ip4", "ukraine"])
def test_as_of_is_the_newest_date_among_the_cited_sources(
    factbase: FactBase, topic_id: str
) -> None:
    brief = brief_on(factbase, topic_id)
    dates = [factbase.documents[s.id].published for s in brief.sources]
    newest = max((d for d in dates if d is not None), key=PartialDate.sort_key)
    assert brief.as_of == newest.iso()
    assert brief.as_of_label == newest.human()


def test_stale_exactly_from_one_day_past_the_configured_age(factbase: FactBase) -> None:
    fresh = brief_on(factbase, "rok")
    assert fresh.as_of is not None
    first_day = parse_partial_date(fresh.as_of).first_day()
    on_edge = brief_on(factbase, "rok", today=first_day + dt.timedelta(days=DEFAULT_STALE_DAYS))
    past = brief_on(factbase, "rok", today=first_day + dt.timedelta(days=DEFAULT_STALE_DAYS + 1))
    assert DEFAULT_STALE_DAYS == 365
    assert (on_edge.stale, on_edge.stale_reason) == (False, None)
    assert past.stale
    assert past.stale_reason is not None and "366 days old, more than 365" in past.stale_reason


def test_stale_age_is_configurable(factbase: FactBase) -> None:
    brief = brief_on(factbase, "rok")
    assert brief.as_of is not None
    first_day = parse_partial_date(brief.as_of).first_day()
    today = first_day + dt.timedelta(days=31)
    assert brief_on(factbase, "rok", today=today, stale_days=30).stale
    assert not brief_on(factbase, "rok", today=today, stale_days=31).stale


def test_commentary_only_facts_are_marked_and_no_others(factbase: FactBase) -> None:
    brief = brief_on(factbase, "nato", full=True)
    kinds = {s.n: s.kind for s in brief.sources}
    marked = [f for f in brief.facts if f.commentary_only]
    assert marked, "the bundled NATO facts include commentary-only ones"
    for fact in brief.facts:
        only_commentary = all(kinds[q.n] == SourceKind.COMMENTARY.value for q in fact.quotes)
        assert fact.commentary_only == only_commentary, fact.id


def test_timeline_lists_the_dated_shown_facts_in_date_order(factbase: FactBase) -> None:
    brief = brief_on(factbase, "rok", full=True)
    dated = {f.id for f in brief.facts if f.date is not None}
    assert {f.id for f in brief.timeline} == dated
    starts = [factbase.facts[f.id].date.sort_key() for f in brief.timeline]  # type: ignore[union-attr]
    assert starts == sorted(starts)


def test_brief_carries_the_query_and_how_it_was_resolved(factbase: FactBase) -> None:
    brief = compose_brief(factbase, "nato", query="natoo", resolved_by="fuzzy", today=TODAY)
    assert (brief.query, brief.topic_id, brief.resolved_by) == ("natoo", "nato", "fuzzy")
    assert brief.title == factbase.topics["nato"].title
    assert [s.text for s in brief.summary] == [s.text for s in factbase.topics["nato"].summary]


# --- small fact bases for the cases the bundled one does not have ------------------------------


def _two_documents(
    tmp_path: Path,
    *,
    published_one: str,
    published_two: str,
    kind_two: str = "commentary",
    facts: str,
) -> FactBase:
    docs = {
        "doc-one": DOC.format(
            id="doc-one", title="One", published=published_one, url="", kind="official"
        ),
        "doc-two": DOC.format(
            id="doc-two", title="Two", published=published_two, url="", kind=kind_two
        ),
    }
    return load_factbase(
        make_seeds(tmp_path, documents=docs, facts=facts, topics=topics_yaml("alpha"))
    ).require()


def test_undated_sources_make_a_brief_stale_and_undated(tmp_path: Path) -> None:
    facts = fact_yaml("f1", date="")
    factbase = _two_documents(tmp_path, published_one="", published_two="", facts=facts)
    brief = brief_on(factbase, "alpha")
    assert (brief.as_of, brief.as_of_label, brief.stale) == (None, "undated", True)
    assert brief.stale_reason is not None and "none of the cited sources is dated" in (
        brief.stale_reason
    )
    assert brief.timeline == ()
    assert brief.sources[0].date is None and brief.sources[0].date_label == "undated"


def test_commentary_only_fact_ranks_after_a_better_sourced_one_of_equal_importance(
    tmp_path: Path,
) -> None:
    facts = (
        fact_yaml("f1", date="2020")
        + fact_yaml("f2", source="doc-two", date="2024")
        + fact_yaml("f3", source="doc-two", date="2019", extra="importance: 3\n")
        + fact_yaml(
            "f4",
            date="2019",
            extra=("also:\n  - source: doc-two\n    quote: covers fisheries patrols\n"),
        )
    )
    factbase = _two_documents(tmp_path, published_one="2021", published_two="2024-05", facts=facts)
    brief = brief_on(factbase, "alpha")
    assert [f.id for f in brief.facts] == ["f3", "f1", "f4", "f2"]
    assert [f.commentary_only for f in brief.facts] == [True, False, False, True]
    assert brief.as_of == "2024-05"  # the commentary is still a cited source


def test_fewer_facts_than_a_short_brief_omits_nothing(tmp_path: Path) -> None:
    facts = fact_yaml("f1") + fact_yaml("f2", date="2021-03")
    factbase = _two_documents(tmp_path, published_one="2021", published_two="2024", facts=facts)
    brief = brief_on(factbase, "alpha")
    assert len(brief.facts) == 2 and brief.omitted == 0
