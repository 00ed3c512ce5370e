"""What the command handler answers: one dataclass per kind of reply, each naming its template.

Replies are data; `templates/<template>.<format>.j2` decide how they look. Replies about the bot
rather than a topic (help, the topic list, about, upcoming, gaps, reload, the App Home) are in
`bot.status_replies`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bot.brief import Brief


@dataclass(frozen=True, slots=True)
class TopicRow:
    """A topic as listed in help, topic lists and suggestions."""

    id: str
    title: str
    aliases: tuple[str, ...]
    facts: int


@dataclass(frozen=True)
class Reply:
    """Base of all replies: the template that renders it and the data it needs."""

    template: ClassVar[str] = ""
    kind: ClassVar[str] = ""

    def context(self) -> dict[str, Any]:
        """Variables for the template."""
        return {"reply": self}


@dataclass(frozen=True)
class BriefReply(Reply):
    """A brief on a topic."""

    brief: Brief
    template: ClassVar[str] = "brief"
    kind: ClassVar[str] = "brief"

    def context(self) -> dict[str, Any]:
        return {"reply": self, "brief": self.brief}


@dataclass(frozen=True)
class NotFoundReply(Reply):
    """Nothing matched: the closest topics, and where to look."""

    query: str
    suggestions: tuple[TopicRow, ...]
    prefix: str = "/brief"
    template: ClassVar[str] = "not_found"
    kind: ClassVar[str] = "not_found"


@dataclass(frozen=True)
class SearchReply(Reply):
    """Facts matching a search across topics, each with its source."""

    query: str
    hits: tuple[dict[str, Any], ...]
    template: ClassVar[str] = "search"
    kind: ClassVar[str] = "search"


@dataclass(frozen=True)
class ErrorReply(Reply):
    """A short, user-facing message when something went wrong or is not allowed."""

    message: str
    template: ClassVar[str] = "error"
    kind: ClassVar[str] = "error"


@dataclass(frozen=True)
class NotAllowedReply(Reply):
    """The bot does not answer in this channel: where it does."""

    channels: tuple[str, ...]
    dms: bool
    template: ClassVar[str] = "not_allowed"
    kind: ClassVar[str] = "not_allowed"
