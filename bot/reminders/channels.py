"""The start-up check that the bot can post into its reminder channels.

With `chat:write` alone (no `chat:write.public`) the bot posts only where it is a member; a
reminder channel it has not been invited to fails every post with `not_in_channel`. The check
asks Slack (`conversations.info`, which needs `channels:read`, or `groups:read` for a private
channel) and logs one clear line per channel that needs attention, saying what to do.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.reminders.occurrences import ReminderSchedule

log = logging.getLogger("bot.reminders")

DEFAULT_BOT_NAME = "briefbot"


def reminder_channels(schedule: ReminderSchedule) -> list[str]:
    """Every channel the schedule posts into: each rule's own, or the default."""
    channels = {rule.channel or schedule.default_channel for rule in schedule.rules}
    return sorted(c for c in channels if c)


def not_in_channel_advice(channel: str, bot_name: str = DEFAULT_BOT_NAME) -> str:
    """What to do when the bot is not a member of `channel` (a name like `#team`, or an id)."""
    return (
        f"the bot is not a member of {channel}: invite @{bot_name} to {channel} "
        f"(/invite @{bot_name}), or give the app the chat:write.public scope"
    )


def check_reminder_channels(client: WebClient, channels: list[str]) -> list[str]:
    """Check that the bot is a member of each of `channels`; returns the problems found, each
    also logged (an error when the bot is not a member, a warning when Slack cannot tell)."""
    problems: list[str] = []
    bot_name = _bot_name(client)
    for channel in channels:
        try:
            info = client.conversations_info(channel=channel)
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            problems.append(_log_unchecked(channel, error))
            continue
        except OSError as exc:
            problems.append(_log_unchecked(channel, f"{type(exc).__name__}: {exc}"))
            continue
        found = info.get("channel") or {}
        if found.get("is_member"):
            continue
        name = found.get("name") or channel
        advice = not_in_channel_advice(f"#{name}", bot_name)
        problem = f"reminders cannot be posted to #{name} ({channel}): {advice}"
        log.error(problem, extra={"channel": channel, "outcome": "not_in_channel"})
        problems.append(problem)
    return problems


def _log_unchecked(channel: str, error: str) -> str:
    hint = {
        "missing_scope": "the app needs the channels:read scope (groups:read for a private "
        "channel) for this check",
        "channel_not_found": "no such channel, or a private one the bot is not in: check "
        "BRIEFBOT_REMINDER_CHANNEL and the rules' channels",
    }.get(error, "Slack did not answer")
    problem = f"could not check reminder channel {channel} ({error}): {hint}"
    log.warning(problem, extra={"channel": channel, "slack_error": error})
    return problem


def _bot_name(client: WebClient) -> str:
    """The bot's user name (for "/invite @name"), or the default when Slack does not say."""
    try:
        return str(client.auth_test().get("user") or DEFAULT_BOT_NAME)
    except (SlackApiError, OSError):
        return DEFAULT_BOT_NAME
