"""Reminder and digest messages: content, citation, late marker, escaping, Slack's limits."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.dates import PartialDate
from bot.factbase import FactBase, load_factbase
from bot.reminders.messages import (
    EVENT_TYPE,
    digest_payload,
    occurrence_payload,
    reminder_payload,
)
from bot.reminders.occurrences import Occurrence, ReminderSchedule
from bot.reminders.rules import ReminderRule, RuleKind, load_reminder_rules
from bot.render import TEXT, Renderer
from bot.slack.limits import check_message
from tests.conftest import TEMPLATES
from tests.seedkit import fact_yaml, make_seeds, topics_yaml

REPO = Path(__file__).resolve().parents[1]
NZ = ZoneInfo("Pacific/Auckland")
CHANNEL = "C0REMIND"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(REPO / "templates")


@pytest.fixture(scope="module")
def real() -> tuple[FactBase, ReminderSchedule]:
    factbase = load_factbase(REPO / "seeds").require()
    rules, problems = load_reminder_rules(REPO / "seeds" / "reminders.yaml", factbase)
    assert [p for p in problems if p.severity == "error"] == []
    return factbase, ReminderSchedule(rules, NZ, CHANNEL)


def blocks_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload["blocks"], ensure_ascii=False)


def find(schedule: ReminderSchedule, factbase: FactBase, key: str) -> Occurrence:
    day = dt.date.fromisoformat(key.split(":")[1])
    for occ in schedule.between_days(factbase, day - dt.timedelta(days=400), 800):
        if occ.key == key:
            return occ
    raise AssertionError(f"no occurrence {key}")


def test_every_real_occurrence_renders_within_slack_limits(
    renderer: Renderer, real: tuple[FactBase, ReminderSchedule]
) -> None:
    factbase, schedule = real
    found = schedule.between_days(factbase, dt.date(2025, 1, 1), 3 * 365)
    assert {o.kind for o in found} == {"anniversary", "anniversary-month", "deadline", "digest"}
    for occ in found:
        for late in (False, True):
            payload = occurrence_payload(renderer, occ, schedule, factbase, late=late)
            assert check_message(payload) == [], occ.key
            assert set(payload) == {"text", "blocks", "metadata"}
            assert payload["metadata"] == {
                "event_type": EVENT_TYPE,
                "event_payload": {"key": occ.key},
            }
            assert ("late: was due" in payload["text"]) is late


def test_anniversary_shows_what_it_is_the_fact_its_source_and_the_command(
    renderer: Renderer, real: tuple[FactBase, ReminderSchedule]
) -> None:
    factbase, schedule = real
    occ = find(schedule, factbase, "rok-joint-statement:2026-09-04:0")
    payload = reminder_payload(renderer, occ, factbase, late=False)
    text = blocks_text(payload)
    assert "*2nd anniversary of the ROK–NZ Joint Statement*" in text
    assert "Joint Statement, issued in Seoul, is dated 4 September 2024" in text
    doc = factbase.documents["rok-nz-joint-statement-2024"]
    assert f"<{doc.url}|{doc.title}>" in text
    assert f"{doc.publisher}, 4 September 2024 (official)" in text
    assert "`/brief rok`" in text
    assert "late" not in text
    assert payload["text"].startswith("2nd anniversary of the ROK–NZ Joint Statement\n")
    assert "More: /brief rok" in payload["text"]


def test_deadline_labels_and_late_marker(
    renderer: Renderer, real: tuple[FactBase, ReminderSchedule]
) -> None:
    factbase, schedule = real
    week = find(schedule, factbase, "rok-csp-framework:2025-12-31:7")
    today = find(schedule, factbase, "rok-csp-framework:2025-12-31:0")
    assert (
        "*7 days to the aim, set in the 2024 Joint Statement, of an ROK–NZ Comprehensive "
        "Strategic Partnership framework in 2025 (due Wed 31 Dec 2025)*"
        in blocks_text(reminder_payload(renderer, week, factbase, late=False))
    )
    late = reminder_payload(renderer, today, factbase, late=True)
    assert (
        "*Due today: the aim, set in the 2024 Joint Statement, of an ROK–NZ Comprehensive "
        "Strategic Partnership framework in 2025* "
        "_(late: was due Wed 31 Dec 2025 09:00 NZDT)_"
    ) in blocks_text(late)
    assert "set the aim of adopting a framework for it in 2025" in blocks_text(late)


def test_month_anniversary_says_this_month(
    renderer: Renderer, real: tuple[FactBase, ReminderSchedule]
) -> None:
    factbase, schedule = real
    occ = find(schedule, factbase, "ardern-first-nato-summit:2026-06-01:0")
    text = blocks_text(reminder_payload(renderer, occ, factbase, late=False))
    assert (
        "*This month: 4th anniversary of a New Zealand prime minister's first NATO summit "
        "(June 2022)*" in text
    )
    assert "_(June 2022)_" in text


def test_digest_lists_items_with_their_commands(
    renderer: Renderer, real: tuple[FactBase, ReminderSchedule]
) -> None:
    factbase, schedule = real
    occ = find(schedule, factbase, "weekly-look-ahead:2025-09-01:0")
    payload = digest_payload(renderer, occ, schedule, factbase, late=False)
    assert check_message(payload) == []
    text = blocks_text(payload)
    assert "*Weekly look-ahead: the next 14 days*" in text
    assert "`Thu 4 Sep 2025` 1st anniversary of the ROK–NZ Joint Statement · `/brief rok`" in text
    assert payload["metadata"]["event_payload"]["key"] == "weekly-look-ahead:2025-09-01:0"
    quiet = find(schedule, factbase, "weekly-look-ahead:2025-11-03:0")
    assert "Nothing falls in the next 14 days." in blocks_text(
        digest_payload(renderer, quiet, schedule, factbase, late=False)
    )


def test_reminder_payload_refuses_a_digest(
    renderer: Renderer, real: tuple[FactBase, ReminderSchedule]
) -> None:
    factbase, schedule = real
    occ = find(schedule, factbase, "weekly-look-ahead:2025-09-01:0")
    with pytest.raises(ValueError, match="digest_payload"):
        reminder_payload(renderer, occ, factbase, late=False)


HOSTILE = "<!channel> & <https://evil.example|click> <@U123>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> FactBase:
    facts = fact_yaml("f1", statement=json.dumps(HOSTILE), date="2021-03-03")
    facts += fact_yaml("long", statement="x" * 6000, date="2021-03-03")
    return load_factbase(
        make_seeds(tmp_path_factory.mktemp("msg"), facts=facts, topics=topics_yaml("alpha"))
    ).require()


def test_document_and_rule_text_cannot_mention_or_link(
    renderer: Renderer, hostile: FactBase
) -> None:
    rules = [ReminderRule(id="evil", kind=RuleKind.ANNIVERSARY, title="<!here> & co", fact_id="f1")]
    schedule = ReminderSchedule(rules, NZ, CHANNEL)
    (occ,) = schedule.between_days(hostile, dt.date(2025, 3, 1), 7)
    payload = reminder_payload(renderer, occ, hostile, late=False)
    assert check_message(payload) == []
    for text in (blocks_text(payload), payload["text"]):
        assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text
        assert "<https://evil" not in text
        assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
        assert "&lt;!here&gt; &amp; co" in text
    assert "<https://example.org/one|Doc One>" in blocks_text(payload)  # the bot's own link


def test_overlong_statement_and_many_digest_items_stay_within_limits(
    renderer: Renderer, hostile: FactBase
) -> None:
    rules = [
        ReminderRule(id="long", kind=RuleKind.ANNIVERSARY, title="t" * 120, fact_id="long"),
        ReminderRule(id="weekly", kind=RuleKind.DIGEST, title="Weekly", horizon_days=60),
    ]
    rules += [
        ReminderRule(
            id=f"d{i}",
            kind=RuleKind.DEADLINE,
            title=f"deadline {i} " + "y" * 100,
            due=PartialDate(2025, 3, 1 + i % 28),
            topic_id="alpha",
        )
        for i in range(90)
    ]
    schedule = ReminderSchedule(rules, NZ, CHANNEL)
    found = schedule.between_days(hostile, dt.date(2025, 3, 1), 7)
    long = next(o for o in found if o.rule_id == "long")
    assert check_message(reminder_payload(renderer, long, hostile, late=True)) == []
    digest = next(o for o in found if o.rule_id == "weekly")
    payload = digest_payload(renderer, digest, schedule, hostile, late=True)
    assert check_message(payload) == []
    # Posted Mon 3 Mar: 82 deadlines from 3 March on and the long anniversary; 40 are listed.
    assert "… and 43 more: `/brief upcoming 60`" in blocks_text(payload)


def test_deadline_without_a_fact_has_no_source(renderer: Renderer, hostile: FactBase) -> None:
    rules = [
        ReminderRule(
            id="budget",
            kind=RuleKind.DEADLINE,
            title="the budget bid",
            due=PartialDate(2025, 3, 14),
            lead_days=(0,),
        )
    ]
    schedule = ReminderSchedule(rules, NZ, CHANNEL)
    (occ,) = schedule.between_days(hostile, dt.date(2025, 3, 1), 30)
    payload = reminder_payload(renderer, occ, hostile, late=False)
    assert check_message(payload) == []
    assert len(payload["blocks"]) == 1
    assert "Due today: the budget bid" in payload["text"]


def test_text_templates_render_for_the_console(
    renderer: Renderer, real: tuple[FactBase, ReminderSchedule]
) -> None:
    from bot.reminders.messages import digest_view, reminder_view

    factbase, schedule = real
    occ = find(schedule, factbase, "vilnius-summit:2026-07-11:0")
    text = renderer.render("reminder", TEXT, reminder=reminder_view(occ, factbase, late=False))
    assert text.startswith("3rd anniversary of the NATO Vilnius Summit (falls on Saturday 11 July)")
    assert "Source: " in text and "More: /brief nato" in text
    digest = find(schedule, factbase, "weekly-look-ahead:2026-07-06:0")
    entries = schedule.digest_entries(digest, factbase)
    view = digest_view(digest, entries, horizon_days=14, late=False)
    out = renderer.render("digest", TEXT, digest=view)
    assert "Sat 11 Jul 2026  3rd anniversary of the NATO Vilnius Summit  (/brief nato)" in out


def test_ampersands_are_clipped_as_sent_and_stay_within_limits(
    renderer: Renderer, tmp_path: Path
) -> None:
    facts = fact_yaml("f1", statement=json.dumps("&" * 2000), date="2021-03-03")
    factbase = load_factbase(make_seeds(tmp_path, facts=facts)).require()
    rules = [
        ReminderRule(id="amp", kind=RuleKind.ANNIVERSARY, title="the ampersands", fact_id="f1")
    ]
    (occ,) = ReminderSchedule(rules, NZ, CHANNEL).between_days(factbase, dt.date(2025, 3, 1), 7)
    payload = reminder_payload(renderer, occ, factbase, late=False)
    assert check_message(payload) == []
    assert "&amp;" in payload["blocks"][1]["text"]["text"]
    assert payload["metadata"]["event_payload"]["key"] == "amp:2025-03-03:0"


def test_a_custom_template_that_breaks_a_limit_falls_back_to_the_headline(tmp_path: Path) -> None:
    """Operators may override templates; one that forgets to clip must not break delivery."""
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    path = templates / "reminder.blocks.json.j2"
    path.write_text(
        path.read_text().replace("reminder.statement | clip(1200)", "reminder.statement")
    )
    facts = fact_yaml("f1", statement=json.dumps("x" * 4000), date="2021-03-03")
    factbase = load_factbase(make_seeds(tmp_path, facts=facts)).require()
    rules = [ReminderRule(id="long", kind=RuleKind.ANNIVERSARY, title="the long one", fact_id="f1")]
    (occ,) = ReminderSchedule(rules, NZ, CHANNEL).between_days(factbase, dt.date(2025, 3, 1), 7)
    payload = reminder_payload(Renderer(templates), occ, factbase, late=False)
    assert check_message(payload) == []
    assert payload["text"] == "4th anniversary of the long one"
    assert len(payload["blocks"]) == 1
    assert payload["metadata"]["event_payload"]["key"] == "long:2025-03-03:0"
