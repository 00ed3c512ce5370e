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
acknowledged at once and run after the response in `EventWork`, a bounded set of tasks. Global
middleware still runs before the acknowledgement, so an event's de-duplication claim
(`bot.slack.middleware.claim_event`) is made before Slack hears 200, and its reply after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger("bot.slack")

MAX_CONCURRENT_EVENTS = 32
"""Event replies worked on at once; more wait their turn, already acknowledged."""


class EventWork:
    """Work that runs after its request was answered, at most `limit` at a time.

    Tasks are kept referenced until done (asyncio holds only weak references), and `drain`
    waits for them, so a shutdown does not drop an acknowledged event's reply.
    """

    def __init__(self, limit: int = MAX_CONCURRENT_EVENTS) -> None:
        self._limit = limit
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, work: Coroutine[Any, Any, None]) -> None:
        """Start `work` as soon as a slot is free; its errors are logged, never raised."""

        loop = asyncio.get_running_loop()
        if loop not in self._slots:  # one per loop: tests run each scenario in its own
            self._slots = {loop: asyncio.Semaphore(self._limit)}
        slots = self._slots[loop]

        async def in_a_slot() -> None:
            async with slots:
                try:
                    await work
                except Exception:
                    log.exception("work after the acknowledgement failed")

        task = asyncio.ensure_future(in_a_slot())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        """Tasks submitted and not yet done."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every submitted task is done."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class AckFirstListenerRunner(AsyncioListenerRunner):
    """Bolt's listener runner, answering commands in the ack and acknowledging events first.

    Build it with `process_before_response=True`; see the module docstring.
    """

    def __init__(self, *args: Any, work: EventWork | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.work = work or EventWork()

    @classmethod
    def replacing(cls, runner: AsyncioListenerRunner) -> AckFirstListenerRunner:
        """A runner with `runner`'s logger and handlers (Bolt's defaults)."""
        return cls(
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
