"""The running bot: everything `briefbot serve` builds once, and how it changes while it runs.

`Runtime.build` loads the fact base and reminder rules, migrates the database and assembles the
services. `Runtime.reload` re-reads `seeds/` (on SIGHUP, `briefbot reload`, `/brief reload`, or
when the directory changes): a fact base or rule file that fails verification is refused, every
error is logged with file and line, the last good fact base keeps being served, and `/readyz`
says "degraded" until a good one loads.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.access import AccessPolicy
from bot.commands import CommandHandler
from bot.config import Settings
from bot.db import Database
from bot.factbase import load_factbase
from bot.factbase.loader import iter_problem_lines
from bot.gaps import GapStore
from bot.metrics import Metrics
from bot.reminders.cli import load_schedule
from bot.reminders.delivery import ReminderDelivery, make_client
from bot.reminders.ledger import DeliveryLedger
from bot.reminders.occurrences import ReminderSchedule
from bot.reminders.scheduler import ReminderScheduler
from bot.render import Renderer
from bot.replies import ReloadOutcome
from bot.slack.messages import MessageBuilder
from bot.slack.services import SlackServices
from bot.state import Knowledge, KnowledgeHolder

log = logging.getLogger("bot.runtime")

WATCH_DEBOUNCE_MS = 1500
"""Changes to `seeds/` within this many milliseconds are reloaded once."""


class StartupError(Exception):
    """The seeds or reminder rules do not verify at start-up: the lines say what and where."""

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__(title)
        self.lines = lines


@dataclass
class Runtime:
    """The running bot's parts, and the operations that change them while it runs."""

    settings: Settings
    knowledge: KnowledgeHolder
    db: Database
    services: SlackServices
    schedule: ReminderSchedule
    metrics: Metrics
    gaps: GapStore
    delivery: ReminderDelivery | None = None
    scheduler: ReminderScheduler | None = None
    degraded: tuple[str, ...] = ()
    _reload_lock: threading.Lock = field(default_factory=threading.Lock)
    _stop_watching: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Load and verify everything; raises `FactBaseError` or `StartupError` if it can't."""
        metrics = Metrics()
        started = time.perf_counter()
        knowledge = KnowledgeHolder.load(settings.seeds_dir)
        schedule = _schedule_or_raise(settings, knowledge.current)
        _observe_load(metrics, knowledge.current, time.perf_counter() - started)
        _settle_memory()
        renderer = Renderer(settings.templates_dir)
        if template_problems := renderer.check():
            raise StartupError(
                "the templates have errors (run `briefbot check`):", template_problems
            )
        db = Database(settings.database_url)
        gaps = GapStore(db.engine)
        handler = CommandHandler(
            knowledge,
            stale_days=settings.stale_days,
            today=settings.today,
            upcoming=schedule.upcoming,
            access=AccessPolicy(
                settings.allowed_channels, settings.allow_dms, settings.admin_users
            ),
            gaps=gaps,
        )
        services = SlackServices(settings, handler, MessageBuilder(renderer), db, metrics)
        runtime = cls(settings, knowledge, db, services, schedule, metrics, gaps)
        handler.reload = runtime.reload
        runtime.delivery = _delivery(runtime, renderer)
        if runtime.delivery is not None:
            runtime.scheduler = ReminderScheduler(runtime.delivery.run_due, settings.timezone)
        return runtime

    def start_background(self) -> None:
        """Start the reminder scheduler and the `seeds/` watcher (when enabled)."""
        if self.delivery is not None:
            self.delivery.check_channels()  # logs a channel the bot is not a member of
        if self.scheduler is not None:
            self.scheduler.start()
        if self.settings.watch_seeds:
            threading.Thread(target=self._watch, name="seeds-watcher", daemon=True).start()

    def reload(self) -> ReloadOutcome:
        """Re-read `seeds/`; swap it in only if the facts and the reminder rules verify."""
        with self._reload_lock:
            started = time.perf_counter()
            report = load_factbase(self.settings.seeds_dir)
            problems = iter_problem_lines(report.errors)
            schedule = None
            if report.factbase is not None:
                schedule, rule_problems = load_schedule(self.settings, report.factbase)
                problems += iter_problem_lines(p for p in rule_problems if p.severity == "error")
            current = self.knowledge.current.factbase.version
            if report.factbase is None or schedule is None or problems:
                self.degraded = tuple(problems)
                self.metrics.reloads.labels("refused").inc()
                log.error(
                    "reload refused: still serving the last good fact base",
                    extra={"version": current, "errors": len(problems)},
                )
                for line in problems:
                    log.error("fact base error", extra={"problem": line})
                return ReloadOutcome(False, current, tuple(problems))
            knowledge = Knowledge.build(report.factbase)
            self.knowledge.replace(knowledge)
            _settle_memory()
            self.schedule = schedule
            self.services.handler.upcoming = schedule.upcoming
            if self.delivery is not None:
                self.delivery.schedule = schedule
            self.degraded = ()
            _observe_load(self.metrics, knowledge, time.perf_counter() - started)
            self.metrics.reloads.labels("ok").inc()
            log.info(
                "fact base reloaded",
                extra={
                    "version": knowledge.factbase.version,
                    "previous": current,
                    "facts": len(knowledge.factbase.facts),
                },
            )
            return ReloadOutcome(True, knowledge.factbase.version)

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) for `/readyz`: 503 if the database is unreachable; a refused
        reload is "degraded" (still 200: the last good fact base is being served)."""
        fb = self.knowledge.current.factbase
        database_ok = self.db.ping()
        status = "not_ready" if not database_ok else "degraded" if self.degraded else "ready"
        body: dict[str, Any] = {
            "status": status,
            "factbase": {
                "version": fb.version,
                "facts": len(fb.facts),
                "topics": len(fb.topics),
                "documents": len(fb.documents),
                "loaded_at": fb.loaded_at.isoformat(),
            },
            "database": "ok" if database_ok else "unreachable",
            "reminders": "on" if self.scheduler is not None else "off",
        }
        if self.degraded:
            body["problems"] = list(self.degraded[:50])
        return (200 if database_ok else 503), body

    def _watch(self) -> None:
        from watchfiles import watch

        log.info(
            "watching the fact base for changes", extra={"seeds": str(self.settings.seeds_dir)}
        )
        for _changes in watch(
            self.settings.seeds_dir,
            debounce=WATCH_DEBOUNCE_MS,
            stop_event=self._stop_watching,
            raise_interrupt=False,
        ):
            try:
                self.reload()
            except Exception:
                log.exception("reload after a change failed")

    def close(self) -> None:
        """Stop background work and close the database's connections."""
        self._stop_watching.set()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.gaps.close()
        self.db.dispose()


