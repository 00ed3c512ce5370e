"""The one waiting helper: a condition with a deadline, aware of the process it waits on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.waiting import wait_until


def test_returns_as_soon_as_the_condition_holds() -> None:
    looks = iter([False, False, True])
    wait_until(lambda: next(looks), timeout=5)
    assert next(looks, "done") == "done"


def test_a_process_that_exits_fails_at_once_instead_of_at_the_deadline() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(RuntimeError, match=r"exited \(3\) before the bot is ready"):
        wait_until(lambda: False, timeout=60, what="the bot is ready", process=process)


def test_a_condition_never_met_times_out() -> None:
    with pytest.raises(TimeoutError, match="nothing happens not met"):
        wait_until(lambda: False, timeout=0, what="nothing happens")


def test_no_test_sleeps_except_the_waiting_helper() -> None:
    sleepers = [
        str(path.relative_to(ROOT))
        for path in Path(ROOT / "tests").rglob("*.py")
        if "time.sleep(" in path.read_text(encoding="utf-8")
        and path.name not in ("waiting.py", "test_waiting.py")
    ]
    assert sleepers == []
