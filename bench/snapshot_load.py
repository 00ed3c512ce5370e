"""Benchmark of loading a published snapshot, against loading the same fact base from YAML.

    python bench/snapshot_load.py                # the figures recorded in bench/README.md
    python bench/snapshot_load.py --facts 5000   # a quicker, smaller run

Generates the synthetic fact base of `bench/factbase.py` (50,000 facts, 2,000 documents, 500
topics by default) into a temporary directory, then times: (a) loading and verifying it from
YAML with the loader's own event-driven parser (`yamlsrc._build`), (b) the same with PyYAML's
libyaml loader only (`_LineLoader`, what `load_yaml` falls back to), (c) encoding it as a
snapshot payload, (d) decoding the payload into a fact base (what a replica does; no quote is
verified), (e) building the indexes (resolver and search) on it, which both paths then do.
Prints the median of `--loads` runs of each. Nothing is asserted; the figures are for people.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.factbase import SEED, generate  # noqa: E402
from bot.factbase import (  # noqa: E402
    FactBase,
    load_factbase,
    yamlsrc,
)
from bot.publish.payload import decode, encode  # noqa: E402
from bot.state import Knowledge  # noqa: E402


def _median(runs: int, action: Callable[[], object]) -> tuple[float, object]:
    """The median wall time of `runs` calls of `action`, and what the last one returned."""
    times: list[float] = []
    result: object = None
    for _ in range(runs):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _pyyaml_only() -> Callable[[str], object]:
    """A stand-in for `yamlsrc._build` that always hands the text to PyYAML's loader."""

    def build(_text: str) -> object:
        raise yamlsrc._UseFullLoader

    return build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--facts", type=int, default=50_000)
    parser.add_argument("--documents", type=int, default=2_000)
    parser.add_argument("--topics", type=int, default=500)
    parser.add_argument("--loads", type=int, default=3, help="runs of each step (default 3)")
    args = parser.parse_args(argv)
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="briefbot-snapshot-") as tmp:
        generate(
            Path(tmp), facts=args.facts, documents=args.documents, topics=args.topics, seed=SEED
        )
        seeds = Path(tmp) / "seeds"
        seconds, loaded = _median(args.loads, lambda: load_factbase(seeds).require())
        rows.append(("YAML: load + verify (event-driven parser)", seconds))
        fast = yamlsrc._build
        yamlsrc._build = _pyyaml_only()  # type: ignore[assignment]
        try:
            seconds, _ = _median(args.loads, lambda: load_factbase(seeds).require())
        finally:
            yamlsrc._build = fast
        rows.append(("YAML: load + verify (PyYAML CSafeLoader only)", seconds))
    assert isinstance(loaded, FactBase)
    seconds, payload = _median(1, lambda: encode(loaded, None))
    assert isinstance(payload, bytes)
    rows.append(("snapshot: encode (at publish)", seconds))
    seconds, contents = _median(args.loads, lambda: decode(payload))
    rows.append(("snapshot: decode into a fact base", seconds))
    factbase = contents.factbase  # type: ignore[attr-defined]
    assert factbase.facts == loaded.facts and factbase.topics == loaded.topics
    seconds, _ = _median(args.loads, lambda: Knowledge.build(factbase))
    rows.append(("indexes: resolver + search (either path)", seconds))
    print(
        f"{len(loaded.facts)} facts, {len(loaded.documents)} documents, {len(loaded.topics)} "
        f"topics; payload {len(payload) / 1e6:.1f} MB; median of {args.loads} run(s)"
    )
    for name, value in rows:
        print(f"  {name:<48} {value:8.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
