"""Reminder benchmarks: occurrences of 10,000 rules over a year, and a run-due pass that claims
and posts 5,000 due occurrences to the fake Slack (pacing off; the fake Slack in its own
process), on SQLite and PostgreSQL, each beside its floor: the same HTTP client posting the same
messages alone to the same fake Slack ("bare").

    python bench/reminders.py [--rules 10000] [--due 5000] [--rounds 3] [--postgres URL]

Rounds interleave bare and run-due (bare, SQLite, bare, PostgreSQL, ...), so both see the same
load on a shared machine; the table gives each one's median rate, its spread and the ratio of
medians, and the ratio within each round (a pass over the bare client run just before it),
whose median drifts less with a shared machine's load than the ratio of medians. PostgreSQL
defaults to $BRIEFBOT_TEST_POSTGRES_URL; without it only SQLite is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import inspect
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.factbase import load_factbase  # noqa: E402
from bot.reminders.delivery import ReminderDelivery, make_client  # noqa: E402
from bot.reminders.ledger import DeliveryLedger  # noqa: E402
from bot.reminders.messages import occurrence_payload  # noqa: E402
from bot.reminders.occurrences import ReminderSchedule  # noqa: E402
from bot.reminders.rules import load_reminder_rules  # noqa: E402
from bot.render import Renderer  # noqa: E402
from bot.state import Knowledge  # noqa: E402
from tests.seedkit import make_seeds  # noqa: E402

NZ = ZoneInfo("Pacific/Auckland")
DUE = dt.datetime(2026, 9, 10, 9, 0, tzinfo=NZ)


def mixed_rules(count: int) -> str:
    """About half anniversaries, half deadlines with four lead times, and 1% weekly digests."""
    out = []
    for i in range(count):
        kind = 2 if i % 100 == 99 else i % 2
        if kind == 0:
            out.append(
                f"- id: a{i}\n  kind: anniversary\n  fact: f1\n  title: t{i}\n"
                f"  channel: C{i % 50:04d}\n"
            )
        elif kind == 1:
            out.append(
                f"- id: d{i}\n  kind: deadline\n  title: t{i}\n"
                f"  due: 2026-{1 + i % 12:02d}-{1 + i % 28:02d}\n  channel: C{i % 50:04d}\n"
            )
        else:
            out.append(
                f"- id: g{i}\n  kind: digest\n  weekday: {('monday', 'friday')[i % 2]}\n"
                f"  channel: C{i % 50:04d}\n"
            )
    return "".join(out)


def due_rules(count: int) -> str:
    return "".join(
        f"- id: d{i}\n  kind: deadline\n  title: t{i}\n  due: 2026-09-10\n"
        f"  lead_days: [0]\n  channel: C{i % 50:04d}\n"
        for i in range(count)
    )


def load(tmp: Path, rules: str) -> tuple[Any, ReminderSchedule]:
    seeds = make_seeds(tmp)
    (seeds / "reminders.yaml").write_text(rules)
    factbase = load_factbase(seeds).require()
    loaded, problems = load_reminder_rules(seeds / "reminders.yaml", factbase)
    assert not [p for p in problems if p.severity == "error"], problems[:3]
    return factbase, ReminderSchedule(loaded, NZ, "C0TEAM")


def bench_occurrences(count: int) -> None:
    factbase, schedule = load(Path(tempfile.mkdtemp()), mixed_rules(count))
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    times = []
    for _ in range(3):
        began = time.perf_counter()
        found = schedule.occurrences(factbase, start, start + dt.timedelta(days=365))
        times.append(time.perf_counter() - began)
    best = min(times)
    print(
        f"occurrences: {count} rules over a year -> {len(found)} occurrences in "
        f"{best:.3f} s (best of 3; {len(found) / best:,.0f} occurrences/s)"
    )


class TimedClient:
    """Wraps the Web API client to measure time spent waiting on Slack."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.seconds = 0.0

    def chat_postMessage(self, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return self.client.chat_postMessage(**kwargs)
        finally:
            self.seconds += time.perf_counter() - began

    def conversations_history(self, **kwargs: Any) -> Any:
        return self.client.conversations_history(**kwargs)


class TimedLedger(DeliveryLedger):
    """The real ledger, with the time the pass's own thread spends in its public methods
    measured (claims asked for ahead and batches of records run on the ledger's write-behind
    thread, overlapping the posts: that time is not counted, the waits for it are counted as
    neither). The methods are wrapped once, below: intercepting every attribute access instead
    cost the pass a few per cent of its rate, the ledger's own `self._...` look-ups included."""

    seconds = 0.0


def _timed(method: Any) -> Any:
    @functools.wraps(method)
    def timed(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() != MAIN_THREAD:
            return method(*args, **kwargs)  # the write-behind thread's: overlaps posts
        began = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            TimedLedger.seconds += time.perf_counter() - began

    return timed


MAIN_THREAD = threading.get_ident()
UNTIMED = ("for_pass", "session")  # a ledger for the pass; a context manager's making
for _name, _method in vars(DeliveryLedger).items():
    if inspect.isfunction(_method) and not _name.startswith("_") and _name not in UNTIMED:
        setattr(TimedLedger, _name, _timed(_method))


@contextlib.contextmanager
def separate_fake_slack() -> Iterator[str]:
    """The fake Slack in its own process, so it does not share this one's GIL."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_slack_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(10)


def bench_bare(count: int) -> float:
    """Posts per second of the reminders' HTTP client posting the same messages alone."""
    factbase, schedule = load(Path(tempfile.mkdtemp()), due_rules(count))
    renderer = Renderer(ROOT / "templates")
    now = DUE + dt.timedelta(minutes=1)
    due = schedule.occurrences(factbase, now - dt.timedelta(days=1), now)
    payloads = [
        (occ.channel or "C0TEAM", occurrence_payload(renderer, occ, schedule, factbase, late=False))
        for occ in due
    ]
    with separate_fake_slack() as base_url:
        client = make_client("xoxb-bench", base_url)
        began, cpu = time.perf_counter(), time.process_time()
        for channel, payload in payloads:
            client.chat_postMessage(
                channel=channel, unfurl_links=False, unfurl_media=False, **payload
            )
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu
    print(f"  bare client: CPU {cpu * 1000 / len(payloads):.3f} ms per post (this process)")
    return len(payloads) / elapsed


def bench_pass(label: str, url: str, count: int) -> float:
    """Posts per second of one run-due pass posting `count` due reminders (a fresh database)."""
    factbase, schedule = load(Path(tempfile.mkdtemp()), due_rules(count))
    database = Database(url)
    with separate_fake_slack() as base_url:
        client = TimedClient(make_client("xoxb-bench", base_url))
        served = Knowledge.build(factbase, schedule)
        renderer = Renderer(ROOT / "templates")
        assert renderer.check() == []  # as `bot.runtime` starts: every template compiled
        delivery = ReminderDelivery(
            ledger=TimedLedger(database.engine),
            snapshot=lambda: served,
            renderer=renderer,
            client=client,
            pacing_seconds=0,  # type: ignore[arg-type]
        )
        TimedLedger.seconds = 0.0
        began, cpu = time.perf_counter(), time.process_time()
        result = delivery.run_due(DUE + dt.timedelta(minutes=1))
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu
        posts = sum(
            len(client.client.conversations_history(channel=f"C{c:04d}", limit=999)["messages"])
            for c in range(50)
        )
    database.dispose()
    assert result.posted == count == posts, (result, posts)
    ledger = TimedLedger.seconds
    other = elapsed - client.seconds - ledger
    print(
        f"  run-due {label:10}: {count} claimed and posted in {elapsed:.2f} s "
        f"({count / elapsed:,.0f}/s): Slack {client.seconds:.2f} s "
        f"({client.seconds / elapsed:.0%}), ledger {ledger:.2f} s ({ledger / elapsed:.0%}), "
        f"rules, rendering, waits {other:.2f} s ({other / elapsed:.0%}); "
        f"CPU {cpu * 1000 / count:.3f} ms per post (this process, every thread)"
    )
    return count / elapsed


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL at `url`, dropped afterwards; yields a URL using it."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _spread(rates: list[float]) -> str:
    return f"{statistics.median(rates):,.0f}/s ({min(rates):,.0f}–{max(rates):,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("BRIEFBOT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    bench_occurrences(args.rules)
    labels = ["SQLite"] + (["PostgreSQL"] if args.postgres else [])
    rates: dict[str, list[float]] = {label: [] for label in labels}
    bare: dict[str, list[float]] = {label: [] for label in labels}
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}")
        for label in labels:
            bare[label].append(bench_bare(args.due))
            print(f"  bare client {label:6}: {bare[label][-1]:,.0f}/s")
            if label == "SQLite":
                tmp = Path(tempfile.mkdtemp())
                rates[label].append(bench_pass(label, f"sqlite:///{tmp / 'bench.db'}", args.due))
            else:
                with postgres_schema(args.postgres) as url:
                    rates[label].append(bench_pass(label, url, args.due))
    print()
    print("| database | bare client | run-due | ratio of medians | each round's ratio (min–max) |")
    print("|---|---|---|---|---|")
    for label in labels:
        ratio = statistics.median(rates[label]) / statistics.median(bare[label])
        paired = [rate / floor for rate, floor in zip(rates[label], bare[label], strict=True)]
        print(
            f"| {label} | {_spread(bare[label])} | {_spread(rates[label])} | {ratio:.2f} | "
            f"{statistics.median(paired):.2f} ({min(paired):.2f}–{max(paired):.2f}) |"
        )
    if not args.postgres:
        print("PostgreSQL: skipped (set BRIEFBOT_TEST_POSTGRES_URL or --postgres)")


if __name__ == "__main__":
    main()
