"""Slash commands over HTTP take the lane (`bot.slack.slash.SlashLane`), not Bolt's dispatch, and
get exactly what Bolt's `/brief` listener (Socket Mode's path) answers: the same message, the
same visibility, the same apology, the same log line."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.app import BotIdentity, build_app
from bot.slack.services import SORRY
from tests.asgi import FORM, Bot, make_bot
from tests.fakeslack import FakeSlack
from tests.slackreq import slash_form

ADMIN = "U0ADMIN"
QUERIES = [
    "nato",
    "rok",
    "natoo",
    "sth korea",
    "what's the latest on the ITPP?",
    "pacific security --full",
    "full rok",
    "",
    "help",
    "topics",
    "upcoming 10",
    "upcoming 4000",
    "about",
    "search defence",
    "zzqx weather",
    "<!channel> dprk <@U123>",
    "gaps",
    "x" * 5_000,
]


def both_ways(bot: Bot, bolt: AsyncApp, body: bytes) -> tuple[Any, Any]:
    """The same signed request over HTTP (the lane) and through Bolt's dispatch, as JSON."""

    async def scenario() -> tuple[Any, Any]:
        http = await bot.post(body)
        assert http.status == 200
        assert http.headers["content-type"].startswith("application/json")
        request = AsyncBoltRequest(body=body.decode(), headers={"content-type": [FORM]})
        through_bolt = await bolt.async_dispatch(request)
        assert through_bolt.status == 200
        return http.json(), json.loads(through_bolt.body)

    return asyncio.run(scenario())


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    yield from make_bot(fake_slack, tmp_path, admin_users=frozenset({ADMIN}))


@pytest.fixture
def bolt(bot: Bot) -> AsyncApp:
    """Bolt with every listener, as Socket Mode serves it, on the same services."""
    return build_app(bot.runtime.services, BotIdentity("T1", "UBOT", "BBOT"))


@pytest.mark.parametrize("text", QUERIES, ids=lambda t: t[:20] or "empty")
def test_the_lane_answers_what_bolt_answers(bot: Bot, bolt: AsyncApp, text: str) -> None:
    body = slash_form(text, response_url=bot.slack.response_url())
    lane, through_bolt = both_ways(bot, bolt, body)
    assert lane == through_bolt
    assert lane["response_type"] == "ephemeral" and lane["blocks"] and lane["text"]


def test_an_admin_gets_the_same_admin_answers_both_ways(bot: Bot, bolt: AsyncApp) -> None:
    for text in ("gaps", "help", "review"):
        body = slash_form(text, response_url=bot.slack.response_url(), user_id=ADMIN)
        lane, through_bolt = both_ways(bot, bolt, body)
        assert lane == through_bolt, text
    assert "gaps" in json.dumps(lane)  # admins' help lists their commands


def test_briefs_made_public_by_the_settings_are_public_both_ways(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    for public in make_bot(fake_slack, tmp_path, default_visibility="in_channel"):
        bolt = build_app(public.runtime.services, BotIdentity("T1", "UBOT", "BBOT"))
        brief, _ = both_ways(public, bolt, slash_form("nato", response_url=fake_slack.url))
        helped, _ = both_ways(public, bolt, slash_form("help", response_url=fake_slack.url))
        assert brief["response_type"] == "in_channel"
        assert helped["response_type"] == "ephemeral"  # only briefs are ever public


def test_a_channel_the_bot_does_not_serve_gets_the_same_refusal_both_ways(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    for limited in make_bot(fake_slack, tmp_path, allowed_channels=frozenset({"C0OTHER"})):
        bolt = build_app(limited.runtime.services, BotIdentity("T1", "UBOT", "BBOT"))
        body = slash_form("nato", response_url=fake_slack.url, channel_id="C0CHAN1")
        lane, through_bolt = both_ways(limited, bolt, body)
        assert lane == through_bolt
        assert "C0OTHER" in json.dumps(lane) and "NATO" not in json.dumps(lane)


def test_a_failure_gets_the_same_apology_and_log_line_both_ways(
    bot: Bot, bolt: AsyncApp, caplog: pytest.LogCaptureFixture
) -> None:
    with bot.runtime.db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE knowledge_gaps"))
    body = slash_form("gaps", response_url=bot.slack.response_url(), user_id=ADMIN)
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        lane, through_bolt = both_ways(bot, bolt, body)
    assert lane == through_bolt == {"text": SORRY, "response_type": "ephemeral"}
    failures = [r for r in caplog.records if r.getMessage() == "listener failed"]
    assert len(failures) == 2 and all(r.exc_info for r in failures)


def test_each_way_logs_the_same_request_line(
    bot: Bot, bolt: AsyncApp, caplog: pytest.LogCaptureFixture
) -> None:
    body = slash_form("natoo", response_url=bot.slack.response_url())
    with caplog.at_level(logging.INFO, logger="bot.slack"):
        both_ways(bot, bolt, body)
    lines = [r.__dict__ for r in caplog.records if r.getMessage() == "request"]
    fields = ("command", "reply", "topic", "resolved_by", "user", "query", "outcome")
    assert len(lines) == 2
    assert [{f: line[f] for f in fields} for line in lines] == [
        {
            "command": "/brief",
            "reply": "brief",
            "topic": "nato",
            "resolved_by": "fuzzy",
            "user": "U0USER1",
            "query": "natoo",
            "outcome": "brief",
        }
    ] * 2


def test_commands_the_bot_does_not_register_still_go_to_bolt(bot: Bot) -> None:
    body = slash_form("nato", response_url=bot.slack.response_url(), command="/weather")
    (result,) = bot.run(bot.post(body))
    assert result.status == 404  # Bolt's answer to a request no listener takes
