"""The one way a test waits on another process: for a condition, with a deadline.

Tests never sleep to let time pass. What another process does (a served bot becoming ready,
picking up an edit, a reminder pass recording a post in its database) can only be seen by
looking, so `wait_until` looks again every few milliseconds until the condition holds, the
deadline passes (TimeoutError), or the process it waits on has exited (RuntimeError).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

POLL_SECONDS = 0.02
"""Between two looks: short, so a test goes on as soon as the condition holds."""


def wait_until(
    condition: Callable[[], object],
    *,
    timeout: float = 30.0,
    what: str = "condition",
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Return once `condition()` is true; raise TimeoutError at the deadline.

    With `process`, raise RuntimeError as soon as it exits instead of waiting out the deadline.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not met within {timeout} s")
        time.sleep(POLL_SECONDS)  # the only sleep in the tests: between two looks
