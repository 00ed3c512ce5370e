"""The `briefbot` command (and `python -m bot`): imports the command line with the garbage
collector out of the way (`bot.memory.start_up`), then runs it."""

from __future__ import annotations

from bot.memory import start_up


def main() -> int:
    """Run `briefbot` with the arguments it was given; returns the exit code."""
    with start_up():
        from bot.cli import main as run

    return run()


if __name__ == "__main__":
    raise SystemExit(main())
