"""Message shortcuts: "Brief me on this" in any message's menu."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.shortcuts.brief_message import brief_me_on_this
from bot.slack.registry import BRIEF_MESSAGE


def register(app: AsyncApp) -> None:
    """Register "Brief me on this"."""
    app.message_shortcut(BRIEF_MESSAGE.name, matchers=list(BRIEF_MESSAGE.matchers))(
        brief_me_on_this
    )
