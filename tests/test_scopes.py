"""The bot's scopes (`bot.slack.registry.BOT_SCOPES`, which the manifests repeat) cover every
Slack Web API method the bot's code calls, in every kind of conversation it calls it on."""

from __future__ import annotations

import re
from pathlib import Path

from bot.slack.registry import BOT_SCOPES

BOT = Path(__file__).resolve().parent.parent / "bot"
CALL = re.compile(r"\.((?:auth|chat|conversations|views|users|reactions|assistant|files)_\w+)\(")

NEEDS: dict[str, set[str]] = {
    "auth_test": set(),
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},  # "Brief me on this" answers the user alone
    "views_publish": set(),  # the App Home tab: no scope beyond the bot token
    # replies in DMs and reminders in public and private channels: looked for after a lost answer
    "conversations_history": {"im:history", "channels:history", "groups:history"},
    # mentions are answered in threads of public and private channels
    "conversations_replies": {"channels:history", "groups:history"},
    # the start-up check of the reminder channels, public or private
    "conversations_info": {"channels:read", "groups:read"},
    # Download (.docx): open the user's DM, then upload the file into it
    "conversations_open": {"im:write"},
    "files_upload_v2": {"files:write"},
}
"""The bot scopes each method needs for the conversations the bot calls it on (Slack's method
pages list one scope per kind of conversation)."""


def methods_called() -> set[str]:
    """Every slack-sdk Web API method called somewhere under bot/."""
    return {m for path in BOT.rglob("*.py") for m in CALL.findall(path.read_text())}


def test_every_web_api_method_the_bot_calls_is_covered_by_its_scopes() -> None:
    called = methods_called()
    assert {"chat_postMessage", "conversations_info"} <= called  # the scan finds calls
    unknown = called - NEEDS.keys()
    assert not unknown, f"add the scopes these methods need to NEEDS and BOT_SCOPES: {unknown}"
    missing = {m: NEEDS[m] - set(BOT_SCOPES) for m in called if NEEDS[m] - set(BOT_SCOPES)}
    assert missing == {}
