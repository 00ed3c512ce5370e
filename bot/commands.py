"""The command handler: what a user typed in, a reply (data) out.

The console, the CLI and every Slack listener call `CommandHandler.handle`; none has a copy of
its rules. Replies (`bot.replies`) are dataclasses naming the template that renders them.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.access import AccessPolicy, RequestContext
from bot.brief import DEFAULT_STALE_DAYS, compose_brief
from bot.factbase.model import FactBase
from bot.lru import Lru
from bot.replies import (
    BriefReply,
    ErrorReply,
    NotAllowedReply,
    NotFoundReply,
    Reply,
    SearchReply,
    TopicRow,
)
from bot.resolve import MAX_QUERY_CHARS, Method, Resolution
from bot.search import SearchHit
from bot.state import Knowledge, KnowledgeHolder
from bot.statements import spoken

if TYPE_CHECKING:
    from bot.gaps import GapGroup, GapLog
    from bot.status_replies import AboutReply, HelpReply, HomeReply, ReloadOutcome

UPCOMING_IN_BRIEF_DAYS = 30
GAPS_DAYS = 90
MAX_GAP_GROUPS = 30
DEFAULT_UPCOMING_DAYS = 14
HOME_GAPS = 5
"""Knowledge gaps an admin's App Home lists."""
COMPOSED_BRIEFS = 256
"""Briefs kept composed for the snapshot being served (`SnapshotMemo`)."""
RESOLUTIONS_KEPT = 1024
"""Query resolutions kept for the snapshot being served (`SnapshotMemo`)."""

SLACK, CONSOLE, CLI = "slack", "console", "cli"
EVERYWHERE = frozenset({SLACK, CONSOLE, CLI})

_MENTION_RE = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>|@briefbot\b)[\s:,]*", re.IGNORECASE)
_COMMAND_RE = re.compile(r"^\s*/brief\b\s*", re.IGNORECASE)
_FULL_RE = re.compile(r"(?:^|\s)--full(?=\s|$)")
_DAYS_RE = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True)
class Invocation:
    """One command as typed: the words after its name, who asked and where, and the snapshot
    it runs against."""

    rest: str
    ctx: RequestContext
    knowledge: Knowledge
    today: dt.date | None = None
    full: bool = False


Runner = Callable[["CommandHandler", Invocation], Reply]


@dataclass(frozen=True)
class Command:
    """A command in the table: the words that call it, its help line, who may run it and on
    which surfaces, and the function that answers it."""

    name: str
    usage: str
    """What follows the prefix in help: "topics", "search WORDS", "upcoming [DAYS]"."""
    help: str
    run: Runner
    takes: str = "nothing"
    """"nothing": the name alone; "optional": words may follow; "words": words must follow."""
    aliases: tuple[str, ...] = ()
    admin: bool = False
    surfaces: frozenset[str] = EVERYWHERE
    needs: str | None = None
    """A service the handler must have for the command to be offered ("gaps", "reload")."""
    elsewhere: str | None = None
    """What to run instead where this surface does not offer the command."""
    blocking: bool = False
    """It reads the database or reloads: an event loop runs it in a thread (`Line.blocks`)."""

    @property
    def words(self) -> tuple[str, ...]:
        """Every word that calls this command."""
        return (self.name, *self.aliases)


COMMANDS: list[Command] = []
"""The command table, in the order help lists it. A topic query is what matches none."""
_BY_WORD: dict[str, Command] = {}
"""Each word that calls a command (lower case), the first command declaring it."""


def command(
    name: str,
    usage: str,
    help: str,
    *,
    takes: str = "nothing",
    aliases: tuple[str, ...] = (),
    admin: bool = False,
    surfaces: frozenset[str] = EVERYWHERE,
    needs: str | None = None,
    elsewhere: str | None = None,
    blocking: bool = False,
) -> Callable[[Runner], Runner]:
    """Declare a command (Errbot's `@botcmd`): the function answers it, the table describes it."""

    def register(run: Runner) -> Runner:
        declared = Command(
            name, usage, help, run, takes, aliases, admin, surfaces, needs, elsewhere, blocking
        )
        COMMANDS.append(declared)
        for word in declared.words:
            _BY_WORD.setdefault(word.lower(), declared)
        return run

    return register


def find_command(word: str) -> Command | None:
    """The command a first word calls, if any."""
    return _BY_WORD.get(word.lower())


def about(knowledge: Knowledge) -> AboutReply:
    """The `about` reply for the fact base being served."""
    from bot.status_replies import AboutReply

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


