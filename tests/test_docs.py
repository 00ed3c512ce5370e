"""What README.md and seeds/README.md say about behaviour is what the bot does."""

from __future__ import annotations

import io

import pytest

from bot.cli import main
from bot.factbase import FactBase
from bot.reminders.rules import load_reminder_rules
from tests.conftest import ROOT, SEEDS, clear_settings


def test_a_year_only_anniversary_is_documented_as_the_warning_it_is(factbase: FactBase) -> None:
    _rules, problems = load_reminder_rules(SEEDS / "reminders.yaml", factbase)
    year_only = [p for p in problems if "known only to the year" in p.message]
    assert year_only and {p.severity for p in year_only} == {"warning"}
    text = " ".join((SEEDS / "README.md").read_text().split())
    errors = text[text.index("Errors (exit 2), each with file and line") :]  # reminder rules
    errors, warnings = errors.split("Warnings:", 1)
    assert "known only to the year" not in errors
    assert "known only to the year" in warnings.split(".")[0]


def test_admin_commands_are_documented_where_they_work(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_settings(monkeypatch)
    out = io.StringIO()
    assert main(["console"], stdout=out, stdin=io.StringIO("/brief gaps\n/brief reload\n")) == 0
    assert out.getvalue().split("\n\n")[:2] == [
        "`gaps` works in Slack; here, run `briefbot gaps`.",
        "`reload` works in Slack; here, run `briefbot reload`.",
    ]
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "In Slack, admins also have `/brief gaps`, `/brief review` and `/brief reload`" in readme
    assert "the console has none of them" in readme
