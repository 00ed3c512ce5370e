"""The one Web API client factory, each caller's retry policy a parameter (`bot.slack.clients`)."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.reminders.delivery import make_client as reminders_client
from bot.slack.clients import make_client
from bot.slack.services import make_web_client
from tests.fakeslack import FakeSlack


def test_both_kinds_of_client_retry_a_rate_limit_as_their_policy_says(
    fake_slack: FakeSlack,
) -> None:
    settings = Settings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake_slack.base_url}
    )
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    sync = reminders_client("xoxb-test", fake_slack.base_url)
    assert isinstance(sync, WebClient)
    assert sync.chat_postMessage(channel="C1", text="one")["ok"] is True

    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    listeners = make_web_client(settings)
    assert isinstance(listeners, AsyncWebClient)
    answer = asyncio.run(listeners.chat_postMessage(channel="C1", text="two"))
    assert answer["ok"] is True
    assert [c.status for c in fake_slack.posts()] == [429, 200, 429, 200]


def test_without_a_retry_policy_a_rate_limit_is_the_callers_to_handle(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    web = make_client(WebClient, fake_slack.base_url, token="xoxb-test", retry=[])
    with pytest.raises(SlackApiError, match="ratelimited"):
        web.chat_postMessage(channel="C1", text="hi")
    assert [c.status for c in fake_slack.posts()] == [429]
