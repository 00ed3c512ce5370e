"""Work done after a request was answered: at most a few pieces at once, none dropped at exit.

An event's reply (the answer, then `chat.postMessage`), a refusal sent to a button's
`response_url`: each runs after Slack has its acknowledgement, in `EventWork`, which bounds how
many run at once (so a burst of events cannot start hundreds of Slack calls and starve the
event loop) and keeps every task until it is done. `briefbot serve` drains it once uvicorn has
stopped taking requests, so a shutdown does not drop a reply Slack was already told it would get.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

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

    def submit(self, work: Coroutine[Any, Any, object]) -> None:
        """Start `work` as soon as a slot is free; its errors are logged, never raised."""

        loop = asyncio.get_running_loop()
        if loop not in self._slots:  # one per loop: tests run each scenario in its own
            self._slots = {loop: asyncio.Semaphore(self._limit)}
        slots = self._slots[loop]

        async def in_a_slot() -> None:
            try:
                async with slots:
                    await work
            except Exception:
                log.exception("work after the acknowledgement failed")
            finally:
                work.close()  # cancelled before its turn: closed, never left unawaited

        task = asyncio.ensure_future(in_a_slot())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        """Tasks submitted and not yet done."""
        return len(self._tasks)

    async def drain(self, timeout: float | None = None) -> int:
        """Wait until every submitted task is done, or `timeout` seconds have passed; returns
        how many were still unfinished (they are then cancelled, and the error logged)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=remaining)
        left = list(self._tasks)
        if left:
            log.error("acknowledged work unfinished at exit", extra={"tasks": len(left)})
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
        return len(left)
