"""Dates known to a day, a month or only a year, and ranges of them.

Sources and facts are often dated imprecisely ("July 2023", "2018", "undated"). `PartialDate`
keeps exactly the precision the source gives, so nothing is displayed or compared as if it were
more precise than it is. `DateSpan` is a date or a range of two partial dates ("11–12 July 2023").
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache, total_ordering

__all__ = ["DateSpan", "PartialDate", "Precision", "parse_date_span", "parse_partial_date"]


class Precision(StrEnum):
    """How much of a date is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


# English month names, whatever the process's locale (`calendar.month_name` follows LC_TIME).
MONTH_NAMES = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_PARTIAL_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")  # ASCII digits only


@total_ordering
@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar date known to the day, the month or only the year.

    Ordering compares the known parts, with an unknown month or day sorting before a known one,
    so "2024" < "2024-01" < "2024-01-01".
    """

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> Precision:
        """Day, month or year, whichever is the finest part known."""
        if self.day is not None:
            return Precision.DAY
        if self.month is not None:
            return Precision.MONTH
        return Precision.YEAR

    def first_day(self) -> dt.date:
        """The earliest calendar day this date may stand for."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> dt.date:
        """The latest calendar day this date may stand for."""
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    def sort_key(self) -> tuple[int, int, int]:
        """A key that orders dates by what is known, unknown parts first."""
        return (self.year, self.month or 0, self.day or 0)

    def iso(self) -> str:
        """The ISO form at this date's precision: YYYY-MM-DD, YYYY-MM or YYYY."""
        if self.day is not None:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def human(self) -> str:
        """A reader's form: "4 September 2024", "July 2023" or "2018"."""
        if self.day is not None and self.month is not None:
            return f"{self.day} {MONTH_NAMES[self.month]} {self.year}"
        if self.month is not None:
            return f"{MONTH_NAMES[self.month]} {self.year}"
        return str(self.year)

    def __str__(self) -> str:
        return self.iso()

    def __lt__(self, other: object) -> bool:
        # Not the dataclass's field-tuple order: that compares None with int and raises.
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    @classmethod
    def from_date(cls, value: dt.date) -> PartialDate:
        """A day-precision date from a `datetime.date`."""
        return cls(value.year, value.month, value.day)


@dataclass(frozen=True, slots=True)
class DateSpan:
    """A partial date, or a range from `start` to `end` (each a partial date)."""

    start: PartialDate
    end: PartialDate | None = None

    @property
    def is_range(self) -> bool:
        """Whether this span has a distinct end."""
        return self.end is not None

    @property
    def latest(self) -> PartialDate:
        """The end of the range, or the date itself."""
        return self.end or self.start

    def sort_key(self) -> tuple[int, int, int]:
        """Orders spans by their start."""
        return self.start.sort_key()

    def iso(self) -> str:
        """ISO form, a range written `start/end` as in ISO 8601 intervals."""
        return f"{self.start.iso()}/{self.end.iso()}" if self.end else self.start.iso()

    def human(self) -> str:
        """A reader's form: "11–12 July 2023", "2024–2027", "4 September 2024"."""
        if self.end is None:
            return self.start.human()
        s, e = self.start, self.end
        if s.precision == e.precision == Precision.DAY and (s.year, s.month) == (e.year, e.month):
            return f"{s.day}–{e.day} {MONTH_NAMES[e.month or 1]} {e.year}"
        return f"{s.human()}–{e.human()}"

    def __str__(self) -> str:
        return self.iso()


def parse_partial_date(text: str) -> PartialDate:
    """Parse `YYYY-MM-DD`, `YYYY-MM` or `YYYY`; raise `ValueError` saying what is wrong."""
    match = _PARTIAL_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a date: expected YYYY-MM-DD, YYYY-MM or YYYY")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if year < 1:
        raise ValueError(f"{text!r} is not a date: year must be 0001 or later")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a date: month {month} is not 01-12")
    if day is not None and month is not None:
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            raise ValueError(f"{text!r} is not a date: day {day} is not in 01-{last:02d}")
    return PartialDate(year, month, day)


def parse_date_span(value: object) -> DateSpan | None:
    """Parse a fact's or document's date field.

    Accepts empty (None or ""), a `datetime.date` (as YAML gives for unquoted ISO dates), an int
    year, a partial date string, or a range `START/END`. Raises `ValueError` with the reason.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        raise ValueError(f"{value!r} has a time of day: give a date only")
    if isinstance(value, dt.date):
        return DateSpan(PartialDate.from_date(value))
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, int):
        return DateSpan(parse_partial_date(f"{value:04d}"))
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date: expected text such as 2024-09-04")
    return _parse_span_text(value.strip())


def parse_partial_field(value: object) -> PartialDate | None:
    """Parse a field that holds one partial date (no range), such as `stated` or `due`."""
    span = parse_date_span(value)
    if span is not None and span.is_range:
        raise ValueError(f"{value!r}: give one date, not a range")
    return span.start if span else None


def parse_day(value: object) -> dt.date | None:
    """Parse a field that holds a full calendar day (`YYYY-MM-DD`), such as `reviewed`."""
    date = parse_partial_field(value)
    if date is None:
        return None
    if date.day is None or date.month is None:
        raise ValueError(f"{value!r}: give a full date, YYYY-MM-DD")
    return date.first_day()


@lru_cache(maxsize=16384)
def _parse_span_text(text: str) -> DateSpan:
    """Parse a date or range written as text (cached: fact files repeat the same dates)."""
    if "/" in text:
        left, _, right = text.partition("/")
        start, end = parse_partial_date(left), parse_partial_date(right)
        if end.last_day() < start.first_day():
            raise ValueError(f"{text!r}: the range ends before it starts")
        return DateSpan(start, end)
    return DateSpan(parse_partial_date(text))
