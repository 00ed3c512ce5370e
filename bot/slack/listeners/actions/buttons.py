"""Buttons: share in channel, full brief, and the suggestions of a not-found answer.

The access policy was applied before this runs (`bot.slack.middleware`). Each button's value is
`TOPIC_ID` or `TOPIC_ID|short` / `TOPIC_ID|full`. "Share" posts the brief visibly, naming who
shared it. "Full brief" and a suggestion answer in place: they replace the message clicked only
when it is the clicker's own ephemeral one; on a message others can see (a reply in a thread),
the answer goes to the clicker alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot.replies import BriefReply
from bot.slack.middleware import asker, observe, services_of

log = logging.getLogger("bot.slack")


@dataclass(frozen=True, slots=True)
class Button:
    """What a button does: its name in logs and metrics, which brief, and where it goes."""

    command: str
    full: bool | None
    """True: every fact; False: the key facts; None: as the button's value says."""
    share: bool = False


SHARE = Button("share_brief", full=None, share=True)
FULL = Button("full_brief", full=True)
SUGGESTION = Button("suggestion", full=False)


def button(action_id: str) -> Button:
    """The button an `action_id` names (`suggest_N` are the suggestions)."""
    return {"share_brief": SHARE, "full_brief": FULL}.get(action_id, SUGGESTION)


async def press_button(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Any of the buttons: the brief it names, sent through the click's response_url."""
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
    if pressed.share:
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
    observe(context, pressed.command, reply, query=topic_id, slack_error=error, clicked=True)
