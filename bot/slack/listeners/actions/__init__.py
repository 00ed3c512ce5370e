"""Interactive actions: the buttons on briefs and on not-found answers, and on the App Home."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.actions.buttons import press_button
from bot.slack.listeners.actions.home import brief_from_home
from bot.slack.registry import BUTTONS, HOME_BUTTON


def register(app: AsyncApp) -> None:
    """Register the one listener for the buttons on messages, and the App Home's."""
    app.action(BUTTONS.constraint, matchers=list(BUTTONS.matchers))(press_button)
    app.action(HOME_BUTTON.constraint, matchers=list(HOME_BUTTON.matchers))(brief_from_home)
