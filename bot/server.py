"""`briefbot serve`: the Bolt app over HTTP (Starlette under uvicorn) or Socket Mode.

Routes: `POST /slack/events` (slash commands, events, interactivity), `GET /healthz` (the process
is up) and `GET /readyz` (fact base loaded, database reachable). A client's mistake gets a 4xx
with a short JSON reason, never a 500: unsigned requests are refused with 401 before any parsing,
and a body Bolt cannot parse gets 400.
"""

from __future__ import annotations

import asyncio
import logging
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


def build_runtime(settings: Settings) -> Runtime:
    """Load the fact base, migrate the database and assemble the services."""
    knowledge = KnowledgeHolder.load(settings.seeds_dir)
    db = Database(settings.database_url)
    handler = CommandHandler(knowledge, stale_days=settings.stale_days)
    services = SlackServices(
        settings, handler, MessageBuilder(Renderer(settings.templates_dir)), db
    )
    return Runtime(settings, knowledge, db, services)


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
    import uvicorn

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
    if socket_mode:
        return asyncio.run(_socket_mode(runtime))
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
    runtime.db.dispose()
    return 0


async def _socket_mode(runtime: Runtime) -> int:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    settings = runtime.settings
    assert settings.slack_app_token is not None
    bolt = build_app(runtime.services, verify_requests=False)
    handler = AsyncSocketModeHandler(bolt, settings.slack_app_token.reveal())
    log.info("connecting by Socket Mode")
    await handler.start_async()  # type: ignore[no-untyped-call]
    return 0
