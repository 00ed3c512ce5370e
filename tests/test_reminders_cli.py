"""`briefbot reminders upcoming|export`: text and JSON output, the iCalendar file, bad rules."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.cli import main
from bot.config import Settings
from bot.reminders.cli import add_reminder_commands, run_reminder_command
from bot.render import Renderer
from bot.state import load_knowledge
from tests.seedkit import fact_yaml, make_seeds, topics_yaml

REPO = Path(__file__).resolve().parents[1]
NZ = ZoneInfo("Pacific/Auckland")
NOW = dt.datetime(2025, 9, 1, 0, 0, tzinfo=dt.UTC)  # Mon 1 Sep 2025, 12:00 NZST

RULES = """\
- id: joint
  kind: anniversary
  fact: joint
  title: the Joint Statement
- id: report
  kind: deadline
  due: 2025-10-03
  title: the report
  lead_days: [7, 0]
  channel: C0OTHER
- id: weekly
  kind: digest
"""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="briefbot")
    add_reminder_commands(top.add_subparsers(dest="command"))
    return top


def run(
    seeds: Path, *argv: str, channel: str | None = "C0REMIND", now: dt.datetime = NOW
) -> tuple[int, str, str]:
    args = parser().parse_args(["reminders", *argv])
    settings = Settings(
        seeds_dir=seeds, templates_dir=REPO / "templates", timezone=NZ, reminder_channel=channel
    )
    loaded = load_knowledge(seeds, timezone=NZ, default_channel=channel)
    out, err = io.StringIO(), io.StringIO()
    code = run_reminder_command(
        args,
        settings,
        loaded.require(),
        Renderer(settings.templates_dir),
        out,
        stderr=err,
        now=now,
        problems=loaded.rule_problems,
    )
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    facts = fact_yaml("f1") + fact_yaml("joint", date="2024-09-04")
    root = make_seeds(tmp_path, facts=facts, topics=topics_yaml("alpha"))
    (root / "reminders.yaml").write_text(RULES, encoding="utf-8")
    return root


def test_upcoming_json_has_key_local_time_offset_kind_rule_fact_channel(seeds: Path) -> None:
    code, out, err = run(
        seeds, "upcoming", "--from", "2025-09-01", "--days", "42", "--format", "json"
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert (document["from"], document["days"], document["timezone"]) == (
        "2025-09-01",
        42,
        "Pacific/Auckland",
    )
    rows = {row["key"]: row for row in document["occurrences"]}
    assert rows["joint:2025-09-04:0"] == {
        "key": "joint:2025-09-04:0",
        "local": "2025-09-04T09:00:00+12:00",
        "utc": "2025-09-03T21:00:00Z",
        "utc_offset": "+12:00",
        "timezone": "Pacific/Auckland",
        "tzname": "NZST",
        "kind": "anniversary",
        "rule": "joint",
        "fact": "joint",
        "channel": "C0REMIND",
        "topic": "alpha",
        "for_date": "2025-09-04",
        "lead_days": 0,
        "ordinal": 1,
        "label": "1st anniversary of the Joint Statement",
    }
    # Daylight time starts on 28 September: 09:00 stays 09:00, the offset changes.
    assert rows["weekly:2025-09-22:0"]["local"] == "2025-09-22T09:00:00+12:00"
    assert rows["weekly:2025-09-29:0"]["local"] == "2025-09-29T09:00:00+13:00"
    assert rows["weekly:2025-09-29:0"]["utc"] == "2025-09-28T20:00:00Z"
    assert rows["report:2025-10-03:7"]["channel"] == "C0OTHER"
    assert rows["report:2025-10-03:7"]["fact"] is None
    assert [row["key"] for row in document["occurrences"]] == [
        "weekly:2025-09-01:0",
        "joint:2025-09-04:0",
        "weekly:2025-09-08:0",
        "weekly:2025-09-15:0",
        "weekly:2025-09-22:0",
        "report:2025-10-03:7",
        "weekly:2025-09-29:0",
        "report:2025-10-03:0",
        "weekly:2025-10-06:0",
    ]


def test_upcoming_text_shows_each_occurrence_with_its_key(seeds: Path) -> None:
    code, out, _ = run(seeds, "upcoming", "--from", "2025-09-25", "--days", "10")
    assert code == 0
    assert out.splitlines() == [
        "3 reminder(s) from 2025-09-25 for 10 days (Pacific/Auckland):",
        "2025-09-26 09:00 +12:00 NZST  deadline          7 days to the report (due Fri 3 Oct 2025)",
        "    key report:2025-10-03:7  rule report  fact -  channel C0OTHER",
        "2025-09-29 09:00 +13:00 NZDT  digest            Weekly look-ahead: the next 14 days",
        "    key weekly:2025-09-29:0  rule weekly  fact -  channel C0REMIND",
        "2025-10-03 09:00 +13:00 NZDT  deadline          Due today: the report",
        "    key report:2025-10-03:0  rule report  fact -  channel C0OTHER",
    ]


def test_upcoming_defaults_to_today_in_the_settings_zone(seeds: Path) -> None:
    # 16:00 UTC on 3 September is 04:00 on 4 September in Auckland.
    code, out, _ = run(
        seeds, "upcoming", "--days", "1", now=dt.datetime(2025, 9, 3, 16, 0, tzinfo=dt.UTC)
    )
    assert code == 0
    assert out.splitlines()[0] == "1 reminder(s) from 2025-09-04 for 1 days (Pacific/Auckland):"
    assert "key joint:2025-09-04:0" in out


def test_upcoming_without_a_channel_says_how_to_set_one(seeds: Path) -> None:
    _, out, _ = run(seeds, "upcoming", "--from", "2025-09-04", "--days", "1", channel=None)
    assert "channel (none: set BRIEFBOT_REMINDER_CHANNEL)" in out
    _, out, _ = run(
        seeds, "upcoming", "--from", "2025-09-04", "--days", "1", "--format", "json", channel=None
    )
    assert json.loads(out)["occurrences"][0]["channel"] is None


def test_upcoming_with_nothing_in_the_window(seeds: Path) -> None:
    (seeds / "reminders.yaml").write_text(RULES.split("- id: weekly")[0], encoding="utf-8")
    code, out, _ = run(seeds, "upcoming", "--from", "2025-11-01", "--days", "7")
    assert (code, out) == (0, "No reminders from 2025-11-01 for 7 days (Pacific/Auckland).\n")


def test_export_writes_an_icalendar_file_that_parses_back(seeds: Path, tmp_path: Path) -> None:
    target = tmp_path / "reminders.ics"
    code, out, _ = run(seeds, "export", "--ics", str(target))
    assert code == 0
    cal = Calendar.from_ical(target.read_bytes())
    events = list(cal.walk("VEVENT"))
    # 1 Sep 2025 to 31 Aug 2026: 53 Monday digests, one anniversary, two deadline postings.
    assert len(events) == 53 + 1 + 2
    assert out == f"wrote 56 event(s) from 2025-09-01 for 365 days to {target}\n"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Pacific/Auckland"]
    by_uid = {str(e["UID"]): e for e in events}
    joint = by_uid["joint:2025-09-04:0@briefbot"]
    start = joint.decoded("DTSTART")
    assert start == dt.datetime(2025, 9, 4, 9, 0, tzinfo=NZ)
    assert start.tzinfo == NZ and start.utcoffset() == dt.timedelta(hours=12)
    assert "DTSTART;TZID=Pacific/Auckland:20250904T090000" in target.read_text()
    assert str(joint["SUMMARY"]) == "1st anniversary of the Joint Statement"
    description = str(joint["DESCRIPTION"])
    assert description.startswith("Ministers met.\n\nSource: Doc One. Ministry of Examples, ")
    assert "https://example.org/one" in description and "/brief alpha" in description
    after = by_uid["weekly:2025-09-29:0@briefbot"].decoded("DTSTART")
    assert after.utcoffset() == dt.timedelta(hours=13) and after.hour == 9
    assert joint.decoded("DTSTAMP") == NOW


def test_bad_rules_stop_the_command_with_file_and_line(
    seeds: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (seeds / "reminders.yaml").write_text(
        RULES + "- id: broken\n  kind: deadline\n  title: T\n  due: 2025-02-30\n", encoding="utf-8"
    )
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(seeds))
    out = io.StringIO()
    code = main(["reminders", "upcoming"], stdout=out)
    err = capsys.readouterr().err
    assert code == 2 and out.getvalue() == ""
    assert "seeds/reminders.yaml:16: error: rule 'broken': due: '2025-02-30' is not a date" in err


def test_subcommand_is_required_and_days_are_checked() -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["reminders"])
    with pytest.raises(SystemExit):
        parser().parse_args(["reminders", "upcoming", "--days", "0"])
    with pytest.raises(SystemExit):
        parser().parse_args(["reminders", "upcoming", "--from", "2025-02-30"])
    with pytest.raises(SystemExit):
        parser().parse_args(["reminders", "export"])
