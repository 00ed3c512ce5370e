"""`briefbot serve`: the Bolt app over HTTP (uvicorn) or Socket Mode.

Routes: `POST /slack/events` (slash commands, events, interactivity; HTTP mode only),
`GET /healthz` (the process is up), `GET /readyz` (fact base loaded, database reachable; "degraded"
after a refused reload), `GET /metrics` (Prometheus) and `POST /admin/reload` (needs
`Authorization: Bearer $BRIEFBOT_ADMIN_TOKEN`; what `briefbot reload` calls). In Socket Mode the
same probes and metrics are served on the port.

A client's mistake gets a 4xx with a short JSON reason, never a 500. Slack's route is
`bot.slack.route.SlackRoute`, a plain ASGI application matched before Starlette's router (it is
the busiest path); its docstring lists what it checks. The probes, metrics and reload are
Starlette routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.config import ConfigError, Settings
from bot.factbase import FactBaseError
from bot.factbase.problems import iter_problem_lines
from bot.logs import configure_logging
from bot.metrics import CONTENT_TYPE_LATEST
from bot.runtime import Runtime, StartupError
from bot.slack.app import BotIdentity, TokenError, build_app, verify_token
from bot.slack.registry import EVENTS_PATH
from bot.slack.route import SlackRoute
from bot.slack.slash import SlashLane

log = logging.getLogger("bot.server")

RELOAD_PATH = "/admin/reload"
KEEP_ALIVE_SECONDS = 5
"""An idle connection is closed after this long (Slack opens a new one per request anyway)."""
MAX_CONCURRENT_CONNECTIONS = 500
"""Beyond this many connections and tasks uvicorn answers 503, keeping file descriptors free."""
MAX_INCOMPLETE_EVENT_BYTES = 16 * 1024
"""Request line and headers larger than this are refused."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
DRAIN_SECONDS = 10.0
"""Once uvicorn has stopped taking requests (within its own 5 s), how long the replies to events
Slack already had acknowledged may still take before the process exits."""


class HttpApp:
    """The ASGI application `briefbot serve` runs: Slack's route (`bot.slack.route`, none in
    Socket Mode) matched first by its exact path, everything else by Starlette's router."""

    def __init__(self, slack: SlackRoute | None, others: Starlette) -> None:
        self.slack = slack
        self.others = others

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand one connection's request to the route that serves it (the ASGI interface)."""
        if self.slack is not None and scope["type"] == "http" and scope["path"] == EVENTS_PATH:
            await self.slack(scope, receive, send)
        else:
            await self.others(scope, receive, send)


def create_http_app(
    runtime: Runtime, *, slack: bool = True, identity: BotIdentity | None = None
) -> HttpApp:
    """The ASGI application: Slack's route (unless `slack` is False) plus probes and metrics.

    Slack's route needs the bot's `identity`; without one, the token is verified here.
    """
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/readyz", _readyz(runtime), methods=["GET"]),
        Route("/metrics", _metrics(runtime), methods=["GET"]),
        Route(RELOAD_PATH, _reload(runtime), methods=["POST"]),
    ]
    route = None
    if slack:
        settings = runtime.settings
        settings.require_http()
        assert settings.slack_signing_secret is not None
        bolt = build_app(runtime.services, identity or verify_token(settings))
        lane = SlashLane(runtime.services)
        route = SlackRoute(settings.slack_signing_secret.reveal(), bolt, lane)
    return HttpApp(route, Starlette(routes=routes))


def _refuse(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


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
    token = runtime.settings.admin_token

    async def reload(request: Request) -> Response:
        if token is None:
            return _refuse(403, "admin endpoints are disabled: set BRIEFBOT_ADMIN_TOKEN")
        if not is_admin_token(request.headers.get("authorization", ""), token.reveal()):
            return _refuse(401, "expected Authorization: Bearer $BRIEFBOT_ADMIN_TOKEN")
        outcome = await asyncio.to_thread(runtime.reload)
        return JSONResponse(
            {"ok": outcome.ok, "version": outcome.version, "problems": list(outcome.problems)},
            status_code=200 if outcome.ok else 422,
        )

    return reload


def is_admin_token(authorization: str, token: str) -> bool:
    """Whether an `Authorization` header carries `Bearer <token>` (compared in constant time).

    The peer address proves nothing: behind a reverse proxy every request comes from 127.0.0.1.
    """
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "replace"), token.encode()
    )


def uvicorn_config(app: HttpApp, *, host: str, port: int) -> uvicorn.Config:
    """uvicorn's settings: bounded idle connections, header size and concurrency."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=MAX_CONCURRENT_CONNECTIONS,
        h11_max_incomplete_event_size=MAX_INCOMPLETE_EVENT_BYTES,
    )


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
    try:
        identity = verify_token(settings)
    except TokenError as exc:
        print(f"briefbot: {exc}")
        runtime.close()
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
    app = create_http_app(runtime, slack=not socket_mode, identity=identity)
    server = uvicorn.Server(uvicorn_config(app, host=host, port=bind_port))
    try:
        factory = server.config.get_loop_factory()
        with asyncio.Runner(loop_factory=factory) as loop, _signals_after_uvicorn():
            if socket_mode:
                return loop.run(_socket_mode(runtime, server, identity))
            return loop.run(_http(runtime, server))
    finally:
        runtime.close()


async def _http(runtime: Runtime, server: uvicorn.Server) -> int:
    """Serve HTTP until a signal stops uvicorn, then finish the replies already promised."""
    await server.serve()  # handles SIGINT/SIGTERM itself while it serves
    await _drain(runtime)
    return 0


@contextlib.contextmanager
def _signals_after_uvicorn() -> Iterator[None]:
    """Keep the process alive after uvicorn stops, to finish what was acknowledged.

    uvicorn handles SIGINT and SIGTERM while it serves, then restores the previous handlers and
    raises the signal it caught once more; with Python's defaults that would end the process
    before the drain. So the previous handlers are, for that moment, ones that ignore it.
    """
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def _drain(runtime: Runtime) -> None:
    """Wait for the work after acknowledgements (at most `DRAIN_SECONDS`); a second SIGINT or
    SIGTERM gives up at once."""
    loop = asyncio.get_running_loop()
    pending = runtime.services.work.pending
    if pending:
        log.info("finishing replies already acknowledged", extra={"tasks": pending})
    drain = asyncio.ensure_future(runtime.services.work.drain(DRAIN_SECONDS))
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, drain.cancel)
    try:
        await drain
    except asyncio.CancelledError:
        log.warning("stopped before the acknowledged replies were finished")
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def _socket_mode(runtime: Runtime, server: uvicorn.Server, identity: BotIdentity) -> int:
    """Socket Mode for Slack, with the probes and metrics served over HTTP beside it."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    settings = runtime.settings
    assert settings.slack_app_token is not None
    bolt = build_app(runtime.services, identity)
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
    await _drain(runtime)
    return 0
