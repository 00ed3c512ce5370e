"""What a reminder rule is: its kinds, its weekend policies and the validated `ReminderRule`.

The data only, apart from `rules.py`, which reads and checks `seeds/reminders.yaml`: the
schedule, the CLI and a cached snapshot of the seeds use rules without the YAML loader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from zoneinfo import ZoneInfo

from bot.dates import PartialDate


class RuleKind(str, Enum):
    """What a rule reminds of."""

    ANNIVERSARY = "anniversary"
    DEADLINE = "deadline"
    DIGEST = "digest"


class WeekendPolicy(str, Enum):
    """What to do when a reminder falls on a Saturday or Sunday."""

    SAME_DAY = "same_day"
    PREVIOUS_WORKING_DAY = "previous_working_day"
    NEXT_WORKING_DAY = "next_working_day"


REMINDERS_FILE = "reminders.yaml"
"""The rules' file name in the seeds directory."""

DEFAULT_TIME = dt.time(9, 0)
DEFAULT_LEAD_DAYS = (30, 7, 1, 0)
DEFAULT_HORIZON_DAYS = 14
DEFAULT_DIGEST_WEEKDAY = 0  # Monday


@dataclass(frozen=True, slots=True)
class ReminderRule:
    """One validated rule from `reminders.yaml`.

    `timezone` and `channel` are None when the rule leaves them to the settings
    (`BRIEFBOT_TIMEZONE`, `BRIEFBOT_REMINDER_CHANNEL`); `topic_id` is None when the rule takes
    its fact's first topic (or, for a digest, covers every topic).
    """

    id: str
    kind: RuleKind
    title: str
    fact_id: str | None = None
    due: PartialDate | None = None
    lead_days: tuple[int, ...] = DEFAULT_LEAD_DAYS
    weekday: int = DEFAULT_DIGEST_WEEKDAY
    horizon_days: int = DEFAULT_HORIZON_DAYS
    time: dt.time = DEFAULT_TIME
    timezone: ZoneInfo | None = None
    weekend: WeekendPolicy = WeekendPolicy.SAME_DAY
    channel: str | None = None
    topic_id: str | None = None
    start_year: int | None = None
    path: str = ""
    line: int = 0
