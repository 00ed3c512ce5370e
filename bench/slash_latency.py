"""`/brief` and `app_mention` over HTTP: `briefbot serve` against its floor and bare Bolt.

Starts a fake Slack Web API (in this process), `bench/floor_app.py` (a plain Starlette endpoint
that checks the signature and returns a canned 10 KB Block Kit answer: the floor),
`bench/bare_app.py` (a Bolt `AsyncApp` with Bolt's defaults whose `/brief` only acknowledges)
and `briefbot serve` on SQLite and, given a URL, on PostgreSQL (a fresh schema). Then, round
after round (ABAB: every app once per round, in the same order), it sends signed `/brief`
requests with mixed queries at each concurrency, and `app_mention` events one at a time,
timing each from its send to the fake Slack receiving the reply's `chat.postMessage`.
Prints, per app, the median over rounds of each round's p50, p99 and requests per second, with
the spread (min-max), errors summed, and the ratios the goals are stated in.

    python bench/slash_latency.py [--requests 1000] [--concurrency 1 16 64] [--rounds 3]
        [--mentions 100] [--postgres URL]   # URL defaults to $BRIEFBOT_TEST_POSTGRES_URL
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reminders import postgres_schema  # noqa: E402
from tests.fakeslack import FakeSlack  # noqa: E402
from tests.slackreq import BOT_TOKEN, SIGNING_SECRET, event_body, free_port, sign  # noqa: E402

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


def signed(body: bytes, content_type: str) -> dict[str, str]:
    ts = int(time.time())
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(body, ts),
    }


async def slash_load(
    url: str, total: int, concurrency: int, response_url: str
) -> tuple[list[float], int, float]:
    """`total` signed `/brief` requests, `concurrency` at a time: latencies, errors, seconds."""
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
            headers = signed(body, "application/x-www-form-urlencoded")
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


async def mention_load(url: str, total: int, slack: FakeSlack) -> tuple[list[float], int]:
    """`total` app_mention events one at a time, each timed from its send to the fake Slack
    receiving its reply (`chat.postMessage`); latencies and errors (non-200, no reply)."""
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession() as session:
        for n in range(total + 3):  # the first three warm up
            ts = f"{int(time.time())}.{n:06d}"
            event = {
                "type": "app_mention",
                "user": "U0BENCH",
                "text": f"<@UBOT> {QUERIES[n % 3]}",
                "ts": ts,
                "channel": "C0BENCH",
                "event_ts": ts,
            }
            body = event_body(event, event_id=f"Ev{uuid.uuid4().hex}")
            expected = len(slack.posts()) + 1
            sent = time.time()
            async with session.post(url, data=body, headers=signed(body, "application/json")) as r:
                await r.read()
                ok = r.status == 200
            try:
                posts = await asyncio.to_thread(slack.wait_for, "chat.postMessage", expected, 10)
            except TimeoutError:
                ok = False
            if n < 3:
                continue
            if not ok:
                errors += 1
                continue
            latencies.append(posts[expected - 1].time - sent)
    return latencies, errors


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """`median (min-max)` of per-round figures."""
    return (
        f"{fmt.format(statistics.median(values))} "
        f"({fmt.format(min(values))}–{fmt.format(max(values))})"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux `/proc/PID/stat`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def servers(
    slack: FakeSlack, postgres: str | None, work: Path
) -> Iterator[dict[str, tuple[int, int]]]:
    """Start every app; yield their ports and process ids by name."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "BRIEFBOT_LOG_LEVEL": "WARNING",
    }
    with contextlib.ExitStack() as stack:
        databases = {"bot-sqlite": f"sqlite:///{work}/b.db"}
        if postgres:
            databases["bot-postgres"] = stack.enter_context(postgres_schema(postgres))
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "floor": ([str(ROOT / "bench" / "floor_app.py")], env),
            "bare": ([str(ROOT / "bench" / "bare_app.py")], env),
        }
        for name, url in databases.items():
            bot = ["-m", "bot", "serve", "--host", "127.0.0.1"]
            commands[name] = (bot, {**env, "BRIEFBOT_DATABASE_URL": url})
        ports: dict[str, tuple[int, int]] = {}
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for name, (command, environment) in commands.items():
                port = free_port()
                process = start(
                    [sys.executable, *command, "--port", str(port)],
                    port,
                    environment,
                    work / f"{name}.log",
                )
                processes.append(process)
                ports[name] = (port, process.pid)
            yield ports
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mentions", type=int, default=100)
    parser.add_argument("--postgres", default=os.environ.get("BRIEFBOT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="briefbot-bench-"))
    results: dict[tuple[str, int], list[tuple[float, float, float, int, float]]] = {}
    mentions: dict[str, list[tuple[float, int]]] = {}
    with FakeSlack() as slack, servers(slack, args.postgres, work) as ports:
        print(f"{os.cpu_count()} cores shared by the client, the fake Slack and every server")
        for round_ in range(1, args.rounds + 1):
            for concurrency in args.concurrency:
                for name, (port, pid) in ports.items():
                    url = f"http://127.0.0.1:{port}/slack/events"
                    cpu = cpu_seconds(pid)
                    latencies, errors, elapsed = asyncio.run(
                        slash_load(url, args.requests, concurrency, slack.response_url())
                    )
                    cpu = cpu_seconds(pid) - cpu  # the warm-up's few requests included
                    row = (
                        statistics.median(latencies) * 1000,
                        percentile(latencies, 0.99),
                        len(latencies) / elapsed,
                        errors,
                        cpu * 1000 / (len(latencies) + len(QUERIES)),
                    )
                    results.setdefault((name, concurrency), []).append(row)
                    print(f"round {round_} /brief c={concurrency} {name}: {_row(row)}", flush=True)
            for name, (port, _pid) in ports.items():
                if name == "floor" or args.mentions <= 0:
                    continue
                url = f"http://127.0.0.1:{port}/slack/events"
                latencies, errors = asyncio.run(mention_load(url, args.mentions, slack))
                p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
                mentions.setdefault(name, []).append((p50, errors))
                print(f"round {round_} app_mention {name}: p50 {p50:.2f} ms, {errors} errors")
    report(results, mentions, args)


def _row(row: tuple[float, float, float, int, float]) -> str:
    return (
        f"p50 {row[0]:.2f} ms, p99 {row[1]:.2f} ms, {row[2]:,.0f} req/s, {row[3]} errors, "
        f"server CPU {row[4]:.3f} ms/request"
    )


def report(
    results: dict[tuple[str, int], list[tuple[float, float, float, int, float]]],
    mentions: dict[str, list[tuple[float, int]]],
    args: argparse.Namespace,
) -> None:
    """The markdown tables for bench/README.md."""

    def median(name: str, concurrency: int, field: int) -> float:
        return statistics.median(r[field] for r in results[(name, concurrency)])

    order = ["floor", "bare", "bot-sqlite", "bot-postgres"]
    names = sorted({n for n, _ in results}, key=order.index)
    print(f"\n{args.requests} /brief requests per app, concurrency and round; {args.rounds} rounds")
    print(
        "\n| app | conc | p50 ms | p99 ms | req/s | errors | server CPU ms/req "
        "| p50 / floor | req/s / bare | p99 / bare |"
    )
    print("|---|---:|---|---|---|---:|---|---:|---:|---:|")
    for concurrency in args.concurrency:
        for name in names:
            rows = results[(name, concurrency)]
            p50s, p99s, rates, cpus = ([r[i] for r in rows] for i in (0, 1, 2, 4))
            print(
                f"| {name} | {concurrency} | {spread(p50s)} | {spread(p99s)} "
                f"| {spread(rates, '{:,.0f}')} | {sum(r[3] for r in rows)} "
                f"| {spread(cpus, '{:.3f}')} "
                f"| {median(name, concurrency, 0) / median('floor', concurrency, 0):.2f} "
                f"| {median(name, concurrency, 2) / median('bare', concurrency, 2):.2f} "
                f"| {median(name, concurrency, 1) / median('bare', concurrency, 1):.2f} |"
            )
    print("\np50 / floor within each round (over the same round's floor run), median (min–max):")
    for concurrency in args.concurrency:
        floor = [r[0] for r in results[("floor", concurrency)]]
        for name in names:
            if name in ("floor", "bare"):
                continue
            paired = [r[0] / f for r, f in zip(results[(name, concurrency)], floor, strict=True)]
            print(
                f"- {name}, c={concurrency}: {statistics.median(paired):.2f} "
                f"({min(paired):.2f}–{max(paired):.2f})"
            )
    if mentions:
        print("\n| app | app_mention -> chat.postMessage p50 ms, c=1 | errors | / bot-sqlite |")
        print("|---|---|---:|---:|")
        sqlite = statistics.median(r[0] for r in mentions.get("bot-sqlite", [(float("nan"), 0)]))
        for name, rows in mentions.items():
            p50 = statistics.median(r[0] for r in rows)
            print(
                f"| {name} | {spread([r[0] for r in rows])} | {sum(r[1] for r in rows)} "
                f"| {p50 / sqlite:.2f} |"
            )
    print(json.dumps({"results": {f"{n}@{c}": v for (n, c), v in results.items()}}))


if __name__ == "__main__":
    main()
