"""Occurrences: New Zealand daylight saving 2025–2027, precision, weekends, leap days, keys.

Every test passes explicit aware datetimes; nothing reads the wall clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import CommandHandler
from bot.dates import DateSpan, PartialDate
from bot.factbase import FactBase, load_factbase
from bot.reminders.occurrences import (
    ANNIVERSARY,
    ANNIVERSARY_MONTH,
    DEADLINE,
    DIGEST,
    Occurrence,
    ReminderSchedule,
    compute_occurrences,
    format_when,
    local_datetime,
    ordinal,
)
from bot.reminders.rules import ReminderRule, RuleKind, WeekendPolicy, load_reminder_rules
from bot.state import Knowledge, KnowledgeHolder
from bot.status_replies import UpcomingReply
from tests.seedkit import fact_yaml, make_seeds, topics_yaml

NZ = ZoneInfo("Pacific/Auckland")
UTC = dt.UTC
CHANNEL = "C0REMIND"

FACTS = {
    "gap-2025": "2020-09-28",  # DST starts Sunday 28 September 2025
    "gap-2026": "2020-09-27",  # DST starts Sunday 27 September 2026
    "back-2026": "2020-04-05",  # DST ends Sunday 5 April 2026
    "back-2027": "2020-04-04",  # DST ends Sunday 4 April 2027
    "joint": "2024-09-04",
    "saturday": "2021-09-06",  # 6 September 2025 is a Saturday
    "month": "2021-03",  # 1 March 2025 is a Saturday
    "year-2025": "2025",
    "leap": "2024-02-29",
    "range": "2023-07-11/2023-07-12",
    "period": "2024/2027",
}


@pytest.fixture(scope="module")
def factbase(tmp_path_factory: pytest.TempPathFactory) -> FactBase:
    facts = fact_yaml("f1") + "".join(
        fact_yaml(fid, date=date, topics="[beta, alpha]" if fid == "joint" else "[alpha]")
        for fid, date in FACTS.items()
    )
    seeds = make_seeds(
        tmp_path_factory.mktemp("occ"), facts=facts, topics=topics_yaml("alpha", "beta")
    )
    return load_factbase(seeds).require()


def rule(rule_id: str, kind: RuleKind = RuleKind.ANNIVERSARY, **fields: Any) -> ReminderRule:
    fields.setdefault("title", f"the {rule_id}")
    if kind is RuleKind.DEADLINE:
        fields.setdefault("weekend", WeekendPolicy.PREVIOUS_WORKING_DAY)
    return ReminderRule(id=rule_id, kind=kind, **fields)


def at(text: str) -> dt.datetime:
    """An aware datetime from ISO 8601 with an offset, or a local NZ time without one."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=NZ)


def occurrences(
    rules: list[ReminderRule],
    factbase: FactBase,
    start: str,
    end: str,
    channel: str | None = CHANNEL,
) -> list[Occurrence]:
    return compute_occurrences(
        rules, factbase, at(start), at(end), default_timezone=NZ, default_channel=channel
    )


def offset_hours(value: dt.datetime) -> float:
    offset = value.utcoffset()
    assert offset is not None
    return offset.total_seconds() / 3600


# --- daylight saving ---------------------------------------------------------------------------

DST_CHANGES = [
    # (the Sunday of the change, offset before, offset after)
    pytest.param(dt.date(2025, 9, 28), 12, 13, id="starts-2025"),
    pytest.param(dt.date(2026, 4, 5), 13, 12, id="ends-2026"),
    pytest.param(dt.date(2026, 9, 27), 12, 13, id="starts-2026"),
    pytest.param(dt.date(2027, 4, 4), 13, 12, id="ends-2027"),
]


