"""The assistant panel's threads: suggested prompts when one starts, a brief for each message."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext, AsyncSay, AsyncSetSuggestedPrompts, AsyncSetTitle
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.replies import BriefReply
from bot.slack.middleware import asker, observe, reply_target, services_of
from bot.state import Knowledge

log = logging.getLogger("bot.slack")

GREETING = (
    "Ask me about a topic, or paste a question: I answer with a short brief in which every "
    "statement cites a dated source."
)
PROMPT_TOPICS = 3
"""Topics suggested when a thread starts (Slack shows at most four prompts)."""
UPCOMING_PROMPT = {"title": "What's coming up?", "message": "upcoming"}
MAX_PROMPT_TITLE_CHARS = 75


def suggested_prompts(knowledge: Knowledge) -> list[dict[str, str]]:
    """The topics with the most facts (the bot keeps no per-topic request counts), then
    "What's coming up?"."""
    fb = knowledge.factbase
    largest = sorted(fb.topics.values(), key=lambda t: (-len(fb.facts_for(t.id)), t.id))
    prompts = [
        {"title": t.title[:MAX_PROMPT_TITLE_CHARS], "message": t.id}
        for t in largest[:PROMPT_TOPICS]
    ]
    return [*prompts, UPCOMING_PROMPT]


async def start_thread(
    say: AsyncSay, set_suggested_prompts: AsyncSetSuggestedPrompts, context: AsyncBoltContext
) -> None:
    """`assistant_thread_started`: a greeting and the suggested prompts."""
    services = services_of(context)
    try:
        await say(GREETING)
        await set_suggested_prompts(
            prompts=suggested_prompts(services.handler.knowledge.current), title="Try one of these"
        )
    except SlackApiError as exc:
        services.slack_failed(
            "assistant.threads.setSuggestedPrompts", str(exc.response.get("error"))
        )


async def keep_no_context() -> None:
    """`assistant_thread_context_changed`: briefs do not depend on the channel being viewed."""


async def answer_in_thread(
    body: dict[str, Any],
    event: dict[str, Any],
    client: AsyncWebClient,
    set_title: AsyncSetTitle,
    context: AsyncBoltContext,
) -> None:
    """A message in an assistant thread: the handler's answer in the thread, which is titled
    with the brief's topic."""
    services = services_of(context)
    text = str(event.get("text") or "")
    reply = await services.answer(text, asker(context))
    error = await services.post_reply(client, reply, reply_target(body, event))
    if error is None and isinstance(reply, BriefReply):
        try:
            await set_title(reply.brief.title[:MAX_PROMPT_TITLE_CHARS])
        except SlackApiError as exc:  # a DM thread outside the panel, or no panel at all
            log.info("thread not titled", extra={"slack_error": exc.response.get("error")})
    observe(context, "assistant", reply, query=text, slack_error=error)
