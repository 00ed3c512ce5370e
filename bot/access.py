"""Who asked, from where, and whether the bot answers them there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    """Who asked and where, as far as the handler needs to know."""

    surface: str = "console"
    user_id: str | None = None
    channel_id: str | None = None
    channel_type: str | None = None
    prefix: str = "/brief"


@dataclass(frozen=True)
class AccessPolicy:
    """Where the bot answers and who may run admin commands (from the settings)."""

    allowed_channels: frozenset[str] = frozenset()
    allow_dms: bool = True
    admin_users: frozenset[str] = frozenset()

    def is_admin(self, ctx: RequestContext) -> bool:
        """Admins are the listed Slack users; the console and CLI are the operator's own."""
        return ctx.surface != "slack" or (ctx.user_id or "") in self.admin_users

    def may_answer(self, ctx: RequestContext) -> bool:
        """Whether the bot answers in the channel the request came from."""
        if ctx.surface != "slack":
            return True
        if is_direct_message(ctx):
            return self.allow_dms
        return not self.allowed_channels or (ctx.channel_id or "") in self.allowed_channels


def is_direct_message(ctx: RequestContext) -> bool:
    """A DM to the bot: Slack's `im` channel type, `directmessage` name, or a D… channel id."""
    return ctx.channel_type in ("im", "directmessage") or (ctx.channel_id or "").startswith("D")
