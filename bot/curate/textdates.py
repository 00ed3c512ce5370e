"""Dates written out in English prose ("11 March 2026", "March 11, 2026", "December 2026",
"2027"), found with their position and the word before them ("by", "on", "in")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.dates import MONTH_NAMES, PartialDate, parse_partial_date

_MONTH = "|".join(MONTH_NAMES[1:])
_DATE_RE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{_MONTH}),?\s+(?P<y1>\d{{4}})"
    rf"|(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,\s+(?P<y2>\d{{4}})"
    rf"|(?P<m3>{_MONTH})\s+(?P<y3>\d{{4}})"
    r"|(?<![$€£\d.,])(?P<y4>(?:19|20)\d{2})(?![\d%]|\s*(?:per ?cent|percent)))\b"
)
_WORD_BEFORE_RE = re.compile(r"(\w+)\W*$")


@dataclass(frozen=True, slots=True)
class TextDate:
    """A date found in text, the span it occupies and the (lower-case) word just before it."""

    date: PartialDate
    start: int
    end: int
    before: str


def find_dates(text: str) -> list[TextDate]:
    """Every date written in `text`, in order; impossible ones (31 February) are skipped."""
    found = []
    for match in _DATE_RE.finditer(text):
        groups = match.groupdict()
        year = groups["y1"] or groups["y2"] or groups["y3"] or groups["y4"]
        month_name = groups["m1"] or groups["m2"] or groups["m3"]
        day = groups["d1"] or groups["d2"]
        iso = year
        if month_name:
            iso += f"-{MONTH_NAMES.index(month_name):02d}"
            if day:
                iso += f"-{int(day):02d}"
        try:
            date = parse_partial_date(iso)
        except ValueError:
            continue
        before = _WORD_BEFORE_RE.search(text[: match.start()])
        found.append(
            TextDate(date, match.start(), match.end(), before.group(1).lower() if before else "")
        )
    return found
