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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.access import AccessPolicy
from bot.commands import CommandHandler
from bot.config import Settings
from bot.db import Database
from bot.db.gaps import GapStore
from bot.factbase.problems import iter_problem_lines
from bot.metrics import Metrics
from bot.publish.follow import NOTHING_PUBLISHED, DatabaseFactBase, SnapshotFollower
from bot.publish.store import SnapshotStore
from bot.reminders.delivery import ReminderDelivery, make_client
from bot.reminders.ledger import DeliveryLedger
from bot.reminders.scheduler import ReminderScheduler
from bot.render import Renderer
from bot.slack.home import refresh_home
from bot.slack.messages import MessageBuilder
from bot.slack.services import SlackServices
from bot.state import Knowledge, KnowledgeHolder, LoadResult, load_knowledge
from bot.status_replies import ReloadOutcome

log = logging.getLogger("bot.runtime")

WATCH_DEBOUNCE_MS = 1500
"""Changes to `seeds/` within this many milliseconds are reloaded once."""


class StartupError(Exception):
    """The seeds or reminder rules do not verify at start-up: the lines say what and where."""

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__(title)
        self.lines = lines


class Reloader:
    """Re-reads the fact base (`seeds/`, or the newest published snapshot) and swaps the
    served snapshot, refusing one that does not verify or load.

    Built before the command handler (which offers `reload` to admins) and the runtime, so
    nothing needs a reference set after construction.
    """

    def __init__(
        self,
        settings: Settings,
        knowledge: KnowledgeHolder,
        metrics: Metrics,
        load: Callable[[], LoadResult] | None = None,
    ) -> None:
        self.settings = settings
        self.knowledge = knowledge
        self.metrics = metrics
        self.load = load or (lambda: _load(settings))
        self.degraded: tuple[str, ...] = ()
        self.after_swap: list[Callable[[Knowledge], object]] = []
        """Called with each new snapshot once it is served (the App Home's refresh)."""
        self._lock = threading.Lock()

    def reload(self) -> ReloadOutcome:
        """Re-read the fact base; swap in the new snapshot only if facts and reminder rules
        verify."""
        with self._lock:
            started = time.perf_counter()
            result = self.load()
            current = self.knowledge.current.version
            if result.knowledge is None:
                problems = iter_problem_lines(result.errors)
                self.degraded = tuple(problems)
                self.metrics.reloads.labels("refused").inc()
                log.error(
                    "reload refused: still serving the last good fact base",
                    extra={"version": current, "errors": len(problems)},
                )
                for line in problems:
                    log.error("fact base error", extra={"problem": line})
                return ReloadOutcome(False, current, tuple(problems))
            knowledge = result.knowledge
            self.knowledge.replace(knowledge)  # the one swap: facts, indexes and rules together
            _settle_memory()
            self.degraded = ()
            _observe_load(self.metrics, knowledge, time.perf_counter() - started)
            self.metrics.reloads.labels("ok").inc()
            log.info(
                "fact base reloaded",
                extra={
                    "version": knowledge.version,
                    "previous": current,
                    "facts": len(knowledge.factbase.facts),
                },
            )
        for listener in self.after_swap:  # outside the lock: they may call Slack
            try:
                listener(knowledge)
            except Exception:
                log.exception("after a reload: %s failed", getattr(listener, "__name__", listener))
        return ReloadOutcome(True, knowledge.version)