class SnapshotMemo:
    """What the handler made from the snapshot being served, kept for the next request that
    needs it: composed briefs and query resolutions (the most recently used of each) and the
    topic list.

    Each is a pure function of the snapshot (`Knowledge`, replaced whole, never mutated) and of
    what was asked: a resolution of the query's text; a brief of the topic, the query, how it
    was resolved, the day and `full`; the topic list (help, `topics`, a not-found reply's
    suggestions) of nothing else. A team asks about a dozen topics by a handful of names, so
    most requests find their resolution and brief here; a new snapshot empties the memo. Safe
    to share between threads.
    """

    def __init__(self, briefs: int = COMPOSED_BRIEFS, resolutions: int = RESOLUTIONS_KEPT) -> None:
        self._sizes = (briefs, resolutions)
        self._knowledge: Knowledge | None = None
        self._briefs: Lru[BriefReply] = Lru(briefs)
        self._resolutions: Lru[Resolution] = Lru(resolutions)
        self._rows: tuple[TopicRow, ...] | None = None
        self._lock = threading.Lock()

    def brief(
        self, knowledge: Knowledge, key: tuple[Any, ...], compose: Callable[[], BriefReply]
    ) -> BriefReply:
        """The brief `key` names in `knowledge`, composed by `compose` if it is not kept."""
        with self._lock:
            self._serve(knowledge)
            briefs = self._briefs
        return briefs.get_or_make(key, compose)

    def resolution(self, knowledge: Knowledge, query: str) -> Resolution:
        """`knowledge.resolver.resolve(query)`, kept for queries of up to `MAX_QUERY_CHARS`."""
        if len(query) > MAX_QUERY_CHARS:
            return knowledge.resolver.resolve(query)
        with self._lock:
            self._serve(knowledge)
            resolutions = self._resolutions
        return resolutions.get_or_make(query, lambda: knowledge.resolver.resolve(query))

    def topic_rows(self, knowledge: Knowledge) -> tuple[TopicRow, ...]:
        """`topic_rows(knowledge)`, made once per snapshot."""
        with self._lock:
            self._serve(knowledge)
            rows = self._rows
        if rows is None:
            rows = topic_rows(knowledge)
            with self._lock:
                if knowledge is self._knowledge:  # not replaced meanwhile
                    self._rows = rows
        return rows

    def _serve(self, knowledge: Knowledge) -> None:
        """Keep what is made from `knowledge` from now on (called with the lock held)."""
        if knowledge is not self._knowledge:  # one memo per snapshot: never mixed
            briefs, resolutions = self._sizes
            self._knowledge, self._rows = knowledge, None
            self._briefs, self._resolutions = Lru(briefs), Lru(resolutions)