@pytest.mark.parametrize(("sunday", "before", "after"), DST_CHANGES)
def test_nine_oclock_digest_is_nine_local_on_both_sides_of_a_change(
    factbase: FactBase, sunday: dt.date, before: int, after: int
) -> None:
    digest = rule("weekly", RuleKind.DIGEST, title="Weekly look-ahead")
    found = occurrences(
        [digest],
        factbase,
        f"{sunday - dt.timedelta(days=7)}T00:00",
        f"{sunday + dt.timedelta(days=2)}T00:00",
    )
    assert [o.local.date() for o in found] == [
        sunday - dt.timedelta(days=6),
        sunday + dt.timedelta(days=1),
    ]
    assert [o.local.time() for o in found] == [dt.time(9, 0)] * 2
    assert [offset_hours(o.local) for o in found] == [before, after]
    assert [o.utc.hour for o in found] == [9 - before + 24, 9 - after + 24]
    assert all(o.utc.date() == o.local.date() - dt.timedelta(days=1) for o in found)


def test_daily_view_of_the_2025_change_in_utc(factbase: FactBase) -> None:
    weekly = rule("weekly", RuleKind.DIGEST, title="Weekly")
    found = occurrences([weekly], factbase, "2025-09-20T00:00", "2025-10-01T00:00")
    assert [o.utc for o in found] == [
        dt.datetime(2025, 9, 21, 21, 0, tzinfo=UTC),
        dt.datetime(2025, 9, 28, 20, 0, tzinfo=UTC),
    ]
    assert [o.local.tzname() for o in found] == ["NZST", "NZDT"]


@pytest.mark.parametrize(
    ("fact_id", "day"), [("gap-2025", dt.date(2025, 9, 28)), ("gap-2026", dt.date(2026, 9, 27))]
)
def test_time_in_the_spring_forward_gap_moves_forward_by_the_gap(
    factbase: FactBase, fact_id: str, day: dt.date
) -> None:
    early = rule("early", fact_id=fact_id, time=dt.time(2, 30))
    found = occurrences([early], factbase, f"{day}T00:00", f"{day + dt.timedelta(days=1)}T00:00")
    assert len(found) == 1
    occ = found[0]
    # 02:30 does not exist: read with the standard offset (+12) it is 14:30 UTC = 03:30 NZDT.
    assert occ.local.replace(tzinfo=None) == dt.datetime.combine(day, dt.time(3, 30))
    assert offset_hours(occ.local) == 13
    assert occ.utc == dt.datetime.combine(day - dt.timedelta(days=1), dt.time(14, 30), tzinfo=UTC)
    assert occ.key == f"early:{day}:0"
    assert occ.for_date == day


@pytest.mark.parametrize(
    ("fact_id", "day"), [("back-2026", dt.date(2026, 4, 5)), ("back-2027", dt.date(2027, 4, 4))]
)
def test_time_that_occurs_twice_is_posted_once_at_the_first(
    factbase: FactBase, fact_id: str, day: dt.date
) -> None:
    early = rule("early", fact_id=fact_id, time=dt.time(2, 30))
    found = occurrences(
        [early],
        factbase,
        f"{day - dt.timedelta(days=1)}T00:00",
        f"{day + dt.timedelta(days=1)}T12:00",
    )
    assert len(found) == 1
    occ = found[0]
    assert occ.local.replace(tzinfo=None) == dt.datetime.combine(day, dt.time(2, 30))
    assert occ.local.fold == 0
    assert offset_hours(occ.local) == 13  # the first 02:30, still daylight time
    assert occ.utc == dt.datetime.combine(day - dt.timedelta(days=1), dt.time(13, 30), tzinfo=UTC)


def test_window_that_holds_only_the_second_0230_has_nothing(factbase: FactBase) -> None:
    early = rule("early", fact_id="back-2026", time=dt.time(2, 30))
    # The second 02:30 NZST is 14:30 UTC; the posting was at the first (13:30 UTC).
    found = occurrences([early], factbase, "2026-04-04T14:00:00+00:00", "2026-04-04T15:00:00+00:00")
    assert found == []


