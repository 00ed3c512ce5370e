"""What the Slack app registers, in one place: the manifests in `deploy/` are tested against it."""

from __future__ import annotations

EVENTS_PATH = "/slack/events"
"""The one HTTP route Slack sends slash commands, events and interactivity to."""

SLASH_COMMANDS = ("/brief",)
BOT_EVENTS = ("app_mention", "message.im")
ACTION_IDS = ("share_brief", "full_brief", "suggest_N")

BOT_SCOPES = (
    "app_mentions:read",  # app_mention events
    "chat:write",  # replies and reminders
    "commands",  # /brief
    "im:history",  # message.im events (direct messages to the bot)
    "channels:history",  # reminders: find an earlier post by its metadata after a crash
    "groups:history",  # the same in private channels
)
