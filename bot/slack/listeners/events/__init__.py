"""Events: mentions in channels and direct messages, from people (never from bots), and the
App Home tab being opened."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.events.home import publish_home
from bot.slack.listeners.events.messages import answer_direct_message, answer_mention, from_a_person
from bot.slack.registry import DIRECT_MESSAGE, HOME_OPENED, MENTION


def register(app: AsyncApp) -> None:
    """Register `app_mention`, `message.im` and `app_home_opened`."""
    for route, listener in ((MENTION, answer_mention), (DIRECT_MESSAGE, answer_direct_message)):
        app.event(route.constraint, matchers=[*route.matchers, from_a_person])(listener)
    app.event(HOME_OPENED.constraint, matchers=list(HOME_OPENED.matchers))(publish_home)
