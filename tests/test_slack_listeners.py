"""Scenario tests of every listener, in-process: signed requests through the real Starlette and Bolt
apps (`tests.asgi`), the fake Slack Web API over HTTP, a real SQLite database."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.slack import sending, services
from bot.slack.services import SORRY
from tests.asgi import FORM, JSON, Bot, make_bot
from tests.fakeslack import RESPONSE_URL, FakeSlack
from tests.slackreq import action_form, all_text, direct, mention, sign, slash_form

UNESCAPED = re.compile(r"<[!@#]|<https?://evil")
ADMIN = "U0ADMIN"


@pytest.fixture(autouse=True)
def no_back_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sending, "RETRY_BASE_SECONDS", 0.0)
    monkeypatch.setattr(services, "RETRY_BASE_SECONDS", 0.0)


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    yield from make_bot(fake_slack, tmp_path, admin_users=frozenset({ADMIN}))
    assert fake_slack.limit_violations == []
    assert fake_slack.server_errors == []


def slash(bot: Bot, text: str, **options: Any) -> dict[str, Any]:
    (result,) = bot.run(
        bot.post(slash_form(text, response_url=bot.slack.response_url(), **options))
    )
    assert result.status == 200
    body = result.json()
    assert isinstance(body, dict)
    return body


def fact_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == "section" and re.match(r"\d+\. ", b["text"]["text"])]


# -- /brief ------------------------------------------------------------------------------------


def test_slash_command_answers_in_its_acknowledgement_with_an_ephemeral_cited_brief(
    bot: Bot,
) -> None:
    body = slash(bot, "nato")
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"] == "New Zealand and NATO"
    text = all_text(body["blocks"])
    assert "[1]" in text and "*Sources*" in text
    actions = next(b for b in body["blocks"] if b["type"] == "actions")
    assert {e["action_id"] for e in actions["elements"]} == {
        "share_brief",
        "download_brief",
        "full_brief",
    }
    assert all(s.get("text", {}).get("verbatim") for s in body["blocks"] if s["type"] == "section")
    assert "link_names" not in body
    assert body["unfurl_links"] is False and body["unfurl_media"] is False
    assert bot.slack.posts() == []  # answered in the acknowledgement alone


def test_help_topics_and_not_found_with_suggestion_buttons(bot: Bot) -> None:
    help_text = all_text(slash(bot, ""))
    assert "/brief topics" in help_text and "nato" in help_text
    assert "rok" in all_text(slash(bot, "topics"))
    missing = slash(bot, "zzqx weather")
    assert "No topic matches" in all_text(missing)
    buttons = [e for b in missing["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 3
    assert all(re.fullmatch(r"suggest_\d+", b["action_id"]) for b in buttons)


def test_default_visibility_makes_briefs_visible_but_not_help(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    visible = next(make_bot(fake_slack, tmp_path, default_visibility="in_channel"))
    try:
        assert slash(visible, "rok")["response_type"] == "in_channel"
        assert slash(visible, "help")["response_type"] == "ephemeral"
    finally:
        visible.runtime.close()


def test_huge_and_hostile_queries_are_answered_escaped(bot: Bot) -> None:
    for text in ["x" * 20_000, "<!channel> nato <@U123>", "<!here> <https://evil.example|click>"]:
        assert not UNESCAPED.search(all_text(slash(bot, text)))
    bot.run(bot.event(mention("<!channel> zzz <@U123>"), "EvHostile"))
    (post,) = bot.slack.posts()
    assert not UNESCAPED.search(all_text(post.body["blocks"]) + post.body["text"])
    assert "&lt;!channel&gt;" in all_text(post.body["blocks"])


def test_an_unknown_command_gets_a_4xx(bot: Bot) -> None:
    body = slash_form("nato", response_url=bot.slack.response_url(), command="/weather")
    (result,) = bot.run(bot.post(body))
    assert result.status == 404


def test_a_failing_command_is_acknowledged_with_an_apology(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with bot.runtime.db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE knowledge_gaps"))
    with caplog.at_level(logging.ERROR):
        body = slash(bot, "gaps", user_id=ADMIN)
    assert body == {"text": SORRY, "response_type": "ephemeral"}
    assert [r.getMessage() for r in caplog.records] == ["listener failed"]


# -- events --------------------------------------------------------------------------------------


def test_a_mention_in_a_thread_is_answered_in_that_thread(bot: Bot) -> None:
    event = mention("what's the latest on the ITPP?", thread_ts="1700000000.000100")
    (result,) = bot.run(bot.event(event, "Ev01"))
    assert result.status == 200
    (post,) = bot.slack.posts()
    assert post.body["channel"] == "C0CHAN1"
    assert post.body["thread_ts"] == "1700000000.000100"
    assert post.body["unfurl_links"] in (False, "false", "0", 0)
    assert "NATO" in post.body["blocks"][0]["text"]["text"]
    assert post.body["metadata"]["event_payload"]["key"] == "Ev01"


def test_a_mention_outside_a_thread_starts_one_on_the_message(bot: Bot) -> None:
    bot.run(bot.event(mention("rok", ts="1700000200.000300"), "Ev02"))
    (post,) = bot.slack.posts()
    assert post.body["thread_ts"] == "1700000200.000300"


def test_a_direct_message_is_answered_in_the_dm(bot: Bot) -> None:
    bot.run(bot.event(direct("pacific security"), "Ev03"))
    (post,) = bot.slack.posts()
    assert post.body["channel"] == "D0DM1"
    assert not post.body.get("thread_ts")
    assert "Pacific" in post.body["blocks"][0]["text"]["text"]


def test_a_retried_event_is_answered_once(bot: Bot) -> None:
    event = mention("nato", ts="1700000400.1")
    retries = [bot.event(event, "Ev04", extra={"x-slack-retry-num": str(n)}) for n in (1, 2, 3)]
    results = bot.run(bot.event(event, "Ev04"), *retries)
    assert [r.status for r in results] == [200, 200, 200, 200]
    assert len(bot.slack.posts()) == 1


@pytest.mark.parametrize(
    "event",
    [
        direct("nato", user="UBOT", bot_id="BBOT"),
        mention("nato", user="UBOT", bot_id="BBOT"),
        direct("nato", user="U0OTHERBOT", bot_id="B0OTHER"),
        direct("nato", subtype="message_changed"),
        {
            "type": "message",
            "channel_type": "channel",
            "user": "U1",
            "text": "nato",
            "ts": "1.2",
            "channel": "C0CHAN1",
        },
        {"type": "reaction_added", "user": "U1", "reaction": "eyes", "item": {}, "event_ts": "1.3"},
    ],
    ids=["own-dm", "own-mention", "other-bot", "edit", "channel-message", "reaction"],
)
def test_events_no_listener_takes_are_acknowledged_and_not_answered(
    bot: Bot, event: dict[str, Any]
) -> None:
    (result,) = bot.run(bot.event(event, "EvIgnored"))
    assert result.status == 200
    assert bot.slack.posts() == []


def test_a_failing_event_listener_apologises_where_the_answer_would_go(bot: Bot) -> None:
    with bot.runtime.db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE knowledge_gaps"))
    bot.run(bot.event(mention("gaps", user=ADMIN), "EvFail1"))
    (post,) = bot.slack.posts()
    assert SORRY in all_text(post.body["blocks"])
    assert post.body["thread_ts"] == "1700000100.000100"
    assert post.body["metadata"]["event_payload"]["key"] == "EvFail1"


def test_a_rate_limited_then_failing_reply_is_retried_and_delivered_once(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=0)
    bot.slack.fail_next("chat.postMessage", status=503)
    bot.run(bot.event(mention("ip4", ts="1700000700.1"), "Ev08"))
    assert [c.status for c in bot.slack.posts()] == [429, 503, 200]
    assert len(bot.slack.messages("C0CHAN1")) == 1


def test_a_refused_reply_is_logged_with_its_method_error_and_request(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.slack.fail_next("chat.postMessage", error="channel_not_found")
    event = {**mention("ip4", ts="1700000800.1"), "channel": "C0GONE"}
    with caplog.at_level(logging.INFO):
        bot.run(bot.event(event, "Ev09"))
    (failure,) = [r for r in caplog.records if r.getMessage() == "slack call failed"]
    assert failure.method == "chat.postMessage"  # type: ignore[attr-defined]
    assert failure.slack_error == "channel_not_found"  # type: ignore[attr-defined]
    (request,) = [r for r in caplog.records if r.getMessage() == "request"]
    fields = {k: getattr(request, k) for k in ("command", "topic", "resolved_by", "user")}
    assert fields == {
        "command": "app_mention",
        "topic": "ip4",
        "resolved_by": "alias",
        "user": "U0USER1",
    }
    assert request.outcome == "failed"  # type: ignore[attr-defined]
    assert isinstance(request.latency_ms, float)  # type: ignore[attr-defined]


# -- buttons -------------------------------------------------------------------------------------


def click(bot: Bot, action_id: str, value: str, **options: Any) -> list[Any]:
    url = bot.slack.response_url(f"T1/{action_id}/{value}")
    (result,) = bot.run(bot.post(action_form(action_id, value, response_url=url, **options)))
    assert result.status == 200
    return bot.slack.responses()


def test_share_reposts_the_brief_visibly_saying_who_shared(bot: Bot) -> None:
    (answer,) = click(bot, "share_brief", "rok|short", user_id="U0SHARER")
    assert answer.body["response_type"] == "in_channel"
    assert answer.body["replace_original"] is False
    assert "Shared by <@U0SHARER>" in all_text(answer.body["blocks"])
    assert answer.body["blocks"][0]["text"]["text"] == "New Zealand and the Republic of Korea"
    assert [b for b in answer.body["blocks"] if b["type"] == "actions"] == []


def test_share_of_a_full_brief_shares_every_fact(bot: Bot) -> None:
    (short,) = click(bot, "share_brief", "pacific-security|short")
    bot.slack.reset()
    (full,) = click(bot, "share_brief", "pacific-security|full")
    assert len(fact_blocks(full.body["blocks"])) > len(fact_blocks(short.body["blocks"]))


def test_full_brief_replaces_the_ephemeral_brief_with_every_fact(bot: Bot) -> None:
    (answer,) = click(bot, "full_brief", "pacific-security|full")
    assert answer.body["replace_original"] is True
    assert "response_type" not in answer.body
    assert len(fact_blocks(answer.body["blocks"])) > 8


def test_a_suggestion_answers_with_that_topics_short_brief(bot: Bot) -> None:
    (answer,) = click(bot, "suggest_2", "ukraine")
    assert "Ukraine" in answer.body["blocks"][0]["text"]["text"]
    assert answer.body["replace_original"] is True
    assert len(fact_blocks(answer.body["blocks"])) <= 8


def test_a_button_for_a_topic_gone_after_a_reload_says_so_privately(bot: Bot) -> None:
    (answer,) = click(bot, "share_brief", "no-such-topic|short")
    assert answer.body["response_type"] == "ephemeral"
    assert "no topic 'no-such-topic'" in all_text(answer.body)


def test_a_button_whose_response_url_fails_ends_with_an_apology(bot: Bot) -> None:
    bot.slack.fail_next(RESPONSE_URL, status=500, times=4)
    answers = click(bot, "full_brief", "nato|full")
    assert len(answers) == 5
    assert "Sorry" in answers[-1].body["text"]


def test_an_unknown_action_gets_a_4xx(bot: Bot) -> None:
    url = bot.slack.response_url()
    (result,) = bot.run(bot.post(action_form("delete_everything", "x", response_url=url)))
    assert result.status == 404
    assert bot.slack.responses() == []


# -- requests that never reach a listener ---------------------------------------------------------


def test_url_verification_echoes_the_challenge(bot: Bot) -> None:
    body = json.dumps({"token": "x", "challenge": "abc123", "type": "url_verification"}).encode()
    (result,) = bot.run(bot.post(body, JSON))
    assert result.status == 200
    assert result.json()["challenge"] == "abc123"


@pytest.mark.parametrize("case", ["bad_signature", "stale", "future", "missing"])
def test_unsigned_or_badly_signed_requests_get_401(bot: Bot, case: str) -> None:
    body = slash_form("nato", response_url=bot.slack.response_url())
    now = int(time.time())
    extra: dict[str, str] = {}
    if case == "bad_signature":
        extra = {"x-slack-signature": "v0=" + "0" * 64}
    elif case in ("stale", "future"):
        ts = now - 301 if case == "stale" else now + 301
        extra = {"x-slack-request-timestamp": str(ts), "x-slack-signature": sign(body, ts)}
    else:
        extra = {"x-slack-request-timestamp": "", "x-slack-signature": ""}
    (result,) = bot.run(bot.post(body, FORM, extra=extra))
    assert result.status == 401


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b'{"type": "event_callback", "event": {"type": "app_men', JSON),
        (b"\xff\xfe\x00garbage", FORM),
        (b"payload=%7Bnot-json", FORM),
        (b"", JSON),
    ],
)
def test_malformed_bodies_get_400(bot: Bot, body: bytes, content_type: str) -> None:
    (result,) = bot.run(bot.post(body, content_type))
    assert result.status == 400
