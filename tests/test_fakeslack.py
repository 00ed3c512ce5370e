"""Tests for `tests.fakeslack`: the real slack-sdk clients work against the fake Slack Web API."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from tests import fakeslack
from tests.fakeslack import RESPONSE_URL, FakeSlack

# The fixture under test, usable here whether or not conftest.py registers it too.
fake_slack = fakeslack.fake_slack

TOKEN = "xoxb-test"
BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "NATO"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "Founded 1949", "verbatim": True}},
]
METADATA = {"event_type": "reminder_posted", "event_payload": {"key": "r1:2024-06-01"}}


def client(fake: FakeSlack, **kwargs: Any) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.base_url, **kwargs)


def post_raw(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST with urllib, returning the status and the JSON answer even for HTTP errors."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_base_url_points_at_the_api_on_localhost(fake_slack: FakeSlack) -> None:
    assert fake_slack.base_url == f"http://127.0.0.1:{fake_slack.port}/api/"


def test_auth_test_answers_the_bot_identity(fake_slack: FakeSlack) -> None:
    response = client(fake_slack).auth_test()
    assert response["ok"] is True
    assert (response["user_id"], response["bot_id"], response["team_id"]) == ("UBOT", "BBOT", "T1")
    assert response["user"] == "briefbot"
    assert response["url"].startswith("https://")
    [call] = fake_slack.calls("auth.test")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"


def test_bolt_app_starts_against_the_fake(fake_slack: FakeSlack) -> None:
    from slack_bolt import App

    app = App(signing_secret="secret", client=client(fake_slack))
    assert app.client.base_url == fake_slack.base_url
    assert fake_slack.calls("auth.test")


def test_posted_message_with_metadata_comes_back_from_history(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    posted = web.chat_postMessage(channel="C1", text="NATO", blocks=BLOCKS, metadata=METADATA)
    assert posted["ok"] is True
    assert posted["channel"] == "C1"

    history = web.conversations_history(channel="C1", include_all_metadata=True)
    [message] = history["messages"]
    assert message["ts"] == posted["ts"]
    assert message["text"] == "NATO"
    assert message["blocks"] == BLOCKS
    assert message["metadata"] == METADATA
    assert message["bot_id"] == "BBOT"
    assert fake_slack.posts()[0].body["metadata"] == METADATA
    assert fake_slack.limit_violations == []


def test_history_leaves_out_metadata_unless_asked(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    web.chat_postMessage(channel="C1", text="hi", metadata=METADATA)
    [message] = web.conversations_history(channel="C1")["messages"]
    assert "metadata" not in message


def test_timestamps_are_unique_and_increasing(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    stamps = [web.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(5)]
    assert stamps[0] == "1700000000.000100"
    assert len(set(stamps)) == 5
    assert [float(s) for s in stamps] == sorted(float(s) for s in stamps)


def test_history_is_newest_first_per_channel_with_oldest_latest_and_limit(
    fake_slack: FakeSlack,
) -> None:
    web = client(fake_slack)
    stamps = [web.chat_postMessage(channel="C1", text=f"m{i}")["ts"] for i in range(5)]
    web.chat_postMessage(channel="C2", text="elsewhere")

    def texts(**kwargs: Any) -> list[str]:
        response = web.conversations_history(channel="C1", **kwargs)
        return [m["text"] for m in response["messages"]]

    assert texts() == ["m4", "m3", "m2", "m1", "m0"]
    assert texts(oldest=stamps[1]) == ["m4", "m3", "m2"]
    assert texts(latest=stamps[3]) == ["m2", "m1", "m0"]
    assert texts(oldest=stamps[1], latest=stamps[3], inclusive=True) == ["m3", "m2", "m1"]
    limited = web.conversations_history(channel="C1", limit=2)
    assert [m["text"] for m in limited["messages"]] == ["m4", "m3"]
    assert limited["has_more"] is True
    cursor = limited["response_metadata"]["next_cursor"]
    assert texts(limit=2, cursor=cursor) == ["m2", "m1"]


def test_history_leaves_out_thread_replies_like_slack(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    parent = web.chat_postMessage(channel="C1", text="parent")["ts"]
    web.chat_postMessage(channel="C1", text="reply", thread_ts=parent)
    texts = [m["text"] for m in web.conversations_history(channel="C1")["messages"]]
    assert texts == ["parent"]
    assert [m["text"] for m in fake_slack.messages("C1")] == ["parent", "reply"]


def test_history_answers_a_get_with_query_parameters(fake_slack: FakeSlack) -> None:
    client(fake_slack).chat_postMessage(channel="C1", text="hi", metadata=METADATA)
    query = urllib.parse.urlencode({"channel": "C1", "include_all_metadata": "true"})
    request = urllib.request.Request(
        f"{fake_slack.base_url}conversations.history?{query}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read())
    assert body["messages"][0]["metadata"] == METADATA
    assert fake_slack.calls("conversations.history")[0].http_method == "GET"


def test_form_encoded_post_has_its_json_fields_parsed(fake_slack: FakeSlack) -> None:
    form = urllib.parse.urlencode(
        {
            "channel": "C1",
            "text": "hi",
            "blocks": json.dumps(BLOCKS),
            "metadata": json.dumps(METADATA),
        }
    ).encode()
    status, body = post_raw(
        f"{fake_slack.base_url}chat.postMessage",
        form,
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (status, body["ok"]) == (200, True)
    [call] = fake_slack.posts()
    assert call.body["blocks"] == BLOCKS
    assert call.body["metadata"] == METADATA


def test_blocks_passed_as_a_json_string_are_parsed_and_checked(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    web.chat_postMessage(channel="C1", text="hi", blocks=json.dumps(BLOCKS))
    assert fake_slack.messages("C1")[0]["blocks"] == BLOCKS
    assert fake_slack.limit_violations == []


def test_invalid_json_body_is_answered_invalid_json(fake_slack: FakeSlack) -> None:
    status, body = post_raw(
        f"{fake_slack.base_url}chat.postMessage",
        b"{not json",
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    assert (status, body) == (200, {"ok": False, "error": "invalid_json"})
    assert fake_slack.server_errors == []


@pytest.mark.parametrize("token", [None, "xoxp-user-token", "xapp-app-token"])
def test_api_methods_need_a_bot_token(fake_slack: FakeSlack, token: str | None) -> None:
    web = WebClient(token=token, base_url=fake_slack.base_url)
    with pytest.raises(SlackApiError) as caught:
        web.chat_postMessage(channel="C1", text="hi")
    assert caught.value.response["error"] == "not_authed"
    assert fake_slack.messages("C1") == []


def test_ephemeral_message_gets_a_message_ts_and_stays_out_of_history(
    fake_slack: FakeSlack,
) -> None:
    web = client(fake_slack)
    response = web.chat_postEphemeral(channel="C1", user="U1", text="only you", blocks=BLOCKS)
    assert response["message_ts"]
    assert web.conversations_history(channel="C1")["messages"] == []


def test_update_changes_the_stored_message(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    ts = web.chat_postMessage(channel="C1", text="draft")["ts"]
    updated = web.chat_update(channel="C1", ts=ts, text="final", blocks=BLOCKS)
    assert updated["ts"] == ts
    [message] = web.conversations_history(channel="C1")["messages"]
    assert (message["text"], message["blocks"]) == ("final", BLOCKS)
    with pytest.raises(SlackApiError) as caught:
        web.chat_update(channel="C1", ts="1.000000", text="x")
    assert caught.value.response["error"] == "message_not_found"


# -- scripted failures ----------------------------------------------------------------------


def test_rate_limit_is_retried_after_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    web = client(fake_slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    assert web.chat_postMessage(channel="C1", text="hi")["ok"] is True
    attempts = fake_slack.posts()
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].response == {"ok": False, "error": "ratelimited"}
    assert len(fake_slack.messages("C1")) == 1


def test_rate_limit_answer_carries_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        client(fake_slack).chat_postMessage(channel="C1", text="hi")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_by_the_server_error_handler(
    fake_slack: FakeSlack, status: int
) -> None:
    fake_slack.fail_next("chat.postMessage", status=status, times=2)
    handler = ServerErrorRetryHandler(
        max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
    )
    web = client(fake_slack, retry_handlers=[handler])
    assert web.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert [c.status for c in fake_slack.posts()] == [status, status, 200]


def test_ok_false_raises_slack_api_error(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", error="channel_not_found", times=2)
    web = client(fake_slack)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            web.chat_postMessage(channel="C404", text="hi")
        assert caught.value.response.status_code == 200
        assert caught.value.response["error"] == "channel_not_found"
    assert web.chat_postMessage(channel="C404", text="hi")["ok"] is True


def test_always_fail_lasts_until_cleared(fake_slack: FakeSlack) -> None:
    fake_slack.always_fail("chat.postMessage", status=503)
    web = client(fake_slack)
    for _ in range(3):
        with pytest.raises(SlackApiError):
            web.chat_postMessage(channel="C1", text="hi")
    fake_slack.clear_failures()
    assert web.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert [c.status for c in fake_slack.posts()] == [503, 503, 503, 200]


def test_failures_only_hit_the_scripted_method(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", error="ratelimited")
    assert client(fake_slack).auth_test()["ok"] is True


def test_delayed_answer_makes_the_client_time_out(fake_slack: FakeSlack) -> None:
    fake_slack.delay_next("chat.postMessage", 5.0)
    web = client(fake_slack, timeout=0.2)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        web.chat_postMessage(channel="C1", text="slow")
    assert web.chat_postMessage(channel="C1", text="fast")["ok"] is True
    assert len(fake_slack.wait_for("chat.postMessage", count=2)) == 2


@pytest.mark.parametrize("status", [500, None], ids=["http-500", "connection-dropped"])
def test_a_lost_answer_comes_after_the_message_was_stored(
    fake_slack: FakeSlack, status: int | None
) -> None:
    fake_slack.lose_answer_next("chat.postMessage", status=status)
    web = client(fake_slack, retry_handlers=[])  # slack-sdk's default retries a dropped connection
    fake_slack.remove_bot_from("C0OUT")
    with pytest.raises(SlackApiError):  # refused, nothing stored: the lost answer waits
        web.chat_postMessage(channel="C0OUT", text="refused")
    with pytest.raises((SlackApiError, OSError)) as caught:
        web.chat_postMessage(channel="C1", text="stored", metadata=METADATA)
    if status is not None:
        assert isinstance(caught.value, SlackApiError)
        assert caught.value.response.status_code == status
    (stored,) = fake_slack.messages("C1")
    assert stored["text"] == "stored" and stored["metadata"] == METADATA
    assert web.chat_postMessage(channel="C1", text="answered")["ok"] is True


# -- limits ---------------------------------------------------------------------------------


def test_blocks_over_slacks_limits_are_recorded_and_refused(fake_slack: FakeSlack) -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as caught:
        client(fake_slack).chat_postMessage(channel="C1", text="hi", blocks=too_long)
    assert caught.value.response["error"] == "invalid_blocks"
    assert fake_slack.limit_violations == [
        "chat.postMessage: blocks[0].text.text: 3001 chars > 3000"
    ]
    assert fake_slack.messages("C1") == []


def test_link_names_is_refused(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError):
        client(fake_slack).chat_postMessage(channel="C1", text="@here hi", link_names=True)
    assert fake_slack.limit_violations[0].startswith("chat.postMessage: link_names")


# -- response_url ---------------------------------------------------------------------------


def test_response_url_post_through_webhook_client(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("T1/123/abc")
    response = WebhookClient(url).send(
        text="NATO", blocks=BLOCKS, response_type="ephemeral", replace_original=True
    )
    assert response.status_code == 200
    assert json.loads(response.body) == {"ok": True}
    [call] = fake_slack.responses()
    assert call.method == RESPONSE_URL
    assert call.path == "/response/T1/123/abc"
    assert call.body["blocks"] == BLOCKS
    assert call.body["response_type"] == "ephemeral"


def test_response_url_with_invalid_blocks_is_refused(fake_slack: FakeSlack) -> None:
    bad = [{"type": "header", "text": {"type": "mrkdwn", "text": "*no*"}}]
    status, body = post_raw(
        fake_slack.response_url(),
        json.dumps({"text": "x", "blocks": bad}).encode(),
        {"Content-Type": "application/json"},
    )
    assert (status, body) == (400, {"ok": False, "error": "invalid_blocks"})
    assert fake_slack.limit_violations == [
        "response_url: blocks[0].text.type: 'mrkdwn' is not plain_text"
    ]


def test_response_url_failures_can_be_scripted(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next(RESPONSE_URL, status=500)
    response = WebhookClient(fake_slack.response_url()).send(text="hi")
    assert response.status_code == 500
    assert fake_slack.responses()[0].status == 500


# -- waiting, reset, lifecycle --------------------------------------------------------------


def test_wait_for_returns_once_a_background_post_arrives(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    worker = threading.Thread(target=lambda: web.chat_postMessage(channel="C1", text="later"))
    worker.start()
    [call] = fake_slack.wait_for("chat.postMessage", timeout=5.0)
    worker.join(timeout=5.0)
    assert call.body["text"] == "later"


def test_wait_for_raises_timeout_error_when_nothing_arrives(fake_slack: FakeSlack) -> None:
    with pytest.raises(TimeoutError, match=r"expected 1 chat\.postMessage call"):
        fake_slack.wait_for("chat.postMessage", timeout=0.05)


def test_reset_forgets_calls_messages_violations_and_failures(fake_slack: FakeSlack) -> None:
    web = client(fake_slack)
    web.chat_postMessage(channel="C1", text="hi")
    with pytest.raises(SlackApiError):
        web.chat_postMessage(channel="C1", text="@x", link_names=True)
    fake_slack.always_fail("auth.test", error="invalid_auth")
    fake_slack.reset()
    assert fake_slack.calls() == []
    assert fake_slack.messages("C1") == []
    assert fake_slack.limit_violations == []
    assert web.auth_test()["ok"] is True


def test_unknown_paths_and_methods_are_refused(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as caught:
        client(fake_slack).api_call("users.list")
    assert caught.value.response["error"] == "unknown_method"
    status, _ = post_raw(f"{fake_slack.url}elsewhere", b"{}", {})
    assert status == 404


def test_stopped_fake_frees_its_port_and_can_be_used_as_a_context_manager() -> None:
    with FakeSlack() as fake:
        base_url = fake.base_url
        assert client(fake).auth_test()["ok"] is True
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{base_url}auth.test", timeout=1)
