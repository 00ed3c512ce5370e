"""Turning replies into Slack message payloads that always respect Slack's limits.

Templates render the blocks; this module checks the result against `bot.slack.limits` before it
is sent. Presentation flows one way: a brief too long for one message is cut, as a pure function
of the brief already composed, to the most of its first key facts that fit (`bot.brief.first_facts`;
the template then shows "N more facts: use Full brief"), found by a bounded binary search over the
rendered size. Any other reply that breaks a limit is replaced by a short plain message. No
payload that fails the check ever leaves this module.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.brief import first_facts
from bot.render import MRKDWN, Renderer
from bot.replies import BriefReply, Reply
from bot.slack.limits import (
    MAX_BLOCKS,
    MAX_TOTAL_BLOCKS_TEXT_CHARS,
    blocks_text_length,
    check_message,
    ensure_within_limits,
)
from bot.text import clip_escaped

log = logging.getLogger(__name__)

FALLBACK_TEXT_CHARS = 3000
"""Top-level `text` (the notification fallback) is kept well under Slack's 4,000."""


class MessageBuilder:
    """Builds chat.postMessage / response_url payloads from replies."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def build(
        self,
        reply: Reply,
        *,
        interactive: bool = True,
        shared_by: str | None = None,
        max_text_chars: int = MAX_TOTAL_BLOCKS_TEXT_CHARS,
    ) -> dict[str, Any]:
        """The payload for `reply`: `{"text": fallback, "blocks": [...]}`, within every limit.

        A brief that does not fit, or whose blocks hold more than `max_text_chars` characters of
        text (chat.postMessage refuses less than the documented total), shows fewer key facts.
        """
        if isinstance(reply, BriefReply):
            return self._brief(reply, interactive, shared_by, max_text_chars)
        payload = self._payload(reply, interactive=interactive, shared_by=shared_by)
        return fit_to_limits(payload, payload["text"], what=f"reply {reply.kind}")

    def _payload(self, reply: Reply, *, interactive: bool, shared_by: str | None) -> dict[str, Any]:
        blocks = self.renderer.render_blocks(
            reply.template, interactive=interactive, shared_by=shared_by, **reply.context()
        )
        return {"text": self.fallback(reply), "blocks": blocks}

    def fallback(self, reply: Reply) -> str:
        """The reply as short mrkdwn text: a message's notification fallback, a workflow
        step's output."""
        if isinstance(reply, BriefReply):
            text = self.renderer.render("brief", MRKDWN, short=True, **reply.context())
        else:
            text = self.renderer.render_as_mrkdwn(reply.template, **reply.context())
        return clip_escaped(text, FALLBACK_TEXT_CHARS)

    def _brief(
        self,
        reply: BriefReply,
        interactive: bool,
        shared_by: str | None,
        max_text_chars: int,
    ) -> dict[str, Any]:
        def fits(payload: dict[str, Any]) -> bool:
            return not check_message(payload) and (
                blocks_text_length(payload["blocks"]) <= max_text_chars
            )

        payload = self._payload(reply, interactive=interactive, shared_by=shared_by)
        if fits(payload):
            return payload
        # Binary search for the most key facts that fit. Upper bound: one block per fact, and
        # the facts' raw text must fit the message's text budget (escaping only lengthens it).
        brief = reply.brief
        facts_in_budget = _text_budget_facts(reply, max_text_chars)
        low, high = 0, min(len(brief.facts) - 1, MAX_BLOCKS, facts_in_budget)
        best: dict[str, Any] | None = None
        while low <= high:
            middle = (low + high) // 2
            cut = BriefReply(first_facts(brief, middle))
            candidate = self._payload(cut, interactive=interactive, shared_by=shared_by)
            if not fits(candidate):
                high = middle - 1
            else:
                best, low = candidate, middle + 1
        if best is None:
            raise ValueError(f"brief on {reply.brief.topic_id!r} does not fit even without facts")
        return best


def fit_to_limits(payload: dict[str, Any], short_text: str, *, what: str) -> dict[str, Any]:
    """`payload` if it is within every Slack limit; else `short_text` alone (logged).

    The one fallback for every message but a brief (which is cut to fit instead): replies and
    reminders alike. The short form keeps the payload's other keys (a reminder's `metadata`) and
    sends `short_text` as the notification text and as one section. What it returns has been
    checked: within every limit, or `SlackLimitError` (a short form that still breaks one).
    """
    problems = check_message(payload)
    if not problems:
        return payload
    log.warning("%s broke Slack limits (%s); sending a short text", what, problems[:3])
    short = clip_escaped(short_text, FALLBACK_TEXT_CHARS)
    fallback = {**payload, "text": short, "blocks": [_section(short)]}
    ensure_within_limits(fallback)
    return fallback


def _text_budget_facts(reply: BriefReply, max_text_chars: int) -> int:
    """How many leading facts' raw text fits in a message's total text budget at most."""
    used = 0
    for count, fact in enumerate(reply.brief.facts):
        used += len(fact.statement) + sum(len(q.text) for q in fact.quotes)
        if used > max_text_chars:
            return count
    return len(reply.brief.facts)


def _section(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip_escaped(text, 2900) or " ", "verbatim": True},
    }
