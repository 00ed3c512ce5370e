"""Occurrences as an iCalendar file that calendar apps import (built with `icalendar`).

One VEVENT per occurrence: UID `KEY@briefbot` (so importing again updates rather than
duplicates), DTSTART in the rule's own time zone with a VTIMEZONE for it, SUMMARY the label,
DESCRIPTION the fact's statement and its source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from icalendar import Calendar, Event

from bot.factbase.model import FactBase
from bot.reminders.occurrences import Occurrence

__all__ = ["EVENT_MINUTES", "PRODID", "build_calendar", "export_ics"]

PRODID = "-//Briefbot//Reminders//EN"
EVENT_MINUTES = 15
"""Each event is shown as a short slot starting at the posting time."""


def build_calendar(
    occurrences: Sequence[Occurrence], factbase: FactBase | None = None, *, stamp: dt.datetime
) -> Calendar:
    """A calendar of `occurrences`; `stamp` (aware) is each event's DTSTAMP."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Briefbot reminders")
    for occ in occurrences:
        event = Event()
        event.add("uid", f"{occ.key}@briefbot")
        event.add("dtstamp", stamp.astimezone(dt.UTC))
        event.add("dtstart", occ.local)
        event.add("dtend", occ.local + dt.timedelta(minutes=EVENT_MINUTES))
        event.add("summary", occ.label)
        event.add("description", _description(occ, factbase))
        event.add("categories", [occ.kind])
        cal.add_component(event)
    if occurrences:
        first = min(o.local.date() for o in occurrences) - dt.timedelta(days=1)
        last = max(o.local.date() for o in occurrences) + dt.timedelta(days=2)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return cal


def export_ics(
    occurrences: Sequence[Occurrence],
    path: Path | str,
    *,
    factbase: FactBase | None = None,
    stamp: dt.datetime | None = None,
) -> int:
    """Write `occurrences` to `path` as iCalendar; returns the number of events written.

    Without `factbase` the description holds only the label; `stamp` defaults to now.
    """
    cal = build_calendar(occurrences, factbase, stamp=stamp or dt.datetime.now(dt.UTC))
    Path(path).write_bytes(cal.to_ical())
    return len(occurrences)


def _description(occ: Occurrence, factbase: FactBase | None) -> str:
    parts = [occ.label]
    fact = factbase.facts.get(occ.fact_id) if factbase and occ.fact_id else None
    if factbase is not None and fact is not None:
        doc = factbase.documents[fact.source]
        source = f"Source: {doc.title}. {doc.publisher}, {doc.date_label}"
        if doc.url:
            source += f". {doc.url}"
        parts = [fact.statement, source, f"“{fact.quote}”"]
    if occ.topic_id:
        parts.append(f"More: /brief {occ.topic_id}")
    return "\n\n".join(parts)
