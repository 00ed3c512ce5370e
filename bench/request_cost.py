"""What one `/brief` costs the server, per query, in-process: warm, and with the caches cold.

    python bench/request_cost.py [--requests 200] [--rounds 3]

Drives the ASGI application `briefbot serve` runs (`bot.server.create_http_app`, SQLite, a fake
Slack) and `bench/floor_app.py` directly, without sockets, with the queries
`bench/slash_latency.py` sends. Each request is timed alone, twice per query and round: once
straight after the previous one ("warm": the code and data it touches are still in the CPU's
caches), once after copying a buffer larger than those caches ("cold"), as when the client, the
fake Slack and the kernel ran in between, which is what happens over HTTP on two shared cores.
Prints, per query, the median over rounds of each's mean in microseconds, beside the floor's.

What it is for: over HTTP a request costs the server several times what a warm loop says,
and more so for code that touches more; this shows which queries, and how much.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floor_app import build as build_floor  # noqa: E402
from bench.slash_latency import QUERIES  # noqa: E402
from bot.server import create_http_app  # noqa: E402
from tests.asgi import FORM, build_runtime, call, signed_headers  # noqa: E402
from tests.fakeslack import FakeSlack  # noqa: E402
from tests.slackreq import SIGNING_SECRET  # noqa: E402

CACHE_FLUSH_BYTES = 8 * 1024 * 1024
"""Copied between cold requests (into a buffer made once, so no page is mapped or freed): more
than this machine's L1 and L2 caches hold, as the other processes' work would leave them."""


def body(text: str) -> bytes:
    """A slash command's form as Slack sends it, with all its fields."""
    return urlencode(
        {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": "T0001",
            "team_domain": "example",
            "channel_id": "C0BENCH",
            "channel_name": "policy",
            "user_id": "U0BENCH",
            "user_name": "analyst",
            "command": "/brief",
            "text": text,
            "api_app_id": "A0BENCH",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T0001/1234/abcd",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    ).encode()


async def cost(
    app: Any, text: str, requests: int, *, cold: bool, buffers: tuple[bytearray, bytearray]
) -> float:
    """The mean time of one request for `text`, in microseconds."""
    payload = body(text)
    headers = signed_headers(payload, FORM)
    total = 0.0
    for _ in range(requests):
        if cold:
            buffers[1][:] = buffers[0]  # reads and writes far more than the caches hold
        started = time.perf_counter()
        result = await call(app, "/slack/events", headers, [payload])
        total += time.perf_counter() - started
        if result.status != 200:
            raise SystemExit(f"{text!r}: HTTP {result.status} {result.body[:200]!r}")
    return total / requests * 1e6


async def measure(requests: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Per app and query, each round's warm and cold means."""
    buffers = (bytearray(b"x" * CACHE_FLUSH_BYTES), bytearray(CACHE_FLUSH_BYTES))
    figures: dict[str, dict[str, list[float]]] = {}
    with FakeSlack() as slack, tempfile.TemporaryDirectory() as work:
        runtime = build_runtime(slack.base_url, Path(work))
        try:
            apps = {"floor": build_floor(SIGNING_SECRET), "bot": create_http_app(runtime)}
            for text in QUERIES:  # warm-up: caches filled, templates compiled
                await cost(apps["bot"], text, 3, cold=False, buffers=buffers)
            for _ in range(rounds):
                for name, app in apps.items():
                    for text in QUERIES if name == "bot" else ["nato"]:
                        row = figures.setdefault(f"{name} {text}", {"warm": [], "cold": []})
                        for state in ("warm", "cold"):
                            cold = state == "cold"
                            mean = await cost(app, text, requests, cold=cold, buffers=buffers)
                            row[state].append(mean)
        finally:
            runtime.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.requests, args.rounds))
    print(f"{args.requests} requests per query, state and round; {args.rounds} rounds; µs\n")
    print("| app and query | warm | cold |")
    print("|---|---:|---:|")
    for name, row in figures.items():
        warm, cold = statistics.median(row["warm"]), statistics.median(row["cold"])
        print(f"| {name} | {warm:.1f} | {cold:.1f} |")


if __name__ == "__main__":
    main()
