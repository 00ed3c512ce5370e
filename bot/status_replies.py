"""Replies about the bot rather than a topic: help, the topic list, about, upcoming, gaps, reload
and the App Home.

Kept apart from `bot.replies` so that a brief, the commonest answer (and the CLI's start-up),
does not create their dataclasses; the commands that return them import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from bot.replies import Reply, TopicRow

if TYPE_CHECKING:
    from bot.brief import UpcomingItem
    from bot.gaps import GapGroup


@dataclass(frozen=True, slots=True)
class CommandHelp:
    """A usage line and what it does."""

    usage: str
    description: str


@dataclass(frozen=True)
class HelpReply(Reply):
    """Usage, the commands the user may run and the topics."""

    commands: tuple[CommandHelp, ...]
    topics: tuple[TopicRow, ...]
    prefix: str = "/brief"
    note: str | None = None
    template: ClassVar[str] = "help"
    kind: ClassVar[str] = "help"


@dataclass(frozen=True)
class TopicsReply(Reply):
    """The list of topics."""

    topics: tuple[TopicRow, ...]
    prefix: str = "/brief"
    template: ClassVar[str] = "topics"
    kind: ClassVar[str] = "topics"


@dataclass(frozen=True)
class UpcomingReply(Reply):
    """Reminder occurrences coming up."""

    days: int
    items: tuple[UpcomingItem, ...]
    template: ClassVar[str] = "upcoming"
    kind: ClassVar[str] = "upcoming"


@dataclass(frozen=True)
class AboutReply(Reply):
    """The fact base being served: version, load time, size and newest source."""

    version: str
    loaded_at: str
    facts: int
    topics: int
    documents: int
    newest_source: str
    template: ClassVar[str] = "about"
    kind: ClassVar[str] = "about"


@dataclass(frozen=True)
class GapsReply(Reply):
    """Knowledge gaps grouped by similar wording, most frequent first."""

    groups: tuple[GapGroup, ...]
    days: int
    template: ClassVar[str] = "gaps"
    kind: ClassVar[str] = "gaps"


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: the version now served, and every problem if it was refused."""

    ok: bool
    version: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReloadReply(Reply):
    """The outcome of `reload`."""

    outcome: ReloadOutcome
    template: ClassVar[str] = "reload"
    kind: ClassVar[str] = "reload"


@dataclass(frozen=True, slots=True)
class HomeTopic:
    """A topic on the App Home: its title, the first sentence of its summary and its size."""

    id: str
    title: str
    summary: str
    facts: int


@dataclass(frozen=True)
class HomeReply(Reply):
    """The App Home tab: the topics, what is coming up, and the fact base's version and age;
    for admins, the top knowledge gaps and the size of the curator's worklist."""

    topics: tuple[HomeTopic, ...]
    upcoming: tuple[UpcomingItem, ...]
    version: str
    as_of: str
    stale: bool
    age_days: int | None
    stale_days: int
    admin: bool = False
    gaps: tuple[GapGroup, ...] = ()
    review_items: int | None = None
    template: ClassVar[str] = "home"
    kind: ClassVar[str] = "home"
