"""The Workflow Builder step "Get a brief": a topic or question in; the brief's short mrkdwn
text, its as-of date and its sources' URLs out (e.g. for a team's Monday digest).

Completed with `functions.completeSuccess`, or `functions.completeError` with a message the
workflow's builder can act on when nothing matches. Bolt acknowledges the event and calls both
with the workflow's own token.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail
from slack_sdk.errors import SlackApiError

from bot.commands import clean_query
from bot.replies import BriefReply, NotFoundReply, Reply
from bot.slack.limits import ensure_within_limits
from bot.slack.middleware import asker, observe, services_of

NO_QUERY = "The step needs a topic or a question, such as “nato” or “what is the ITPP?”."


def not_found_message(query: str, reply: Reply) -> str:
    """Why there is no brief, naming the closest topics when there are some."""
    closest = ""
    if isinstance(reply, NotFoundReply) and reply.suggestions:
        closest = " Closest topics: " + ", ".join(t.id for t in reply.suggestions) + "."
    return f"No topic matches “{query[:100]}”.{closest} `/brief topics` lists them all."


async def get_brief(
    inputs: dict[str, Any], complete: AsyncComplete, fail: AsyncFail, context: AsyncBoltContext
) -> None:
    """`function_executed` for `get_brief`."""
    services = services_of(context)
    query = clean_query(str(inputs.get("query") or ""))
    reply: Reply | None = None
    try:
        if not query:
            await fail(NO_QUERY)
            return
        reply = await asyncio.to_thread(services.handler.brief, query, asker(context))
        if not isinstance(reply, BriefReply):
            await fail(not_found_message(query, reply))
            return
        text = services.builder.fallback(reply)
        ensure_within_limits({"text": text})
        brief = reply.brief
        await complete(
            outputs={
                "brief": text,
                "as_of": brief.as_of_label,
                "sources": [s.url for s in brief.sources if s.url],
            }
        )
    except SlackApiError as exc:
        services.slack_failed("functions.complete", str(exc.response.get("error")))
    finally:
        if reply is not None:
            observe(context, "get_brief", reply, query=query)
