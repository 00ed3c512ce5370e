"""The assistant panel (Slack's Agents & AI Apps surface), through Bolt's `AsyncAssistant`.

No language model: a thread starts with suggested prompts (the largest topics and "What's coming
up?"), and each message in it is answered as a direct message is, by the same command handler,
with the brief posted in the thread and the thread titled with its topic. A workspace without
the panel never sends its events; Slack refusing a title or prompts is logged, never shown.

`AsyncAssistant` is a middleware: it takes `assistant_thread_started`,
`assistant_thread_context_changed` and the `message.im` events in threads, after the bot's own
middleware (services, event claims, access policy) has run.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp, AsyncAssistant

from bot.slack.listeners.assistant.threads import answer_in_thread, keep_no_context, start_thread


def register(app: AsyncApp) -> None:
    """Register the assistant panel's listeners."""
    assistant = AsyncAssistant(logger=logging.getLogger("slack_bolt"))
    assistant.thread_started(start_thread)
    assistant.thread_context_changed(keep_no_context)
    assistant.user_message(answer_in_thread)
    app.assistant(assistant)
