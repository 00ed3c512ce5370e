"""Workflow Builder custom steps (Bolt functions, called with `function_executed`)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.functions.get_brief import get_brief
from bot.slack.registry import GET_BRIEF


def register(app: AsyncApp) -> None:
    """Register "Get a brief"."""
    app.function(GET_BRIEF.name, matchers=list(GET_BRIEF.matchers))(get_brief)