def _schedule_or_raise(settings: Settings, knowledge: Knowledge) -> ReminderSchedule:
    schedule, problems = load_schedule(settings, knowledge.factbase)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise StartupError(
            "the reminder rules have errors (run `briefbot check`):", iter_problem_lines(errors)
        )
    return schedule


def _settle_memory() -> None:
    """Collect once and freeze what survives: a fact base is long-lived, and a later full
    collection over its million objects would pause a request for a fifth of a second."""
    gc.collect()
    gc.freeze()


def _observe_load(metrics: Metrics, knowledge: Knowledge, seconds: float) -> None:
    metrics.facts.set(len(knowledge.factbase.facts))
    metrics.topics.set(len(knowledge.factbase.topics))
    metrics.load_seconds.set(seconds)


def _delivery(runtime: Runtime, renderer: Renderer) -> ReminderDelivery | None:
    """The reminder delivery, or None (logged) when reminders cannot or should not run."""
    settings = runtime.settings
    if not settings.reminders_enabled or not runtime.schedule.rules:
        return None
    unplaced = [r.id for r in runtime.schedule.rules if not r.channel]
    if unplaced and not settings.reminder_channel:
        log.warning(
            "reminders are off: set BRIEFBOT_REMINDER_CHANNEL (rules without a channel: %s)",
            ", ".join(unplaced[:5]),
        )
        return None
    if settings.slack_bot_token is None:
        return None
    metrics = runtime.metrics
    return ReminderDelivery(
        ledger=DeliveryLedger(runtime.db.engine),
        schedule=runtime.schedule,
        factbase=lambda: runtime.knowledge.current.factbase,
        renderer=renderer,
        client=make_client(settings.slack_bot_token.reveal(), settings.slack_api_url),
        pacing_seconds=settings.reminder_pacing_seconds,
        catch_up=dt.timedelta(hours=settings.reminder_catch_up_hours),
        on_outcome=lambda outcome: metrics.reminders.labels(outcome).inc(),
    )
