"""Bolt listeners, one module per kind: slash commands, events, interactive actions."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events
from bot.slack.services import SlackServices


def register(app: AsyncApp, services: SlackServices) -> None:
    """Register every listener on `app`."""
    commands.register(app, services)
    events.register(app, services)
    actions.register(app, services)
