"""The command handler: what a user typed in, a reply (data) out.

The console, the CLI and every Slack listener call `CommandHandler.handle`; none has a copy of
its rules. Replies (`bot.replies`) are dataclasses naming the template that renders them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.access import AccessPolicy, RequestContext
from bot.brief import DEFAULT_STALE_DAYS, Brief, UpcomingItem, compose_brief
from bot.factbase.model import FactBase
from bot.gaps import GapLog
from bot.replies import (
    AboutReply,
    BriefReply,
    CommandHelp,
    ErrorReply,
    GapsReply,
    HelpReply,
    NotAllowedReply,
    NotFoundReply,
    ReloadOutcome,
    ReloadReply,
    Reply,
    SearchReply,
    TopicRow,
    TopicsReply,
    UpcomingReply,
)
from bot.resolve import MAX_QUERY_CHARS, Method, Resolution
from bot.search import SearchHit
from bot.state import Knowledge, KnowledgeHolder
from bot.statements import spoken

# Words that start a command rather than a topic query.
HELP_WORDS = frozenset({"help", "?", "-h", "--help", "usage"})
ADMIN_WORDS = frozenset({"gaps", "reload"})
UPCOMING_IN_BRIEF_DAYS = 30
COMPOSED_CACHE_SIZE = 1024
GAPS_DAYS = 90
MAX_GAP_GROUPS = 30

_MENTION_RE = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>|@briefbot\b)[\s:,]*", re.IGNORECASE)
_COMMAND_RE = re.compile(r"^\s*/brief\b\s*", re.IGNORECASE)
_FULL_RE = re.compile(r"(?:^|\s)--full(?=\s|$)")
_DAYS_RE = re.compile(r"[0-9]{1,3}")
"""ASCII digits only: `str.isdigit` accepts `²`, which `int()` refuses."""


def about(knowledge: Knowledge) -> AboutReply:
    """The `about` reply for the fact base being served."""
    fb = knowledge.factbase
    newest = fb.newest_source_date()
    return AboutReply(
        version=fb.version,
        loaded_at=fb.loaded_at.strftime("%Y-%m-%d %H:%M UTC"),
        facts=len(fb.facts),
        topics=len(fb.topics),
        documents=len(fb.documents),
        newest_source=newest.human() if newest else "undated",
    )


@dataclass
class CommandHandler:
    """Turns what a user typed into a reply; the single handler behind every surface."""

    knowledge: KnowledgeHolder
    stale_days: int = DEFAULT_STALE_DAYS
    today: Callable[[], dt.date] = dt.date.today
    upcoming: Callable[[Knowledge, dt.date, int, str | None], tuple[UpcomingItem, ...]] | None = (
        None
    )
    access: AccessPolicy = field(default_factory=lambda: AccessPolicy())
    gaps: GapLog | None = None
    reload: Callable[[], ReloadOutcome] | None = None
    _composed: dict[tuple[object, ...], Brief] = field(default_factory=dict, repr=False)
    """Briefs already composed for `_composed_owner`'s fact base and reminder rules."""
    _composed_owner: tuple[Knowledge, object] | None = field(default=None, repr=False)

    def handle(
        self,
        text: str,
        context: RequestContext | None = None,
        *,
        full: bool = False,
        today: dt.date | None = None,
    ) -> Reply:
        """Answer one line: `help`, `topics`, `search WORDS`, `upcoming [DAYS]` or a topic query.

        A leading `/brief`, `@briefbot` or Slack mention is ignored; `--full` (or a leading
        `full`) asks for every fact rather than the key ones.
        """
        ctx = context or RequestContext()
        query = clean_query(text)
        if _FULL_RE.search(query):
            full = True
            query = _FULL_RE.sub(" ", query).strip()
        first, _, rest = query.partition(" ")
        word = first.lower()
        if word == "full" and rest.strip():
            full, query = True, rest.strip()
            first, _, rest = query.partition(" ")
            word = first.lower()
        if not self.access.may_answer(ctx):
            return self.not_allowed()
        knowledge = self.knowledge.current
        if not query or word in HELP_WORDS:
            return self.help(ctx)
        if word == "topics" and not rest.strip():
            return TopicsReply(topic_rows(knowledge), prefix=ctx.prefix)
        if word == "search" and rest.strip():
            return self.search(rest, knowledge)
        if word == "upcoming" and self.upcoming is not None:
            return self._upcoming(rest, knowledge, today)
        if word == "about" and not rest.strip():
            return about(knowledge)
        if word in ADMIN_WORDS and not rest.strip():
            if not self.access.is_admin(ctx):
                return ErrorReply("Sorry, only Briefbot's admins can run that.")
            return self._admin(word, ctx)
        return self.brief(query, ctx, full=full, today=today, knowledge=knowledge)

    def not_allowed(self) -> NotAllowedReply:
        """Where the bot can be used, for a request from anywhere else."""
        return NotAllowedReply(tuple(sorted(self.access.allowed_channels)), self.access.allow_dms)

    def _admin(self, word: str, ctx: RequestContext) -> Reply:
        if word == "gaps":
            if self.gaps is None:
                return ErrorReply("Knowledge gaps are not recorded here.")
            since = dt.datetime.now(dt.UTC) - dt.timedelta(days=GAPS_DAYS)
            return GapsReply(tuple(self.gaps.groups(since=since)[:MAX_GAP_GROUPS]), GAPS_DAYS)
        if self.reload is None:
            return ErrorReply("Reloading is not available here.")
        return ReloadReply(self.reload())

    def brief(
        self,
        query: str,
        ctx: RequestContext | None = None,
        *,
        full: bool = False,
        today: dt.date | None = None,
        knowledge: Knowledge | None = None,
        max_facts: int | None = None,
    ) -> Reply:
        """Resolve `query` and compose its brief, or say what was not found."""
        knowledge = knowledge or self.knowledge.current
        resolution = knowledge.resolver.resolve(query)
        self._note_gap(resolution, ctx or RequestContext())
        if resolution.topic_id is None or resolution.method is None:
            return self.not_found(resolution, knowledge, ctx or RequestContext())
        return self.brief_for_topic(
            resolution.topic_id,
            query=query,
            resolved_by=resolution.method.value,
            full=full,
            today=today,
            knowledge=knowledge,
            max_facts=max_facts,
        )

    def brief_for_topic(
        self,
        topic_id: str,
        *,
        query: str,
        resolved_by: str,
        full: bool = False,
        today: dt.date | None = None,
        knowledge: Knowledge | None = None,
        max_facts: int | None = None,
    ) -> BriefReply | ErrorReply:
        """The brief on a known topic id (used by buttons, which carry the id)."""
        knowledge = knowledge or self.knowledge.current
        if topic_id not in knowledge.factbase.topics:
            return ErrorReply(f"There is no topic {topic_id!r} any more. Try /brief topics.")
        day = today or self.today()
        owner = self._composed_owner
        if owner is None or owner[0] is not knowledge or owner[1] is not self.upcoming:
            self._composed.clear()  # a reload: new facts or new reminder rules
            self._composed_owner = (knowledge, self.upcoming)
        key = (topic_id, resolved_by, full, day, max_facts)
        brief = self._composed.get(key)
        if brief is None:
            upcoming = (
                self.upcoming(knowledge, day, UPCOMING_IN_BRIEF_DAYS, topic_id)
                if self.upcoming
                else ()
            )
            brief = compose_brief(
                knowledge.factbase,
                topic_id,
                query="",
                resolved_by=resolved_by,
                today=day,
                full=full,
                max_facts=max_facts,
                stale_days=self.stale_days,
                upcoming=upcoming,
            )
            if len(self._composed) >= COMPOSED_CACHE_SIZE:
                self._composed.clear()
            self._composed[key] = brief
        return BriefReply(replace(brief, query=query[:MAX_QUERY_CHARS]))

    def _note_gap(self, resolution: Resolution, ctx: RequestContext) -> None:
        """Record a query answered badly (not found, or only by word search) as a gap."""
        if self.gaps is None or resolution.empty:
            return
        if resolution.topic_id is None:
            outcome = "not_found"
        elif resolution.method is Method.SEARCH:
            outcome = "weak"
        else:
            return
        self.gaps.record_later(
            resolution.query,
            channel_type=ctx.channel_type or ctx.surface,
            outcome=outcome,
            best_score=resolution.score,
            user=ctx.user_id,
        )

    def help(self, ctx: RequestContext, note: str | None = None) -> HelpReply:
        """Usage and the topic list."""
        p = ctx.prefix
        commands = [
            CommandHelp(
                f"{p} TOPIC", "a short brief with cited sources (e.g. nato, rok, pacific security)"
            ),
            CommandHelp(f"{p} full TOPIC", "every fact on the topic"),
            CommandHelp(f"{p} topics", "the topics and the names they answer to"),
            CommandHelp(f"{p} search WORDS", "facts across all topics that mention the words"),
        ]
        if self.upcoming is not None:
            commands.append(
                CommandHelp(f"{p} upcoming [DAYS]", "anniversaries and deadlines ahead")
            )
        commands.append(CommandHelp(f"{p} about", "the fact base's version, size and age"))
        if self.access.is_admin(ctx):
            if self.gaps is not None:
                commands.append(CommandHelp(f"{p} gaps", "what people asked that found little"))
            if self.reload is not None:
                commands.append(CommandHelp(f"{p} reload", "re-read the fact base now"))
        commands.append(CommandHelp(f"{p} help", "this message"))
        return HelpReply(tuple(commands), topic_rows(self.knowledge.current), prefix=p, note=note)

    def not_found(self, resolution: Resolution, knowledge: Knowledge, ctx: RequestContext) -> Reply:
        """The not-found reply (or help, when the query had nothing in it)."""
        if resolution.empty:
            return self.help(ctx)
        rows = {row.id: row for row in topic_rows(knowledge)}
        return NotFoundReply(
            resolution.query[:200],
            tuple(rows[t] for t in resolution.suggestions if t in rows),
            prefix=ctx.prefix,
        )

    def search(self, words: str, knowledge: Knowledge | None = None) -> SearchReply:
        """Facts across topics matching the words, each with its source."""
        knowledge = knowledge or self.knowledge.current
        hits = tuple(_hit_row(hit, knowledge.factbase) for hit in knowledge.search.search(words))
        return SearchReply(words[:200], hits)

    def _upcoming(self, rest: str, knowledge: Knowledge, today: dt.date | None) -> Reply:
        arg = rest.strip()
        if arg and not (_DAYS_RE.fullmatch(arg) and 1 <= int(arg) <= 366):
            return ErrorReply("Usage: upcoming [DAYS], with DAYS a number from 1 to 366.")
        days = int(arg) if arg else 14
        assert self.upcoming is not None
        items = self.upcoming(knowledge, today or self.today(), days, None)
        return UpcomingReply(days, items)


def clean_query(text: str) -> str:
    """Drop a leading `/brief`, `@briefbot` or Slack mention, and fold white space."""
    text = text[: MAX_QUERY_CHARS * 4]
    text = _COMMAND_RE.sub("", text, count=1)
    text = _MENTION_RE.sub("", text, count=1)
    return " ".join(text.split())


def topic_rows(knowledge: Knowledge) -> tuple[TopicRow, ...]:
    """Every topic as a row for lists, sorted by id."""
    fb = knowledge.factbase
    return tuple(
        TopicRow(t.id, t.title, t.aliases, len(fb.facts_for(t.id)))
        for t in sorted(fb.topics.values(), key=lambda t: t.id)
    )


def _hit_row(hit: SearchHit, factbase: FactBase) -> dict[str, Any]:
    doc = factbase.documents[hit.fact.source]
    return {
        "id": hit.fact.id,
        "statement": spoken(factbase, hit.fact),
        "topics": hit.fact.topics,
        "date_label": hit.fact.date_label,
        "source_title": doc.title,
        "source_date": doc.date_label,
        "source_kind": doc.kind.value,
        "url": doc.url,
        "quote": hit.fact.quote,
    }