@given(
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
@settings(max_examples=150, deadline=None)
def test_any_anniversary_is_posted_once_a_year_at_its_wall_time(
    factbase: FactBase, month: int, day: int, hour: int, minute: int
) -> None:
    try:
        anchor = dt.date(2020, month, day)
    except ValueError:
        return
    fact = dataclasses.replace(
        factbase.facts["f1"], id="any", date=DateSpan(PartialDate.from_date(anchor))
    )
    base = dataclasses.replace(factbase, facts={**factbase.facts, "any": fact})
    wanted = dt.time(hour, minute)
    found = occurrences(
        [rule("any", fact_id="any", time=wanted)], base, "2025-01-01T00:00", "2028-01-01T00:00"
    )
    assert [o.for_date.year for o in found] == [2025, 2026, 2027]
    for occ in found:
        assert occ.local.date() == occ.for_date
        naive = dt.datetime.combine(occ.for_date, wanted)
        shift = occ.local.replace(tzinfo=None) - naive
        exists = (
            naive.replace(tzinfo=NZ).astimezone(UTC).astimezone(NZ).replace(tzinfo=None) == naive
        )
        assert shift == (dt.timedelta(0) if exists else dt.timedelta(hours=1))


def test_rules_in_other_zones_keep_their_own_wall_time(factbase: FactBase) -> None:
    london = rule("london", fact_id="joint", timezone=ZoneInfo("Europe/London"))
    auckland = rule("auckland", fact_id="joint")
    found = occurrences(
        [london, auckland], factbase, "2025-09-03T00:00:00+00:00", "2025-09-06T00:00:00+00:00"
    )
    assert [o.rule_id for o in found] == ["auckland", "london"]  # sorted by UTC
    assert [o.local.hour for o in found] == [9, 9]
    assert [o.utc.hour for o in found] == [21, 8]
    assert found[1].local.tzinfo == ZoneInfo("Europe/London")


def test_local_datetime_is_documented_normalisation() -> None:
    assert local_datetime(dt.date(2025, 9, 28), dt.time(2, 0), NZ).hour == 3
    assert local_datetime(dt.date(2025, 9, 28), dt.time(1, 59), NZ).hour == 1
    assert local_datetime(dt.date(2026, 4, 5), dt.time(2, 0), NZ).tzname() == "NZDT"
    assert local_datetime(dt.date(2026, 4, 5), dt.time(3, 0), NZ).tzname() == "NZST"


# --- precision and dates -----------------------------------------------------------------------


def test_day_anniversary_every_year_with_ordinal_and_label(factbase: FactBase) -> None:
    joint = rule("joint", fact_id="joint", title="the ROK–NZ Joint Statement")
    found = occurrences([joint], factbase, "2024-01-01T00:00", "2028-01-01T00:00")
    assert [o.key for o in found] == [
        "joint:2025-09-04:0",
        "joint:2026-09-04:0",
        "joint:2027-09-04:0",
    ]
    assert [o.ordinal for o in found] == [1, 2, 3]
    assert found[1].label == "2nd anniversary of the ROK–NZ Joint Statement"
    assert found[0].when == "Thu 4 Sep 2025 09:00 NZST"
    assert {(o.kind, o.fact_id, o.topic_id, o.channel, o.lead_days) for o in found} == {
        (ANNIVERSARY, "joint", "beta", CHANNEL, 0)
    }


def test_month_precision_is_announced_on_the_first_working_day(factbase: FactBase) -> None:
    month = rule("month", fact_id="month", title="the March meeting")
    found = occurrences([month], factbase, "2025-01-01T00:00", "2028-01-01T00:00")
    assert [o.local.date() for o in found] == [
        dt.date(2025, 3, 3),
        dt.date(2026, 3, 2),
        dt.date(2027, 3, 1),
    ]
    assert [o.key for o in found] == [
        "month:2025-03-01:0",
        "month:2026-03-01:0",
        "month:2027-03-01:0",
    ]
    assert {o.kind for o in found} == {ANNIVERSARY_MONTH}
    assert found[0].label == "This month: 4th anniversary of the March meeting (March 2021)"


def test_range_anniversary_uses_its_start(factbase: FactBase) -> None:
    summit = rule("summit", fact_id="range", title="the Vilnius Summit")
    found = occurrences([summit], factbase, "2025-01-01T00:00", "2026-01-01T00:00")
    assert [(o.key, o.ordinal) for o in found] == [("summit:2025-07-11:0", 2)]


def test_year_precision_deadline_falls_on_the_last_working_day(factbase: FactBase) -> None:
    framework = rule("csp", RuleKind.DEADLINE, fact_id="year-2025", title="the CSP framework")
    found = occurrences([framework], factbase, "2025-01-01T00:00", "2026-06-01T00:00")
    assert [(o.key, o.local.date().isoformat(), o.label) for o in found] == [
        ("csp:2025-12-31:30", "2025-12-01", "30 days to the CSP framework (due Wed 31 Dec 2025)"),
        ("csp:2025-12-31:7", "2025-12-24", "7 days to the CSP framework (due Wed 31 Dec 2025)"),
        ("csp:2025-12-31:1", "2025-12-30", "1 day to the CSP framework (due Wed 31 Dec 2025)"),
        ("csp:2025-12-31:0", "2025-12-31", "Due today: the CSP framework"),
    ]
    assert {(o.kind, o.ordinal) for o in found} == {(DEADLINE, None)}


@pytest.mark.parametrize(
    ("due", "date"),
    [
        (PartialDate(2028), dt.date(2028, 12, 29)),  # 31 Dec 2028 is a Sunday
        (PartialDate(2022), dt.date(2022, 12, 30)),  # 31 Dec 2022 is a Saturday
        (PartialDate(2026, 2), dt.date(2026, 2, 27)),  # 28 Feb 2026 is a Saturday
        (PartialDate(2024, 2), dt.date(2024, 2, 29)),  # a leap year's February
        (PartialDate(2025, 9, 6), dt.date(2025, 9, 6)),  # a day is a day, even a Saturday
    ],
)
def test_due_date_of_each_precision(factbase: FactBase, due: PartialDate, date: dt.date) -> None:
    deadline = rule("d", RuleKind.DEADLINE, due=due, lead_days=(0,), weekend=WeekendPolicy.SAME_DAY)
    found = occurrences([deadline], factbase, "2020-01-01T00:00", "2030-01-01T00:00")
    assert [o.for_date for o in found] == [date]


def test_explicit_due_overrides_the_fact_and_a_range_uses_its_end(factbase: FactBase) -> None:
    period = rule("period", RuleKind.DEADLINE, fact_id="period", lead_days=(0,))
    explicit = rule(
        "explicit",
        RuleKind.DEADLINE,
        fact_id="period",
        lead_days=(0,),
        due=PartialDate(2026, 6, 30),
    )
    found = occurrences([period, explicit], factbase, "2024-01-01T00:00", "2030-01-01T00:00")
    assert [o.key for o in found] == ["explicit:2026-06-30:0", "period:2027-12-31:0"]
    assert {o.fact_id for o in found} == {"period"}


def test_leap_day_anniversary_falls_on_28_february_in_common_years(factbase: FactBase) -> None:
    leap = rule("leap", fact_id="leap", title="the leap-day launch")
    found = occurrences([leap], factbase, "2025-01-01T00:00", "2029-01-01T00:00")
    assert [o.key for o in found] == [
        "leap:2025-02-28:0",
        "leap:2026-02-28:0",
        "leap:2027-02-28:0",
        "leap:2028-02-29:0",
    ]
    assert [o.ordinal for o in found] == [1, 2, 3, 4]
    assert found[3].label == "4th anniversary of the leap-day launch"


def test_start_year_holds_back_earlier_occurrences(factbase: FactBase) -> None:
    joint = rule("joint", fact_id="joint", start_year=2027)
    weekly = rule("weekly", RuleKind.DIGEST, start_year=2027)
    found = occurrences([joint, weekly], factbase, "2025-01-01T00:00", "2027-01-20T00:00")
    assert [o.key for o in found] == [
        "weekly:2027-01-04:0",
        "weekly:2027-01-11:0",
        "weekly:2027-01-18:0",
    ]
    later = occurrences([joint], factbase, "2027-01-01T00:00", "2028-01-01T00:00")
    assert [o.key for o in later] == ["joint:2027-09-04:0"]


# --- weekends ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "posted", "label"),
    [
        (WeekendPolicy.SAME_DAY, dt.date(2025, 9, 6), "4th anniversary of the launch"),
        (
            WeekendPolicy.PREVIOUS_WORKING_DAY,
            dt.date(2025, 9, 5),
            "4th anniversary of the launch (falls on Saturday 6 September)",
        ),
        (
            WeekendPolicy.NEXT_WORKING_DAY,
            dt.date(2025, 9, 8),
            "4th anniversary of the launch (falls on Saturday 6 September)",
        ),
    ],
)
def test_anniversary_weekend_policy(
    factbase: FactBase, policy: WeekendPolicy, posted: dt.date, label: str
) -> None:
    launch = rule("launch", fact_id="saturday", title="the launch", weekend=policy)
    found = occurrences([launch], factbase, "2025-09-01T00:00", "2025-09-15T00:00")
    assert [(o.local.date(), o.label, o.key) for o in found] == [
        (posted, label, "launch:2025-09-06:0")
    ]


