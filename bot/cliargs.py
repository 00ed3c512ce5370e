"""Argument types the `briefbot` sub-commands share (argparse `type=` functions)."""

from __future__ import annotations

import argparse
import datetime as dt


def cli_date(value: str) -> dt.date:
    """An argparse type for YYYY-MM-DD, with a message naming what was wrong."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None
