"""Interactive actions: the buttons on briefs and on not-found answers."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.actions.buttons import press_button
from bot.slack.registry import BUTTONS


def register(app: AsyncApp) -> None:
    """Register the one listener for every button."""
    app.action(BUTTONS.constraint, matchers=list(BUTTONS.matchers))(press_button)
