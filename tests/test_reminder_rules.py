"""Loading `reminders.yaml`: defaults, the real seeds, every bad input reported with file:line."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.dates import PartialDate
from bot.factbase import FactBase, load_factbase
from bot.factbase.problems import Problem
from bot.reminders.occurrences import ReminderSchedule
from bot.reminders.rules import (
    DEFAULT_LEAD_DAYS,
    ReminderRule,
    RuleKind,
    WeekendPolicy,
    load_reminder_rules,
)
from tests.seedkit import fact_yaml, make_seeds, topics_yaml

REPO = Path(__file__).resolve().parents[1]

FACTS = (
    fact_yaml("f1", date="2021-03-03")
    + fact_yaml("f-month", date="2021-03")
    + fact_yaml("f-year", date="2021")
    + fact_yaml("f-range", date="2023-07-11/2023-07-12", topics="[alpha, beta]")
    + fact_yaml("f-undated", date="")
)


@pytest.fixture(scope="module")
def factbase(tmp_path_factory: pytest.TempPathFactory) -> FactBase:
    root = tmp_path_factory.mktemp("rules")
    seeds = make_seeds(root, facts=FACTS, topics=topics_yaml("alpha", "beta"))
    return load_factbase(seeds).require()


def load(tmp_path: Path, factbase: FactBase, text: str) -> tuple[list[ReminderRule], list[str]]:
    path = tmp_path / "seeds" / "reminders.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    rules, problems = load_reminder_rules(path, factbase)
    return rules, [str(p) for p in problems]


def test_real_seeds_reminders_load_without_errors() -> None:
    factbase = load_factbase(REPO / "seeds").require()
    rules, problems = load_reminder_rules(REPO / "seeds" / "reminders.yaml", factbase)
    assert [p for p in problems if p.severity == "error"] == []
    # The issue's year-only examples are kept, with a warning that nothing is posted for them.
    assert sorted(p.message.split(":")[0] for p in problems) == [
        "rule 'boe-declaration'",
        "rule 'nz-nato-formal-cooperation'",
    ]
    by_id = {r.id: r for r in rules}
    assert by_id["rok-joint-statement"].fact_id == "rok-nz-joint-statement-2024-09-04"
    assert by_id["vilnius-summit"].weekend is WeekendPolicy.PREVIOUS_WORKING_DAY
    assert by_id["rok-csp-framework"].kind is RuleKind.DEADLINE
    assert by_id["nato-itpp-2027"].due == PartialDate(2027)
    assert by_id["weekly-look-ahead"].kind is RuleKind.DIGEST


def test_year_only_facts_of_the_issue_are_kept_but_never_posted(tmp_path: Path) -> None:
    factbase = load_factbase(REPO / "seeds").require()
    for fact_id in ("pacific-boe-declaration-2018", "nato-cooperation-formal-2001"):
        text = f"- id: x\n  kind: anniversary\n  fact: {fact_id}\n  title: X\n"
        rules, problems = load(tmp_path, factbase, text)
        assert [r.id for r in rules] == ["x"]
        assert len(problems) == 1
        assert problems[0].startswith("seeds/reminders.yaml:3: warning: rule 'x': fact ")
        assert "a fact known only to the year is not an anniversary" in problems[0]
        schedule = ReminderSchedule(rules, ZoneInfo("Pacific/Auckland"), "C0TEAM")
        start = dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
        assert schedule.occurrences(factbase, start, start + dt.timedelta(days=3650)) == []


def test_defaults_by_kind(tmp_path: Path, factbase: FactBase) -> None:
    rules, problems = load(
        tmp_path,
        factbase,
        """\
        - id: ann
          kind: anniversary
          fact: f1
          title: the meeting
        - id: dead
          kind: deadline
          due: 2026-05
          title: the plan
        - id: weekly
          kind: digest
        """,
    )
    assert problems == []
    ann, dead, weekly = rules
    assert ann.weekend is WeekendPolicy.SAME_DAY
    assert dead.weekend is WeekendPolicy.PREVIOUS_WORKING_DAY
    assert weekly.weekend is WeekendPolicy.SAME_DAY
    assert dead.lead_days == DEFAULT_LEAD_DAYS == (30, 7, 1, 0)
    assert ann.time == dt.time(9, 0)
    assert ann.timezone is None and ann.channel is None and ann.topic_id is None
    assert dead.due == PartialDate(2026, 5)
    assert (weekly.weekday, weekly.horizon_days, weekly.title) == (0, 14, "Weekly look-ahead")
    assert (ann.path, ann.line) == ("seeds/reminders.yaml", 1)


def test_every_field_can_be_set(tmp_path: Path, factbase: FactBase) -> None:
    rules, problems = load(
        tmp_path,
        factbase,
        """\
        - id: dead
          kind: deadline
          fact: f-range
          due: "2027"
          title: the   plan
          lead_days: [1, 14, 0]
          time: "17:45"
          timezone: Europe/London
          weekend: next_working_day
          channel: C0TEAM42
          topic: beta
          start_year: 2026
        - id: weekly
          kind: digest
          weekday: fri
          horizon_days: 28
          topic: alpha
        """,
    )
    assert problems == []
    dead, weekly = rules
    assert dead.lead_days == (14, 1, 0)
    assert dead.title == "the plan"
    assert dead.time == dt.time(17, 45)
    assert dead.timezone == ZoneInfo("Europe/London")
    assert dead.weekend is WeekendPolicy.NEXT_WORKING_DAY
    assert (dead.channel, dead.topic_id, dead.start_year) == ("C0TEAM42", "beta", 2026)
    assert (weekly.weekday, weekly.horizon_days, weekly.topic_id) == (4, 28, "alpha")


BAD_RULES = [
    pytest.param(
        "- id: a\n  kind: anniversary\n  fact: ghost\n  title: T\n",
        3,
        "unknown fact 'ghost'",
        id="unknown-fact",
    ),
    pytest.param(
        "- id: a\n  kind: deadline\n  title: T\n  due: 2025-02-30\n",
        4,
        "'2025-02-30' is not a date: day 30 is not in 01-28",
        id="impossible-date",
    ),
    pytest.param(
        "- id: a\n  kind: deadline\n  title: T\n  due: '2025-13'\n",
        4,
        "month 13 is not 01-12",
        id="impossible-month",
    ),
    pytest.param(
        "- id: a\n  kind: deadline\n  title: T\n  due: 2025\n  lead_days: [7, -3]\n",
        5,
        "lead time -3 is below zero",
        id="negative-lead",
    ),
    pytest.param(
        "- id: a\n  kind: deadline\n  title: T\n  due: 2025\n  lead_days: [7, 7]\n",
        5,
        "lead time 7 is listed twice",
        id="repeated-lead",
    ),
    pytest.param(
        "- id: a\n  kind: deadline\n  title: T\n  due: 2025\n  lead_days: soon\n",
        5,
        "lead_days must be a list",
        id="lead-not-a-list",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  time: '25:00'\n",
        3,
        "time '25:00' is not a time of day",
        id="bad-time",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  time: 25:00\n",
        3,
        'time must be quoted, e.g. time: "25:00"',
        id="unquoted-time",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  time: nine\n",
        3,
        "time 'nine' must be HH:MM",
        id="time-not-hh-mm",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  timezone: Pacific/Atlantis\n",
        3,
        "unknown time zone 'Pacific/Atlantis'",
        id="unknown-zone",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  timezone: ../../etc/passwd\n",
        3,
        "unknown time zone",
        id="zone-path",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  weekend: sometimes\n",
        3,
        "weekend 'sometimes' must be one of same_day, previous_working_day, next_working_day",
        id="bad-weekend",
    ),
    pytest.param(
        "- id: a\n  kind: anniversary\n  fact: f-undated\n  title: T\n",
        3,
        "fact 'f-undated' has no date",
        id="undated-anniversary",
    ),
    pytest.param(
        "- id: a\n  kind: deadline\n  fact: f-undated\n  title: T\n",
        3,
        "fact 'f-undated' has no date: give the deadline a due date",
        id="undated-deadline",
    ),
    pytest.param(
        "- id: a\n  kind: deadline\n  title: T\n",
        1,
        "a deadline needs a fact, a due date, or both",
        id="deadline-without-date",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  colour: red\n", 3, "unknown field 'colour'", id="unknown-field"
    ),
    pytest.param(
        "- id: a\n  kind: anniversary\n  fact: f1\n  title: T\n  lead_days: [1]\n",
        5,
        "field 'lead_days' does not apply to anniversary rules (only deadline)",
        id="field-of-another-kind",
    ),
    pytest.param(
        "- id: a\n  kind: anniversary\n  fact: f1\n", 1, "missing field 'title'", id="missing-title"
    ),
    pytest.param(
        "- id: a\n  kind: anniversary\n  title: T\n", 1, "missing field 'fact'", id="missing-fact"
    ),
    pytest.param("- id: a\n  title: T\n", 1, "missing field 'kind'", id="missing-kind"),
    pytest.param("- kind: digest\n", 1, "missing field 'id'", id="missing-id"),
    pytest.param("- id: A b\n  kind: digest\n", 1, "id must be a slug", id="bad-id"),
    pytest.param("- id: a\n  kind: birthday\n", 2, "kind 'birthday' must be one of", id="bad-kind"),
    pytest.param(
        "- id: a\n  kind: digest\n  channel: '#general'\n",
        3,
        "channel '#general' must be a channel id",
        id="bad-channel",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  topic: gamma\n", 3, "unknown topic 'gamma'", id="unknown-topic"
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  horizon_days: 0\n",
        3,
        "horizon_days must be a whole number from 1 to 366",
        id="bad-horizon",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  weekday: funday\n",
        3,
        "weekday 'funday' must be a day name",
        id="bad-weekday",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  start_year: soon\n",
        3,
        "start_year must be a whole number",
        id="bad-start-year",
    ),
    pytest.param(
        "- id: a\n  kind: digest\n  title: ''\n",
        3,
        "title must be non-empty text",
        id="empty-title",
    ),
    pytest.param(
        "- id: a\n  kind: deadline\n  title: T\n  due: 2025-09-04T09:00:00\n",
        4,
        "has a time of day",
        id="due-with-time",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_RULES)
def test_bad_rule_is_reported_with_file_and_line(
    tmp_path: Path, factbase: FactBase, text: str, line: int, message: str
) -> None:
    rules, problems = load(tmp_path, factbase, text)
    assert rules == []
    assert any(
        p.startswith(f"seeds/reminders.yaml:{line}: error: ") and message in p for p in problems
    ), problems


def test_duplicate_rule_id_points_at_the_first(tmp_path: Path, factbase: FactBase) -> None:
    rules, problems = load(
        tmp_path,
        factbase,
        """\
        - id: weekly
          kind: digest
        - id: weekly
          kind: digest
        """,
    )
    assert [r.line for r in rules] == [1]
    assert problems == [
        "seeds/reminders.yaml:3: error: duplicate rule id 'weekly' (first at line 1)"
    ]


def test_valid_rules_load_beside_invalid_ones(tmp_path: Path, factbase: FactBase) -> None:
    rules, problems = load(
        tmp_path,
        factbase,
        """\
        - id: good
          kind: anniversary
          fact: f1
          title: the meeting
        - id: bad
          kind: deadline
          title: T
          due: 2025-02-30
          lead_days: [-1]
          time: "24:00"
        """,
    )
    assert [r.id for r in rules] == ["good"]
    lines = sorted(int(p.split(":")[1]) for p in problems)
    assert lines == [8, 9, 10]


def test_yaml_syntax_error_has_its_line(tmp_path: Path, factbase: FactBase) -> None:
    rules, problems = load(tmp_path, factbase, "- id: a\n  kind: [digest\n  time: x\n")
    assert rules == []
    assert len(problems) == 1
    assert problems[0].startswith("seeds/reminders.yaml:") and "YAML syntax" in problems[0]
    assert int(problems[0].split(":")[1]) in (2, 3)


def test_file_must_be_a_list_of_mappings(tmp_path: Path, factbase: FactBase) -> None:
    _, problems = load(tmp_path, factbase, "id: a\nkind: digest\n")
    assert problems == ["seeds/reminders.yaml:1: error: the file must be a list of reminder rules"]
    _, problems = load(tmp_path, factbase, "- id: a\n  kind: digest\n- just text\n")
    assert problems == [
        "seeds/reminders.yaml:3: error: each rule must be a mapping (id, kind, ...)"
    ]


def test_missing_or_empty_file_means_no_reminders(tmp_path: Path, factbase: FactBase) -> None:
    assert load_reminder_rules(tmp_path / "nowhere.yaml", factbase) == ([], [])
    assert load(tmp_path, factbase, "# nothing yet\n") == ([], [])


def test_topic_outside_the_facts_topics_is_a_warning(tmp_path: Path, factbase: FactBase) -> None:
    rules, problems = load(
        tmp_path,
        factbase,
        """\
        - id: ann
          kind: anniversary
          fact: f1
          title: the meeting
          topic: beta
        """,
    )
    assert [r.topic_id for r in rules] == ["beta"]
    assert problems == [
        "seeds/reminders.yaml:5: warning: rule 'ann': topic 'beta' is not one of "
        "fact 'f1''s topics (alpha)"
    ]


def test_month_and_range_facts_can_be_anniversaries(tmp_path: Path, factbase: FactBase) -> None:
    rules, problems = load(
        tmp_path,
        factbase,
        """\
        - id: month
          kind: anniversary
          fact: f-month
          title: the March meeting
        - id: range
          kind: anniversary
          fact: f-range
          title: the summit
        """,
    )
    assert problems == []
    assert [r.id for r in rules] == ["month", "range"]


def test_field_of_another_kind_is_reported_once(tmp_path: Path, factbase: FactBase) -> None:
    rules, problems = load(
        tmp_path,
        factbase,
        "- id: a\n  kind: digest\n  due: 2025-02-30\n  fact: ghost\n  lead_days: [-1]\n",
    )
    assert rules == []
    assert problems == [
        "seeds/reminders.yaml:3: error: rule 'a': field 'due' does not apply to digest rules "
        "(only deadline)",
        "seeds/reminders.yaml:4: error: rule 'a': field 'fact' does not apply to digest rules "
        "(only anniversary, deadline)",
        "seeds/reminders.yaml:5: error: rule 'a': field 'lead_days' does not apply to digest "
        "rules (only deadline)",
    ]


def test_valid_rules_load_without_pythons_yaml_composer(
    tmp_path: Path, factbase: FactBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyYAML's pure-Python composer (10% of a `run-due`) is only for a malformed item's line."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("yaml.compose called")

    monkeypatch.setattr(yaml, "compose", refuse)
    path = tmp_path / "reminders.yaml"
    path.write_text("- id: d1\n  kind: deadline\n  title: t\n  due: 2026-09-10\n")
    rules, problems = load_reminder_rules(path, factbase)
    assert [r.id for r in rules] == ["d1"] and problems == []


def test_unknown_fields_of_any_yaml_type_are_each_reported(
    tmp_path: Path, factbase: FactBase
) -> None:
    """A number and a string as keys (not comparable) are both reported, not a crash."""
    rules, problems = load(tmp_path, factbase, "- id: a\n  kind: digest\n  colour: red\n  1: x\n")
    assert rules == []
    assert [p.split(": error: ")[1].split(" (")[0] for p in problems] == [
        "rule 'a': unknown field 1",
        "rule 'a': unknown field 'colour'",
    ]


def test_a_rules_file_that_is_not_utf8_is_reported_on_its_line(
    tmp_path: Path, factbase: FactBase
) -> None:
    path = tmp_path / "seeds" / "reminders.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"- id: a\n  kind: digest\n  title: caf\xe9\n")
    assert load_reminder_rules(path, factbase) == (
        [],
        [Problem("seeds/reminders.yaml", 3, "not UTF-8 text")],
    )


def test_a_rule_id_ending_in_a_newline_is_not_a_slug(tmp_path: Path, factbase: FactBase) -> None:
    rules, problems = load(tmp_path, factbase, '- id: "a\\n"\n  kind: digest\n')
    assert rules == []
    assert any("id must be a slug" in p for p in problems), problems
