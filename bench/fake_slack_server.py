"""Run tests/fakeslack.py's fake Slack Web API in its own process, for benchmarks: prints its
base URL on the first line and serves until standard input closes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakeslack import FakeSlack


def main() -> None:
    with FakeSlack() as fake:
        print(fake.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
