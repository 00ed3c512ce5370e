"""The App Home's topic buttons: the brief, sent to the clicker's direct message with the app.

A click on the Home tab has no channel and no response_url; the brief goes to the app's
Messages tab (chat.postMessage to the user's id), marked against duplicates like every reply.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.middleware import asker, observe, services_of
from bot.slack.sending import PostTarget


async def brief_from_home(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """A topic's "Brief me" button on the App Home."""
    await ack()
    services = services_of(context)
    topic_id = str(action.get("value", ""))
    user = asker(context).user_id
    if not user:
        return
    reply = services.handler.brief_for_topic(topic_id, query=topic_id, resolved_by="alias")
    key = f"home:{user}:{action.get('action_ts') or body.get('trigger_id') or topic_id}"
    error = await services.post_reply(client, reply, PostTarget(user, None, key))
    observe(context, "home_brief", reply, query=topic_id, slack_error=error, clicked=True)