def test_anniversary_default_is_the_day_itself(factbase: FactBase) -> None:
    assert rule("x", fact_id="saturday").weekend is WeekendPolicy.SAME_DAY


def test_deadline_on_a_saturday_moves_to_friday_and_shares_the_day_once(factbase: FactBase) -> None:
    due = rule("due", RuleKind.DEADLINE, due=PartialDate(2025, 9, 6), title="the report")
    found = occurrences([due], factbase, "2025-08-01T00:00", "2025-09-30T00:00")
    # 30 days before is Thu 7 Aug; 7 days before is Sat 30 Aug -> Fri 29 Aug; 1 day before is
    # Fri 5 Sep, and the day itself (Sat) also moves to Fri 5 Sep: posted once, for lead 0.
    assert [(o.local.date().isoformat(), o.key, o.label) for o in found] == [
        ("2025-08-07", "due:2025-09-06:30", "30 days to the report (due Sat 6 Sep 2025)"),
        ("2025-08-29", "due:2025-09-06:7", "8 days to the report (due Sat 6 Sep 2025)"),
        ("2025-09-05", "due:2025-09-06:0", "1 day to the report (due Sat 6 Sep 2025)"),
    ]


def test_deadline_next_working_day_and_same_day_policies(factbase: FactBase) -> None:
    nxt = rule(
        "nxt",
        RuleKind.DEADLINE,
        due=PartialDate(2025, 9, 6),
        title="the report",
        lead_days=(1, 0),
        weekend=WeekendPolicy.NEXT_WORKING_DAY,
    )
    same = rule(
        "same",
        RuleKind.DEADLINE,
        due=PartialDate(2025, 9, 6),
        title="the report",
        lead_days=(0,),
        weekend=WeekendPolicy.SAME_DAY,
    )
    found = occurrences([nxt, same], factbase, "2025-09-01T00:00", "2025-09-30T00:00")
    assert [(o.local.date().isoformat(), o.key, o.label) for o in found] == [
        ("2025-09-05", "nxt:2025-09-06:1", "1 day to the report (due Sat 6 Sep 2025)"),
        ("2025-09-06", "same:2025-09-06:0", "Due today: the report"),
        ("2025-09-08", "nxt:2025-09-06:0", "Was due Sat 6 Sep 2025: the report"),
    ]


