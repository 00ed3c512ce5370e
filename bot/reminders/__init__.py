"""Reminders: rules from `seeds/reminders.yaml`, the occurrences they give, and their messages.

The core is Slack-free and pure: `load_reminder_rules` checks the rules against the fact base,
`compute_occurrences` says what falls in a time window, `reminder_payload` / `digest_payload`
build the message for one occurrence. Delivery (the ledger, the scheduler) builds on these.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.reminders.model import ReminderRule, RuleKind, WeekendPolicy
    from bot.reminders.occurrences import (
        DigestEntry,
        Occurrence,
        ReminderSchedule,
        compute_occurrences,
        digest_entries,
    )
    from bot.reminders.rules import load_reminder_rules

_HOMES = {
    "DigestEntry": "bot.reminders.occurrences",
    "Occurrence": "bot.reminders.occurrences",
    "ReminderRule": "bot.reminders.model",
    "ReminderSchedule": "bot.reminders.occurrences",
    "RuleKind": "bot.reminders.model",
    "WeekendPolicy": "bot.reminders.model",
    "compute_occurrences": "bot.reminders.occurrences",
    "digest_entries": "bot.reminders.occurrences",
    "load_reminder_rules": "bot.reminders.rules",
}

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


def __getattr__(name: str) -> object:
    """The names above, imported from their modules on first use: importing one module of the
    package (the rules' model, for a cached snapshot) does not import the YAML loader."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
