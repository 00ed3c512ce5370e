"""`briefbot brief nato` wall time beside its floor, `python -c "import jinja2, yaml, rapidfuzz"`.

    python bench/cli_startup.py [--rounds 15]

Each round runs the floor, then the command (ABAB), each in a fresh interpreter; prints the
median and spread of each, the ratio of medians (goal: within 1.3) and the median and spread of
each round's ratio (the command over the floor run just before it), which drifts less with a
shared machine's load.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

FLOOR = [sys.executable, "-c", "import jinja2, yaml, rapidfuzz"]


def briefbot() -> list[str]:
    """The `briefbot` script beside this interpreter, else the one on PATH."""
    script = Path(sys.executable).with_name("briefbot")
    return [str(script) if script.exists() else shutil.which("briefbot") or "briefbot"]


def wall(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    brief = [*briefbot(), "brief", "nato"]
    wall(FLOOR), wall(brief)  # warm the file cache
    floor, bot = [], []
    for _ in range(args.rounds):
        floor.append(wall(FLOOR))
        bot.append(wall(brief))
    for label, times in (("import jinja2, yaml, rapidfuzz", floor), ("briefbot brief nato", bot)):
        print(
            f"{label:32} median {statistics.median(times) * 1000:6.0f} ms "
            f"({min(times) * 1000:.0f}–{max(times) * 1000:.0f})"
        )
    print(f"ratio of medians: {statistics.median(bot) / statistics.median(floor):.2f}")
    paired = [b / f for b, f in zip(bot, floor, strict=True)]
    print(
        f"each round's ratio: median {statistics.median(paired):.2f} "
        f"({min(paired):.2f}–{max(paired):.2f})"
    )


if __name__ == "__main__":
    main()
