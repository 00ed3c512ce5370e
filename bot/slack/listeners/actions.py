"""Buttons on briefs: share in channel, full brief, and the suggestions of a not-found answer.

The access policy was applied before these run (`bot.slack.middleware`). A click replaces the
message it was made on only when that message is the clicker's own ephemeral one; on a message
others can see (a reply in a thread), the answer goes to the clicker alone.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.replies import BriefReply, Reply
from bot.slack.services import SlackServices

log = logging.getLogger("bot.slack")

_SUGGESTION_RE = re.compile(r"^suggest_\d+$")


def register(app: AsyncApp, services: SlackServices) -> None:
    """Register the button handlers."""

    def parse(body: dict[str, Any]) -> tuple[str, bool, str, str]:
        action = body["actions"][0]
        topic_id, _, mode = str(action.get("value", "")).partition("|")
        user = str((body.get("user") or {}).get("id", ""))
        return topic_id, mode == "full", user, str(body.get("response_url", ""))

    async def send(
        command: str, body: dict[str, Any], reply: Reply, payload: dict[str, Any], started: float
    ) -> None:
        topic_id, _full, user, response_url = parse(body)
        if not response_url:
            log.warning("action without response_url ignored")
            return
        error = await services.respond_or_apologise(response_url, payload)
        services.observe(
            command,
            reply,
            started=started,
            user=user,
            query=topic_id,
            slack_error=error,
            clicked=True,
        )

    def in_place(body: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        """Replace the clicked message if only the clicker sees it; else answer them alone."""
        container = body.get("container") or {}
        if container.get("is_ephemeral") is True:
            return {**payload, "replace_original": True}
        return {**payload, "response_type": "ephemeral", "replace_original": False}

    @app.action("share_brief")
    async def share(ack: AsyncAck, body: dict[str, Any]) -> None:
        """The "Share in channel" button: the brief posted visibly, naming who shared it."""
        await ack()
        started = time.perf_counter()
        topic_id, full, user, _url = parse(body)
        reply = services.handler.brief_for_topic(
            topic_id, query=topic_id, resolved_by="alias", full=full
        )
        payload = services.payload(
            reply, interactive=False, shared_by=user if isinstance(reply, BriefReply) else None
        )
        visible = isinstance(reply, BriefReply)
        payload = {
            **payload,
            "response_type": "in_channel" if visible else "ephemeral",
            "replace_original": False,
        }
        await send("share_brief", body, reply, payload, started)

    @app.action("full_brief")
    async def full_brief(ack: AsyncAck, body: dict[str, Any]) -> None:
        """The "Full brief" button: the brief replaced by the version with every fact."""
        await ack()
        started = time.perf_counter()
        topic_id, _full, _user, _url = parse(body)
        reply = services.handler.brief_for_topic(
            topic_id, query=topic_id, resolved_by="alias", full=True
        )
        payload = in_place(body, services.payload(reply, interactive=True))
        await send("full_brief", body, reply, payload, started)

    @app.action(_SUGGESTION_RE)
    async def suggestion(ack: AsyncAck, body: dict[str, Any]) -> None:
        """A suggested topic of a not-found answer: replaced by that topic's brief."""
        await ack()
        started = time.perf_counter()
        topic_id, _full, _user, _url = parse(body)
        reply = services.handler.brief_for_topic(topic_id, query=topic_id, resolved_by="alias")
        payload = in_place(body, services.payload(reply, interactive=True))
        await send("suggestion", body, reply, payload, started)
