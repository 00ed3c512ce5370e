"""The Slack route at its edges, in-process: the real ASGI app and Bolt app, the
fake Slack Web API over HTTP, a real SQLite database (and PostgreSQL for dropped connections)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from rapidfuzz import fuzz

from bot.db.schema import knowledge_gaps
from bot.slack import route, sending, services
from bot.slack.limits import POST_MESSAGE_BLOCKS_TEXT_BUDGET, blocks_text_length
from bot.slack.route import MAX_BODY_BYTES
from tests.asgi import FORM, JSON, Bot, Result, call, make_bot, settle, signed_headers
from tests.fakeslack import RESPONSE_URL, FakeSlack
from tests.slackreq import action_form, all_text, direct, mention, slash_form

CHUNK = 64 * 1024


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    monkeypatch.setattr(sending, "RETRY_BASE_SECONDS", 0.0)
    monkeypatch.setattr(services, "RETRY_BASE_SECONDS", 0.0)
    yield from make_bot(fake_slack, tmp_path)
    assert fake_slack.limit_violations == []
    assert fake_slack.server_errors == []


@pytest.fixture
def guarded(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    """A bot that answers only in C0ALLOWED, and not in DMs."""
    yield from make_bot(
        fake_slack, tmp_path, allowed_channels=frozenset({"C0ALLOWED"}), allow_dms=False
    )


# -- A. access control on every path ---------------------------------------------------------


@pytest.mark.parametrize(
    "action_id,value",
    [("share_brief", "rok|short"), ("full_brief", "rok|full"), ("suggest_1", "rok")],
)
def test_buttons_from_a_channel_the_bot_does_not_answer_in_get_only_a_private_refusal(
    guarded: Bot, action_id: str, value: str
) -> None:
    url = guarded.slack.response_url("T1/7/elsewhere")

    async def scenario() -> Result:
        result = await guarded.post(
            action_form(action_id, value, response_url=url, channel_id="C0OTHER")
        )
        await settle()
        return result

    assert run(scenario()).status == 200
    (answer,) = guarded.slack.responses()
    assert answer.body["response_type"] == "ephemeral"
    assert answer.body["replace_original"] is False
    assert "doesn't answer here" in all_text(answer.body)
    assert "Republic of Korea" not in all_text(answer.body)


def test_a_shortcut_from_a_channel_the_bot_does_not_answer_in_gets_only_a_private_refusal(
    guarded: Bot,
) -> None:
    url = guarded.slack.response_url("T1/7/shortcut")
    payload = {
        "type": "message_action",
        "callback_id": "brief_on_message",
        "team": {"id": "T1"},
        "user": {"id": "U0USER1"},
        "channel": {"id": "C0OTHER", "name": "elsewhere"},
        "message": {"type": "message", "user": "U0USER2", "text": "nato", "ts": "1700000500.1"},
        "response_url": url,
        "trigger_id": "1.2.3",
    }

    async def scenario() -> Result:
        result = await guarded.post(urlencode({"payload": json.dumps(payload)}).encode())
        await settle()
        return result

    assert run(scenario()).status == 200
    (answer,) = guarded.slack.responses()
    assert answer.body["response_type"] == "ephemeral"
    assert "doesn't answer here" in all_text(answer.body)
    assert guarded.slack.posts() == []


def test_buttons_in_an_allowed_channel_still_work(guarded: Bot) -> None:
    url = guarded.slack.response_url("T1/7/allowed")

    async def scenario() -> None:
        await guarded.post(
            action_form("share_brief", "rok|short", response_url=url, channel_id="C0ALLOWED")
        )
        await settle()

    run(scenario())
    (answer,) = guarded.slack.responses()
    assert answer.body["response_type"] == "in_channel"


def test_replies_to_mentions_carry_no_suggestion_buttons(bot: Bot) -> None:
    async def scenario() -> None:
        await bot.event(mention("zzqx weather"), "EvNB1")
        await settle()

    run(scenario())
    (post,) = bot.slack.posts()
    assert "No topic matches" in all_text(post.body["blocks"])
    assert [b for b in post.body["blocks"] if b["type"] == "actions"] == []
    assert "Did you mean `@briefbot " in all_text(post.body["blocks"])


def test_a_suggestion_clicked_on_a_public_message_answers_the_clicker_alone(bot: Bot) -> None:
    url = bot.slack.response_url("T1/8/thread")

    async def scenario() -> None:
        await bot.post(action_form("suggest_1", "nato", response_url=url, is_ephemeral=False))
        await bot.post(action_form("full_brief", "nato|full", response_url=url, is_ephemeral=False))
        await settle()

    run(scenario())
    for answer in bot.slack.responses():
        assert answer.body["replace_original"] is False
        assert answer.body["response_type"] == "ephemeral"


# -- C. headers first, a streamed body, one signature check -----------------------------------


def test_a_chunked_body_is_read_only_up_to_the_limit(bot: Bot) -> None:
    total = 3 * MAX_BODY_BYTES
    chunks = (b"x" * CHUNK for _ in range(total // CHUNK))
    headers = [(k, v) for k, v in signed_headers(b"", FORM) if k != b"content-length"]
    result = run(call(bot.app, "/slack/events", headers, chunks))
    assert result.status == 413
    assert result.chunks_read <= MAX_BODY_BYTES // CHUNK + 2


@pytest.mark.parametrize("timestamp", ["1" * 4301, "17000000²", "", " 1700000000", "-1"])
def test_malformed_timestamps_are_refused_before_the_body_is_read(bot: Bot, timestamp: str) -> None:
    body = slash_form("nato", response_url=bot.slack.response_url())
    headers = signed_headers(body, FORM, extra={"x-slack-request-timestamp": timestamp})
    encoded = [(k, v) for k, v in headers if k != b"x-slack-request-timestamp"]
    encoded.append((b"x-slack-request-timestamp", timestamp.encode("utf-8")))
    result = run(call(bot.app, "/slack/events", encoded, [body]))
    assert result.status == 401
    assert result.chunks_read == 0


def test_a_signature_that_is_not_slacks_shape_is_refused_unread(bot: Bot) -> None:
    body = slash_form("nato", response_url=bot.slack.response_url())
    headers = signed_headers(body, FORM, extra={"x-slack-signature": "anything"})
    result = run(call(bot.app, "/slack/events", headers, [body]))
    assert result.status == 401 and result.chunks_read == 0


def test_bolt_does_not_check_the_signature_a_second_time(bot: Bot) -> None:
    from slack_bolt.middleware.request_verification.async_request_verification import (
        AsyncRequestVerification,
    )

    app = bot.app.slack.bolt  # the Bolt app the route dispatches to
    assert not any(isinstance(m, AsyncRequestVerification) for m in app._async_middleware_list)


# -- D. malformed but signed: 400; a client that leaves: no traceback -------------------------


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b"[]", JSON),
        (b"null", JSON),
        (b'{"type": "event_callback", "event_id": "Ev1"}', JSON),
        (b'{"type": "event_callback", "event_id": "Ev1", "event": "app_mention"}', JSON),
        (b'{"type": "event_callback", "event_id": "Ev1", "event": {"type": 5}}', JSON),
        (b'{"type": "event_callback", "event": {"type": "app_mention", "user": ["U1"]}}', JSON),
        (b'{"type": ["block_actions"]}', JSON),
        (b"payload=" + json.dumps({"type": "block_actions", "actions": []}).encode(), FORM),
        (b"payload=" + json.dumps({"type": "block_actions", "actions": [1]}).encode(), FORM),
        (
            b"payload="
            + json.dumps(
                {"type": "block_actions", "user": 5, "actions": [{"action_id": "share_brief"}]}
            ).encode(),
            FORM,
        ),
        (b"payload=%5B%5D", FORM),
        (b"payload=null", FORM),
        (b"[" * 100_000, JSON),  # nested deeper than `json` recurses
        (b"payload=" + b"%7B%22a%22%3A" * 50_000, FORM),
    ],
)
def test_signed_but_malformed_payloads_get_400(bot: Bot, body: bytes, content_type: str) -> None:
    result = run(bot.post(body, content_type))
    assert result.status == 400, result.body


def test_a_client_that_disconnects_mid_body_leaves_no_traceback(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    body = slash_form("nato", response_url=bot.slack.response_url())
    headers = signed_headers(body, FORM, extra={"content-length": str(len(body) * 2)})
    with caplog.at_level(logging.INFO):
        run(call(bot.app, "/slack/events", headers, [body, body], disconnect_after=1))
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_a_content_type_that_is_not_utf8_is_read_as_latin1_as_starlette_reads_headers(
    bot: Bot,
) -> None:
    body = b'{"type": "url_verification", "challenge": "c4ll", "token": "x"}'
    headers = signed_headers(body, JSON, extra={"content-type": "application/json; charset=\xff"})
    result = run(call(bot.app, "/slack/events", headers, [body]))
    assert (result.status, result.json()) == (200, {"challenge": "c4ll"})


def test_other_methods_on_slacks_route_get_405_naming_post(bot: Bot) -> None:
    for method in ("GET", "PUT", "HEAD"):
        result = run(call(bot.app, "/slack/events", [], [b""], method=method))
        assert (result.status, result.headers.get("allow")) == (405, "POST"), method


def test_an_error_in_the_bots_own_code_is_logged_and_answered_500(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(body: bytes, content_type: str | None) -> dict[str, Any]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(route, "parse_payload", broken)  # no request reaches this on its own
    with caplog.at_level(logging.INFO):
        result = run(bot.post(slash_form("nato", response_url=bot.slack.response_url())))
    assert (result.status, result.body) == (500, b"Internal Server Error")
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.getMessage() == "request failed" and "a bug" in str(record.exc_info[1])


# -- F. no auth.test per request, never Bolt's reinstall text ---------------------------------


def test_requests_do_not_call_auth_test_and_a_failing_one_is_never_shown(bot: Bot) -> None:
    verified = len(bot.slack.calls("auth.test"))
    bot.slack.always_fail("auth.test", error="internal_error")
    result = run(bot.post(slash_form("nato", response_url=bot.slack.response_url())))
    assert result.json()["blocks"][0]["text"]["text"] == "New Zealand and NATO"
    assert "reinstall" not in result.body.decode()
    assert len(bot.slack.calls("auth.test")) == verified


# -- H. Slack details --------------------------------------------------------------------------


def test_a_full_brief_posted_by_a_mention_keeps_a_margin_below_slacks_text_limit(bot: Bot) -> None:
    async def scenario() -> None:
        await bot.event(mention("full rok"), "EvLong1")
        await settle()

    run(scenario())
    (post,) = bot.slack.posts()
    assert post.response["ok"] is True
    assert blocks_text_length(post.body["blocks"]) <= POST_MESSAGE_BLOCKS_TEXT_BUDGET


def test_a_brief_refused_as_too_long_is_cut_further_and_posted_once(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", error="msg_blocks_too_long")

    async def scenario() -> None:
        await bot.event(mention("full rok"), "EvLong2")
        await settle()

    run(scenario())
    first, second = bot.slack.posts()
    assert second.response["ok"] is True
    assert blocks_text_length(second.body["blocks"]) < blocks_text_length(first.body["blocks"])
    assert len(bot.slack.messages("C0CHAN1")) == 1


def test_a_failing_response_url_gets_at_most_five_posts_the_last_an_apology(bot: Bot) -> None:
    bot.slack.always_fail(RESPONSE_URL, status=500)
    url = bot.slack.response_url("T1/9/failing")

    async def scenario() -> None:
        await bot.post(action_form("full_brief", "nato|full", response_url=url))
        await settle()

    run(scenario())
    posts = bot.slack.responses()
    assert len(posts) == 5
    assert "Sorry" in posts[-1].body["text"]


def test_an_expired_response_url_is_not_tried_again(bot: Bot) -> None:
    bot.slack.always_fail(RESPONSE_URL, status=404)

    async def scenario() -> None:
        await bot.post(
            action_form(
                "share_brief", "nato|short", response_url=bot.slack.response_url("T1/9/old")
            )
        )
        await settle()

    run(scenario())
    assert len(bot.slack.responses()) == 1


def test_app_rate_limited_notices_are_acknowledged(bot: Bot) -> None:
    body = json.dumps(
        {
            "token": "x",
            "type": "app_rate_limited",
            "team_id": "T1",
            "minute_rate_limited": 1518467820,
            "api_app_id": "A1",
        }
    ).encode()
    assert run(bot.post(body, JSON)).status == 200


@pytest.mark.parametrize(
    "subtype,answered",
    [
        ("file_share", True),
        ("thread_broadcast", True),
        ("message_changed", False),
        ("channel_join", False),
    ],
)
def test_direct_messages_from_people_are_answered_whatever_their_subtype(
    bot: Bot, subtype: str, answered: bool
) -> None:
    async def scenario() -> None:
        await bot.event(direct("nato", subtype=subtype), f"EvSub-{subtype}")
        await settle()

    run(scenario())
    assert len(bot.slack.posts()) == (1 if answered else 0)


def test_a_unicode_digit_in_upcoming_gets_the_usage_everywhere(bot: Bot) -> None:
    async def scenario() -> Result:
        result = await bot.post(slash_form("upcoming ²", response_url=bot.slack.response_url()))
        await bot.event(mention("upcoming ²"), "EvUp1")
        await settle()
        return result

    slash = run(scenario())
    assert "Usage: upcoming" in all_text(slash.json())
    (post,) = bot.slack.posts()
    assert "Usage: upcoming" in all_text(post.body["blocks"])


def test_slash_gaps_groups_off_the_event_loop_while_other_requests_are_answered(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bots = make_bot(fake_slack, tmp_path, admin_users=frozenset({"U0ADMIN"}))
    bot = next(bots)
    now = dt.datetime.now(dt.UTC)
    with bot.runtime.db.engine.begin() as connection:
        connection.execute(
            sa.insert(knowledge_gaps),
            [
                {
                    "query": q,
                    "created_at": now,
                    "channel_type": "im",
                    "outcome": "not_found",
                    "best_score": 0.0,
                }
                for q in ("antarctic fisheries", "antarctic fishery")
            ],
        )
    nato_answered = threading.Event()
    waited: list[bool] = []

    def similarity(a: str, b: str) -> float:
        # Grouping waits until /brief nato has been answered: on the event loop, it never is.
        waited.append(nato_answered.wait(timeout=10))
        return float(fuzz.token_set_ratio(a, b))

    bot.runtime.gaps.similarity = similarity
    response_url = fake_slack.response_url()

    async def scenario() -> tuple[Result, Result]:
        gaps = asyncio.ensure_future(
            bot.post(slash_form("gaps", user_id="U0ADMIN", response_url=response_url))
        )
        nato = await bot.post(slash_form("nato", response_url=response_url))
        nato_answered.set()
        return await gaps, nato

    try:
        gaps, nato = run(scenario())
    finally:
        bots.close()
    assert waited and all(waited)
    assert "NATO" in all_text(nato.json())
    assert "antarctic" in all_text(gaps.json())


@pytest.mark.parametrize("lost", ["status_500", "dropped"])
def test_a_reply_stored_but_whose_answer_was_lost_is_not_posted_twice(bot: Bot, lost: str) -> None:
    bot.slack.lose_answer_next("chat.postMessage", status=None if lost == "dropped" else 500)

    async def scenario() -> None:
        await bot.event(mention("nato", ts="1700000300.000100"), f"EvLost-{lost}")
        await settle()

    run(scenario())
    stored = bot.slack.messages("C0CHAN1")
    assert len(stored) == 1
    assert stored[0]["metadata"]["event_payload"]["key"] == f"EvLost-{lost}"
    assert bot.slack.calls("conversations.replies")


def test_a_502_from_chat_post_message_is_retried_after_looking(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", status=502)

    async def scenario() -> None:
        await bot.event(direct("nato"), "EvBad1")
        await settle()

    run(scenario())
    assert [c.status for c in bot.slack.posts()] == [502, 200]
    assert len(bot.slack.messages("D0DM1")) == 1
    assert bot.slack.calls("conversations.history")


@pytest.mark.parametrize("landed", [True, False], ids=["stored", "not-stored"])
def test_a_reply_that_timed_out_once_is_looked_for_then_posted_once(
    fake_slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, landed: bool
) -> None:
    monkeypatch.setattr(sending, "RETRY_BASE_SECONDS", 0.0)
    bots = make_bot(fake_slack, tmp_path, slack_reply_timeout_seconds=1)
    bot = next(bots)
    if not landed:
        fake_slack.fail_next("chat.postMessage", status=500)  # nothing stored ...
    fake_slack.delay_next("chat.postMessage", 3.0)  # ... answered after the client gave up

    async def scenario() -> None:
        await bot.event(mention("nato", ts="1700000400.000100"), f"EvSlow-{landed}")
        await settle()

    try:
        run(scenario())
    finally:
        bots.close()
    assert len(fake_slack.messages("C0CHAN1")) == 1
    assert len(fake_slack.posts()) == (1 if landed else 2)
    assert len(fake_slack.calls("conversations.replies")) == 1


# -- I. the event claim comes before the acknowledgement ----------------------------------------


def test_an_event_that_cannot_be_claimed_is_answered_503_so_slack_retries(bot: Bot) -> None:
    with bot.runtime.db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE processed_events"))

    async def scenario() -> Result:
        result = await bot.event(mention("nato"), "EvDb1")
        await settle()
        return result

    assert run(scenario()).status == 503
    assert bot.slack.posts() == []


def test_a_mention_survives_postgres_dropping_the_connection(
    fake_slack: FakeSlack, tmp_path: Path, postgres_url: str
) -> None:
    bots = make_bot(fake_slack, tmp_path, database_url=postgres_url)
    bot = next(bots)
    try:
        engine = bot.runtime.db.engine
        with engine.connect() as connection:  # the pooled connection the claim will reuse
            pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        admin = sa.create_engine(postgres_url.split("?")[0])
        with admin.begin() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()

        async def scenario() -> Result:
            result = await bot.event(mention("nato"), "EvPg1")
            await settle()
            return result

        assert run(scenario()).status == 200
        assert len(fake_slack.posts()) == 1
    finally:
        bots.close()


# -- K. logs and metrics say what happened ------------------------------------------------------


def test_a_click_whose_response_url_failed_is_logged_and_counted_as_such(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.slack.always_fail(RESPONSE_URL, status=500)

    async def scenario() -> None:
        await bot.post(
            action_form("full_brief", "nato|full", response_url=bot.slack.response_url("T1/9/k"))
        )
        await settle()

    with caplog.at_level(logging.INFO):
        run(scenario())
    (request,) = [r for r in caplog.records if r.getMessage() == "request"]
    assert request.slack_error == "internal_error"  # type: ignore[attr-defined]
    assert request.outcome == "failed"  # type: ignore[attr-defined]
    exposition = bot.runtime.metrics.exposition().decode()
    assert 'error="internal_error",method="response_url"' in exposition
    assert "HTTP" not in exposition


def test_unknown_slack_errors_are_counted_under_one_label(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", error="some_new_error_slack_invented")

    async def scenario() -> None:
        await bot.event(mention("nato"), "EvErr1")
        await settle()

    run(scenario())
    exposition = bot.runtime.metrics.exposition().decode()
    assert 'error="other",method="chat.postMessage"' in exposition
    assert "some_new_error" not in exposition


def test_button_clicks_are_not_counted_as_alias_resolutions(bot: Bot) -> None:
    async def scenario() -> None:
        await bot.post(
            action_form("share_brief", "rok|short", response_url=bot.slack.response_url("T1/9/c"))
        )
        await settle()

    run(scenario())
    exposition = bot.runtime.metrics.exposition().decode()
    assert 'briefbot_resolutions_total{method="button"} 1.0' in exposition
    assert 'method="alias"' not in exposition
