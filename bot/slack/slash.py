"""Slash commands, answered in their HTTP acknowledgement, through Bolt or through the lane.

`slash_reply` asks the handler for a slash command's reply; `SlackServices.command_ack` turns
it into the acknowledgement (rendered, cut to Slack's limits, ephemeral unless the settings make
briefs public); `observe_slash` writes the request's log line and metrics. Two callers share
them:

- Bolt's `/brief` listener (`bot.slack.listeners.commands`), which serves Socket Mode;
- `SlashLane`, to which `bot.slack.route` hands the registered slash commands that arrive over HTTP,
  once their signature and shape are checked, without Bolt's dispatch.

Why a lane beside Bolt: before any listener runs, Bolt's `async_dispatch` costs about 0.27 ms
per request on the 2-core machine `bench/README.md` describes (the form body parsed three times,
a chain of middleware and listener matchers, each with its keyword arguments built by
inspecting its signature), more than the whole floor app (signature check and a canned 10 KB
answer over uvicorn, 0.18 ms). A slash command needs none of what that machinery does here: the
bot's authorisation is a fixed result (`bot.slack.app`), a command is never an Events API retry
(nothing to claim), its access policy is the handler's own (`CommandHandler.handle`), and its
answer is the acknowledgement. Events, buttons, shortcuts, custom steps and commands no route
names still go through Bolt. `tests/test_slash_lane.py` sends the same requests both ways and
requires the same answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from bot.replies import Reply
from bot.slack.middleware import request_context
from bot.slack.registry import COMMANDS
from bot.slack.services import COMMAND_APOLOGY, SlackServices, encode_json

log = logging.getLogger("bot.slack")


async def slash_reply(services: SlackServices, fields: Mapping[str, Any]) -> Reply:
    """The handler's reply to a slash command's fields (`text`, `user_id`, `channel_*`)."""
    return await services.answer(str(fields.get("text") or ""), request_context(fields))


def observe_slash(
    services: SlackServices, fields: Mapping[str, Any], reply: Reply, started: float
) -> None:
    """A slash command's log line and metrics, timed from `started` (`time.perf_counter()`)."""
    services.observe(
        str(fields.get("command") or "/brief"),
        reply,
        started=started,
        user=fields.get("user_id"),
        query=str(fields.get("text") or ""),
    )


class SlashLane:
    """Registered slash commands over HTTP, answered without Bolt's dispatch (module docstring).

    `bot.slack.route` calls `takes` on every checked payload and `answer` on those it takes.
    """

    def __init__(self, services: SlackServices, commands: Mapping[str, object] = COMMANDS) -> None:
        self.services = services
        self.commands = frozenset(commands)
        self._apology = encode_json(COMMAND_APOLOGY)

    def takes(self, payload: Mapping[str, Any]) -> bool:
        """Whether `payload` is a slash command this bot registers."""
        return payload.get("command") in self.commands

    async def answer(self, payload: Mapping[str, Any]) -> bytes:
        """The acknowledgement's JSON body; on any failure the apology, with the error logged
        as Bolt's error handler logs a failed listener."""
        started = time.perf_counter()
        try:
            reply = await slash_reply(self.services, payload)
            body = self.services.command_ack_bytes(reply)
        except Exception as error:
            log.error("listener failed", exc_info=error, extra={"request_type": payload["command"]})
            return self._apology
        observe_slash(self.services, payload, reply, started)
        return body
