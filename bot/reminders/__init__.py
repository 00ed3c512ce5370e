"""Reminders: rules from `seeds/reminders.yaml`, the occurrences they give, and their messages.

The core is Slack-free and pure: `load_reminder_rules` checks the rules against the fact base,
`compute_occurrences` says what falls in a time window, `reminder_payload` / `digest_payload`
build the message for one occurrence. Delivery (the ledger, the scheduler) builds on these.
"""

from __future__ import annotations

from bot.reminders.occurrences import (
    DigestEntry,
    Occurrence,
    ReminderSchedule,
    compute_occurrences,
    digest_entries,
)
from bot.reminders.rules import ReminderRule, RuleKind, WeekendPolicy, load_reminder_rules

__all__ = [
    "DigestEntry",
    "Occurrence",
    "ReminderRule",
    "ReminderSchedule",
    "RuleKind",
    "WeekendPolicy",
    "compute_occurrences",
    "digest_entries",
    "load_reminder_rules",
]
