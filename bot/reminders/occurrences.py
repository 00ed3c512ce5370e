"""When reminders fall: a pure function from (rules, fact base, time window) to occurrences.

Each rule yields events (an anniversary in a given year, a due date, a digest's day) and each
event one posting per lead time, at the rule's local time in the rule's time zone.

Calendar decisions, all deliberate:

- Working days are Monday to Friday. Public holidays are not considered.
- A day-precision anniversary falls on the same month and day every year from the year after
  the fact; 29 February falls on 28 February in a year that is not a leap year. A fact known to
  the month is announced on the first working day of that month ("This month: ..."). A range
  uses its start.
- A deadline falls on its due date (`due:` when given, else the fact's date; a range uses its
  end). A due date known only to the month or the year falls on the last working day of that
  month or year. Each lead time posts that many days earlier. When the weekend policy moves two
  lead times onto the same day, only the one nearer the due date is posted.
- The weekend policy moves a posting that falls on a Saturday or Sunday; it does not move the
  date the occurrence is *for*, which is what its key names.
- Local times are built with `ZoneInfo`, so 09:00 is 09:00 local on both sides of a
  daylight-saving change. A local time is first given `fold=0` and then normalised by a round
  trip through UTC. A time that does not exist (the spring-forward gap, 02:00-03:00 on the last
  Sunday of September in New Zealand) is thereby read with the offset in force before the gap
  and lands the length of the gap later: 02:30 becomes 03:30 NZDT. A time that occurs twice
  (03:00-02:00 on the first Sunday of April) is the first of the two (NZDT); it is posted once.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.brief import UpcomingItem
from bot.dates import MONTH_NAMES, PartialDate, Precision
from bot.factbase.model import Fact, FactBase
from bot.reminders.model import ReminderRule, RuleKind, WeekendPolicy

__all__ = [
    "ANNIVERSARY",
    "ANNIVERSARY_MONTH",
    "DEADLINE",
    "DIGEST",
    "DigestEntry",
    "Occurrence",
    "ReminderSchedule",
    "compute_occurrences",
    "digest_entries",
    "format_when",
    "local_datetime",
    "ordinal",
]

ANNIVERSARY = "anniversary"
ANNIVERSARY_MONTH = "anniversary-month"
DEADLINE = "deadline"
DIGEST = "digest"

_ONE_DAY = dt.timedelta(days=1)
_WEEKEND_SLACK = dt.timedelta(days=3)  # a weekend policy moves a posting at most 2 days


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One reminder to post: which rule, for which date, when (local and UTC), where, saying what.

    `key` is stable across runs and processes: `RULE:FOR-DATE:LEAD` (the date the reminder is
    for, an anniversary or due date or digest day, and the lead time in days), the unit the
    delivery ledger claims.
    """

    key: str
    rule_id: str
    kind: str
    fact_id: str | None
    local: dt.datetime
    for_date: dt.date
    lead_days: int
    channel: str | None
    topic_id: str | None
    ordinal: int | None
    label: str
    utc: dt.datetime
    """When to post, in UTC: `local` converted once (a pass compares it several times a post)."""

    @property
    def when(self) -> str:
        """When to post, for readers: "Thu 4 Sep 2025 09:00 NZST"."""
        return format_when(self.local)


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """Something a look-ahead digest lists: an anniversary or due date in its horizon."""

    day: dt.date
    when: str
    label: str
    rule_id: str
    kind: str
    fact_id: str | None
    topic_id: str | None


@dataclass(frozen=True, slots=True)
class _Event:
    """What a rule marks on the calendar: the date it is for and the day it falls on."""

    for_date: dt.date
    day: dt.date
    kind: str
    ordinal: int | None


