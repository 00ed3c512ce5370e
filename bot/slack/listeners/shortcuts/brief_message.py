""" "Brief me on this": a message's text resolved to a topic as a question would be, answered to
the user alone in that channel, with Share. A message matching nothing gets the suggestions.

The access policy was applied before this runs (`bot.slack.middleware`). The text is only ever
a topic query, never a command: a message saying "reload" is looked up, not obeyed. The answer
goes by chat.postEphemeral; where that is refused (a channel the bot is not in), through the
shortcut's response_url.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import clean_query
from bot.replies import ErrorReply, Reply
from bot.slack.middleware import asker, observe, services_of

NO_TEXT = "That message has no text to look up. Try `/brief topics` to see what Briefbot knows."


async def brief_me_on_this(
    ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The brief on what a message is about, to the user who asked, in that channel."""
    await ack()
    services = services_of(context)
    ctx = asker(context)
    query = clean_query(str((shortcut.get("message") or {}).get("text") or ""))
    reply: Reply = ErrorReply(NO_TEXT)
    if query:
        reply = await asyncio.to_thread(services.handler.brief, query, ctx)
    payload = services.payload(reply, interactive=True)
    error = None
    if ctx.channel_id and ctx.user_id:
        error = await services.post_ephemeral(
            client, payload, channel=ctx.channel_id, user=ctx.user_id
        )
    response_url = shortcut.get("response_url")
    if (error is not None or not ctx.channel_id) and isinstance(response_url, str) and response_url:
        private = {**payload, "response_type": "ephemeral", "replace_original": False}
        error = await services.respond_or_apologise(response_url, private)
    observe(context, "brief_message", reply, query=query, slack_error=error)
