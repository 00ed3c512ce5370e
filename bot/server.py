"""`briefbot serve`: the Bolt app over HTTP (Starlette under uvicorn) or Socket Mode.

Routes: `POST /slack/events` (slash commands, events, interactivity), `GET /healthz` (the process
is up) and `GET /readyz` (fact base loaded, database reachable). A client's mistake gets a 4xx
with a short JSON reason, never a 500: unsigned requests are refused with 401 before any parsing,
and a body Bolt cannot parse gets 400.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.commands import CommandHandler
from bot.config import ConfigError, Settings
from bot.db import Database
from bot.factbase import FactBaseError
from bot.factbase.loader import iter_problem_lines
from bot.reminders.cli import load_schedule
from bot.reminders.delivery import ReminderDelivery, make_client
from bot.reminders.ledger import DeliveryLedger
from bot.reminders.occurrences import ReminderSchedule
from bot.reminders.scheduler import ReminderScheduler
from bot.render import Renderer
from bot.slack.app import build_app
from bot.slack.messages import MessageBuilder
from bot.slack.registry import EVENTS_PATH
from bot.slack.services import SlackServices
from bot.slack.signing import is_valid_signature
from bot.state import KnowledgeHolder

log = logging.getLogger("bot.server")

MAX_BODY_BYTES = 1_000_000
"""Slack's payloads are far smaller; anything larger is refused with 413 unread."""


@dataclass
class Runtime:
    """Everything `serve` builds once at start-up."""

    settings: Settings
    knowledge: KnowledgeHolder
    db: Database
    services: SlackServices
    schedule: ReminderSchedule
    scheduler: ReminderScheduler | None = None

    def close(self) -> None:
        """Stop the reminder scheduler and close the database's connections."""
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.db.dispose()


class StartupError(Exception):
    """The seeds or reminder rules do not verify: the lines say what and where."""

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__(title)
        self.lines = lines


def build_runtime(settings: Settings) -> Runtime:
    """Load the fact base and reminder rules, migrate the database, assemble the services."""
    knowledge = KnowledgeHolder.load(settings.seeds_dir)
    schedule, problems = load_schedule(settings, knowledge.current.factbase)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise StartupError(
            "the reminder rules have errors (run `briefbot check`):", iter_problem_lines(errors)
        )
    db = Database(settings.database_url)
    renderer = Renderer(settings.templates_dir)
    handler = CommandHandler(knowledge, stale_days=settings.stale_days, upcoming=schedule.upcoming)
    services = SlackServices(settings, handler, MessageBuilder(renderer), db)
    runtime = Runtime(settings, knowledge, db, services, schedule)
    runtime.scheduler = _reminder_scheduler(runtime, renderer)
    return runtime


def _reminder_scheduler(runtime: Runtime, renderer: Renderer) -> ReminderScheduler | None:
    """The in-process reminder scheduler, or None (logged) when reminders cannot run."""
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
    assert settings.slack_bot_token is not None
    delivery = ReminderDelivery(
        ledger=DeliveryLedger(runtime.db.engine),
        schedule=runtime.schedule,
        factbase=lambda: runtime.knowledge.current.factbase,
        renderer=renderer,
        client=make_client(settings.slack_bot_token.reveal(), settings.slack_api_url),
        pacing_seconds=settings.reminder_pacing_seconds,
        catch_up=dt.timedelta(hours=settings.reminder_catch_up_hours),
    )
    return ReminderScheduler(delivery.run_due, settings.timezone)


def create_http_app(runtime: Runtime) -> Starlette:
    """The ASGI application serving Slack's requests and the health probes."""
    settings = runtime.settings
    settings.require_http()
    assert settings.slack_signing_secret is not None
    bolt = build_app(runtime.services)
    slack_handler = AsyncSlackRequestHandler(bolt)
    secret = settings.slack_signing_secret.reveal()

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        signature = request.headers.get("x-slack-signature")
        timestamp = request.headers.get("x-slack-request-timestamp")
        if not signature or not timestamp:
            return JSONResponse({"error": "missing Slack signature headers"}, status_code=401)
        length = request.headers.get("content-length", "0")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"error": "request body too large"}, status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "request body too large"}, status_code=413)
        if not is_valid_signature(secret, body, timestamp, signature):
            return JSONResponse({"error": "invalid or expired signature"}, status_code=401)
        try:
            body.decode("utf-8")
            response = await slack_handler.handle(request)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            log.info("malformed Slack request refused", extra={"status": 400})
            return JSONResponse({"error": "malformed request body"}, status_code=400)
        log.debug(
            "slack request",
            extra={
                "status": response.status_code,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        return readiness(runtime)

    return Starlette(
        routes=[
            Route(EVENTS_PATH, slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ]
    )


def readiness(runtime: Runtime) -> JSONResponse:
    """Ready when the fact base is loaded and the database answers."""
    knowledge = runtime.knowledge.current
    database_ok = runtime.db.ping()
    body: dict[str, Any] = {
        "status": "ready" if database_ok else "not_ready",
        "factbase": {
            "version": knowledge.factbase.version,
            "facts": len(knowledge.factbase.facts),
            "topics": len(knowledge.factbase.topics),
        },
        "database": "ok" if database_ok else "unreachable",
    }
    return JSONResponse(body, status_code=200 if database_ok else 503)


def serve(settings: Settings, *, host: str, port: int | None, socket_mode: bool) -> int:
    """Run the bot until interrupted; returns the process exit code."""

    from bot.logs import configure_logging

    configure_logging(settings.log_level)
    try:
        if socket_mode:
            settings.require_socket_mode()
        else:
            settings.require_http()
        runtime = build_runtime(settings)
    except ConfigError as exc:
        print(f"briefbot: configuration error: {exc}")
        return 2
    except FactBaseError as exc:
        print("briefbot: the fact base has errors (run `briefbot check`):")
        for line in iter_problem_lines(exc.problems):
            print(f"  {line}")
        return 2
    except StartupError as exc:
        print(f"briefbot: {exc}")
        for line in exc.lines:
            print(f"  {line}")
        return 2
    if runtime.scheduler is not None:
        runtime.scheduler.start()
    try:
        if socket_mode:
            return asyncio.run(_socket_mode(runtime))
        return _serve_http(runtime, host, port)
    finally:
        runtime.close()


def _serve_http(runtime: Runtime, host: str, port: int | None) -> int:
    import uvicorn

    settings = runtime.settings
    app = create_http_app(runtime)
    bind_port = port or settings.port
    log.info(
        "serving Slack over HTTP",
        extra={
            "host": host,
            "port": bind_port,
            "factbase": runtime.knowledge.current.factbase.version,
            "database": settings.database_url_masked,
        },
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=bind_port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()
    return 0


async def _socket_mode(runtime: Runtime) -> int:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    settings = runtime.settings
    assert settings.slack_app_token is not None
    bolt = build_app(runtime.services, verify_requests=False)
    handler = AsyncSocketModeHandler(bolt, settings.slack_app_token.reveal())
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    log.info("connecting by Socket Mode")
    await handler.connect_async()  # type: ignore[no-untyped-call]
    await stopping.wait()
    log.info("disconnecting from Socket Mode")
    await handler.close_async()  # type: ignore[no-untyped-call]
    return 0
