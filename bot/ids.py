"""The shapes of ids the bot checks: the seeds' slugs and Slack's user and channel ids.

Each pattern is matched with `fullmatch`, so none needs anchors.
"""

from __future__ import annotations

import re

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
"""Every id in the seeds (documents, topics, facts, reminder rules): a-z, 0-9 and '-'."""

USER_ID_RE = re.compile(r"[UW][A-Z0-9]{2,20}")
"""A Slack user id (`U…`, or `W…` on Enterprise Grid)."""

CHANNEL_ID_RE = re.compile(r"[CG][A-Z0-9]{2,20}")
"""A Slack public or private channel id."""

CONVERSATION_ID_RE = re.compile(r"[CGD][A-Z0-9]{2,20}")
"""Where a reminder may be posted: a channel or a direct message (`D…`)."""
