"""`briefbot serve`: the Bolt app over HTTP (Starlette under uvicorn) or Socket Mode.

Routes: `POST /slack/events` (slash commands, events, interactivity; HTTP mode only),
`GET /healthz` (the process is up), `GET /readyz` (fact base loaded, database reachable; "degraded"
after a refused reload), `GET /metrics` (Prometheus) and `POST /admin/reload` (needs
`Authorization: Bearer $BRIEFBOT_ADMIN_TOKEN`; what `briefbot reload` calls). In Socket Mode the
same probes and metrics are served on the port.

A client's mistake gets a 4xx with a short JSON reason, never a 500. Slack's route checks the
signature headers' shape before reading anything (401), reads the body as a stream and stops at
1 MB (413), verifies the signature once on the raw bytes (401; Bolt's own check is off), and
refuses a body whose shape is not Slack's (400) before Bolt sees it. Registered slash commands
are then answered by `bot.slack.slash.SlashLane` (the same answer as Bolt's listener, without
Bolt's dispatch); everything else goes to Bolt.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import signal
import threading
import time
from collections.abc import Iterator

import uvicorn
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import ConfigError, Settings
from bot.factbase import FactBaseError
from bot.factbase.problems import iter_problem_lines
from bot.logs import configure_logging
from bot.metrics import CONTENT_TYPE_LATEST
from bot.runtime import Runtime, StartupError
from bot.slack.app import BotIdentity, TokenError, build_app, verify_token
from bot.slack.payloads import MalformedRequest, parse_payload
from bot.slack.registry import EVENTS_PATH
from bot.slack.signing import is_valid_signature, looks_signed
from bot.slack.slash import SlashLane

log = logging.getLogger("bot.server")

RELOAD_PATH = "/admin/reload"
MAX_BODY_BYTES = 1_000_000
"""Slack's payloads are far smaller; anything larger is refused with 413, unread."""
_LENGTH_RE = re.compile(r"[0-9]{1,12}")
JSON_UTF8 = "application/json;charset=utf-8"
"""The content type of JSON answers to Slack (Bolt's own)."""

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


def create_http_app(
    runtime: Runtime, *, slack: bool = True, identity: BotIdentity | None = None
) -> Starlette:
    """The ASGI application: Slack's route (unless `slack` is False) plus probes and metrics.

    Slack's route needs the bot's `identity`; without one, the token is verified here.
    """
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/readyz", _readyz(runtime), methods=["GET"]),
        Route("/metrics", _metrics(runtime), methods=["GET"]),
        Route(RELOAD_PATH, _reload(runtime), methods=["POST"]),
    ]
    if slack:
        runtime.settings.require_http()
        bolt = build_app(runtime.services, identity or verify_token(runtime.settings))
        lane = SlashLane(runtime.services)
        events = _slack_events(runtime.settings, bolt, lane)
        routes.insert(0, Route(EVENTS_PATH, events, methods=["POST"]))  # matched first: busiest
    return Starlette(routes=routes)


class _TooLarge(Exception):
    """The body went past `MAX_BODY_BYTES`."""


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, read as a stream and abandoned as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


def _slack_events(settings: Settings, bolt: AsyncApp, lane: SlashLane):  # type: ignore[no-untyped-def]
    assert settings.slack_signing_secret is not None
    secret = settings.slack_signing_secret.reveal()

    async def slack_events(request: Request) -> Response:
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not looks_signed(timestamp, signature):
            return _refuse(401, "missing or malformed Slack signature headers")
        length = request.headers.get("content-length")
        if length is not None and not _LENGTH_RE.fullmatch(length):
            return _refuse(400, "malformed Content-Length")
        if length is not None and int(length) > MAX_BODY_BYTES:
            return _refuse(413, "request body too large")
        try:
            body = await _read_body(request, MAX_BODY_BYTES)
        except _TooLarge:
            return _refuse(413, "request body too large")
        except ClientDisconnect:
            log.info("client disconnected before sending the whole body")
            return Response(status_code=400)
        if not is_valid_signature(secret, body, timestamp, signature):
            return _refuse(401, "invalid or expired signature")
        try:
            payload = parse_payload(body, request.headers.get("content-type"))
            bolt_request = None if lane.takes(payload) else to_async_bolt_request(request, body)
        except (MalformedRequest, ValueError, KeyError, TypeError, AttributeError) as exc:
            reason = str(exc)[:200]
            log.info("malformed Slack request refused", extra={"status": 400, "reason": reason})
            return _refuse(400, "malformed request body")
        if bolt_request is None:  # a registered slash command: `bot.slack.slash` says why
            return Response(await lane.answer(payload), media_type=JSON_UTF8)
        return to_starlette_response(await bolt.async_dispatch(bolt_request))

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


def uvicorn_config(app: Starlette, *, host: str, port: int) -> uvicorn.Config:
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
