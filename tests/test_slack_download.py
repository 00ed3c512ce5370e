"""The "Download (.docx)" button, in-process: a signed click through the real Starlette and Bolt
apps; the Word document uploaded to the fake Slack (files_upload_v2) into the clicker's DM is
opened again and holds everything the brief says."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest

from bot.replies import BriefReply
from bot.slack import sending, services
from tests.asgi import Bot, make_bot
from tests.fakeslack import UPLOAD, Call, FakeSlack
from tests.slackreq import action_form, all_text
from tests.test_export_docx import check_document

CLICKER = "U0USER1"
DM = f"D{CLICKER}"


@pytest.fixture(autouse=True)
def no_back_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sending, "RETRY_BASE_SECONDS", 0.0)
    monkeypatch.setattr(services, "RETRY_BASE_SECONDS", 0.0)


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    yield from make_bot(fake_slack, tmp_path)
    assert fake_slack.limit_violations == []
    assert fake_slack.server_errors == []


def download(bot: Bot, value: str, **options: Any) -> Call:
    """Click Download on a brief; the one private note answered through the response_url."""
    url = bot.slack.response_url(f"T1/download/{value}")
    body = action_form("download_brief", value, response_url=url, user_id=CLICKER, **options)
    (result,) = bot.run(bot.post(body))
    assert result.status == 200
    (note,) = bot.slack.responses()
    assert note.body["response_type"] == "ephemeral"
    assert note.body["replace_original"] is False
    return note


def composed(bot: Bot, topic_id: str, *, full: bool) -> BriefReply:
    reply = bot.runtime.services.handler.brief_for_topic(
        topic_id, query=topic_id, resolved_by="alias", full=full
    )
    assert isinstance(reply, BriefReply)
    return reply


def test_a_brief_offers_the_download_button(bot: Bot) -> None:
    payload = bot.runtime.services.payload(composed(bot, "nato", full=False), interactive=True)
    actions = next(b for b in payload["blocks"] if b["type"] == "actions")
    (button,) = [e for e in actions["elements"] if e["action_id"] == "download_brief"]
    assert button["text"]["text"] == "Download (.docx)"
    assert button["value"] == "nato|short"


@pytest.mark.parametrize(("value", "full"), [("rok|short", False), ("pacific-security|full", True)])
def test_download_uploads_the_docx_to_the_clickers_dm(bot: Bot, value: str, full: bool) -> None:
    note = download(bot, value)
    brief = composed(bot, value.partition("|")[0], full=full).brief
    assert f"Sent *{brief.title}* as a Word document" in note.body["text"]
    (opened,) = bot.slack.calls("conversations.open")
    assert opened.body["users"] == CLICKER
    (shared,) = bot.slack.files(DM)
    assert shared["filename"] == f"{brief.topic_id}-{brief.today.isoformat()}.docx"
    assert shared["title"].startswith(brief.title)
    (upload,) = bot.slack.calls(UPLOAD)
    assert upload.body["content"] == shared["content"]
    check_document(shared["content"], brief)
    facts = [p for p in docx.Document(io.BytesIO(shared["content"])).paragraphs]
    assert sum(p.style is not None and p.style.name == "List Number" for p in facts) == (
        brief.total_facts if full else min(8, brief.total_facts)
    )


@pytest.mark.parametrize(
    ("method", "error"),
    [("files.getUploadURLExternal", "missing_scope"), ("conversations.open", "missing_scope")],
)
def test_an_upload_slack_refuses_is_explained_privately(bot: Bot, method: str, error: str) -> None:
    bot.slack.fail_next(method, error=error)
    note = download(bot, "nato|short")
    assert f"`{error}`" in note.body["text"]
    assert "`files:write` and `im:write`" in note.body["text"]
    assert bot.slack.files(DM) == []


def test_download_of_a_topic_gone_after_a_reload_uploads_nothing(bot: Bot) -> None:
    note = download(bot, "no-such-topic|short")
    assert "no topic 'no-such-topic'" in all_text(note.body)
    assert bot.slack.calls("files.getUploadURLExternal") == []
