"""Benchmark of building the topic resolver: time and peak memory at 5k, 50k and 200k facts.

    python bench/resolver_build.py                        # 5,000, 50,000 and 200,000 facts
    python bench/resolver_build.py --facts 5000 20000     # a quicker run
    python bench/resolver_build.py --rounds 3             # repeat each size (median, spread)

The fact base is built in memory (no YAML, no verification: `bench/factbase.py` measures those)
with the same statistics as `bench/factbase.py`'s generator: statements and quotes of 6-20 words
from a 4,000-word vocabulary, a third of the facts on two topics, a tenth with a second citation,
500 topics. Each size is built in a fresh child process, so one build's garbage and allocator
state cannot flatter or burden the next; the child reports:

- the build's wall time (the cyclic garbage collector on, as in the server);
- the build's own peak allocations (tracemalloc, in a second build: tracing slows it down);
- the process's peak resident memory (max RSS) before and after the build.

Time per 1,000 facts shows whether the build is linear: it should stay flat as facts grow.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bench.factbase import SEED, _vocabulary  # noqa: E402
from bot.factbase.model import Citation, Fact, FactBase, Topic  # noqa: E402
from bot.resolve import TopicResolver  # noqa: E402


def synthetic_factbase(facts: int, topics: int, seed: int) -> FactBase:
    """A fact base in memory with `facts` facts on `topics` topics (no documents)."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng, 4000)
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < topics:
        a, b = rng.sample(vocab, 2)
        pairs.add((a, b))
    topic_map = {
        f"{a}-{b}": Topic(
            id=f"{a}-{b}",
            title=f"{a.title()} and {b.title()}",
            aliases=(f"{a} {b} partnership", f"{b} {a}"),
            summary=(),
        )
        for a, b in sorted(pairs)
    }
    topic_ids = list(topic_map)
    fact_map: dict[str, Fact] = {}
    for f in range(facts):
        quote_words = [rng.choice(vocab) for _ in range(rng.randint(6, 20))]
        statement_words = [w for w in quote_words if rng.random() < 0.9] or quote_words
        fact_topics = [topic_ids[f % topics]]
        if rng.random() < 0.3:
            other = rng.choice(topic_ids)
            if other not in fact_topics:
                fact_topics.append(other)
        citations = [Citation(f"doc-{rng.randrange(2000):04d}", " ".join(quote_words))]
        if rng.random() < 0.1:
            citations.append(Citation("doc-0000", " ".join(rng.sample(vocab, 5))))
        fid = f"f{f:06d}"
        fact_map[fid] = Fact(
            id=fid,
            topics=tuple(fact_topics),
            statement="Reportedly " + " ".join(statement_words) + ".",
            date=None,
            citations=tuple(citations),
        )
    return FactBase(
        documents={},
        topics=topic_map,
        facts=fact_map,
        version="bench",
        loaded_at=dt.datetime(2026, 11, 23, tzinfo=dt.UTC),
    )


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(facts: int, topics: int, seed: int) -> dict[str, float]:
    """Build the resolver for one synthetic fact base; the figures of one child process."""
    factbase = synthetic_factbase(facts, topics, seed)
    gc.collect()
    rss_before = _max_rss_mib()
    start = time.perf_counter()
    resolver = TopicResolver(factbase)
    seconds = time.perf_counter() - start
    rss_after = _max_rss_mib()
    del resolver
    gc.collect()
    tracemalloc.start()
    resolver = TopicResolver(factbase)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del resolver
    return {
        "facts": facts,
        "seconds": seconds,
        "traced_peak_mib": peak / 2**20,
        "rss_before_mib": rss_before,
        "rss_after_mib": rss_after,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--facts", type=int, nargs="+", default=[5_000, 50_000, 200_000])
    parser.add_argument("--topics", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1, help="builds per size (default 1)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(measure_one(args.child, args.topics, args.seed)))
        return 0
    results: dict[int, list[dict[str, float]]] = {n: [] for n in args.facts}
    child_args = ["--topics", str(args.topics), "--seed", str(args.seed)]
    for _round in range(args.rounds):
        for n in args.facts:  # sizes interleaved round by round
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(n), *child_args],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[n].append(json.loads(out))
    print(f"resolver build · {args.topics} topics · {args.rounds} round(s) · seed {args.seed}")
    print()
    print("| facts | build s (median) | spread | s per 1k facts | traced peak MiB | max RSS MiB |")
    print("|------:|-----------------:|-------:|---------------:|----------------:|------------:|")
    for n, rows in results.items():
        times = [r["seconds"] for r in rows]
        median = statistics.median(times)
        print(
            f"| {n:,} | {median:.3f} | {min(times):.3f}–{max(times):.3f} "
            f"| {median / n * 1000:.4f} | {max(r['traced_peak_mib'] for r in rows):.0f} "
            f"| {max(r['rss_before_mib'] for r in rows):.0f} → "
            f"{max(r['rss_after_mib'] for r in rows):.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