def compute_occurrences(
    rules: Iterable[ReminderRule],
    factbase: FactBase,
    start: dt.datetime,
    end: dt.datetime,
    *,
    default_timezone: ZoneInfo,
    default_channel: str | None,
) -> list[Occurrence]:
    """Every occurrence posted in `[start, end)` (aware datetimes), sorted by (UTC time, key).

    Pure and deterministic. A rule whose fact is no longer in `factbase` (after a reload)
    yields nothing.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware datetimes")
    found: list[Occurrence] = []
    spans: dict[ZoneInfo, tuple[dt.date, dt.date]] = {}
    for rule in rules:
        zone = rule.timezone or default_timezone
        span = spans.get(zone)
        if span is None:
            span = spans[zone] = (
                start.astimezone(zone).date() - _ONE_DAY,
                end.astimezone(zone).date() + _ONE_DAY,
            )
        first, last = span
        fact = factbase.facts.get(rule.fact_id) if rule.fact_id else None
        if rule.fact_id and fact is None:
            continue
        channel = rule.channel or default_channel
        topic_id = rule.topic_id or (fact.topics[0] if fact else None)
        for event in _events(rule, fact, first, last):
            for lead, post in _postings(rule, event):
                if not first <= post <= last:
                    continue
                local = local_datetime(post, rule.time, zone)
                if not start <= local < end:
                    continue
                found.append(
                    Occurrence(
                        key=f"{rule.id}:{event.for_date.isoformat()}:{lead}",
                        rule_id=rule.id,
                        kind=event.kind,
                        fact_id=rule.fact_id,
                        local=local,
                        for_date=event.for_date,
                        lead_days=lead,
                        channel=channel,
                        topic_id=topic_id,
                        ordinal=event.ordinal,
                        label=_label(rule, fact, event, post),
                        utc=local.astimezone(dt.UTC),
                    )
                )
    found.sort(key=lambda o: (o.utc, o.key))
    return found


def digest_entries(
    digest: Occurrence,
    rules: Iterable[ReminderRule],
    factbase: FactBase,
    *,
    default_channel: str | None,
) -> list[DigestEntry]:
    """What `digest` lists: anniversaries and due dates of the other rules for its channel
    (and its topic, when the digest names one) in the `horizon_days` from the day it is posted.
    """
    rules = list(rules)
    rule = next((r for r in rules if r.id == digest.rule_id), None)
    if rule is None or rule.kind is not RuleKind.DIGEST:
        raise ValueError(f"{digest.key} is not an occurrence of a digest rule")
    first = digest.local.date()
    last = first + dt.timedelta(days=rule.horizon_days)  # exclusive
    entries = []
    for other in rules:
        if other.kind is RuleKind.DIGEST or (other.channel or default_channel) != digest.channel:
            continue
        fact = factbase.facts.get(other.fact_id) if other.fact_id else None
        if other.fact_id and fact is None:
            continue
        topic_id = other.topic_id or (fact.topics[0] if fact else None)
        if (
            rule.topic_id
            and rule.topic_id != topic_id
            and not (fact and rule.topic_id in fact.topics)
        ):
            continue
        for event in _events(other, fact, first, last):
            if first <= event.day < last:
                entries.append(
                    DigestEntry(
                        day=event.day,
                        when=_month_label(event.for_date)
                        if event.kind == ANNIVERSARY_MONTH
                        else _day_label(event.day),
                        label=_event_label(other, fact, event),
                        rule_id=other.id,
                        kind=event.kind,
                        fact_id=other.fact_id,
                        topic_id=topic_id,
                    )
                )
    entries.sort(key=lambda e: (e.day, e.rule_id))
    return entries


class ReminderSchedule:
    """The loaded rules with the settings' defaults: what the bot's surfaces ask about reminders.

    `upcoming` fits `CommandHandler.upcoming`. Build a new schedule (from `load_reminder_rules`)
    when the fact base is reloaded.
    """

    def __init__(
        self,
        rules: Sequence[ReminderRule],
        default_timezone: ZoneInfo,
        default_channel: str | None = None,
    ) -> None:
        self.rules: tuple[ReminderRule, ...] = tuple(rules)
        self.default_timezone = default_timezone
        self.default_channel = default_channel

    def occurrences(
        self, factbase: FactBase, start: dt.datetime, end: dt.datetime
    ) -> list[Occurrence]:
        """Every occurrence posted in `[start, end)`."""
        return compute_occurrences(
            self.rules,
            factbase,
            start,
            end,
            default_timezone=self.default_timezone,
            default_channel=self.default_channel,
        )

    def between_days(self, factbase: FactBase, first: dt.date, days: int) -> list[Occurrence]:
        """Occurrences from the start of local day `first` for `days` days (default zone)."""
        start = local_datetime(first, dt.time(0, 0), self.default_timezone)
        end = local_datetime(first + dt.timedelta(days=days), dt.time(0, 0), self.default_timezone)
        return self.occurrences(factbase, start, end)

    def upcoming(
        self, factbase: FactBase, today: dt.date, days: int, topic_id: str | None
    ) -> tuple[UpcomingItem, ...]:
        """Anniversaries and deadline reminders from `today` for `days` days (digests left out),
        only those about `topic_id` when given."""
        items = []
        for occ in self.between_days(factbase, today, days):
            if occ.kind == DIGEST:
                continue
            if topic_id is not None and occ.topic_id != topic_id:
                fact = factbase.facts.get(occ.fact_id) if occ.fact_id else None
                if fact is None or topic_id not in fact.topics:
                    continue
            items.append(UpcomingItem(when=occ.when, label=occ.label))
        return tuple(items)

    def digest_entries(self, digest: Occurrence, factbase: FactBase) -> list[DigestEntry]:
        """What the digest occurrence `digest` lists."""
        return digest_entries(digest, self.rules, factbase, default_channel=self.default_channel)

    def rule(self, rule_id: str) -> ReminderRule | None:
        """The rule with this id, if any."""
        return next((r for r in self.rules if r.id == rule_id), None)


# --- calendar --------------------------------------------------------------------------------


def local_datetime(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """`day` at `at` in `zone`: fold=0, then normalised through UTC (see the module docstring)."""
    naive = dt.datetime(day.year, day.month, day.day, at.hour, at.minute, tzinfo=zone, fold=0)
    return naive.astimezone(dt.UTC).astimezone(zone)


def _move_off_weekend(day: dt.date, policy: WeekendPolicy) -> dt.date:
    weekday = day.weekday()
    if weekday < 5 or policy is WeekendPolicy.SAME_DAY:
        return day
    if policy is WeekendPolicy.PREVIOUS_WORKING_DAY:
        return day - dt.timedelta(days=weekday - 4)
    return day + dt.timedelta(days=7 - weekday)


def _first_working_day(year: int, month: int) -> dt.date:
    return _move_off_weekend(dt.date(year, month, 1), WeekendPolicy.NEXT_WORKING_DAY)


def _due_date(partial: PartialDate) -> dt.date:
    """A day-precision date itself, else the last working day of its month or year."""
    if partial.precision is Precision.DAY:
        return partial.first_day()
    return _move_off_weekend(partial.last_day(), WeekendPolicy.PREVIOUS_WORKING_DAY)


def _anniversary(month: int, day: int, year: int) -> dt.date:
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return dt.date(year, month, day)


def _events(rule: ReminderRule, fact: Fact | None, first: dt.date, last: dt.date) -> list[_Event]:
    """The rule's events that can be posted, or fall, between `first` and `last`.

    The bounds are widened by the most a weekend policy moves a posting, so callers filter the
    result; a deadline's one event is always returned (its lead times reach far back).
    """
    first, last = first - _WEEKEND_SLACK, last + _WEEKEND_SLACK
    if rule.kind is RuleKind.DEADLINE:
        partial = rule.due or (fact.date.latest if fact and fact.date else None)
        if partial is None:
            return []
        due = _due_date(partial)
        if rule.start_year and due.year < rule.start_year:
            return []
        return [_Event(due, due, DEADLINE, None)]
    low_year = max(first.year, rule.start_year or first.year)
    if rule.kind is RuleKind.DIGEST:
        day = max(first, dt.date(low_year, 1, 1))
        day += dt.timedelta(days=(rule.weekday - day.weekday()) % 7)
        days = []
        while day <= last:
            days.append(_Event(day, day, DIGEST, None))
            day += dt.timedelta(days=7)
        return days
    if fact is None or fact.date is None:
        return []
    anchor = fact.date.start
    if anchor.month is None:
        return []  # known only to the year: not an anniversary (the loader warns)
    events = []
    for year in range(max(low_year, anchor.year + 1), last.year + 1):
        if anchor.day is None:
            events.append(
                _Event(
                    dt.date(year, anchor.month, 1),
                    _first_working_day(year, anchor.month),
                    ANNIVERSARY_MONTH,
                    year - anchor.year,
                )
            )
        else:
            date = _anniversary(anchor.month, anchor.day, year)
            events.append(_Event(date, date, ANNIVERSARY, year - anchor.year))
    return events


def _postings(rule: ReminderRule, event: _Event) -> list[tuple[int, dt.date]]:
    """(lead days, posting day) for an event, after the weekend policy."""
    if event.kind == ANNIVERSARY_MONTH:
        return [(0, event.day)]
    if event.kind != DEADLINE:
        return [(0, _move_off_weekend(event.day, rule.weekend))]
    by_day: dict[dt.date, int] = {}
    for lead in sorted(rule.lead_days):  # nearest the due date first: it wins a shared day
        post = _move_off_weekend(event.for_date - dt.timedelta(days=lead), rule.weekend)
        by_day.setdefault(post, lead)
    return [(lead, post) for post, lead in by_day.items()]


# --- labels ----------------------------------------------------------------------------------


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st, 112th."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# English names whatever the process's locale (`calendar.day_abbr` follows the locale).
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _day_label(day: dt.date) -> str:
    """ "Thu 4 Sep 2025"."""
    return f"{_DAY_NAMES[day.weekday()][:3]} {day.day} {MONTH_NAMES[day.month][:3]} {day.year}"


def _month_label(day: dt.date) -> str:
    """ "September 2025"."""
    return f"{MONTH_NAMES[day.month]} {day.year}"


def format_when(local: dt.datetime) -> str:
    """A local time for readers: "Thu 4 Sep 2025 09:00 NZST".

    Cached: a pass formats the same few times (most reminders are due at the same minutes)
    once per post, and formatting with the zone's name costs a tenth of rendering one. The
    zone is part of the key because aware datetimes in different zones compare equal when
    they are the same instant."""
    return _format_when(local, local.tzinfo)


@functools.lru_cache(maxsize=4096)
def _format_when(local: dt.datetime, _zone: dt.tzinfo | None) -> str:
    return f"{_day_label(local.date())} {local:%H:%M} {local.tzname() or ''}".rstrip()


def _event_label(rule: ReminderRule, fact: Fact | None, event: _Event) -> str:
    """What an event is, independent of when it is posted (digest entries)."""
    if event.kind == ANNIVERSARY:
        return f"{ordinal(event.ordinal or 0)} anniversary of {rule.title}"
    if event.kind == ANNIVERSARY_MONTH:
        since = fact.date.start.human() if fact and fact.date else ""
        return f"{ordinal(event.ordinal or 0)} anniversary of {rule.title} ({since})"
    if event.kind == DEADLINE:
        return f"Due: {rule.title}"
    return rule.title


def _label(rule: ReminderRule, fact: Fact | None, event: _Event, post: dt.date) -> str:
    """What a posting says it is, relative to the day it is posted."""
    if event.kind == ANNIVERSARY:
        text = _event_label(rule, fact, event)
        if post != event.for_date:
            day = event.for_date
            text += f" (falls on {_DAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month]})"
        return text
    if event.kind == ANNIVERSARY_MONTH:
        return f"This month: {_event_label(rule, fact, event)}"
    if event.kind == DEADLINE:
        left = (event.for_date - post).days
        if left == 0:
            return f"Due today: {rule.title}"
        if left < 0:
            return f"Was due {_day_label(event.for_date)}: {rule.title}"
        days = "1 day" if left == 1 else f"{left} days"
        return f"{days} to {rule.title} (due {_day_label(event.for_date)})"
    return f"{rule.title}: the next {rule.horizon_days} days"
