"""Waking the delivery pass with APScheduler inside `briefbot serve`.

APScheduler only says *when to look*; what is owed is always computed from the rules and the
delivery ledger, so a restart, a missed tick or several replicas each running a scheduler never
lose or repeat a reminder (see `bot.reminders.delivery`). The job store is in memory on purpose.
The trigger has an explicit `ZoneInfo` and no jitter; one pass also runs at start-up to catch up.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.reminders.delivery import PassResult

log = logging.getLogger("bot.reminders")

JOB_ID = "reminders-run-due"
EVERY_MINUTE = {"second": "0"}
"""Cron fields of the tick: at second 0 of every minute, in the team's time zone."""


class ReminderScheduler:
    """Runs `run_due(now)` on a cron tick in a background thread."""

    def __init__(
        self,
        run_due: Callable[[dt.datetime], PassResult],
        timezone: ZoneInfo,
        *,
        cron: dict[str, str] | None = None,
    ) -> None:
        # APScheduler logs two INFO lines a tick ("Running job ...", "... executed
        # successfully"); the pass logs what it did itself. Its warnings (misfires) still show.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._run_due = run_due
        self.timezone = timezone
        self.scheduler = BackgroundScheduler(
            timezone=timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        )
        self.trigger = CronTrigger(timezone=timezone, jitter=None, **(cron or EVERY_MINUTE))

    def tick(self) -> None:
        """One pass; errors are logged, never raised into the scheduler."""
        try:
            self._run_due(dt.datetime.now(dt.UTC))
        except Exception:
            log.exception("reminder pass failed")

    def start(self) -> None:
        """Start ticking, with one catch-up pass straight away."""
        self.scheduler.add_job(self.tick, self.trigger, id=JOB_ID, replace_existing=True)
        self.scheduler.add_job(self.tick, id=f"{JOB_ID}-at-start")
        self.scheduler.start()
        log.info("reminders scheduled", extra={"timezone": str(self.timezone)})

    def shutdown(self) -> None:
        """Stop ticking; waits for a running pass to finish.

        The jobs are removed first: that waits for the scheduler's thread to finish looking for
        due jobs (it holds the job stores' lock). Shut down while that thread was submitting the
        one-off start-up pass, APScheduler 3 then failed to remove the spent job from a stopped
        scheduler and its thread died with `JobLookupError`.
        """
        if self.scheduler.running:
            self.scheduler.remove_all_jobs()
            self.scheduler.shutdown(wait=True)