# --- keys, windows, determinism ----------------------------------------------------------------


def all_rules() -> list[ReminderRule]:
    return [
        rule("joint", fact_id="joint"),
        rule("month", fact_id="month"),
        rule("leap", fact_id="leap"),
        rule("summit", fact_id="range", weekend=WeekendPolicy.PREVIOUS_WORKING_DAY),
        rule("early", fact_id="gap-2025", time=dt.time(2, 30)),
        rule("back", fact_id="back-2026", time=dt.time(2, 30)),
        rule("csp", RuleKind.DEADLINE, fact_id="year-2025"),
        rule("period", RuleKind.DEADLINE, fact_id="period", lead_days=(365, 90, 30, 7, 1, 0)),
        rule("weekly", RuleKind.DIGEST),
    ]


def test_keys_are_unique_stable_and_independent_of_the_window(factbase: FactBase) -> None:
    wide = occurrences(all_rules(), factbase, "2025-01-01T00:00", "2028-01-01T00:00")
    assert len({o.key for o in wide}) == len(wide)
    assert wide == occurrences(all_rules(), factbase, "2025-01-01T00:00", "2028-01-01T00:00")
    pieces = [
        o
        for month in range(36)
        for o in occurrences(
            all_rules(),
            factbase,
            f"{2025 + month // 12}-{month % 12 + 1:02d}-01T00:00",
            f"{2025 + (month + 1) // 12}-{(month + 1) % 12 + 1:02d}-01T00:00",
        )
    ]
    assert pieces == wide
    for occ in wide:
        assert occ.key == f"{occ.rule_id}:{occ.for_date.isoformat()}:{occ.lead_days}"


