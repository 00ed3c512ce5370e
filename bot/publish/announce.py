"""The optional post to the team's channel when a new fact base version is published."""

from __future__ import annotations

from collections import Counter, defaultdict

from bot.factbase.model import FactBase
from bot.publish.store import Snapshot
from bot.text import escape_mrkdwn

MAX_TOPICS = 8
"""Topics named one by one; the rest are counted."""


def announcement(snapshot: Snapshot, factbase: FactBase) -> str:
    """What changed, for people: "12 new facts on ROK from …; 2 facts corrected", with each
    topic's `/brief` command (mrkdwn, escaped: titles come from documents)."""
    changes = snapshot.changes
    by_topic: dict[str, list[str]] = defaultdict(list)
    for fact_id in changes.added:
        fact = factbase.facts[fact_id]
        by_topic[fact.topics[0]].append(fact.source)
    lines = []
    head = f"Fact base {snapshot.version} published by {escape_mrkdwn(snapshot.author)}"
    if changes.rollback_of:
        head = f"Fact base rolled back to {snapshot.version} by {escape_mrkdwn(snapshot.author)}"
    lines.append(f"*{head}*")
    ranked = sorted(by_topic.items(), key=lambda item: (-len(item[1]), item[0]))
    for topic_id, sources in ranked[:MAX_TOPICS]:
        topic = factbase.topics[topic_id]
        titles = [
            escape_mrkdwn(factbase.documents[s].title) for s, _n in Counter(sources).most_common(2)
        ]
        more = " and others" if len(set(sources)) > 2 else ""
        noun = "fact" if len(sources) == 1 else "facts"
        lines.append(
            f"• {len(sources)} new {noun} on {escape_mrkdwn(topic.title)} from "
            f"{'; '.join(titles)}{more}: `/brief {topic.id}`"
        )
    if len(ranked) > MAX_TOPICS:
        rest = sum(len(s) for _t, s in ranked[MAX_TOPICS:])
        lines.append(f"• {rest} new fact(s) on {len(ranked) - MAX_TOPICS} other topic(s)")
    for ids, verb in ((changes.changed, "corrected"), (changes.removed, "withdrawn")):
        if ids:
            lines.append(f"• {len(ids)} {'fact' if len(ids) == 1 else 'facts'} {verb}")
    if len(lines) == 1:
        lines.append("• no fact changed")
    return "\n".join(lines)
