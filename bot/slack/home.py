"""The App Home tab: each user's view, published at most once a minute per fact-base version.

`views.publish` replaces a user's whole Home; Slack sends `app_home_opened` each time the tab is
opened, so `HomeTabs` remembers, per user, the version last published and when: a user who
opens the tab again within `HOME_TTL_SECONDS` on the same version is not published to again,
and a new version publishes anew. `refresh_home` re-publishes to everyone remembered after a
reload. The view is the `home` template, cut to fit by the same builder and limits checker as
every message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.access import RequestContext
from bot.reminders.delivery import make_client
from bot.slack.limits import ensure_within_limits

if TYPE_CHECKING:
    from bot.slack.services import SlackServices

log = logging.getLogger("bot.slack")

HOME_TTL_SECONDS = 60.0
"""A user's Home is published at most once in this many seconds per fact-base version."""
MAX_HOME_USERS = 10_000
"""Users remembered (least recently published forgotten first)."""


class HomeTabs:
    """Who was published which version of the Home, and when (in memory, per process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._published: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, user_id: str, version: str) -> bool:
        """Whether `user_id`'s Home should be published with `version` now; if so, it is
        recorded as published (a failed publish is `forget`-ten)."""
        now = self.clock()
        with self._lock:
            last = self._published.get(user_id)
            if last is not None and last[0] == version and now - last[1] < HOME_TTL_SECONDS:
                return False
            self._published[user_id] = (version, now)
            self._published.move_to_end(user_id)
            while len(self._published) > MAX_HOME_USERS:
                self._published.popitem(last=False)
            return True

    def forget(self, user_id: str) -> None:
        """Publish to `user_id` again at the next opening."""
        with self._lock:
            self._published.pop(user_id, None)

    def users(self) -> list[str]:
        """Every user remembered, least recently published first."""
        with self._lock:
            return list(self._published)


def home_view(services: SlackServices, user_id: str) -> dict[str, Any]:
    """The `home` view for `user_id` (admins see gaps and the worklist), within Slack's limits."""
    ctx = RequestContext(surface="slack", user_id=user_id, channel_type="im")
    payload = services.payload(services.handler.home(ctx), interactive=True)
    ensure_within_limits(payload)
    return {"type": "home", "blocks": payload["blocks"]}


def refresh_home(services: SlackServices) -> int:
    """Publish the current fact base's Home to every user remembered (after a reload); how many
    were published. Synchronous (a reload runs in a thread); failures are logged, not raised."""
    settings = services.settings
    if settings.slack_bot_token is None:
        return 0
    client = make_client(settings.slack_bot_token.reveal(), settings.slack_api_url)
    version = services.handler.knowledge.current.version
    published = 0
    for user_id in services.home.users():
        if not services.home.claim(user_id, version):
            continue
        try:
            client.views_publish(user_id=user_id, view=home_view(services, user_id))
        except SlackApiError as exc:
            services.home.forget(user_id)
            services.slack_failed("views.publish", str(exc.response.get("error")))
            continue
        published += 1
    log.info("app home refreshed", extra={"users": published, "version": version})
    return published
