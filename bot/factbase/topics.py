"""Topics: `topics.yaml`, each with the names people type and a two-sentence cited summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.dates import parse_day
from bot.factbase.common import Collector, check_fields, load_mappings, parsed_field, str_list
from bot.factbase.model import Topic, TopicSentence
from bot.factbase.yamlsrc import LineDict
from bot.ids import SLUG_RE
from bot.text import normalize_key

TOPIC_FIELDS = {"id", "title", "aliases", "summary", "reviewed"}
TOPIC_REQUIRED = {"id", "title", "aliases", "summary"}
SENTENCE_FIELDS = {"text", "facts"}
SUMMARY_SENTENCES = 2


def load_topics(path: Path, out: Collector, digest: Any) -> dict[str, tuple[Topic, int]]:
    """Every topic in `topics.yaml`, by id, with the line it starts on."""
    topics: dict[str, tuple[Topic, int]] = {}
    alias_owner: dict[str, str] = {}
    if not path.is_file():
        out.error(path, 0, "topics.yaml is missing")
        return topics
    for item in load_mappings(
        path, out, digest, "topics", "each topic must be a mapping with id, title, aliases, summary"
    ):
        label = f"topic {item.get('id')!r}"
        ok = check_fields(item, TOPIC_FIELDS, TOPIC_REQUIRED, path, out, label)
        topic_id = item.get("id")
        if not isinstance(topic_id, str) or not SLUG_RE.fullmatch(topic_id):
            out.error(path, item.line_of("id"), f"{label}: id must be a slug of a-z, 0-9 and '-'")
            continue
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            out.error(path, item.line_of("title"), f"{label}: title must be non-empty text")
            ok = False
        aliases = str_list(item.get("aliases", []))
        if aliases is None:
            out.error(path, item.line_of("aliases"), f"{label}: aliases must be a list of text")
            ok = False
            aliases = []
        summary = _topic_summary(item, path, out, label)
        if summary is None:
            ok = False
        good, reviewed = parsed_field(item, "reviewed", parse_day, path, out, label)
        ok = ok and good
        if topic_id in topics:
            out.error(
                path,
                item.line_of("id"),
                f"duplicate topic id {topic_id!r} (first at line {topics[topic_id][1]})",
            )
            continue
        for name in [topic_id, *aliases]:
            key = normalize_key(name)
            if not key:
                out.error(path, item.line_of("aliases"), f"{label}: alias {name!r} has no letters")
                ok = False
            elif alias_owner.get(key, topic_id) != topic_id:
                out.error(
                    path,
                    item.line_of("aliases"),
                    f"{label}: alias {name!r} is already a name of topic {alias_owner[key]!r}",
                )
                ok = False
            else:
                alias_owner[key] = topic_id
        if ok and summary is not None and isinstance(title, str):
            topic = Topic(
                topic_id,
                title.strip(),
                tuple(aliases),
                summary,
                reviewed=reviewed,
                path=out.shown(path),
                line=item.line,
            )
            topics[topic_id] = (topic, item.line)
    return topics


def _topic_summary(
    item: LineDict, path: Path, out: Collector, label: str
) -> tuple[TopicSentence, ...] | None:
    raw = item.get("summary")
    if not isinstance(raw, list) or len(raw) != SUMMARY_SENTENCES:
        out.error(
            path,
            item.line_of("summary"),
            f"{label}: summary must be a list of exactly {SUMMARY_SENTENCES} sentences, "
            "each with text and facts",
        )
        return None
    sentences = []
    for sentence in raw:
        if not isinstance(sentence, LineDict):
            out.error(
                path, item.line_of("summary"), f"{label}: a summary sentence must be a mapping"
            )
            return None
        if not check_fields(
            sentence, SENTENCE_FIELDS, SENTENCE_FIELDS, path, out, f"{label} summary"
        ):
            return None
        text, facts = sentence.get("text"), str_list(sentence.get("facts"))
        if not isinstance(text, str) or not text.strip() or not facts:
            out.error(
                path,
                sentence.line,
                f"{label}: a summary sentence needs text and a non-empty list of fact ids",
            )
            return None
        sentences.append(TopicSentence(" ".join(text.split()), tuple(facts), sentence.line))
    return tuple(sentences)


def check_topic_summaries(
    path: Path, topics: dict[str, tuple[Topic, int]], fact_ids: set[str], out: Collector
) -> None:
    """Summaries must cite facts that exist (an invalid fact is reported where it stands)."""
    if any(p.parent.name == "facts" for p in out.unreadable):
        return  # the facts are unknown, not missing: the syntax error says why
    for topic, line in topics.values():
        for sentence in topic.summary:
            for fact_id in sentence.facts:
                if fact_id not in fact_ids:
                    out.error(
                        path, line, f"topic {topic.id!r}: summary cites unknown fact {fact_id!r}"
                    )
