"""Buttons on briefs: share in channel, full brief, and the suggestions of a not-found answer."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.replies import BriefReply
from bot.slack.services import APOLOGY, SlackServices

log = logging.getLogger("bot.slack")

_SUGGESTION_RE = re.compile(r"^suggest_\d+$")


def register(app: AsyncApp, services: SlackServices) -> None:
    """Register the button handlers."""

    def parse(body: dict[str, Any]) -> tuple[str, bool, str, str]:
        action = body["actions"][0]
        topic_id, _, mode = str(action.get("value", "")).partition("|")
        user = str(body.get("user", {}).get("id", ""))
        return topic_id, mode == "full", user, str(body.get("response_url", ""))

    async def send(response_url: str, payload: dict[str, Any]) -> None:
        if not response_url:
            log.warning("action without response_url ignored")
            return
        if not await services.respond(response_url, payload):
            await services.respond(
                response_url,
                {"text": APOLOGY, "response_type": "ephemeral", "replace_original": False},
            )

    @app.action("share_brief")
    async def share(ack: AsyncAck, body: dict[str, Any]) -> None:
        """The "Share in channel" button: the brief posted visibly, naming who shared it."""
        await ack()
        started = time.perf_counter()
        topic_id, full, user, response_url = parse(body)
        reply = services.handler.brief_for_topic(
            topic_id, query=topic_id, resolved_by="alias", full=full
        )
        payload = services.payload(
            reply, interactive=False, shared_by=user if isinstance(reply, BriefReply) else None
        )
        visible = isinstance(reply, BriefReply)
        await send(
            response_url,
            {
                **payload,
                "response_type": "in_channel" if visible else "ephemeral",
                "replace_original": False,
            },
        )
        services.observe("share_brief", reply, started=started, user=user, query=topic_id)

    @app.action("full_brief")
    async def full_brief(ack: AsyncAck, body: dict[str, Any]) -> None:
        """The "Full brief" button: the brief replaced by the version with every fact."""
        await ack()
        started = time.perf_counter()
        topic_id, _full, user, response_url = parse(body)
        reply = services.handler.brief_for_topic(
            topic_id, query=topic_id, resolved_by="alias", full=True
        )
        await send(
            response_url, {**services.payload(reply, interactive=True), "replace_original": True}
        )
        services.observe("full_brief", reply, started=started, user=user, query=topic_id)

    @app.action(_SUGGESTION_RE)
    async def suggestion(ack: AsyncAck, body: dict[str, Any]) -> None:
        """A suggested topic of a not-found answer: replaced by that topic's brief."""
        await ack()
        started = time.perf_counter()
        topic_id, _full, user, response_url = parse(body)
        reply = services.handler.brief_for_topic(topic_id, query=topic_id, resolved_by="alias")
        await send(
            response_url, {**services.payload(reply, interactive=True), "replace_original": True}
        )
        services.observe("suggestion", reply, started=started, user=user, query=topic_id)
