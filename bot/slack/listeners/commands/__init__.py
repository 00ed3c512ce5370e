"""Slash commands."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.commands.brief import brief_command
from bot.slack.registry import BRIEF


def register(app: AsyncApp) -> None:
    """Register `/brief`."""
    app.command(BRIEF.name, matchers=list(BRIEF.matchers))(brief_command)
