"""`briefbot serve`: the Bolt app over HTTP (Starlette under uvicorn) or Socket Mode.

Routes: `POST /slack/events` (slash commands, events, interactivity; HTTP mode only),
`GET /healthz` (the process is up), `GET /readyz` (fact base loaded, database reachable; "degraded"
after a refused reload), `GET /metrics` (Prometheus) and `POST /admin/reload` (loopback only; what
`briefbot reload` calls). In Socket Mode the same probes and metrics are served on the port.

A client's mistake gets a 4xx with a short JSON reason, never a 500: unsigned requests are
refused with 401 before any parsing, and a body Bolt cannot parse gets 400.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import threading
import time

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import ConfigError, Settings
from bot.factbase import FactBaseError
from bot.factbase.loader import iter_problem_lines
from bot.logs import configure_logging
from bot.metrics import CONTENT_TYPE_LATEST
from bot.runtime import Runtime, StartupError
from bot.slack.app import build_app
from bot.slack.registry import EVENTS_PATH
from bot.slack.signing import is_valid_signature

log = logging.getLogger("bot.server")

RELOAD_PATH = "/admin/reload"
MAX_BODY_BYTES = 1_000_000
"""Slack's payloads are far smaller; anything larger is refused with 413 unread."""


def create_http_app(runtime: Runtime, *, slack: bool = True) -> Starlette:
    """The ASGI application: Slack's route (unless `slack` is False) plus probes and metrics."""
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/readyz", _readyz(runtime), methods=["GET"]),
        Route("/metrics", _metrics(runtime), methods=["GET"]),
        Route(RELOAD_PATH, _reload(runtime), methods=["POST"]),
    ]
    if slack:
        routes.append(Route(EVENTS_PATH, _slack_events(runtime), methods=["POST"]))
    return Starlette(routes=routes)


def _slack_events(runtime: Runtime):  # type: ignore[no-untyped-def]
    settings = runtime.settings
    settings.require_http()
    assert settings.slack_signing_secret is not None
    secret = settings.slack_signing_secret.reveal()
    handler = AsyncSlackRequestHandler(build_app(runtime.services))

    async def slack_events(request: Request) -> Response:
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
            return await handler.handle(request)
        except (ValueError, KeyError, TypeError):
            log.info("malformed Slack request refused", extra={"status": 400})
            return JSONResponse({"error": "malformed request body"}, status_code=400)

    return slack_events


async def _healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _readyz(runtime: Runtime):  # type: ignore[no-untyped-def]
    async def readyz(_request: Request) -> Response:
        status, body = await asyncio.to_thread(runtime.readiness)
        return JSONResponse(body, status_code=status)

    return readyz


def _metrics(runtime: Runtime):  # type: ignore[no-untyped-def]
    async def metrics(_request: Request) -> Response:
        return Response(runtime.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics


def _reload(runtime: Runtime):  # type: ignore[no-untyped-def]
    async def reload(request: Request) -> Response:
        host = request.client.host if request.client else ""
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = False
        if not local:
            return JSONResponse(
                {"error": "reload is only accepted from this machine"}, status_code=403
            )
        outcome = await asyncio.to_thread(runtime.reload)
        return JSONResponse(
            {"ok": outcome.ok, "version": outcome.version, "problems": list(outcome.problems)},
            status_code=200 if outcome.ok else 422,
        )

    return reload


def serve(settings: Settings, *, host: str, port: int | None, socket_mode: bool) -> int:
    """Run the bot until interrupted; returns the process exit code."""
    configure_logging(settings.log_level)
    try:
        if socket_mode:
            settings.require_socket_mode()
        else:
            settings.require_http()
        runtime = Runtime.build(settings)
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
    runtime.start_background()
    signal.signal(
        signal.SIGHUP,
        lambda _signum, _frame: threading.Thread(
            target=runtime.reload, name="sighup-reload", daemon=True
        ).start(),
    )
    bind_port = port or settings.port
    log.info(
        "serving",
        extra={
            "mode": "socket" if socket_mode else "http",
            "host": host,
            "port": bind_port,
            "factbase": runtime.knowledge.current.factbase.version,
            "database": settings.database_url_masked,
            "reminders": "on" if runtime.scheduler else "off",
        },
    )
    app = create_http_app(runtime, slack=not socket_mode)
    config = uvicorn.Config(
        app,
        host=host,
        port=bind_port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    try:
        if socket_mode:
            return asyncio.run(_socket_mode(runtime, server))
        server.run()
        return 0
    finally:
        runtime.close()


async def _socket_mode(runtime: Runtime, server: uvicorn.Server) -> int:
    """Socket Mode for Slack, with the probes and metrics served over HTTP beside it."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    settings = runtime.settings
    assert settings.slack_app_token is not None
    bolt = build_app(runtime.services, verify_requests=False)
    handler = AsyncSocketModeHandler(bolt, settings.slack_app_token.reveal())
    probes = asyncio.ensure_future(server.serve())  # handles SIGINT/SIGTERM itself
    started = time.perf_counter()
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info(
        "connected by Socket Mode",
        extra={"latency_ms": round((time.perf_counter() - started) * 1000, 2)},
    )
    await probes
    log.info("disconnecting from Socket Mode")
    await handler.close_async()  # type: ignore[no-untyped-call]
    return 0
