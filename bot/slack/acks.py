"""When Slack gets its HTTP answer: commands and actions in the acknowledgement, events at once.

Bolt's `AsyncApp` offers one switch for every kind of request. With `process_before_response`
off, each listener runs in a task of its own while the request waits for `ack()` by polling
`asyncio.sleep(0.01)`: a floor of about 11 ms under every `/brief`, whose answer *is* the
acknowledgement. With it on, the listener runs before the HTTP response: no polling, but an
event's whole reply (the answer, then `chat.postMessage` to Slack) would hold its
acknowledgement, and Slack retries events not acknowledged within 3 s.

`AckFirstListenerRunner` keeps both. It is Bolt's runner with `process_before_response` on, so a
command's or an action's answer is its acknowledgement, returned as soon as the listener is
done; listeners Bolt acknowledges by itself (events, messages, custom steps, the assistant's) are
acknowledged at once and run after the response in `bot.slack.work.EventWork`, a bounded set of
tasks that `briefbot serve` drains before it exits. Global
middleware still runs before the acknowledgement, so an event's de-duplication claim
(`bot.slack.middleware.claim_event`) is made before Slack hears 200, and its reply after.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.work import EventWork

log = logging.getLogger("bot.slack")


class AckFirstListenerRunner(AsyncioListenerRunner):
    """Bolt's listener runner, answering commands in the ack and acknowledging events first.

    Build it with `process_before_response=True`; see the module docstring.
    """

    def __init__(self, *args: Any, work: EventWork | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.work = work or EventWork()

    @classmethod
    def replacing(
        cls, runner: AsyncioListenerRunner, work: EventWork | None = None
    ) -> AckFirstListenerRunner:
        """A runner with `runner`'s logger and handlers (Bolt's defaults), running what comes
        after the acknowledgement in `work`."""
        return cls(
            work=work,
            logger=runner.logger,
            process_before_response=True,
            listener_error_handler=runner.listener_error_handler,
            listener_start_handler=runner.listener_start_handler,
            listener_completion_handler=runner.listener_completion_handler,
            lazy_listener_runner=runner.lazy_listener_runner,
        )

    async def run(
        self,
        request: AsyncBoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: AsyncListener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        """Acknowledge an auto-acknowledged listener's request now and run it after; others as
        Bolt does with `process_before_response` on."""
        if not listener.auto_acknowledgement or request.lazy_only:
            return await super().run(request, response, listener_name, listener, starting_time)
        ack = request.context.ack
        await ack()
        self.work.submit(self._after_ack(request, response, listener))
        for lazy_function in listener.lazy_functions:
            self._start_lazy_function(lazy_function, request)
        return ack.response

    async def _after_ack(
        self, request: AsyncBoltRequest, response: BoltResponse, listener: AsyncListener
    ) -> None:
        """The listener, with Bolt's start, error and completion handlers around it (as Bolt's
        own runner does for work after the ack: the error handler gets no response to change)."""
        try:
            await self.listener_start_handler.handle(request=request, response=response)
            await listener.run_ack_function(request=request, response=response)
        except Exception as error:
            await self.listener_error_handler.handle(error=error, request=request, response=None)
        finally:
            await self.listener_completion_handler.handle(request=request, response=response)
