"""Reminder and digest messages: the data the templates show, and the Slack payload.

The views here are plain data; `templates/reminder.*.j2` and `templates/digest.*.j2` decide how
they look, and the renderer escapes every value for Slack. Each payload carries message
`metadata` with the occurrence's key, so a delivery that crashed between posting and recording
can find its message in the channel before posting again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.factbase.model import FactBase
from bot.reminders.occurrences import DIGEST, DigestEntry, Occurrence, ReminderSchedule
from bot.render import Renderer
from bot.slack.messages import FALLBACK_TEXT_CHARS, fit_to_limits
from bot.statements import spoken
from bot.text import clip_escaped

__all__ = [
    "EVENT_TYPE",
    "CitationView",
    "DigestItemView",
    "DigestView",
    "ReminderView",
    "digest_payload",
    "digest_view",
    "occurrence_payload",
    "reminder_payload",
    "reminder_view",
]

EVENT_TYPE = "briefbot_reminder"
"""The Slack message metadata `event_type` of every reminder and digest."""
MAX_DIGEST_ITEMS = 40


@dataclass(frozen=True, slots=True)
class CitationView:
    """The source behind a reminder's fact."""

    title: str
    publisher: str
    date_label: str
    url: str
    kind: str
    quote: str


@dataclass(frozen=True, slots=True)
class ReminderView:
    """What an anniversary or deadline reminder shows."""

    key: str
    kind: str
    headline: str
    when: str
    late: bool
    statement: str | None
    fact_date_label: str | None
    citation: CitationView | None
    command: str | None


@dataclass(frozen=True, slots=True)
class DigestItemView:
    """One line of a digest."""

    when: str
    label: str
    command: str | None


@dataclass(frozen=True, slots=True)
class DigestView:
    """What a look-ahead digest shows."""

    key: str
    headline: str
    when: str
    late: bool
    horizon_days: int
    items: tuple[DigestItemView, ...]
    more: int


def reminder_view(occurrence: Occurrence, factbase: FactBase, *, late: bool) -> ReminderView:
    """The view of an anniversary or deadline occurrence, with its fact and citation."""
    fact = factbase.facts.get(occurrence.fact_id) if occurrence.fact_id else None
    citation = None
    if fact is not None:
        doc = factbase.documents[fact.source]
        citation = CitationView(
            doc.title, doc.publisher, doc.date_label, doc.url, doc.kind.value, fact.quote
        )
    return ReminderView(
        key=occurrence.key,
        kind=occurrence.kind,
        headline=occurrence.label,
        when=occurrence.when,
        late=late,
        statement=spoken(factbase, fact) if fact else None,
        fact_date_label=fact.date_label if fact else None,
        citation=citation,
        command=_command(occurrence.topic_id),
    )


def digest_view(
    occurrence: Occurrence, entries: list[DigestEntry], *, horizon_days: int, late: bool
) -> DigestView:
    """The view of a digest occurrence listing `entries` (at most 40; the rest are counted)."""
    items = tuple(
        DigestItemView(e.when, e.label, _command(e.topic_id)) for e in entries[:MAX_DIGEST_ITEMS]
    )
    return DigestView(
        key=occurrence.key,
        headline=occurrence.label,
        when=occurrence.when,
        late=late,
        horizon_days=horizon_days,
        items=items,
        more=max(len(entries) - MAX_DIGEST_ITEMS, 0),
    )


def reminder_payload(
    renderer: Renderer, occurrence: Occurrence, factbase: FactBase, *, late: bool
) -> dict[str, Any]:
    """The chat.postMessage payload (without `channel`) for an anniversary or deadline.

    `{"text", "blocks", "metadata"}`, within Slack's limits; `late` adds "(late: was due ...)".
    Digests need the other rules: use `digest_payload` or `occurrence_payload`.
    """
    if occurrence.kind == DIGEST:
        raise ValueError(f"{occurrence.key} is a digest: use digest_payload")
    view = reminder_view(occurrence, factbase, late=late)
    return _payload(renderer, "reminder", occurrence, reminder=view)


def digest_payload(
    renderer: Renderer,
    occurrence: Occurrence,
    schedule: ReminderSchedule,
    factbase: FactBase,
    *,
    late: bool,
) -> dict[str, Any]:
    """The chat.postMessage payload (without `channel`) for a look-ahead digest."""
    rule = schedule.rule(occurrence.rule_id)
    if rule is None or occurrence.kind != DIGEST:
        raise ValueError(f"{occurrence.key} is not an occurrence of a digest rule")
    entries = schedule.digest_entries(occurrence, factbase)
    view = digest_view(occurrence, entries, horizon_days=rule.horizon_days, late=late)
    return _payload(renderer, "digest", occurrence, digest=view)


def occurrence_payload(
    renderer: Renderer,
    occurrence: Occurrence,
    schedule: ReminderSchedule,
    factbase: FactBase,
    *,
    late: bool,
) -> dict[str, Any]:
    """The payload for any occurrence: a digest or a reminder."""
    if occurrence.kind == DIGEST:
        return digest_payload(renderer, occurrence, schedule, factbase, late=late)
    return reminder_payload(renderer, occurrence, factbase, late=late)


def _command(topic_id: str | None) -> str | None:
    return f"/brief {topic_id}" if topic_id else None


def _payload(
    renderer: Renderer, template: str, occurrence: Occurrence, **context: Any
) -> dict[str, Any]:
    text = renderer.render_as_mrkdwn(template, **context)
    payload: dict[str, Any] = {
        "text": clip_escaped(text, FALLBACK_TEXT_CHARS),
        "blocks": renderer.render_blocks(template, **context),
        "metadata": {"event_type": EVENT_TYPE, "event_payload": {"key": occurrence.key}},
    }
    # Only an absurdly long fact or title breaks a limit: then the headline goes alone.
    return fit_to_limits(payload, text.split("\n", 1)[0], what=f"reminder {occurrence.key}")
