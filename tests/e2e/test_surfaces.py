"""`briefbot serve` as a subprocess, driven over real HTTP through each of the surfaces beyond
`/brief`: the App Home, "Brief me on this", the assistant panel and the workflow step."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.fakeslack import FakeSlack
from tests.slackreq import BotProcess, all_text, event_body

JSON = "application/json"


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(api_url=fake_slack.base_url, workdir=tmp_path)
    try:
        yield process
    finally:
        process.stop()
    assert fake_slack.limit_violations == []


def test_every_surface_is_served_by_the_real_process(
    bot: BotProcess, fake_slack: FakeSlack
) -> None:
    home = {"type": "app_home_opened", "user": "U0USER1", "channel": "D0DM1", "tab": "home"}
    assert bot.post(event_body(home, event_id="EvE1"), content_type=JSON).status == 200
    (publish,) = fake_slack.wait_for("views.publish")
    assert "Brief me on this" in all_text(publish.body["view"])

    shortcut = {
        "type": "message_action",
        "callback_id": "brief_message",
        "team": {"id": "T1"},
        "user": {"id": "U0USER1"},
        "channel": {"id": "C0CHAN1"},
        "trigger_id": "1.2.3",
        "response_url": fake_slack.response_url("T1/shortcut"),
        "message": {"type": "message", "text": "any news on the ROK?", "ts": "1.1"},
    }
    form = urlencode({"payload": json.dumps(shortcut)}).encode()
    assert bot.post(form).status == 200
    (ephemeral,) = fake_slack.wait_for("chat.postEphemeral")
    assert "Republic of Korea" in ephemeral.body["blocks"][0]["text"]["text"]

    thread = {
        "type": "message",
        "channel_type": "im",
        "user": "U0USER1",
        "text": "pacific security",
        "ts": "1700000301.1",
        "thread_ts": "1700000300.1",
        "channel": "D0DM1",
    }
    assert bot.post(event_body(thread, event_id="EvE2"), content_type=JSON).status == 200
    (title,) = fake_slack.wait_for("assistant.threads.setTitle")
    assert "Pacific" in title.body["title"]

    step = {
        "type": "function_executed",
        "function": {"callback_id": "get_brief"},
        "inputs": {"query": "nato"},
        "function_execution_id": "Fx1",
        "bot_access_token": "xwfp-e2e",
    }
    assert bot.post(event_body(step, event_id="EvE3"), content_type=JSON).status == 200
    (done,) = fake_slack.wait_for("functions.completeSuccess")
    assert done.body["outputs"]["brief"].startswith("*New Zealand and NATO*")


def test_the_download_button_uploads_the_brief_as_a_word_file_to_the_users_dm(
    bot: BotProcess, fake_slack: FakeSlack
) -> None:
    from docx import Document  # python-docx: open what the user would receive

    from tests.slackreq import action_form

    url = fake_slack.response_url("T1/download")
    response = bot.post(action_form("download_brief", "rok|short", response_url=url))
    assert response.status == 200
    fake_slack.wait_for("files.completeUploadExternal")
    (opened,) = fake_slack.wait_for("conversations.open")
    assert opened.body["users"] == "U0USER1"
    (upload,) = fake_slack.files("DU0USER1")
    document = Document(io.BytesIO(upload["content"]))
    text = "\n".join(p.text for p in document.paragraphs)
    assert text.startswith("New Zealand and the Republic of Korea")
    assert "Economic Security Dialogue" in text