def test_sorted_by_utc_then_key(factbase: FactBase) -> None:
    twins = [rule("b-twin", fact_id="joint"), rule("a-twin", fact_id="joint")]
    found = occurrences(twins + all_rules(), factbase, "2025-01-01T00:00", "2027-01-01T00:00")
    assert found == sorted(found, key=lambda o: (o.utc, o.key))
    first = [o.key for o in found if o.for_date == dt.date(2025, 9, 4)]
    assert first == ["a-twin:2025-09-04:0", "b-twin:2025-09-04:0", "joint:2025-09-04:0"]


def test_window_is_half_open(factbase: FactBase) -> None:
    joint = [rule("joint", fact_id="joint")]
    assert len(occurrences(joint, factbase, "2025-09-04T09:00", "2025-09-04T09:01")) == 1
    assert occurrences(joint, factbase, "2025-09-04T08:00", "2025-09-04T09:00") == []


def test_naive_window_is_refused(factbase: FactBase) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_occurrences(
            [],
            factbase,
            dt.datetime(2025, 1, 1),
            dt.datetime(2026, 1, 1),
            default_timezone=NZ,
            default_channel=None,
        )


def test_channel_topic_and_missing_fact(factbase: FactBase) -> None:
    own = rule("own", fact_id="joint", channel="C0OTHER", topic_id="alpha")
    gone = rule("gone", fact_id="no-longer-there")
    found = occurrences(
        [own, gone, rule("plain", fact_id="joint")],
        factbase,
        "2025-09-01T00:00",
        "2025-09-10T00:00",
        channel=None,
    )
    assert [(o.rule_id, o.channel, o.topic_id) for o in found] == [
        ("own", "C0OTHER", "alpha"),
        ("plain", None, "beta"),
    ]


def test_ten_thousand_rules_over_a_year_come_out_in_time_order(factbase: FactBase) -> None:
    ids = ["joint", "month", "leap", "range", "saturday", "gap-2025", "back-2026"]
    rules = []
    for i in range(10_000):
        if i % 2:
            rules.append(rule(f"a{i}", fact_id=ids[i % len(ids)], time=dt.time(i % 24, i % 60)))
        else:
            rules.append(
                rule(f"d{i}", RuleKind.DEADLINE, due=PartialDate(2026, 1 + i % 12, 1 + i % 28))
            )
    found = occurrences(rules, factbase, "2026-01-01T00:00", "2027-01-01T00:00")
    assert len(found) > 20_000  # how fast: bench/reminders.py (occurrences for 10,000 rules)
    assert [o.utc for o in found] == sorted(o.utc for o in found)


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112, 113)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "23rd",
        "101st",
        "111th",
        "112th",
        "113th",
    ]


def test_format_when_names_the_zone() -> None:
    assert format_when(dt.datetime(2025, 9, 29, 9, 0, tzinfo=NZ)) == "Mon 29 Sep 2025 09:00 NZDT"


def test_format_when_keeps_each_zone_of_one_instant_apart() -> None:
    # format_when is cached; aware datetimes of one instant compare equal across zones
    local = dt.datetime(2025, 9, 29, 9, 0, tzinfo=NZ)
    assert format_when(local) == "Mon 29 Sep 2025 09:00 NZDT"
    assert format_when(local.astimezone(dt.UTC)) == "Sun 28 Sep 2025 20:00 UTC"
    assert format_when(local) == "Mon 29 Sep 2025 09:00 NZDT"


