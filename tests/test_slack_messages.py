"""Fitting a composed brief into one Slack message: a pure function of the brief and the limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from bot.brief import Brief, compose_brief, first_facts
from bot.factbase import FactBase
from bot.render import Renderer
from bot.replies import BriefReply
from bot.slack.limits import blocks_text_length, check_message
from bot.slack.messages import MessageBuilder, fit_to_limits
from tests.conftest import TEMPLATES

TODAY = dt.date(2026, 11, 23)
BUILDER = MessageBuilder(Renderer(TEMPLATES))


def composed(factbase: FactBase, topic_id: str, *, full: bool, **options: int) -> Brief:
    return compose_brief(
        factbase, topic_id, query=topic_id, resolved_by="alias", today=TODAY, full=full, **options
    )


def fact_sections(payload: dict[str, object]) -> list[str]:
    blocks = payload["blocks"]
    assert isinstance(blocks, list)
    return [
        b["text"]["text"]
        for b in blocks
        if b["type"] == "section" and re.match(r"\d+\. ", b["text"]["text"])
    ]


def test_a_brief_too_long_for_a_message_is_cut_from_the_composed_brief_alone(
    factbase: FactBase,
) -> None:
    largest = max(sorted(factbase.topics), key=lambda t: len(factbase.facts_for(t)))
    brief = composed(factbase, largest, full=True)
    payload = BUILDER.build(BriefReply(brief), max_text_chars=4000)
    assert check_message(payload) == []
    assert blocks_text_length(payload["blocks"]) <= 4000
    shown = len(fact_sections(payload))
    assert 0 < shown < len(brief.facts)
    more = f"{brief.total_facts - shown} more facts did not fit in one Slack message"
    assert any(more in text for text in _texts(payload))


def test_the_most_facts_that_fit_are_shown(factbase: FactBase) -> None:
    brief = composed(factbase, "nato", full=True)
    payload = BUILDER.build(BriefReply(brief), max_text_chars=4000)
    shown = len(fact_sections(payload))
    one_more = BUILDER.build(BriefReply(first_facts(brief, shown + 1)), max_text_chars=100_000)
    assert blocks_text_length(one_more["blocks"]) > 4000


@pytest.mark.parametrize("topic_id", ["nato", "rok", "pacific-security"])
def test_first_facts_says_what_composing_fewer_facts_says(
    factbase: FactBase, topic_id: str
) -> None:
    brief = composed(factbase, topic_id, full=True)
    for n in range(len(brief.facts) + 1):
        cut = first_facts(brief, n)
        fewer = composed(factbase, topic_id, full=True, max_facts=n)
        assert cut.facts == fewer.facts
        assert cut.timeline == fewer.timeline
        assert cut.omitted == fewer.omitted
        if fewer.as_of != brief.as_of:  # the cut keeps every source, so its newest date too
            continue
        assert (cut.stale, cut.stale_reason, cut.stale_facts) == (
            fewer.stale,
            fewer.stale_reason,
            fewer.stale_facts,
        ), n
        assert {s.n for s in fewer.sources} <= {s.n for s in cut.sources}


def test_a_cut_brief_names_only_the_old_facts_it_shows(factbase: FactBase) -> None:
    brief = composed(factbase, "nato", full=False)
    assert brief.stale_reason and "key fact" in brief.stale_reason
    cut = first_facts(brief, 2)
    positions = re.findall(r"\d+", cut.stale_reason.split("stated")[0]) if cut.stale_reason else []
    assert all(int(p) <= 2 for p in positions)
    assert set(cut.stale_facts) <= {f.id for f in cut.facts}


def test_every_fact_shown_keeps_its_source_numbers(factbase: FactBase) -> None:
    brief = composed(factbase, "rok", full=True)
    cut = first_facts(brief, 3)
    assert cut.sources == brief.sources
    assert cut.facts == brief.facts[:3]
    assert dataclasses.replace(cut, facts=brief.facts).omitted == 0


def _texts(payload: dict[str, object]) -> list[str]:
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.append(value)

    walk(payload)
    return found


def test_a_message_over_the_limits_falls_back_to_its_short_text_keeping_metadata(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The one fallback for replies and reminders: short text as one section, metadata kept."""
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    metadata = {"event_type": "briefbot_reminder", "event_payload": {"key": "k1"}}
    payload = {"text": "long", "blocks": [section] * 51, "metadata": metadata}
    with caplog.at_level("WARNING", logger="bot.slack.messages"):
        fitted = fit_to_limits(payload, "Headline & more", what="reminder k1")
    assert fitted["text"] == "Headline & more"
    assert [b["text"]["text"] for b in fitted["blocks"]] == ["Headline & more"]
    assert fitted["metadata"] == metadata
    assert check_message(fitted) == []
    assert "reminder k1 broke Slack limits" in caplog.text
    assert fit_to_limits(fitted, "unused", what="x") is fitted
