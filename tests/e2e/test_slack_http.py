"""End to end: `briefbot serve` as a subprocess, signed requests over real HTTP, a fake Slack.

Only what needs the real server is here: a command, an event and a button answered by the
running process, its probes and its logs. Every listener's behaviour is tested in-process
(`tests/test_slack_listeners.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.fakeslack import RESPONSE_URL, FakeSlack
from tests.slackreq import BotProcess, action_form, all_text, event_body, slash_form

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


def test_slash_command_is_answered_with_an_ephemeral_cited_brief(
    bot: BotProcess, slack: FakeSlack
) -> None:
    result = bot.post(slash_form("nato", response_url=slack.response_url()))
    assert result.status == 200
    body = result.json()
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


def test_share_button_reposts_visibly_saying_who_shared(bot: BotProcess, slack: FakeSlack) -> None:
    url = slack.response_url("T1/2/share")
    result = bot.post(action_form("share_brief", "rok|short", response_url=url, user_id="U0SHARER"))
    assert result.status == 200
    (call,) = slack.wait_for(RESPONSE_URL)
    assert call.body["response_type"] == "in_channel"
    assert call.body["replace_original"] is False
    assert "Shared by <@U0SHARER>" in all_text(call.body["blocks"])
    assert call.body["blocks"][0]["text"]["text"] == "New Zealand and the Republic of Korea"


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
