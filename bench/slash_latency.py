"""Slash-command latency of `briefbot serve` against a bare Bolt app on the same stack.

Starts a fake Slack Web API, `briefbot serve`, and `bench/bare_app.py` (whose `/brief` only
acknowledges), then sends N signed `/brief` requests with mixed queries to each, at several
concurrencies, from this process (the servers are separate processes). Prints p50/p95/p99
latency, requests per second, errors, and the bot's p50 ratio to the bare app.

    python bench/slash_latency.py [--requests 2000] [--concurrency 1 16 64]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakeslack import FakeSlack  # noqa: E402
from tests.slackreq import BOT_TOKEN, SIGNING_SECRET, free_port, sign  # noqa: E402

QUERIES = [
    "nato",
    "rok",
    "pacific security",
    "natoo",
    "sth korea",
    "what's the latest on the ITPP?",
    "ukraine",
    "help",
    "topics",
    "zzqx weather",
    "pacific security fund",
    "full rok",
    "ip4",
    "<!channel> dprk",
]


def start(command: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{command} did not start; see {log}")


async def run_load(
    url: str, total: int, concurrency: int, response_url: str
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    queries = itertools.cycle(QUERIES)
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(text: str) -> None:
            nonlocal errors
            body = urlencode(
                {
                    "command": "/brief",
                    "text": text,
                    "user_id": "U0BENCH",
                    "channel_id": "C0BENCH",
                    "team_id": "T1",
                    "response_url": response_url,
                    "trigger_id": "1.2",
                }
            ).encode()
            ts = int(time.time())
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": str(ts),
                "X-Slack-Signature": sign(body, ts),
            }
            async with semaphore:
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        # warm-up (auth.test, caches) outside the measurement
        await asyncio.gather(*(one(q) for q in QUERIES))
        latencies.clear()
        errors = 0
        started = time.perf_counter()
        await asyncio.gather(*(one(next(queries)) for _ in range(total)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="briefbot-bench-"))
    with FakeSlack() as slack:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.base_url,
            "BRIEFBOT_DATABASE_URL": f"sqlite:///{work}/b.db",
            "BRIEFBOT_LOG_LEVEL": "WARNING",
        }
        bot_port, bare_port = free_port(), free_port()
        exe = [
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(bot_port),
        ]
        servers = {
            "briefbot": start(exe, bot_port, env, work / "bot.log"),
            "bare": start(
                [sys.executable, str(ROOT / "bench" / "bare_app.py"), "--port", str(bare_port)],
                bare_port,
                env,
                work / "bare.log",
            ),
        }
        ports = {"briefbot": bot_port, "bare": bare_port}
        try:
            print(
                f"{args.requests} signed /brief requests per row; servers and client share "
                f"{os.cpu_count()} cores\n"
            )
            print(
                f"{'app':9} {'conc':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
                f"{'req/s':>8} {'errors':>6} {'p50 ratio':>9}"
            )
            for concurrency in args.concurrency:
                p50: dict[str, float] = {}
                for name in ("bare", "briefbot"):
                    url = f"http://127.0.0.1:{ports[name]}/slack/events"
                    latencies, errors, elapsed = asyncio.run(
                        run_load(url, args.requests, concurrency, slack.response_url())
                    )
                    p50[name] = statistics.median(latencies) * 1000
                    ratio = f"{p50[name] / p50['bare']:.2f}" if name == "briefbot" else "1.00"
                    print(
                        f"{name:9} {concurrency:>4} {p50[name]:>8.2f} "
                        f"{percentile(latencies, 0.95):>8.2f} {percentile(latencies, 0.99):>8.2f} "
                        f"{len(latencies) / elapsed:>8.0f} {errors:>6} {ratio:>9}"
                    )
        finally:
            for process in servers.values():
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
