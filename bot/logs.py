"""Logging set-up: JSON lines when not on a terminal, readable lines on one.

Fields passed with `extra=` (command, topic, latency_ms, slack_error, ...) become keys of the
JSON object. Anything shaped like a Slack token is redacted from every record as a last guard;
the code never logs secrets in the first place.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import Any

_TOKEN_RE = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_DROPPED = {"color_message"}
"""uvicorn's copy of its message with ANSI colour codes: noise in any log."""
_EXCLUDED = frozenset(_STANDARD | _DROPPED)
_ENCODE = json.JSONEncoder(default=str, ensure_ascii=False).encode
"""One encoder for every line: `json.dumps` with options builds a new encoder per call."""
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """Control characters shown as escapes, so a value cannot start a forged line or move the
    cursor on a terminal (a query with a newline or an ANSI escape)."""
    return _CONTROL_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def redact(text: str) -> str:
    """Replace anything shaped like a Slack token."""
    if "xox" not in text and "xapp" not in text:  # most lines: no regex pass
        return text
    return _TOKEN_RE.sub(r"\1-********", text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _EXCLUDED and k[0] != "_"}


_second: list[Any] = [None, ""]
"""The last whole second formatted, and its text: log lines come many to a second."""


def _utc_time(created: float) -> str:
    """`created` as ISO 8601 UTC with milliseconds (what `isoformat(timespec=...)` gives)."""
    whole = int(created)
    micros = round((created - whole) * 1e6)  # as `datetime.fromtimestamp` rounds
    if micros >= 1_000_000:
        whole, micros = whole + 1, 0
    if _second[0] != whole:
        _second[:] = [whole, dt.datetime.fromtimestamp(whole, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{_second[1]}.{micros // 1000:03d}+00:00"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _utc_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        data.update(_extras(record))
        if record.exc_info:
            data["exception"] = redact(self.formatException(record.exc_info))
        return _ENCODE(data)


class ReadableFormatter(logging.Formatter):
    """`HH:MM:SS level logger: message key=value ...` for people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        extras = " ".join(f"{k}={escape_controls(str(v))}" for k, v in _extras(record).items())
        message = escape_controls(redact(record.getMessage()))
        line = f"{when} {record.levelname.lower():7} {record.name}: {message}"
        if extras:
            line += f"  {redact(extras)}"
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def configure_logging(level: str = "INFO", *, stream: Any = None) -> None:
    """Send logs to stderr, as JSON unless stderr is a terminal."""
    out = stream or sys.stderr
    handler = logging.StreamHandler(out)
    handler.setFormatter(ReadableFormatter() if out.isatty() else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("slack_bolt").setLevel("WARNING")
    logging.getLogger("slack_sdk").setLevel("WARNING")
    logging.getLogger("alembic").setLevel("WARNING")