# --- schedule: upcoming and digests ------------------------------------------------------------


def test_upcoming_fits_the_command_handler_and_filters_by_topic(factbase: FactBase) -> None:
    schedule = ReminderSchedule(
        [*all_rules(), rule("mine", fact_id="f1", topic_id="alpha")], NZ, CHANNEL
    )
    items = schedule.upcoming(factbase, dt.date(2025, 9, 1), 7, None)
    assert [(i.when, i.label) for i in items] == [
        ("Thu 4 Sep 2025 09:00 NZST", "1st anniversary of the joint")
    ]
    assert schedule.upcoming(factbase, dt.date(2025, 9, 1), 7, "beta") == items
    assert schedule.upcoming(factbase, dt.date(2025, 9, 1), 7, "alpha") == items  # 2nd topic
    assert schedule.upcoming(factbase, dt.date(2025, 12, 25), 7, "beta") == ()
    handler = CommandHandler(KnowledgeHolder(Knowledge.build(factbase, schedule)))
    reply = handler.handle("upcoming 7", today=dt.date(2025, 9, 1))
    assert isinstance(reply, UpcomingReply)
    assert reply.items == items


def test_digest_lists_what_falls_in_its_horizon_for_its_channel(factbase: FactBase) -> None:
    rules = [
        rule("weekly", RuleKind.DIGEST, title="Weekly look-ahead"),
        rule("joint", fact_id="joint", title="the Joint Statement"),
        rule("launch", fact_id="saturday", title="the launch"),
        rule("elsewhere", fact_id="joint", channel="C0OTHER"),
        rule("report", RuleKind.DEADLINE, due=PartialDate(2025, 9, 12), title="the report"),
        rule("later", RuleKind.DEADLINE, due=PartialDate(2025, 9, 30), title="the review"),
        rule("month", fact_id="month"),
    ]
    schedule = ReminderSchedule(rules, NZ, CHANNEL)
    digest = schedule.between_days(factbase, dt.date(2025, 9, 1), 1)[0]
    assert digest.kind == DIGEST and digest.label == "Weekly look-ahead: the next 14 days"
    entries = schedule.digest_entries(digest, factbase)
    assert [(e.when, e.label) for e in entries] == [
        ("Thu 4 Sep 2025", "1st anniversary of the Joint Statement"),
        ("Sat 6 Sep 2025", "4th anniversary of the launch"),
        ("Fri 12 Sep 2025", "Due: the report"),
    ]
    march = schedule.between_days(factbase, dt.date(2026, 2, 23), 1)[0]
    assert [(e.when, e.label) for e in schedule.digest_entries(march, factbase)] == [
        ("March 2026", "5th anniversary of the month (March 2021)")
    ]


def test_digest_with_a_topic_lists_only_that_topic(factbase: FactBase) -> None:
    rules = [
        rule("weekly", RuleKind.DIGEST, topic_id="beta"),
        rule("joint", fact_id="joint"),
        rule("launch", fact_id="saturday"),
    ]
    schedule = ReminderSchedule(rules, NZ, CHANNEL)
    digest = schedule.between_days(factbase, dt.date(2025, 9, 1), 1)[0]
    assert [e.rule_id for e in schedule.digest_entries(digest, factbase)] == ["joint"]


def test_rules_from_yaml_give_the_same_occurrences(factbase: FactBase, tmp_path: Path) -> None:
    path = tmp_path / "reminders.yaml"
    path.write_text(
        '- id: early\n  kind: anniversary\n  fact: gap-2025\n  title: the early\n  time: "02:30"\n',
        encoding="utf-8",
    )
    rules, problems = load_reminder_rules(path, factbase)
    assert problems == []
    found = occurrences(rules, factbase, "2025-09-28T00:00", "2025-09-29T00:00")
    assert [o.local.isoformat() for o in found] == ["2025-09-28T03:30:00+13:00"]
