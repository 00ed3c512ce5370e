"""Composing a brief: which facts, in what order, cited how, and how old it is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.brief import (
    DEFAULT_KEY_FACTS,
    DEFAULT_STALE_DAYS,
    Brief,
    compose_brief,
    first_facts,
    rank_facts,
)
from bot.factbase import FactBase, SourceKind, load_factbase
from bot.statements import similar
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


@pytest.mark.parametrize("topic_id", ["nato", "rok", "pacific-security", "ukraine"])
def test_key_facts_never_say_the_same_thing_twice(factbase: FactBase, topic_id: str) -> None:
    shown = [factbase.facts[f.id] for f in brief_on(factbase, topic_id).facts]
    for i, first in enumerate(shown):
        for second in shown[i + 1 :]:
            assert not similar(first, second), (first.id, second.id)


@pytest.mark.parametrize("topic_id", ["nato", "rok", "pacific-security", "ukraine"])
def test_ranking_keeps_every_fact_of_the_topic(factbase: FactBase, topic_id: str) -> None:
    ranked = rank_facts(factbase.facts_for(topic_id), factbase, topic_id)
    assert sorted(f.id for f in ranked) == sorted(f.id for f in factbase.facts_for(topic_id))


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
    cited = [factbase.documents[s.id] for s in brief.sources]
    dated = [d for d in cited if d.published is not None]
    if not dated:
        assert (brief.as_of, brief.as_of_label, brief.stale) == (None, "undated", True)
        return
    newest = max(dated, key=lambda d: d.published.sort_key())  # type: ignore[union-attr]
    assert newest.published is not None
    assert brief.as_of == newest.published.iso()
    assert brief.as_of_inferred == newest.published_inferred
    assert brief.as_of_label.startswith(newest.published.human())


def test_commentary_only_facts_are_marked_and_no_others(factbase: FactBase) -> None:
    brief = brief_on(factbase, "nato", full=True)
    kinds = {s.n: s.kind for s in brief.sources}
    marked = [f for f in brief.facts if f.commentary_only]
    assert marked, "the bundled NATO facts include commentary-only ones"
    for fact in brief.facts:
        only_commentary = all(kinds[q.n] == SourceKind.COMMENTARY.value for q in fact.quotes)
        assert fact.commentary_only == only_commentary, fact.id


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


# --- who said it, when, and whether it still holds ---------------------------------------------


def _doc(doc_id: str, kind: str, published: str, extra: str = "") -> str:
    text = DOC.format(id=doc_id, title=doc_id.title(), published=published, url="", kind=kind)
    return text.replace("noise:\n", extra + "noise:\n", 1)


def _base(tmp_path: Path, facts: str, **documents: str) -> FactBase:
    docs = documents or {"doc-one": _doc("doc-one", "official", "2021-03")}
    seeds = make_seeds(tmp_path, documents=docs, facts=facts, topics=topics_yaml("alpha", "beta"))
    return load_factbase(seeds).require()


ANALYSIS = _doc(
    "doc-two",
    "analysis",
    "2023-07",
    'said_by: "Capie"\noutlet: "USIP"\nprovenance:\n  published: inferred\n'
    'provenance_note: "month from the URL path"\n',
)


def test_analysis_is_attributed_by_speaker_outlet_and_date_and_official_speaks_plainly(
    tmp_path: Path,
) -> None:
    facts = fact_yaml("f1", date="", extra="kind: position\n") + fact_yaml(
        "f2",
        source="doc-two",
        date="",
        statement="the government sees the plan as crucial.",
        extra="kind: position\n",
    )
    factbase = _base(
        tmp_path, facts, **{"doc-one": _doc("doc-one", "official", "2021-03"), "doc-two": ANALYSIS}
    )
    shown = {f.id: f for f in brief_on(factbase, "alpha").facts}
    assert shown["f2"].statement == (
        "Capie (USIP, July 2023, date inferred) judged that the government sees the plan as "
        "crucial."
    )
    assert shown["f2"].claim == "The government sees the plan as crucial."
    assert (shown["f2"].said_by, shown["f2"].stated, shown["f2"].stated_inferred) == (
        "Capie",
        "2023-07",
        True,
    )
    assert shown["f2"].when_label is None  # the attribution already dates it
    assert shown["f1"].statement == "Ministers met."
    assert shown["f1"].when_label == "stated March 2021"
    assert shown["f1"].said_by == "Ministry of Examples"


def test_a_fact_can_name_its_own_speaker_verb_and_stated_date(tmp_path: Path) -> None:
    facts = fact_yaml(
        "f1",
        date="",
        statement="closer work with the alliance matters.",
        extra='said_by: "Foreign Minister Winston Peters"\nverb: said\nstated: 2024-04\n',
    )
    factbase = _base(tmp_path, facts)
    (fact,) = brief_on(factbase, "alpha").facts
    assert fact.statement == (
        "Foreign Minister Winston Peters (April 2024) said that closer work with the alliance "
        "matters."
    )
    assert (fact.stated, fact.stated_inferred, fact.attributed) == ("2024-04", False, True)


def test_a_target_past_its_due_date_with_no_outcome_says_so(tmp_path: Path) -> None:
    facts = fact_yaml(
        "f1",
        date="",
        statement="Ministers set the aim of adopting a framework in 2025.",
        extra="kind: commitment\ndue: 2025\n",
    )
    factbase = _base(tmp_path, facts)
    (before,) = brief_on(factbase, "alpha", today=dt.date(2025, 6, 1)).facts
    (after,) = brief_on(factbase, "alpha", today=dt.date(2026, 1, 1)).facts
    assert (before.lapsed, before.status) == (False, "due 2025")
    assert before.statement.endswith("in 2025 (due 2025).")
    assert after.lapsed and after.due == "2025"
    assert after.statement == (
        "Ministers set the aim of adopting a framework in 2025 "
        "(set for 2025; no source here reports the outcome)."
    )


def test_a_reported_outcome_ends_the_lapse(tmp_path: Path) -> None:
    facts = fact_yaml(
        "f1", date="", statement="Ministers set an aim for 2025.", extra="due: 2025\n"
    ) + fact_yaml("f2", date="2025-06", extra="outcome_of: f1\n")
    factbase = _base(tmp_path, facts)
    shown = {f.id: f for f in brief_on(factbase, "alpha").facts}
    assert not shown["f1"].lapsed and shown["f1"].status is not None
    assert "no source here reports the outcome" not in shown["f1"].statement


def test_outcome_of_an_unknown_fact_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    facts = fact_yaml("f1") + fact_yaml("f2", extra="outcome_of: f9\n")
    report = load_factbase(make_seeds(tmp_path, facts=facts))
    assert [str(p) for p in report.errors] == [
        "seeds/facts/main.yaml:7: error: fact 'f2': outcome_of names unknown fact 'f9'"
    ]


def test_timeline_shows_events_not_the_dates_positions_were_stated(tmp_path: Path) -> None:
    facts = (
        fact_yaml("f1", date="2021-03-03", extra="kind: event\n")
        + fact_yaml("f2", date="2021-03-03", extra="kind: position\n")
        + fact_yaml("f3", date="", extra="kind: position\n")
        + fact_yaml("f4", date="2019", extra="kind: event\n")
    )
    brief = brief_on(_base(tmp_path, facts), "alpha")
    assert [f.id for f in brief.timeline] == ["f4", "f1"]


def test_key_facts_rank_importance_then_authority_then_currency(tmp_path: Path) -> None:
    docs = {
        "doc-one": _doc("doc-one", "official", "2020"),
        "doc-new": _doc("doc-new", "official", "2024"),
        "doc-two": ANALYSIS,
        "doc-news": _doc("doc-news", "news", "2025"),
        "doc-blog": _doc("doc-blog", "commentary", "2026"),
        "doc-undated": _doc("doc-undated", "official", ""),
    }
    facts = (
        fact_yaml("f1", date="")  # official 2020
        + fact_yaml("f2", source="doc-blog", date="")  # commentary 2026
        + fact_yaml("f3", source="doc-two", date="")  # analysis 2023
        + fact_yaml("f4", source="doc-news", date="")  # news 2025
        + fact_yaml("f5", source="doc-new", date="")  # official 2024
        + fact_yaml("f6", source="doc-one", date="", extra="importance: 3\n")
        + fact_yaml("f7", source="doc-undated", date="")  # official, undated
    )
    brief = brief_on(_base(tmp_path, facts, **docs), "alpha")
    # importance first; then official before analysis before news before commentary; then the
    # most recently stated, an undated source not pushed behind the dated ones for being undated
    assert [f.id for f in brief.facts] == ["f6", "f7", "f5", "f1", "f3", "f4", "f2"]


def test_a_near_duplicate_gives_way_to_every_distinct_fact(tmp_path: Path) -> None:
    facts = (
        fact_yaml("f1", statement="Ministers agreed a Pacific Resilience Plan worth NZ$5 million.")
        + fact_yaml(
            "f2",
            statement="Ministers agreed the Pacific Resilience Plan, worth NZ$5 million.",
            extra="importance: 2\n",
        )
        + fact_yaml("f3", extra="importance: 1\n")
    )
    brief = brief_on(_base(tmp_path, facts), "alpha")
    assert [f.id for f in brief.facts] == ["f1", "f3", "f2"]


def test_a_fact_counts_one_importance_lower_under_its_secondary_topics(tmp_path: Path) -> None:
    facts = fact_yaml("f1", topics="[beta, alpha]", extra="importance: 3\n") + fact_yaml(
        "f2", topics="[alpha]", extra="importance: 2\n"
    )
    factbase = _base(tmp_path, facts)
    assert [f.id for f in brief_on(factbase, "beta").facts] == ["f1"]
    # f1 is 3 under beta, 2 under alpha: equal to f2, and file order decides
    assert [f.id for f in brief_on(factbase, "alpha").facts] == ["f1", "f2"]
    facts = fact_yaml("f2", topics="[alpha]", extra="importance: 2\n") + fact_yaml(
        "f1", topics="[beta, alpha]", extra="importance: 2\n"
    )
    factbase = _base(tmp_path / "second", facts)
    assert [f.id for f in brief_on(factbase, "alpha").facts] == ["f2", "f1"]


def test_staleness_names_the_old_key_facts(tmp_path: Path) -> None:
    docs = {
        "doc-one": _doc("doc-one", "official", "2020-01"),
        "doc-new": _doc("doc-new", "official", "2026-10"),
    }
    facts = (
        fact_yaml("f1", date="", extra="importance: 3\n")
        + fact_yaml("f2", source="doc-new", date="")
        + fact_yaml("f3", date="")
    )
    brief = brief_on(_base(tmp_path, facts, **docs), "alpha")
    assert [f.id for f in brief.facts] == ["f1", "f2", "f3"]
    assert brief.stale_facts == ("f1", "f3")
    assert brief.stale and brief.stale_reason is not None
    assert brief.stale_reason.startswith("key facts 1, 3 were stated more than 365 days ago")
    assert brief.as_of == "2026-10"


def test_stale_exactly_from_one_day_past_the_configured_age(tmp_path: Path) -> None:
    factbase = _base(tmp_path, fact_yaml("f1", date=""))
    first_day = dt.date(2021, 3, 1)  # stated March 2021: aged from the month's first day
    on_edge = brief_on(factbase, "alpha", today=first_day + dt.timedelta(days=DEFAULT_STALE_DAYS))
    past = brief_on(factbase, "alpha", today=first_day + dt.timedelta(days=DEFAULT_STALE_DAYS + 1))
    assert DEFAULT_STALE_DAYS == 365
    assert on_edge.stale_facts == () and past.stale_facts == ("f1",)
    assert past.stale and past.stale_reason is not None
    assert past.stale_reason.startswith("every key fact was stated more than 365 days ago")


def test_stale_age_is_configurable(tmp_path: Path) -> None:
    factbase = _base(tmp_path, fact_yaml("f1", date=""))
    today = dt.date(2021, 3, 1) + dt.timedelta(days=31)
    assert brief_on(factbase, "alpha", today=today, stale_days=30).stale
    assert not brief_on(factbase, "alpha", today=today, stale_days=31).stale


def test_an_inferred_event_date_says_so(tmp_path: Path) -> None:
    facts = fact_yaml("f1", date="2025-07", extra="kind: event\ndate_inferred: true\n")
    (fact,) = brief_on(_base(tmp_path, facts), "alpha").facts
    assert (fact.date, fact.date_label, fact.date_inferred) == (
        "2025-07",
        "July 2025, inferred",
        True,
    )


def test_a_target_is_followed_by_the_report_of_its_outcome_even_from_another_topic(
    tmp_path: Path,
) -> None:
    facts = (
        fact_yaml("f1", date="", statement="Ministers set an aim for 2025.", extra="due: 2025\n")
        + fact_yaml("f2", date="", extra="importance: 3\n")
        + fact_yaml("f3", topics="[beta]", date="2025-06", extra="outcome_of: f1\nimportance: 1\n")
    )
    brief = brief_on(_base(tmp_path, facts), "alpha")
    assert [f.id for f in brief.facts] == ["f2", "f1", "f3"]
    target = brief.facts[1]
    assert target.statement == (
        "Ministers set an aim for 2025 (set for 2025; the next fact reports the outcome)."
    )
    assert not target.lapsed


def test_key_facts_never_end_between_a_target_and_its_outcome(tmp_path: Path) -> None:
    leading = "".join(fact_yaml(f"g{i}", date="", extra="importance: 3\n") for i in range(1, 8))
    facts = (
        leading
        + fact_yaml("f1", date="", statement="Ministers set an aim for 2025.", extra="due: 2025\n")
        + fact_yaml("f2", date="2025-06", extra="outcome_of: f1\n")
    )
    factbase = _base(tmp_path, facts)
    brief = brief_on(factbase, "alpha")
    assert [f.id for f in brief.facts][-1] == "g7" and brief.omitted == 2
    full = brief_on(factbase, "alpha", full=True)
    assert first_facts(full, 8).facts == full.facts[:7]
