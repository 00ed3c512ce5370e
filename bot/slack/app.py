"""Wiring the Bolt app: the client, the middleware and error handler, the listeners.

The bot's identity comes from one `auth.test` at start-up (`verify_token`, retried, with a
clear error when the token is refused) and is handed to Bolt as a fixed `authorize` result, so
no request waits on `auth.test` and no user ever sees Bolt's "please reinstall" text. Slack's
request signatures are checked once, on the raw bytes, by `bot.slack.route` (HTTP); Socket Mode
needs none. So Bolt's own verification is off.

Bolt runs listeners with `bot.slack.acks.AckFirstListenerRunner`: a slash command's or a
button's answer is the HTTP acknowledgement, sent as soon as the listener is done (no polling);
events are acknowledged at once, after their de-duplication claim, and answered afterwards.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.slack import listeners, middleware
from bot.slack.acks import AckFirstListenerRunner
from bot.slack.services import SORRY, SlackServices, make_web_client

log = logging.getLogger("bot.slack")

TOKEN_REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)
"""auth.test errors that retrying cannot fix."""
VERIFY_DELAYS = (1.0, 2.0, 4.0, 8.0)
"""Seconds between auth.test attempts at start-up."""


class TokenError(Exception):
    """The bot token could not be verified with Slack; the message says why, without it."""


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is in its workspace, from auth.test."""

    team_id: str | None
    bot_user_id: str | None
    bot_id: str | None
    enterprise_id: str | None = None


def verify_token(
    settings: Settings,
    *,
    delays: Sequence[float] = VERIFY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> BotIdentity:
    """Check the bot token with auth.test, retrying transient failures; raises `TokenError`."""
    assert settings.slack_bot_token is not None
    client = WebClient(
        token=settings.slack_bot_token.reveal(), base_url=settings.slack_api_url, timeout=10
    )
    problem = ""
    for attempt in range(len(delays) + 1):
        if attempt:
            log.warning(
                "could not verify the Slack token yet; retrying",
                extra={"slack_error": problem, "retry_in_s": delays[attempt - 1]},
            )
            sleep(delays[attempt - 1])
        try:
            result = client.auth_test()
        except SlackApiError as exc:
            problem = str(exc.response.get("error"))
            if problem in TOKEN_REFUSED:
                raise TokenError(f"Slack refused SLACK_BOT_TOKEN ({problem})") from None
            continue
        except (OSError, ValueError) as exc:  # unreachable, or not Slack's JSON
            problem = type(exc).__name__
            continue
        identity = BotIdentity(
            team_id=result.get("team_id"),
            bot_user_id=result.get("user_id"),
            bot_id=result.get("bot_id"),
            enterprise_id=result.get("enterprise_id"),
        )
        log.info(
            "slack token verified",
            extra={"team": identity.team_id, "bot_user": identity.bot_user_id},
        )
        return identity
    raise TokenError(f"could not reach Slack to verify SLACK_BOT_TOKEN ({problem})")


def build_app(services: SlackServices, identity: BotIdentity) -> AsyncApp:
    """The Bolt `AsyncApp` with every middleware and listener registered."""
    settings = services.settings
    assert settings.slack_bot_token is not None
    token = settings.slack_bot_token.reveal()

    async def authorize(**_kwargs: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=identity.enterprise_id,
            team_id=identity.team_id,
            bot_token=token,
            bot_id=identity.bot_id,
            bot_user_id=identity.bot_user_id,
        )

    bolt_log = logging.getLogger("slack_bolt")
    bolt_log.addFilter(_client_given_filter)
    app = AsyncApp(
        client=make_web_client(settings, with_token=False),
        authorize=authorize,
        signing_secret="",  # unused: signatures are checked by bot.slack.route, once
        request_verification_enabled=False,
        process_before_response=True,  # events are acknowledged first all the same: see acks
        raise_error_for_unhandled_request=True,  # `middleware.on_error` decides what they get
        user_facing_authorize_error_message=SORRY,
        logger=bolt_log,
    )
    app._async_listener_runner = AckFirstListenerRunner.replacing(
        app.listener_runner, services.work
    )
    middleware.register(app, services)
    listeners.register(app)
    return app


def _client_given_filter(record: logging.LogRecord) -> bool:
    """Drop Bolt's "token will be unused" warning, which only says Bolt read SLACK_BOT_TOKEN.

    `AsyncApp` reads the variable from the environment by itself and warns whenever a client is
    given too; the bot passes a client (Slack's URL, retries) and the token through `authorize`.
    """
    return record.getMessage() != warning_client_prioritized_and_token_skipped()