@dataclass
class Runtime:
    """The running bot's parts, and the operations that change them while it runs."""

    settings: Settings
    knowledge: KnowledgeHolder
    db: Database
    services: SlackServices
    metrics: Metrics
    gaps: GapStore
    reloader: Reloader
    delivery: ReminderDelivery | None = None
    scheduler: ReminderScheduler | None = None
    follower: SnapshotFollower | None = None
    _stop_watching: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Load and verify everything; raises `FactBaseError` or `StartupError` if it can't."""
        metrics = Metrics()
        started = time.perf_counter()
        db: Database | None = None
        load: Callable[[], LoadResult] = lambda: _load(settings)  # noqa: E731
        source: DatabaseFactBase | None = None
        if settings.factbase_source == "database":
            db = Database(settings.database_url)
            source = DatabaseFactBase(
                SnapshotStore(db.engine),
                timezone=settings.timezone,
                default_channel=settings.reminder_channel,
            )
            load = source.load
        result = load()
        if db is not None and result.knowledge is None:
            db.dispose()
            raise _unservable(result)
        if result.knowledge is None:
            rule_errors = [p for p in result.rule_problems if p.severity == "error"]
            if rule_errors and len(rule_errors) == len(result.errors):
                raise StartupError(
                    "the reminder rules have errors (run `briefbot check`):",
                    iter_problem_lines(rule_errors),
                )
            result.require()  # raises FactBaseError with every problem
        knowledge = KnowledgeHolder(result.require())
        _observe_load(metrics, knowledge.current, time.perf_counter() - started)
        _settle_memory()
        renderer = Renderer(settings.templates_dir)
        if template_problems := renderer.check():
            raise StartupError(
                "the templates have errors (run `briefbot check`):", template_problems
            )
        db = db or Database(settings.database_url)
        gaps = GapStore(db.engine)
        reloader = Reloader(settings, knowledge, metrics, load)
        handler = CommandHandler(
            knowledge,
            stale_days=settings.stale_days,
            today=settings.today,
            access=AccessPolicy(
                settings.allowed_channels, settings.allow_dms, settings.admin_users
            ),
            gaps=gaps,
            reload=reloader.reload,
        )
        services = SlackServices(settings, handler, MessageBuilder(renderer), db, metrics)
        runtime = cls(settings, knowledge, db, services, metrics, gaps, reloader)
        reloader.after_swap.append(lambda _knowledge: refresh_home(services))
        runtime.delivery = _delivery(runtime, renderer)
        if runtime.delivery is not None:
            runtime.scheduler = ReminderScheduler(runtime.delivery.run_due, settings.timezone)
        if source is not None:
            runtime.follower = SnapshotFollower(source, reloader.reload)
        return runtime

    @property
    def degraded(self) -> tuple[str, ...]:
        """The errors of the last refused reload (empty while the newest seeds are served)."""
        return self.reloader.degraded

    def reload(self) -> ReloadOutcome:
        """Re-read `seeds/` (see `Reloader.reload`)."""
        return self.reloader.reload()

    def start_background(self) -> None:
        """Start the reminder scheduler and the `seeds/` watcher (when enabled)."""
        if self.delivery is not None:
            self.delivery.check_channels()  # logs a channel the bot is not a member of
        if self.scheduler is not None:
            self.scheduler.start()
        if self.follower is not None:
            self.follower.start()  # follows the database: `seeds/` is not served, not watched
        elif self.settings.watch_seeds:
            threading.Thread(target=self._watch, name="seeds-watcher", daemon=True).start()

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
            "source": self.settings.factbase_source,
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
        if self.follower is not None:
            self.follower.stop()
        if self.delivery is not None:
            self.delivery.stop()  # a running pass records what it posted and returns
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.gaps.close()
        self.db.dispose()


def _load(settings: Settings) -> LoadResult:
    """`seeds/` as one snapshot: the fact base, its indexes and the reminder rules."""
    return load_knowledge(
        settings.seeds_dir,
        timezone=settings.timezone,
        default_channel=settings.reminder_channel,
    )


def _unservable(result: LoadResult) -> StartupError:
    """Why a replica following the database cannot start: nothing published (one line), or
    the newest snapshot does not load here."""
    if any(p.message == NOTHING_PUBLISHED for p in result.errors):
        return StartupError(f"BRIEFBOT_FACTBASE=database: {NOTHING_PUBLISHED}", [])
    return StartupError(
        "the newest published fact base cannot be served here:", iter_problem_lines(result.errors)
    )


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
    rules = runtime.knowledge.current.schedule.rules
    if not settings.reminders_enabled or not rules:
        return None
    unplaced = [r.id for r in rules if not r.channel]
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
        snapshot=lambda: runtime.knowledge.current,
        renderer=renderer,
        client=make_client(settings.slack_bot_token.reveal(), settings.slack_api_url),
        pacing_seconds=settings.reminder_pacing_seconds,
        catch_up=dt.timedelta(hours=settings.reminder_catch_up_hours),
        on_outcome=lambda outcome: metrics.reminders.labels(outcome).inc(),
    )
