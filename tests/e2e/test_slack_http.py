"""End to end: `briefbot serve` as a subprocess, signed requests over real HTTP, a fake Slack."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeslack import RESPONSE_URL, FakeSlack
from tests.slackreq import BotProcess, action_form, all_text, event_body, sign, slash_form

pytestmark = pytest.mark.e2e

UNESCAPED = re.compile(r"<[!@#]|<https?://evil")


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def bot(slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    process = BotProcess(api_url=slack.base_url, workdir=tmp_path_factory.mktemp("serve"))
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def clean(slack: FakeSlack) -> Iterator[None]:
    slack.reset()
    yield
    assert slack.limit_violations == []
    assert slack.server_errors == []


def test_slash_command_answers_within_3_seconds_with_an_ephemeral_cited_brief(
    bot: BotProcess, slack: FakeSlack
) -> None:
    result = bot.post(slash_form("nato", response_url=slack.response_url()))
    assert result.status == 200
    assert result.elapsed < 3.0
    body = result.json()
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"] == "New Zealand and NATO"
    text = all_text(body["blocks"])
    assert "[1]" in text and "*Sources*" in text
    actions = next(b for b in body["blocks"] if b["type"] == "actions")
    assert {e["action_id"] for e in actions["elements"]} == {"share_brief", "full_brief"}
    assert all(s.get("text", {}).get("verbatim") for s in body["blocks"] if s["type"] == "section")
    assert "link_names" not in body
    assert body["unfurl_links"] is False and body["unfurl_media"] is False


def test_help_topics_and_not_found_with_suggestion_buttons(
    bot: BotProcess, slack: FakeSlack
) -> None:
    url = slack.response_url()
    help_text = all_text(bot.post(slash_form("", response_url=url)).json())
    assert "/brief topics" in help_text and "nato" in help_text
    assert "rok" in all_text(bot.post(slash_form("topics", response_url=url)).json())
    missing = bot.post(slash_form("zzqx weather", response_url=url)).json()
    assert "No topic matches" in all_text(missing)
    buttons = [e for b in missing["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 3


def test_share_button_reposts_visibly_saying_who_shared(bot: BotProcess, slack: FakeSlack) -> None:
    url = slack.response_url("T1/2/share")
    result = bot.post(action_form("share_brief", "rok|short", response_url=url, user_id="U0SHARER"))
    assert result.status == 200
    (call,) = slack.wait_for(RESPONSE_URL)
    assert call.body["response_type"] == "in_channel"
    assert call.body["replace_original"] is False
    assert "Shared by <@U0SHARER>" in all_text(call.body["blocks"])
    assert call.body["blocks"][0]["text"]["text"] == "New Zealand and the Republic of Korea"


def test_full_brief_button_replaces_with_the_full_version(
    bot: BotProcess, slack: FakeSlack
) -> None:
    url = slack.response_url("T1/3/full")
    bot.post(action_form("full_brief", "pacific-security|full", response_url=url))
    (call,) = slack.wait_for(RESPONSE_URL)
    assert call.body["replace_original"] is True
    facts = [
        b
        for b in call.body["blocks"]
        if b["type"] == "section" and re.match(r"\d+\. ", b["text"]["text"])
    ]
    assert len(facts) > 8


def test_suggestion_button_answers_with_that_topic(bot: BotProcess, slack: FakeSlack) -> None:
    bot.post(action_form("suggest_2", "ukraine", response_url=slack.response_url("T1/4/s")))
    (call,) = slack.wait_for(RESPONSE_URL)
    assert "Ukraine" in call.body["blocks"][0]["text"]["text"]


def test_url_verification_echoes_the_challenge(bot: BotProcess) -> None:
    body = json.dumps({"token": "x", "challenge": "abc123", "type": "url_verification"}).encode()
    result = bot.post(body, content_type="application/json")
    assert result.status == 200
    assert result.json()["challenge"] == "abc123"


def test_mention_is_answered_in_the_thread(bot: BotProcess, slack: FakeSlack) -> None:
    event = {
        "type": "app_mention",
        "user": "U0USER1",
        "text": "<@UBOT> what's the latest on the ITPP?",
        "ts": "1700000100.000200",
        "thread_ts": "1700000000.000100",
        "channel": "C0CHAN1",
        "event_ts": "1700000100.000200",
    }
    assert (
        bot.post(event_body(event, event_id="Ev01"), content_type="application/json").status == 200
    )
    (call,) = slack.wait_for("chat.postMessage")
    assert call.body["channel"] == "C0CHAN1"
    assert call.body["thread_ts"] == "1700000000.000100"
    assert call.body["unfurl_links"] in (False, "false", "0", 0)
    assert "NATO" in call.body["blocks"][0]["text"]["text"]


def test_mention_outside_a_thread_starts_one_on_the_message(
    bot: BotProcess, slack: FakeSlack
) -> None:
    event = {
        "type": "app_mention",
        "user": "U0USER1",
        "text": "<@UBOT> rok",
        "ts": "1700000200.000300",
        "channel": "C0CHAN1",
        "event_ts": "1700000200.000300",
    }
    bot.post(event_body(event, event_id="Ev02"), content_type="application/json")
    (call,) = slack.wait_for("chat.postMessage")
    assert call.body["thread_ts"] == "1700000200.000300"


def test_direct_message_is_answered_in_the_dm(bot: BotProcess, slack: FakeSlack) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U0USER1",
        "text": "pacific security",
        "ts": "1700000300.000100",
        "channel": "D0DM1",
        "event_ts": "1700000300.000100",
    }
    bot.post(event_body(event, event_id="Ev03"), content_type="application/json")
    (call,) = slack.wait_for("chat.postMessage")
    assert call.body["channel"] == "D0DM1"
    assert not call.body.get("thread_ts")


def test_retried_event_is_answered_once(bot: BotProcess, slack: FakeSlack) -> None:
    event = {
        "type": "app_mention",
        "user": "U0USER1",
        "text": "<@UBOT> nato",
        "ts": "1700000400.1",
        "channel": "C0CHAN1",
        "event_ts": "1700000400.1",
    }
    body = event_body(event, event_id="Ev04")
    bot.post(body, content_type="application/json")
    for attempt in (1, 2, 3):
        retry = bot.post(
            body,
            content_type="application/json",
            headers={"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert retry.status == 200
    slack.wait_for("chat.postMessage")
    time.sleep(0.5)  # give a wrong second reply the time to arrive
    assert len(slack.posts()) == 1


def test_the_bots_own_messages_are_ignored(bot: BotProcess, slack: FakeSlack) -> None:
    own = {
        "type": "message",
        "channel_type": "im",
        "user": "UBOT",
        "bot_id": "BBOT",
        "text": "nato",
        "ts": "1700000500.1",
        "channel": "D0DM1",
        "event_ts": "1700000500.1",
    }
    assert bot.post(event_body(own, event_id="Ev05"), content_type="application/json").status == 200
    mention = {
        "type": "app_mention",
        "user": "UBOT",
        "bot_id": "BBOT",
        "text": "<@UBOT> nato",
        "ts": "1700000500.2",
        "channel": "C0CHAN1",
        "event_ts": "1700000500.2",
    }
    assert (
        bot.post(event_body(mention, event_id="Ev06"), content_type="application/json").status
        == 200
    )
    time.sleep(0.5)
    assert slack.posts() == []


@pytest.mark.parametrize("case", ["bad_signature", "stale", "future", "missing"])
def test_unsigned_or_badly_signed_requests_get_401(
    bot: BotProcess, slack: FakeSlack, case: str
) -> None:
    body = slash_form("nato", response_url=slack.response_url())
    now = int(time.time())
    if case == "bad_signature":
        result = bot.post(body, signature="v0=" + "0" * 64)
    elif case == "stale":
        result = bot.post(body, timestamp=now - 301, signature=sign(body, now - 301))
    elif case == "future":
        result = bot.post(body, timestamp=now + 301, signature=sign(body, now + 301))
    else:
        result = bot.post(body, signed=False)
    assert result.status == 401


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b'{"type": "event_callback", "event": {"type": "app_men', "application/json"),
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
def test_malformed_bodies_get_4xx_never_500(
    bot: BotProcess, body: bytes, content_type: str
) -> None:
    result = bot.post(body, content_type=content_type)
    assert 400 <= result.status < 500


def test_unknown_command_gets_a_4xx(bot: BotProcess, slack: FakeSlack) -> None:
    result = bot.post(slash_form("nato", response_url=slack.response_url(), command="/weather"))
    assert 400 <= result.status < 500


def test_huge_and_hostile_queries_are_answered_escaped(bot: BotProcess, slack: FakeSlack) -> None:
    for text in ["x" * 20_000, "<!channel> nato <@U123>", "<!here> <https://evil.example|click>"]:
        result = bot.post(slash_form(text, response_url=slack.response_url()))
        assert result.status == 200
        assert not UNESCAPED.search(all_text(result.json()))
    event = {
        "type": "app_mention",
        "user": "U0USER1",
        "text": "<@UBOT> <!channel> zzz <@U123>",
        "ts": "1700000600.1",
        "channel": "C0CHAN1",
        "event_ts": "1700000600.1",
    }
    bot.post(event_body(event, event_id="Ev07"), content_type="application/json")
    (call,) = slack.wait_for("chat.postMessage")
    assert not UNESCAPED.search(all_text(call.body["blocks"]) + call.body["text"])
    assert "&lt;!channel&gt;" in all_text(call.body["blocks"])


def test_health_and_readiness(bot: BotProcess) -> None:
    import urllib.request

    with urllib.request.urlopen(bot.url + "/healthz") as response:
        assert json.loads(response.read()) == {"status": "ok"}
    with urllib.request.urlopen(bot.url + "/readyz") as response:
        ready = json.loads(response.read())
    assert ready["status"] == "ready" and ready["database"] == "ok"
    assert ready["factbase"]["facts"] > 80


def test_secrets_never_reach_the_logs(bot: BotProcess) -> None:
    from tests.slackreq import BOT_TOKEN, SIGNING_SECRET

    logs = bot.logs()
    assert '"message": "serving"' in logs and '"mode": "http"' in logs
    assert BOT_TOKEN not in logs and SIGNING_SECRET not in logs


def test_rate_limited_reply_is_retried_then_delivered_once(
    bot: BotProcess, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    slack.fail_next("chat.postMessage", status=503)
    event = {
        "type": "app_mention",
        "user": "U0USER1",
        "text": "<@UBOT> ip4",
        "ts": "1700000700.1",
        "channel": "C0CHAN1",
        "event_ts": "1700000700.1",
    }
    bot.post(event_body(event, event_id="Ev08"), content_type="application/json")
    calls = slack.wait_for("chat.postMessage", count=3, timeout=10)
    assert [c.status for c in calls] == [429, 503, 200]


def test_failure_after_retries_is_logged_with_method_and_error(
    bot: BotProcess, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", error="channel_not_found")
    event = {
        "type": "app_mention",
        "user": "U0USER1",
        "text": "<@UBOT> ip4",
        "ts": "1700000800.1",
        "channel": "C0GONE",
        "event_ts": "1700000800.1",
    }
    bot.post(event_body(event, event_id="Ev09"), content_type="application/json")
    slack.wait_for("chat.postMessage")
    deadline = time.monotonic() + 5
    while "channel_not_found" not in bot.logs() and time.monotonic() < deadline:
        time.sleep(0.05)
    deadline = time.monotonic() + 5
    while '"message": "request"' not in bot.logs().split("channel_not_found", 1)[-1] and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    entries = [json.loads(e) for e in bot.logs().splitlines() if "channel_not_found" in e]
    failure = next(e for e in entries if e["message"] == "slack call failed")
    assert failure["method"] == "chat.postMessage"
    request = next(e for e in entries if e["message"] == "request")
    assert request["command"] == "app_mention" and request["topic"] == "ip4"
    assert request["resolved_by"] == "alias" and request["user"] == "U0USER1"
    assert isinstance(request["latency_ms"], float)


def test_button_whose_response_url_fails_sends_an_apology(
    bot: BotProcess, slack: FakeSlack
) -> None:
    slack.fail_next(RESPONSE_URL, status=500, times=4)
    bot.post(action_form("full_brief", "nato|full", response_url=slack.response_url("T1/9/x")))
    calls = slack.wait_for(RESPONSE_URL, count=5, timeout=15)
    assert "Sorry" in calls[-1].body["text"]


def test_default_visibility_setting_makes_briefs_visible_in_channel(
    slack: FakeSlack, tmp_path: Path
) -> None:
    process = BotProcess(
        api_url=slack.base_url,
        workdir=tmp_path,
        extra_env={"BRIEFBOT_DEFAULT_VISIBILITY": "in_channel"},
    )
    try:
        brief = process.post(slash_form("rok", response_url=slack.response_url())).json()
        assert brief["response_type"] == "in_channel"
        helped = process.post(slash_form("help", response_url=slack.response_url())).json()
        assert helped["response_type"] == "ephemeral"
    finally:
        process.stop()