@dataclass
class CommandHandler:
    """Turns what a user typed into a reply; the single handler behind every surface.

    What can be typed is the command table (`COMMANDS`); anything else is a topic query.
    """

    knowledge: KnowledgeHolder
    stale_days: int = DEFAULT_STALE_DAYS
    today: Callable[[], dt.date] = dt.date.today
    access: AccessPolicy = field(default_factory=lambda: AccessPolicy())
    gaps: GapLog | None = None
    reload: Callable[[], ReloadOutcome] | None = None
    memo: SnapshotMemo = field(default_factory=SnapshotMemo, repr=False, compare=False)

    def handle(
        self,
        text: str,
        context: RequestContext | None = None,
        *,
        full: bool = False,
        today: dt.date | None = None,
        line: Line | None = None,
    ) -> Reply:
        """Answer one line: a command from the table (`help`, `topics`, `search WORDS`, …) or
        a topic query. A leading `/brief`, `@briefbot` or Slack mention is ignored; `--full`
        (or a leading `full`) asks for every fact rather than the key ones. `line` is
        `parse_line(text)` when the caller has it already."""
        ctx = context or RequestContext()
        query, asked_full, found, rest = line or parse_line(text)
        full = full or asked_full
        if not self.access.may_answer(ctx):
            return self.not_allowed()
        invocation = Invocation(rest, ctx, self.knowledge.current, today, full)
        if found is None or (found.takes == "nothing" and rest):
            # Not a command, or a command word opening a question ("topics of interest?").
            return self.brief(query, ctx, full=full, today=today, knowledge=invocation.knowledge)
        return self.run(found, invocation)

    def run(self, found: Command, invocation: Invocation) -> Reply:
        """Run a command from the table, if this surface offers it and the user may run it."""
        ctx = invocation.ctx
        if ctx.surface not in found.surfaces:
            where = " and ".join(sorted(s.title() for s in found.surfaces))
            instead = f"; here, run `{found.elsewhere}`" if found.elsewhere else ""
            return ErrorReply(f"`{found.name}` works in {where}{instead}.")
        if found.admin and not self.access.is_admin(ctx):
            return ErrorReply("Sorry, only Briefbot's admins can run that.")
        if not self._offers(found):
            return ErrorReply(f"`{found.name}` is not available on this bot.")
        if found.takes == "words" and not invocation.rest:
            return ErrorReply(f"Usage: {ctx.prefix} {found.usage}")
        return found.run(self, invocation)

    def commands_for(self, ctx: RequestContext) -> tuple[Command, ...]:
        """The commands this user may run on this surface, in help order."""
        return tuple(
            c
            for c in COMMANDS
            if ctx.surface in c.surfaces
            and (not c.admin or self.access.is_admin(ctx))
            and self._offers(c)
        )

    def _offers(self, found: Command) -> bool:
        return found.needs is None or getattr(self, found.needs) is not None

    def not_allowed(self) -> NotAllowedReply:
        """Where the bot can be used, for a request from anywhere else."""
        return NotAllowedReply(tuple(sorted(self.access.allowed_channels)), self.access.allow_dms)

    def brief(
        self,
        query: str,
        ctx: RequestContext | None = None,
        *,
        full: bool = False,
        today: dt.date | None = None,
        knowledge: Knowledge | None = None,
    ) -> Reply:
        """Resolve `query` and compose its brief, or say what was not found."""
        knowledge = knowledge or self.knowledge.current
        resolution = self.memo.resolution(knowledge, query)
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
    ) -> BriefReply | ErrorReply:
        """The brief on a known topic id (used by buttons, which carry the id)."""
        knowledge = knowledge or self.knowledge.current
        if topic_id not in knowledge.factbase.topics:
            return ErrorReply(f"There is no topic {topic_id!r} any more. Try /brief topics.")
        day = today or self.today()
        query = query[:MAX_QUERY_CHARS]

        def compose() -> BriefReply:
            assert knowledge is not None
            brief = compose_brief(
                knowledge.factbase,
                topic_id,
                query=query,
                resolved_by=resolved_by,
                today=day,
                full=full,
                stale_days=self.stale_days,
                upcoming=knowledge.schedule.upcoming(
                    knowledge.factbase, day, UPCOMING_IN_BRIEF_DAYS, topic_id
                ),
            )
            return BriefReply(brief)

        key = (topic_id, query, resolved_by, day, full, self.stale_days)
        return self.memo.brief(knowledge, key, compose)

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
        """Usage, generated from the command table, and the topic list."""
        from bot.status_replies import CommandHelp, HelpReply

        p = ctx.prefix
        commands = tuple(CommandHelp(f"{p} {c.usage}", c.help) for c in self.commands_for(ctx))
        rows = self.memo.topic_rows(self.knowledge.current)
        return HelpReply(commands, rows, prefix=p, note=note)

    def home(self, ctx: RequestContext, *, today: dt.date | None = None) -> HomeReply:
        """The App Home: topics with their first summary sentence, the reminders ahead, the
        fact base's version, as-of date and staleness; for admins, gaps and the worklist size."""
        from bot.status_replies import HomeReply, HomeTopic

        knowledge = self.knowledge.current
        fb = knowledge.factbase
        day = today or self.today()
        newest = fb.newest_source_date()
        age = (day - newest.first_day()).days if newest else None
        topics = tuple(
            HomeTopic(
                t.id, t.title, t.summary[0].text if t.summary else "", len(fb.facts_for(t.id))
            )
            for t in sorted(fb.topics.values(), key=lambda t: t.title.lower())
        )
        admin = self.access.is_admin(ctx)
        gaps = self.recent_gaps() if admin else None
        review: int | None = None
        if admin:
            from bot.curate.review import curator_review  # the worklist: admins' Home only

            review = curator_review(
                knowledge, today=day, stale_days=self.stale_days, gaps=gaps
            ).total
        return HomeReply(
            topics,
            knowledge.schedule.upcoming(fb, day, DEFAULT_UPCOMING_DAYS, None),
            fb.version,
            newest.human() if newest else "undated",
            age is None or age > self.stale_days,
            age,
            self.stale_days,
            admin=admin,
            gaps=tuple((gaps or [])[:HOME_GAPS]),
            review_items=review,
        )

    def recent_gaps(self) -> list[GapGroup] | None:
        """The knowledge gaps of the last `GAPS_DAYS` days, most frequent first (None without a
        gap store)."""
        if self.gaps is None:
            return None
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=GAPS_DAYS)
        return self.gaps.groups(since=since)[:MAX_GAP_GROUPS]

    def not_found(self, resolution: Resolution, knowledge: Knowledge, ctx: RequestContext) -> Reply:
        """The not-found reply (or help, when the query had nothing in it)."""
        if resolution.empty:
            return self.help(ctx)
        rows = {row.id: row for row in self.memo.topic_rows(knowledge)}
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


