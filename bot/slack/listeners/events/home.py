"""The App Home tab: published when a user opens it (at most once a minute per version)."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.home import home_view
from bot.slack.middleware import services_of


async def publish_home(
    event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """`app_home_opened` on the Home tab: `views.publish` the user's Home, unless it was
    published to them within the minute on the same fact-base version."""
    services = services_of(context)
    user_id = str(event.get("user") or "")
    version = services.handler.knowledge.current.version
    if not user_id or not services.home.claim(user_id, version):
        return
    view = await asyncio.to_thread(home_view, services, user_id)
    try:
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        services.home.forget(user_id)
        services.slack_failed("views.publish", str(exc.response.get("error")))
