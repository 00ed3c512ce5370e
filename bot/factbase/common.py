"""What every part of the loader shares: problem collection, reading files, field checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.factbase.problems import Problem, display_path
from bot.factbase.yamlsrc import LineDict, YamlSyntaxError, load_yaml

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


class Collector:
    """Accumulates problems for one load, with paths shown relative to the seeds' parent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.unreadable: set[Path] = set()
        self._shown: dict[Path, str] = {}

    def shown(self, path: Path) -> str:
        """`path` as messages and facts show it (computed once per file: there are many facts)."""
        text = self._shown.get(path)
        if text is None:
            text = self._shown[path] = display_path(path, self.root)
        return text

    def error(self, path: Path, line: int, message: str) -> None:
        """Record an error at `path:line`."""
        self.problems.append(Problem(self.shown(path), line, message, "error"))

    def warning(self, path: Path, line: int, message: str) -> None:
        """Record a warning at `path:line`."""
        self.problems.append(Problem(self.shown(path), line, message, "warning"))


UNREADABLE_MESSAGES = ("cannot read", "not a regular file", "not UTF-8 text", "YAML syntax")
"""How the problems of a file that could not be read at all begin: the root causes, shown first."""


def read_text(path: Path, out: Collector, digest: Any) -> str | None:
    """Read a UTF-8 file and add it to the version digest; None (reported) if it cannot be read.

    Only regular files are opened: a FIFO or a device named like a seed file would block the
    load (or never end), so it is reported instead.
    """
    try:
        regular = path.is_file()
        raw = path.read_bytes() if regular else b""
    except OSError as exc:
        out.error(path, 0, f"cannot read: {exc.strerror}")
        out.unreadable.add(path)
        return None
    if not regular:
        out.error(path, 0, "not a regular file (a FIFO, socket or device?): not read")
        out.unreadable.add(path)
        return None
    digest.update(path.name.encode() + b"\0" + raw + b"\0")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        out.error(path, line, "not UTF-8 text")
        out.unreadable.add(path)
        return None


def load_list_file(path: Path, out: Collector, digest: Any, what: str) -> list[Any]:
    """Parse a YAML file that must be a list; [] (reported) on a syntax error or another shape."""
    text = read_text(path, out, digest)
    if text is None:
        return []
    try:
        data = load_yaml(text)
    except YamlSyntaxError as exc:
        out.error(path, exc.line, exc.message)
        out.unreadable.add(path)
        return []
    if data is None:
        return []
    if not isinstance(data, list):
        out.error(path, getattr(data, "line", 1), f"the file must be a list of {what}")
        return []
    return data


def check_fields(
    item: LineDict, allowed: set[str], required: set[str], path: Path, out: Collector, what: str
) -> bool:
    """Report unknown and missing fields of one item; True when there were none."""
    if item.keys() <= allowed and item.keys() >= required:
        return True  # the usual case, checked without building sets
    ok = True
    for key in sorted(set(item) - allowed, key=str):  # YAML keys may be numbers or null
        out.error(
            path,
            item.line_of(key),
            f"{what}: unknown field {key!r} (allowed: {', '.join(sorted(allowed))})",
        )
        ok = False
    for key in sorted(required - set(item)):
        out.error(path, item.line, f"{what}: missing field {key!r}")
        ok = False
    return ok


def str_list(value: Any) -> list[str] | None:
    """The value as a list of non-empty strings, or None when it is anything else."""
    if isinstance(value, str):
        return None
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return [v.strip() for v in value]
    return None