# --- the command table: each function answers one command ------------------------------------


@command(
    "brief",
    "TOPIC",
    "a short brief with cited sources (e.g. nato, rok, pacific security)",
    takes="words",
)
def _brief(handler: CommandHandler, inv: Invocation) -> Reply:
    return handler.brief(inv.rest, inv.ctx, full=inv.full, today=inv.today, knowledge=inv.knowledge)


@command("full", "full TOPIC", "every fact on the topic", takes="words")
def _full(handler: CommandHandler, inv: Invocation) -> Reply:
    return handler.brief(inv.rest, inv.ctx, full=True, today=inv.today, knowledge=inv.knowledge)


@command("topics", "topics", "the topics and the names they answer to")
def _topics(handler: CommandHandler, inv: Invocation) -> Reply:
    from bot.status_replies import TopicsReply

    return TopicsReply(handler.memo.topic_rows(inv.knowledge), prefix=inv.ctx.prefix)


@command("search", "search WORDS", "facts across all topics that mention the words", takes="words")
def _search(handler: CommandHandler, inv: Invocation) -> Reply:
    return handler.search(inv.rest, inv.knowledge)


@command("upcoming", "upcoming [DAYS]", "anniversaries and deadlines ahead", takes="optional")
def _upcoming(handler: CommandHandler, inv: Invocation) -> Reply:
    from bot.status_replies import UpcomingReply

    arg = inv.rest
    if arg and not (_DAYS_RE.fullmatch(arg) and 1 <= int(arg) <= 366):
        return ErrorReply("Usage: upcoming [DAYS], with DAYS a number from 1 to 366.")
    days = int(arg) if arg else DEFAULT_UPCOMING_DAYS
    day = inv.today or handler.today()
    return UpcomingReply(
        days, inv.knowledge.schedule.upcoming(inv.knowledge.factbase, day, days, None)
    )


@command("about", "about", "the fact base's version, size and age")
def _about(handler: CommandHandler, inv: Invocation) -> Reply:
    return about(inv.knowledge)


@command(
    "gaps",
    "gaps",
    "what people asked that found little",
    admin=True,
    surfaces=frozenset({SLACK}),
    needs="gaps",
    elsewhere="briefbot gaps",
    blocking=True,
)
def _gaps(handler: CommandHandler, inv: Invocation) -> Reply:
    from bot.status_replies import GapsReply

    return GapsReply(tuple(handler.recent_gaps() or ()), GAPS_DAYS)


@command(
    "reload",
    "reload",
    "re-read the fact base now",
    admin=True,
    surfaces=frozenset({SLACK}),
    needs="reload",
    elsewhere="briefbot reload",
    blocking=True,
)
def _reload(handler: CommandHandler, inv: Invocation) -> Reply:
    from bot.status_replies import ReloadReply

    assert handler.reload is not None
    return ReloadReply(handler.reload())


@command(
    "review",
    "review",
    "the curator's worklist",
    admin=True,
    surfaces=frozenset({SLACK}),
    elsewhere="briefbot review",
    blocking=True,
)
def _review(handler: CommandHandler, inv: Invocation) -> Reply:
    from bot.curate.review import curator_review  # PyYAML and the editorial rules: only here

    return curator_review(
        inv.knowledge,
        today=inv.today or handler.today(),
        stale_days=handler.stale_days,
        gaps=handler.recent_gaps(),
    )


@command("help", "help", "this message", aliases=("?", "-h", "--help", "usage"), takes="optional")
def _help(handler: CommandHandler, inv: Invocation) -> Reply:
    return handler.help(inv.ctx)


HELP = find_command("help")
assert HELP is not None


class Line(NamedTuple):
    """What a typed line asks (`parse_line`)."""

    query: str
    """The line cleaned, `--full` taken out."""
    full: bool
    """It asked for the full brief."""
    command: Command | None
    """The command its first word calls (help for an empty line)."""
    rest: str
    """The words after that first word."""

    @property
    def blocks(self) -> bool:
        """Answering it may wait on I/O: it calls a `blocking` command (reads the database,
        reloads). Topic queries, help and the other commands never do."""
        return self.command is not None and self.command.blocking


def parse_line(text: str) -> Line:
    """What a typed line asks: its query, `--full`, the command it calls and its words."""
    query = clean_query(text)
    full = False
    if _FULL_RE.search(query):
        full = True
        query = _FULL_RE.sub(" ", query).strip()
    first, _, rest = query.partition(" ")
    return Line(query, full, find_command(first) if query else HELP, rest.strip())


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
