"""Reminder rules: what to remind the team of, when and where, from `seeds/reminders.yaml`.

A rule is an anniversary of a dated fact, a deadline (a fact's date or an explicit `due:`) with
lead times, or a weekly look-ahead digest. The loader checks every rule against the fact base and
reports each problem with file and line, like the fact loader; see the "Reminder rules" section
of `seeds/README.md` for the schema.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.dates import PartialDate, Precision, parse_partial_date
from bot.factbase.common import Collector, check_fields, load_mappings, not_one_of
from bot.factbase.model import Fact, FactBase
from bot.factbase.problems import Problem
from bot.factbase.yamlsrc import LineDict
from bot.ids import CONVERSATION_ID_RE, SLUG_RE
from bot.reminders.model import (
    DEFAULT_DIGEST_WEEKDAY,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_LEAD_DAYS,
    DEFAULT_TIME,
    REMINDERS_FILE,
    ReminderRule,
    RuleKind,
    WeekendPolicy,
)

__all__ = [
    "DEFAULT_DIGEST_WEEKDAY",
    "DEFAULT_HORIZON_DAYS",
    "DEFAULT_LEAD_DAYS",
    "DEFAULT_TIME",
    "MAX_LEAD_DAYS",
    "REMINDERS_FILE",
    "WEEKDAYS",
    "ReminderRule",
    "RuleKind",
    "WeekendPolicy",
    "load_reminder_rules",
]


MAX_HORIZON_DAYS = 366
MAX_LEAD_DAYS = 730
MAX_TITLE_CHARS = 120
DEFAULT_DIGEST_TITLE = "Weekly look-ahead"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEKEND = {
    RuleKind.ANNIVERSARY: WeekendPolicy.SAME_DAY,
    RuleKind.DEADLINE: WeekendPolicy.PREVIOUS_WORKING_DAY,
    RuleKind.DIGEST: WeekendPolicy.SAME_DAY,
}

TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")

COMMON_FIELDS = frozenset(
    {"id", "kind", "title", "channel", "time", "timezone", "weekend", "topic", "start_year"}
)
KIND_FIELDS = {
    RuleKind.ANNIVERSARY: COMMON_FIELDS | {"fact"},
    RuleKind.DEADLINE: COMMON_FIELDS | {"fact", "due", "lead_days"},
    RuleKind.DIGEST: COMMON_FIELDS | {"weekday", "horizon_days"},
}
ALL_FIELDS = frozenset().union(*KIND_FIELDS.values())


def load_reminder_rules(path: Path, factbase: FactBase) -> tuple[list[ReminderRule], list[Problem]]:
    """Load `path` (a YAML list of rules) and check each against `factbase`.

    Returns the valid rules (in file order) and every problem, each with file and line. A rule
    with an error is left out; the others still load. A missing file means no reminders and is
    not a problem.
    """
    path = Path(path)
    if not path.exists():
        return [], []
    return _parse_rules(path, None, factbase)


def parse_reminder_rules(
    text: str, shown: str, factbase: FactBase
) -> tuple[list[ReminderRule], list[Problem]]:
    """The rules in `text` (the content of `reminders.yaml`, named `shown` in problems), each
    checked against `factbase`; see `load_reminder_rules` (used for a published snapshot)."""
    return _parse_rules(Path(shown), text, factbase)


def _parse_rules(
    path: Path, text: str | None, factbase: FactBase
) -> tuple[list[ReminderRule], list[Problem]]:
    out = Collector(path.parent)
    rules: list[ReminderRule] = []
    first_line: dict[str, int] = {}
    for item in load_mappings(
        path, out, None, "reminder rules", "each rule must be a mapping (id, kind, ...)", text=text
    ):
        rule = _RuleParser(path, item, factbase, out).parse()
        rule_id = item.get("id")
        if isinstance(rule_id, str) and SLUG_RE.fullmatch(rule_id):
            if rule_id in first_line:
                out.error(
                    path,
                    item.line_of("id"),
                    f"duplicate rule id {rule_id!r} (first at line {first_line[rule_id]})",
                )
                continue
            first_line[rule_id] = item.line_of("id")
        if rule is not None:
            rules.append(rule)
    return rules, sorted(out.problems)


class _RuleParser:
    """Checks one rule's fields, collecting problems; `parse` gives the rule or None."""

    def __init__(self, path: Path, item: LineDict, factbase: FactBase, out: Collector) -> None:
        self.path = path
        self.item = item
        self.factbase = factbase
        self.out = out
        self._first_problem = len(out.problems)
        rule_id = item.get("id")
        self.label = f"rule {rule_id!r}" if isinstance(rule_id, str) else "rule"

    def error(self, key: str | None, message: str, severity: str = "error") -> None:
        line = self.item.line if key is None else self.item.line_of(key)
        report = self.out.warning if severity == "warning" else self.out.error
        report(self.path, line, f"{self.label}: {message}")

    def parse(self) -> ReminderRule | None:
        item = self.item
        rule_id = item.get("id")
        if "id" in item and (not isinstance(rule_id, str) or not SLUG_RE.fullmatch(rule_id)):
            self.error("id", "id must be a slug of a-z, 0-9 and '-'")
        kind = self._kind()
        self._check_fields(kind)
        if kind is None:
            return None
        title = self._title(kind)
        # Fields that do not apply to this kind are reported once, by _check_fields.
        fact = self._fact() if "fact" in KIND_FIELDS[kind] else None
        due = self._due() if kind is RuleKind.DEADLINE else None
        if kind is RuleKind.DEADLINE and "fact" not in item and "due" not in item:
            self.error(None, "a deadline needs a fact, a due date, or both")
        date_ok = self._check_date(kind, fact, due)
        lead_days = self._lead_days() if kind is RuleKind.DEADLINE else DEFAULT_LEAD_DAYS
        weekday = self._weekday() if kind is RuleKind.DIGEST else DEFAULT_DIGEST_WEEKDAY
        horizon_days = (
            self._int("horizon_days", 1, MAX_HORIZON_DAYS) if kind is RuleKind.DIGEST else None
        )
        time = self._time()
        timezone = self._timezone()
        weekend = self._weekend(kind)
        channel = self._channel()
        topic_id = self._topic(fact)
        start_year = self._int("start_year", 1, 9999)
        problems = self.out.problems[self._first_problem :]
        errors = any(p.severity == "error" for p in problems)
        if errors or not date_ok or not isinstance(rule_id, str) or title is None:
            return None
        return ReminderRule(
            id=rule_id,
            kind=kind,
            title=title,
            fact_id=fact.id if fact else None,
            due=due,
            lead_days=lead_days,
            weekday=weekday,
            horizon_days=horizon_days if horizon_days is not None else DEFAULT_HORIZON_DAYS,
            time=time,
            timezone=timezone,
            weekend=weekend,
            channel=channel,
            topic_id=topic_id,
            start_year=start_year,
            path=self.out.shown(self.path),
            line=item.line,
        )

    def _kind(self) -> RuleKind | None:
        value = self.item.get("kind")
        if "kind" not in self.item:
            return None  # reported by _check_fields
        try:
            return RuleKind(value)
        except ValueError:
            self.error("kind", not_one_of("kind", value, (k.value for k in RuleKind)))
            return None

    def _check_fields(self, kind: RuleKind | None) -> None:
        allowed = KIND_FIELDS[kind] if kind else ALL_FIELDS
        required = {"id", "kind", "fact"} if kind is RuleKind.ANNIVERSARY else {"id", "kind"}
        elsewhere = {
            key: f"does not apply to {kind.value} rules "
            f"(only {', '.join(k.value for k in RuleKind if key in KIND_FIELDS[k])})"
            for key in ALL_FIELDS - allowed
            if kind is not None
        }
        check_fields(
            self.item, allowed, required, self.path, self.out, self.label, elsewhere=elsewhere
        )

    def _title(self, kind: RuleKind) -> str | None:
        value = self.item.get("title")
        if value is None:
            if kind is RuleKind.DIGEST:
                return DEFAULT_DIGEST_TITLE
            self.error(
                None,
                "missing field 'title' (what the reminder names, e.g. "
                "'the ROK–NZ Joint Statement')",
            )
            return None
        if not isinstance(value, str) or not value.strip():
            self.error("title", "title must be non-empty text")
            return None
        title = " ".join(value.split())
        if len(title) > MAX_TITLE_CHARS:
            self.error("title", f"title is {len(title)} characters; at most {MAX_TITLE_CHARS}")
            return None
        return title

    def _fact(self) -> Fact | None:
        if "fact" not in self.item:
            return None
        value = self.item.get("fact")
        if not isinstance(value, str):
            self.error("fact", "fact must be a fact id")
            return None
        fact = self.factbase.facts.get(value)
        if fact is None:
            self.error("fact", f"unknown fact {value!r}")
        return fact

    def _due(self) -> PartialDate | None:
        if "due" not in self.item:
            return None
        value = self.item.get("due")
        try:
            if isinstance(value, dt.datetime):
                raise ValueError(f"{value!r} has a time of day: give a date only")
            if isinstance(value, dt.date):
                return PartialDate.from_date(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return parse_partial_date(f"{value:04d}")
            if isinstance(value, str):
                return parse_partial_date(value)
            raise ValueError(f"{value!r} is not a date: expected YYYY-MM-DD, YYYY-MM or YYYY")
        except ValueError as exc:
            self.error("due", f"due: {exc}")
            return None

    def _check_date(self, kind: RuleKind, fact: Fact | None, due: PartialDate | None) -> bool:
        """Whether the rule has a usable date: anniversaries need a fact dated to the month."""
        if kind is RuleKind.ANNIVERSARY and fact is not None:
            if fact.date is None:
                self.error("fact", f"fact {fact.id!r} has no date, so it has no anniversary")
                return False
            if fact.date.start.precision is Precision.YEAR:
                # Kept, so the file says what the team would like remembered; nothing is posted
                # until a source gives the month or the day.
                self.error(
                    "fact",
                    f"fact {fact.id!r} is dated {fact.date.human()}: a fact known "
                    "only to the year is not an anniversary, so nothing is posted for this rule",
                    severity="warning",
                )
        if kind is RuleKind.DEADLINE and fact is not None and due is None and fact.date is None:
            self.error("fact", f"fact {fact.id!r} has no date: give the deadline a due date")
            return False
        return True

    def _lead_days(self) -> tuple[int, ...]:
        if "lead_days" not in self.item:
            return DEFAULT_LEAD_DAYS
        value = self.item.get("lead_days")
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not value:
            self.error(
                "lead_days", "lead_days must be a list of whole numbers of days, e.g. [30, 7, 1, 0]"
            )
            return DEFAULT_LEAD_DAYS
        leads: list[int] = []
        for lead in value:
            if isinstance(lead, bool) or not isinstance(lead, int):
                self.error("lead_days", f"lead time {lead!r} is not a whole number of days")
            elif lead < 0:
                self.error(
                    "lead_days",
                    f"lead time {lead} is below zero: give days before the "
                    "due date (0 is the day itself)",
                )
            elif lead > MAX_LEAD_DAYS:
                self.error("lead_days", f"lead time {lead} is more than {MAX_LEAD_DAYS} days")
            elif lead in leads:
                self.error("lead_days", f"lead time {lead} is listed twice")
            else:
                leads.append(lead)
        return tuple(sorted(leads, reverse=True))

    def _weekday(self) -> int:
        value = self.item.get("weekday")
        if value is None:
            return DEFAULT_DIGEST_WEEKDAY
        name = value.strip().lower() if isinstance(value, str) else ""
        for index, day in enumerate(WEEKDAYS):
            if name in (day, day[:3]):
                return index
        self.error("weekday", f"weekday {value!r} must be a day name such as monday")
        return DEFAULT_DIGEST_WEEKDAY

    def _int(self, key: str, low: int, high: int) -> int | None:
        if key not in self.item:
            return None
        value = self.item.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(key, f"{key} must be a whole number from {low} to {high}, got {value!r}")
            return None
        return value

    def _time(self) -> dt.time:
        if "time" not in self.item:
            return DEFAULT_TIME
        value = self.item.get("time")
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 10:30 as the base-60 number 630.
            self.error(
                "time",
                f'time must be quoted, e.g. time: "{value // 60}:{value % 60:02d}" '
                "(unquoted, YAML reads it as a number)",
            )
            return DEFAULT_TIME
        match = TIME_RE.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            self.error("time", f'time {value!r} must be HH:MM, e.g. "09:00"')
            return DEFAULT_TIME
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            self.error("time", f"time {value!r} is not a time of day (00:00 to 23:59)")
            return DEFAULT_TIME
        return dt.time(hour, minute)

    def _timezone(self) -> ZoneInfo | None:
        if "timezone" not in self.item:
            return None
        value = self.item.get("timezone")
        try:
            if not isinstance(value, str) or not value.strip():
                raise ValueError
            return ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            self.error(
                "timezone",
                f"unknown time zone {value!r}: give an IANA name such as Pacific/Auckland",
            )
            return None

    def _weekend(self, kind: RuleKind) -> WeekendPolicy:
        if "weekend" not in self.item:
            return DEFAULT_WEEKEND[kind]
        value = self.item.get("weekend")
        try:
            return WeekendPolicy(value)
        except ValueError:
            self.error(
                "weekend",
                not_one_of("weekend", value, (p.value for p in WeekendPolicy)),
            )
            return DEFAULT_WEEKEND[kind]

    def _channel(self) -> str | None:
        if "channel" not in self.item:
            return None
        value = self.item.get("channel")
        if not isinstance(value, str) or not CONVERSATION_ID_RE.fullmatch(value.strip()):
            self.error("channel", f"channel {value!r} must be a channel id such as C0123ABCD")
            return None
        return value.strip()

    def _topic(self, fact: Fact | None) -> str | None:
        if "topic" not in self.item:
            return None
        value = self.item.get("topic")
        if not isinstance(value, str) or value not in self.factbase.topics:
            self.error("topic", f"unknown topic {value!r}")
            return None
        if fact is not None and value not in fact.topics:
            self.error(
                "topic",
                f"topic {value!r} is not one of fact {fact.id!r}'s topics "
                f"({', '.join(fact.topics)})",
                severity="warning",
            )
        return value
