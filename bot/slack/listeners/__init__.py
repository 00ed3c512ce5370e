"""Bolt listeners, one package per kind (commands, events, actions, shortcuts, the assistant,
functions), each with `register(app)`.

Listeners are module-level functions: they take what Bolt injects, reach the services through
the context (`bot.slack.middleware.services_of`) and register from `bot.slack.registry`.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, assistant, commands, events, functions, shortcuts


def register(app: AsyncApp) -> None:
    """Register every listener on `app`."""
    commands.register(app)
    events.register(app)
    actions.register(app)
    shortcuts.register(app)
    functions.register(app)
    assistant.register(app)
