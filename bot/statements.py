"""How a fact is said: who said it and when, whether it still holds, and how alike two facts are.

Everything a brief, a search result or a reminder shows about a fact's voice is computed here from
the fact base, never hand-written per brief: analysis, news and commentary are attributed ("Capie
(USIP, July 2023) judged that …"), official statements are plain, and a target whose due date has
passed with no reported outcome says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.dates import PartialDate
from bot.factbase.model import Fact, FactBase, SourceKind
from bot.text import normalize_quote

DEFAULT_VERBS = {
    SourceKind.ANALYSIS: "reported",
    SourceKind.NEWS: "reported",
    SourceKind.COMMENTARY: "wrote",
}
"""The attribution verb when a fact names none; an analysis's positions are "judged"."""

SIMILAR_STATEMENTS = 88
"""rapidfuzz token-set ratio at or above which two statements say the same thing."""

SIMILAR_WITH_SHARED_QUOTE = 78
"""The lower ratio that suffices when one fact's quote lies within the other's."""

SET_RATIO_MIN_WORDS = 5
"""Below this many words a statement is compared whole: a token-set ratio would call any two
statements alike when the shorter one's few words all occur in the longer."""


@dataclass(frozen=True, slots=True)
class Voice:
    """Who said a fact and when, as a brief shows it."""

    said_by: str
    stated: PartialDate | None
    stated_inferred: bool
    attribution: str | None
    """The words put before the statement ("Capie (USIP, July 2023) judged that"), or None for
    an official source, which speaks plainly."""

    @property
    def stated_label(self) -> str | None:
        """When it was said, for readers: "July 2023", "September 2025 (inferred)" or None."""
        if self.stated is None:
            return None
        return self.stated.human() + (", inferred" if self.stated_inferred else "")


def voice_of(factbase: FactBase, fact: Fact) -> Voice:
    """Who says `fact`, when, and the attribution its statement needs."""
    document = factbase.documents[fact.source]
    attribution = None
    if document.kind.attributed or fact.said_by != document.said_by:
        when = fact.stated.human() if fact.stated else "undated"
        if fact.stated is not None and fact.stated_inferred:
            when += ", date inferred"
        where = f"{document.outlet}, {when}" if document.outlet else when
        speaker = fact.said_by or document.publisher
        attribution = f"{speaker} ({where}) {verb_of(factbase, fact)} that"
    return Voice(fact.said_by, fact.stated, fact.stated_inferred, attribution)


def verb_of(factbase: FactBase, fact: Fact) -> str:
    """The attribution verb: the fact's own, else one that suits its source and kind."""
    if fact.verb:
        return fact.verb
    kind = factbase.documents[fact.source].kind
    if kind is SourceKind.ANALYSIS and fact.kind in (None, "position"):
        return "judged"
    return DEFAULT_VERBS.get(kind, "said")


def spoken(factbase: FactBase, fact: Fact) -> str:
    """The statement as a brief says it: attributed where the speaker is not the source's
    government, plainly otherwise."""
    voice = voice_of(factbase, fact)
    if voice.attribution is None:
        return fact.statement
    return _capitalised(f"{voice.attribution} {fact.statement}")


def status_of(factbase: FactBase, fact: Fact, today: dt.date) -> str | None:
    """What a brief must say of a target's standing: lapsed with no outcome, or when it is due."""
    if fact.due is None:
        return None
    if factbase.is_lapsed(fact, today):
        return f"set for {fact.due.human()}; no source here reports the outcome"
    if factbase.outcomes.get(fact.id):
        when = "set for" if fact.due.last_day() < today else "due"
        return f"{when} {fact.due.human()}; the next fact reports the outcome"
    return f"due {fact.due.human()}"


def claim(fact: Fact) -> str:
    """The bare statement as a sentence of its own, without attribution."""
    return _capitalised(fact.statement)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def similar(first: Fact, second: Fact) -> bool:
    """Whether two facts say the same thing: near-identical wording, or a shared quote and
    much the same wording."""
    from rapidfuzz import fuzz  # here: a brief ranked from the cache (`bot.cache`) needs none

    a, b = first.statement.lower(), second.statement.lower()
    if min(len(a.split()), len(b.split())) >= SET_RATIO_MIN_WORDS:
        score = fuzz.token_set_ratio(a, b)
    else:
        score = fuzz.ratio(a, b)
    if score >= SIMILAR_STATEMENTS:
        return True
    if score < SIMILAR_WITH_SHARED_QUOTE:
        return False
    return any(
        ca.source == cb.source and _overlaps(ca.quote, cb.quote)
        for ca in first.citations
        for cb in second.citations
    )


def _overlaps(first: str, second: str) -> bool:
    short, long_ = sorted((normalize_quote(first), normalize_quote(second)), key=len)
    return short in long_
