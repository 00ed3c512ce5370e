"""Wiring the Bolt app: the client, the listeners, the error handler. No business rules here."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack import listeners
from bot.slack.services import SlackServices, make_web_client

log = logging.getLogger("bot.slack")


def build_app(services: SlackServices, *, verify_requests: bool = True) -> AsyncApp:
    """The Bolt `AsyncApp` with every listener registered."""
    settings = services.settings
    secret = settings.slack_signing_secret.reveal() if settings.slack_signing_secret else None
    app = AsyncApp(
        client=make_web_client(settings),
        signing_secret=secret,
        request_verification_enabled=verify_requests,
        process_before_response=False,
        logger=logging.getLogger("slack_bolt"),
    )
    listeners.register(app, services)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        kind = body.get("type") or body.get("command") or "unknown"
        log.error("listener failed", exc_info=error, extra={"request_type": kind})

    return app
