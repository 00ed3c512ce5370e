"""The bundled fact base read as a minister's adviser reads it: the defects of issue 8, pinned.

Each test names a defect a reviewer found in the briefs and fails if it comes back. Rules that
generalise (unattributed analysis, lapsed targets, near-duplicates, tense) are `briefbot check
--editorial` rules instead (tests/test_editorial.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.brief import compose_brief
from bot.factbase import FactBase
from bot.reminders.rules import load_reminder_rules
from bot.statements import spoken
from tests.conftest import SEEDS

TODAY = dt.date(2026, 11, 23)


def brief(factbase: FactBase, topic_id: str, *, full: bool = False):  # type: ignore[no-untyped-def]
    return compose_brief(
        factbase, topic_id, query=topic_id, resolved_by="alias", today=TODAY, full=full
    )


def test_the_itpp_purpose_keeps_the_sources_future_tense_and_its_possible(
    factbase: FactBase,
) -> None:
    statement = factbase.facts["nato-itpp-purpose"].statement
    assert "will map out" in statement and "possible areas" in statement


@pytest.mark.parametrize(
    "fact_id", ["nato-ukraine-support-channel", "ip4-wellington-wary-nato-indo-pacific"]
)
def test_capies_2023_reading_is_attributed_and_dated(factbase: FactBase, fact_id: str) -> None:
    assert spoken(factbase, factbase.facts[fact_id]).startswith(
        "Capie (USIP, July 2023) judged that"
    )


def test_the_itpp_horizon_reminder_says_what_the_commentary_says(factbase: FactBase) -> None:
    rules, _problems = load_reminder_rules(SEEDS / "reminders.yaml", factbase)
    (rule,) = [r for r in rules if r.id == "nato-itpp-2027"]
    assert "until 2027 and beyond" in rule.title and "commentary" in rule.title
    assert "end of the" not in rule.title


def test_dates_say_what_the_sources_support(factbase: FactBase) -> None:
    madrid = factbase.facts["nato-madrid-summit-2022"]
    assert madrid.date is not None and madrid.date.iso() == "2022-06"
    dialogue = factbase.facts["rok-track-ii-dialogue-christchurch"]
    assert dialogue.date is not None and dialogue.date.iso() == "2025-07"
    assert dialogue.date_inferred and dialogue.date_label == "July 2025, inferred"


def test_source_metadata_is_the_public_records_with_its_provenance(factbase: FactBase) -> None:
    capie = factbase.documents["capie-nz-nato-vilnius-2023"]
    assert capie.title == "New Zealand Draws Closer to NATO with a Wary Eye"
    assert capie.publisher == "United States Institute of Peace"
    assert (
        capie.url
        == "https://www.usip.org/publications/2023/07/new-zealand-draws-closer-nato-wary-eye"
    )
    assert capie.provenance["title"] == capie.provenance["publisher"] == "verified"
    blog = factbase.documents["globaltrendhub-nz-nato"]
    assert blog.published is not None and blog.published.iso() == "2025-06-24"
    assert blog.published_inferred and blog.url.startswith(
        "https://nz.globaltrendhub.me/2025/06/24/"
    )
    for document in factbase.documents.values():
        if any(v != "declared" for v in document.provenance.values()):
            assert document.provenance_note, document.id


@pytest.mark.parametrize(
    ("words", "source"),
    [
        ("freedom of navigation and overflight", "rok-nz-joint-statement-2024"),
        ("UNCLOS", "rok-nz-joint-statement-2024"),
        ("no military solution", "rok-nz-joint-statement-2024"),
        ("shared values", "rok-nz-joint-statement-2024"),
        ("REAIM", "rok-nz-joint-statement-2024"),
        ("swift and unambiguous", "capie-nz-nato-vilnius-2023"),
        ("Euro-Atlantic", "capie-nz-nato-vilnius-2023"),
        ("Police, Customs, and Immigration", "mfat-regional-security"),
        ("move beyond dialogue to implementation", "asianz-tan-nz-korea-pacific"),
    ],
)
def test_content_the_review_found_missing_is_there(
    factbase: FactBase, words: str, source: str
) -> None:
    assert any(
        c.source == source and words.lower() in c.quote.lower()
        for fact in factbase.facts.values()
        for c in fact.citations
    ), words


def test_the_blogs_itpp_focus_areas_are_there_as_commentary(factbase: FactBase) -> None:
    fact = factbase.facts["nato-itpp-focus-areas"]
    assert factbase.is_commentary_only(fact)


def test_no_key_fact_leads_with_a_lapsed_target_in_the_present_tense(factbase: FactBase) -> None:
    for topic_id in ("rok", "trade"):
        for fact in brief(factbase, topic_id, full=True).facts:
            assert "aim to adopt" not in fact.statement
            assert not fact.statement.startswith("2025 is the 10th anniversary")


def test_as_of_counts_every_cited_source_and_says_when_it_is_inferred(
    factbase: FactBase,
) -> None:
    nato = brief(factbase, "nato")
    assert nato.as_of is not None and nato.as_of >= "2025-06"  # not "July 2023"
    rok = brief(factbase, "rok")
    assert rok.as_of_inferred and rok.as_of_label.endswith(", inferred")


def test_nato_leads_with_what_the_relationship_is(factbase: FactBase) -> None:
    first = brief(factbase, "nato").facts[0]
    assert "non-member partner" in first.statement
    assert "Vilnius" not in first.statement


def test_nato_carries_new_zealands_contribution_as_the_analysis_presents_it(
    factbase: FactBase,
) -> None:
    ids = {f.id for f in brief(factbase, "nato", full=True).facts}
    assert {"ukraine-nato-trust-fund-11-35m", "ukraine-nzdf-training-teams-uk"} <= ids


def test_regional_security_covers_mfats_whole_page_asia_too(factbase: FactBase) -> None:
    shown = brief(factbase, "pacific-security")
    asia = [f for f in shown.facts if "ASEAN" in f.statement or "Asia" in f.statement]
    assert asia, "the key facts include MFAT's Asia section"


def test_rok_key_facts_include_the_bilateral_deliverables(factbase: FactBase) -> None:
    text = " ".join(f.statement for f in brief(factbase, "rok").facts)
    for deliverable in ("Economic Security Dialogue", "Free Trade Agreement", "military exercises"):
        assert deliverable in text
