"""Editorial review of a loaded fact base: what a policy adviser would send back to a curator.

`briefbot check --editorial` prints these as warnings with file and line (exit 0, or 2 with
`--strict`). They are not errors: a fact base with them still loads and serves. Each rule guards
one way a brief can mislead while every quote is still verbatim:

- unattributed: analysis or commentary that would read as the government's own view;
- lapsed: a target whose due date has passed with no outcome reported and no curator review;
- near-duplicate: two facts under one topic that say the same thing;
- unused: a fact filed under no topic, which no brief shows;
- stale topic: a topic whose newest source is older than the threshold and not reviewed since;
- tense: a statement whose tense contradicts its dates ("aim to" for a target set in the past).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from bot.factbase.model import Fact, FactBase, Topic
from bot.factbase.problems import Problem
from bot.statements import similar

_HAND_ATTRIBUTED = re.compile(
    r"^(according to\b|as .{1,40}\b(argues|argued|notes|noted|reports|reported)\b)"
    r"|\b(analyst|the blog|blog post|commentator)\b",
    re.IGNORECASE,
)
CAPITALISED_FUNCTION_WORD = re.compile(
    r"^(The|A|An|It|Its|This|These|Those|Both|In|On|As|At|For|There|Their|His|Her|Since)\b"
)
"""A word that, capitalised, cannot open the clause after "… judged that" (the curate
drafts use it too, to lower-case an attributed clause)."""
_PRESENT_AIM = re.compile(
    r"\b(aims? to|plans? to|intends? to|will|is to|are to|is due|are due|is set to|are set to)\b",
    re.IGNORECASE,
)
_WILL = re.compile(r"\bwill\b", re.IGNORECASE)
_ATTRIBUTION_WORDS = re.compile(
    r"\b(analys[ie]s|analyst|blog|commentary|according|judged?s?|argues|argued|wrote|writes)\b",
    re.IGNORECASE,
)


def editorial_review(factbase: FactBase, *, today: dt.date, stale_days: int) -> list[Problem]:
    """Every editorial warning on `factbase`, sorted by file and line."""
    by_rule = editorial_by_rule(factbase, today=today, stale_days=stale_days)
    return sorted(p for problems in by_rule.values() for p in problems)


def editorial_by_rule(
    factbase: FactBase, *, today: dt.date, stale_days: int
) -> dict[str, list[Problem]]:
    """The editorial warnings by rule (unattributed, lapsed, near-duplicate, unused, stale,
    tense), each list sorted by file and line: `briefbot review` groups its worklist so."""
    return {
        "unattributed": sorted(_unattributed(factbase)),
        "lapsed": sorted(_lapsed(factbase, today)),
        "near-duplicate": sorted(_near_duplicates(factbase)),
        "unused": sorted(_unused(factbase)),
        "stale": sorted(_stale_topics(factbase, today, stale_days)),
        "tense": sorted(_tense(factbase)),
    }


def _warning(path: str, line: int, message: str) -> Problem:
    return Problem(path, line, message, "warning")


def _fact_warning(fact: Fact, message: str) -> Problem:
    return _warning(fact.path, fact.line, f"fact {fact.id!r}: {message}")


def _unattributed(factbase: FactBase) -> Iterator[Problem]:
    for fact in factbase.facts.values():
        document = factbase.documents[fact.source]
        if not document.kind.attributed:
            continue
        kind = document.kind.value
        if not fact.said_by.strip():
            yield _fact_warning(
                fact,
                f"unattributed {kind}: said_by is empty, so the brief would present "
                f"{document.id!r}'s reading as the government's view",
            )
        if _HAND_ATTRIBUTED.search(fact.statement):
            yield _fact_warning(
                fact,
                f"attribution written into the statement of {kind}: the brief adds "
                f"'{fact.said_by} (…) judged that'; write the statement as that clause",
            )
        elif CAPITALISED_FUNCTION_WORD.match(fact.statement):
            yield _fact_warning(
                fact,
                f"the {kind} statement reads '… that {fact.statement.split()[0]} …' after its "
                "attribution: start the clause in lower case",
            )
    for topic in factbase.topics.values():
        for sentence in topic.summary:
            yield from _unattributed_summary(
                factbase, topic, sentence.text, sentence.facts, sentence.line
            )


def _unattributed_summary(
    factbase: FactBase, topic: Topic, text: str, fact_ids: tuple[str, ...], line: int
) -> Iterator[Problem]:
    """A summary sentence resting on attributed facts must name who said them."""
    speakers: set[str] = set()
    for fact_id in fact_ids:
        fact = factbase.facts[fact_id]
        document = factbase.documents[fact.source]
        if document.kind.attributed:
            speakers.update(name for name in (fact.said_by, document.outlet) if name.strip())
    if not speakers or _ATTRIBUTION_WORDS.search(text):
        return
    lowered = text.lower()
    if any(_names(speaker, lowered) for speaker in speakers):
        return
    yield _warning(
        topic.path,
        line or topic.line,
        f"topic {topic.id!r}: a summary sentence rests on {', '.join(sorted(speakers))} "
        "but does not say so: attribute it in the sentence",
    )


def _names(speaker: str, lowered_text: str) -> bool:
    words = [w for w in re.findall(r"[a-z]+", speaker.lower()) if w not in {"the", "blog"}]
    return any(word in lowered_text for word in words)


def _lapsed(factbase: FactBase, today: dt.date) -> Iterator[Problem]:
    for fact in factbase.facts.values():
        if fact.due is None or not factbase.is_lapsed(fact, today):
            continue
        if fact.reviewed is not None and fact.reviewed > fact.due.last_day():
            continue
        yield _fact_warning(
            fact,
            f"lapsed target: due {fact.due.human()} has passed and no fact reports the outcome; "
            "add the outcome (a fact with outcome_of), or set reviewed: YYYY-MM-DD once you "
            "have looked and found none",
        )


def _near_duplicates(factbase: FactBase) -> Iterator[Problem]:
    reported: set[tuple[str, str]] = set()
    for topic_id in factbase.topics:
        facts = factbase.facts_for(topic_id)
        for index, later in enumerate(facts):
            for earlier in facts[:index]:
                pair = (earlier.id, later.id)
                if pair in reported or not similar(earlier, later):
                    continue
                reported.add(pair)
                yield _fact_warning(
                    later,
                    f"says much the same as {earlier.id!r} ({earlier.path}:{earlier.line}) "
                    f"under topic {topic_id!r}: merge them (a second quote goes under also:) "
                    "or drop the weaker",
                )


def _unused(factbase: FactBase) -> Iterator[Problem]:
    for fact in factbase.facts.values():
        if not fact.topics:
            yield _fact_warning(fact, "used by no topic: no brief shows it")


def _stale_topics(factbase: FactBase, today: dt.date, stale_days: int) -> Iterator[Problem]:
    cutoff = today - dt.timedelta(days=stale_days)
    for topic in factbase.topics.values():
        dated = [
            document.published
            for fact in factbase.facts_for(topic.id)
            for source in fact.sources
            for document in [factbase.documents[source]]
            if document.published is not None
        ]
        if not dated:
            continue
        newest = max(dated, key=lambda d: d.sort_key())
        if newest.last_day() >= cutoff:
            continue
        if topic.reviewed is not None and topic.reviewed >= cutoff:
            continue
        age = (today - newest.first_day()).days
        yield _warning(
            topic.path,
            topic.line,
            f"topic {topic.id!r}: its newest source ({newest.human()}) is {age} days old, "
            f"more than {stale_days}: look for newer sources, then set reviewed: "
            f"{today.isoformat()}",
        )


def _tense(factbase: FactBase) -> Iterator[Problem]:
    for fact in factbase.facts.values():
        if factbase.documents[fact.source].kind.attributed:
            continue  # an attributed statement keeps its source's tense, dated by attribution
        aim = _PRESENT_AIM.search(fact.statement) if fact.due is not None else None
        if fact.due is not None and aim is not None:
            yield _fact_warning(
                fact,
                f"a target due {fact.due.human()} is written in the present or future tense "
                f"({aim.group(0)!r}); write what was said when "
                "(e.g. 'set the aim of ...'): the brief adds whether it is due or lapsed",
            )
        elif (
            fact.date is not None
            and fact.stated is not None
            and fact.date.latest.last_day() < fact.stated.first_day()
            and _WILL.search(fact.statement)
        ):
            yield _fact_warning(
                fact,
                f"says 'will' of something dated {fact.date.human()}, before its source said it "
                f"({fact.stated.human()})",
            )
