"""Events: mentions in channels and direct messages, from people (never from bots)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.events.messages import answer_direct_message, answer_mention, from_a_person
from bot.slack.registry import DIRECT_MESSAGE, MENTION


def register(app: AsyncApp) -> None:
    """Register `app_mention` and `message.im`."""
    for route, listener in ((MENTION, answer_mention), (DIRECT_MESSAGE, answer_direct_message)):
        app.event(route.constraint, matchers=[*route.matchers, from_a_person])(listener)
