"""What the Slack app answers and needs, in one place: listeners register from it, and the
manifests in `deploy/` are tested against it (`tests/test_manifests.py`).

Each `Route` pairs what a manifest names (a slash command, a bot event subscription, an action
id) with how Bolt matches that request: its constraint and any matchers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

EVENTS_PATH = "/slack/events"
"""The one HTTP route Slack sends slash commands, events and interactivity to."""

Constraint = str | re.Pattern[str] | dict[str, Any]
Matcher = Callable[..., Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Route:
    """One kind of request: its name in the manifests and Bolt's constraint and matchers for it."""

    name: str
    constraint: Constraint
    matchers: tuple[Matcher, ...] = ()


async def in_direct_message(event: dict[str, Any]) -> bool:
    """Bolt matcher: a message in a direct conversation with the bot (`message.im`)."""
    return event.get("channel_type") == "im"


PERSON_SUBTYPES = (None, "file_share", "thread_broadcast", "me_message")
"""Message subtypes written by a person. Others (`bot_message`, `message_changed`,
`message_deleted`, `channel_join`, ...) are edits, deletions or notices, never questions."""

BRIEF = Route("/brief", "/brief")
"""A slash command is matched by its name."""
MENTION = Route("app_mention", {"type": "app_mention"})
DIRECT_MESSAGE = Route(
    "message.im", {"type": "message", "subtype": PERSON_SUBTYPES}, (in_direct_message,)
)
BUTTONS = Route(
    "share_brief|full_brief|download_brief|suggest_N",
    re.compile(r"^(?:share_brief|full_brief|download_brief|suggest_\d+)$"),
)
"""The buttons on briefs and on not-found answers (one listener answers them all)."""


async def on_home_tab(event: dict[str, Any]) -> bool:
    """Bolt matcher: the App Home's Home tab was opened (not its Messages tab)."""
    return event.get("tab") == "home"


HOME_OPENED = Route("app_home_opened", {"type": "app_home_opened"}, (on_home_tab,))
HOME_BUTTON = Route("home_brief", "home_brief")
"""A topic's button on the App Home: the brief, sent to the user's direct message."""
BRIEF_MESSAGE = Route("brief_message", "brief_message")
"""The message shortcut "Brief me on this" (its callback id)."""
GET_BRIEF = Route("get_brief", "get_brief")
"""The Workflow Builder step "Get a brief" (its function callback id)."""

COMMANDS: Mapping[str, Route] = {BRIEF.name: BRIEF}
EVENTS: Mapping[str, Route] = {
    MENTION.name: MENTION,
    DIRECT_MESSAGE.name: DIRECT_MESSAGE,
    HOME_OPENED.name: HOME_OPENED,
}
ACTIONS: Mapping[str, Route] = {BUTTONS.name: BUTTONS, HOME_BUTTON.name: HOME_BUTTON}
SHORTCUTS: Mapping[str, Route] = {BRIEF_MESSAGE.name: BRIEF_MESSAGE}
"""Message shortcuts, by callback id."""
FUNCTIONS: Mapping[str, Route] = {GET_BRIEF.name: GET_BRIEF}
"""Workflow Builder custom steps, by callback id; Slack calls them with `function_executed`."""
FUNCTION_EVENT = "function_executed"

ASSISTANT_EVENTS = ("assistant_thread_started", "assistant_thread_context_changed")
"""The assistant panel's events, taken by Bolt's `AsyncAssistant` middleware (with the
`message.im` events in its threads), not by listeners of their own."""
ASSISTANT_SCOPES = ("assistant:write",)
"""The assistant panel is optional: a workspace without it never sends its events."""


def bot_events() -> list[str]:
    """Every bot event the manifests subscribe to."""
    return [*EVENTS, *ASSISTANT_EVENTS, *((FUNCTION_EVENT,) if FUNCTIONS else ())]


BOT_SCOPES = (
    "app_mentions:read",  # app_mention events
    "chat:write",  # replies and reminders
    "commands",  # /brief
    "im:history",  # message.im events (direct messages to the bot)
    "channels:history",  # reminders: find an earlier post by its metadata after a crash
    "groups:history",  # the same in private channels
    "files:write",  # Download (.docx): upload the brief as a file
    "im:write",  # Download (.docx): open the DM the file goes to
    "channels:read",  # conversations.info: the start-up check of the reminder channels
    "groups:read",  # the same for a private reminder channel
)
