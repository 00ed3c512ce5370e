"""Buttons: share in channel, full brief, download as .docx, and the suggestions of a not-found
answer.

The access policy was applied before this runs (`bot.slack.middleware`). Each button's value is
`TOPIC_ID` or `TOPIC_ID|short` / `TOPIC_ID|full`. "Share" posts the brief visibly, naming who
shared it. "Full brief" and a suggestion answer in place: they replace the message clicked only
when it is the clicker's own ephemeral one; on a message others can see (a reply in a thread),
the answer goes to the clicker alone. "Download (.docx)" uploads the brief as a Word document into
the clicker's direct conversation with the bot (`files:write`, `im:write`) and says so privately
where they clicked.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.brief import Brief
from bot.export.docx import brief_to_docx
from bot.replies import BriefReply
from bot.slack.middleware import asker, observe, services_of
from bot.slack.services import SlackServices
from bot.text import escape_mrkdwn

log = logging.getLogger("bot.slack")


@dataclass(frozen=True, slots=True)
class Button:
    """What a button does: its name in logs and metrics, which brief, and where it goes."""

    command: str
    full: bool | None
    """True: every fact; False: the key facts; None: as the button's value says."""
    share: bool = False
    download: bool = False


SHARE = Button("share_brief", full=None, share=True)
FULL = Button("full_brief", full=True)
DOWNLOAD = Button("download_brief", full=None, download=True)
SUGGESTION = Button("suggestion", full=False)

DOWNLOAD_FAILED = (
    "Sorry, Briefbot could not send you the Word document (Slack said `{error}`). "
    "It needs the `files:write` and `im:write` scopes: ask an admin to reinstall the app "
    "if it was installed without them."
)


def button(action_id: str) -> Button:
    """The button an `action_id` names (`suggest_N` are the suggestions)."""
    buttons = {"share_brief": SHARE, "full_brief": FULL, "download_brief": DOWNLOAD}
    return buttons.get(action_id, SUGGESTION)


async def press_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
) -> None:
    """Any of the buttons: the brief it names, sent through the click's response_url (or, for
    Download, as a file in a direct message, with a private note where the click was)."""
    await ack()
    services = services_of(context)
    pressed = button(str(action.get("action_id", "")))
    topic_id, _, mode = str(action.get("value", "")).partition("|")
    full = mode == "full" if pressed.full is None else pressed.full
    reply = services.handler.brief_for_topic(
        topic_id, query=topic_id, resolved_by="alias", full=full
    )
    is_brief = isinstance(reply, BriefReply)
    user = asker(context).user_id
    payload = services.payload(
        reply, interactive=not pressed.share, shared_by=user if pressed.share and is_brief else None
    )
    upload_error: str | None = None
    if pressed.download and isinstance(reply, BriefReply) and user:
        upload_error = await send_docx(client, services, reply.brief, user)
        note = (
            f"Sent *{escape_mrkdwn(reply.brief.title)}* as a Word document to your direct "
            "messages with Briefbot."
            if upload_error is None
            else DOWNLOAD_FAILED.format(error=escape_mrkdwn(upload_error))
        )
        payload = {"text": note, "response_type": "ephemeral", "replace_original": False}
    elif pressed.download:  # the topic is gone: say so, and leave the brief clicked on
        payload = {**payload, "response_type": "ephemeral", "replace_original": False}
    elif pressed.share:
        where = {"response_type": "in_channel" if is_brief else "ephemeral"}
        payload = {**payload, **where, "replace_original": False}
    elif (body.get("container") or {}).get("is_ephemeral") is True:
        payload = {**payload, "replace_original": True}
    else:
        payload = {**payload, "response_type": "ephemeral", "replace_original": False}
    response_url = str(body.get("response_url") or "")
    if not response_url:
        log.warning("action without response_url ignored")
        return
    error = await services.respond_or_apologise(response_url, payload)
    observe(
        context,
        pressed.command,
        reply,
        query=topic_id,
        slack_error=upload_error or error,
        clicked=True,
    )


async def send_docx(
    client: AsyncWebClient, services: SlackServices, brief: Brief, user: str
) -> str | None:
    """Upload `brief` as a .docx into `user`'s direct conversation with the bot; None when sent,
    else Slack's error (logged and counted)."""
    method = "conversations.open"
    try:
        opened = await client.conversations_open(users=user)
        channel = str(opened["channel"]["id"])
        method = "files.upload_v2"
        data = await asyncio.to_thread(brief_to_docx, brief)
        await client.files_upload_v2(
            channel=channel,
            content=data,
            filename=f"{brief.topic_id}-{brief.today.isoformat()}.docx",
            title=f"{brief.title} (brief, {brief.today.isoformat()})",
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown")
        services.slack_failed(method, error, status=exc.response.status_code)
        return error
    except (SlackRequestError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        services.slack_failed(method, type(exc).__name__)
        return "upload_failed"
    return None
