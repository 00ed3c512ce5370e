"""The loader toolkit every seed file shares (fact files, topics, documents, reminder rules).

Problem collection with file and line, reading files, YAML lists of mappings, field checks
(the one id pattern is `bot.ids.SLUG_RE`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Set
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.nodes import SequenceNode

from bot.factbase.problems import Problem, display_path
from bot.factbase.yamlsrc import LineDict, YamlSyntaxError, load_yaml


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


def read_text(path: Path, out: Collector, digest: Any | None) -> str | None:
    """Read a UTF-8 file and add it to the version digest (if any); None (reported) if it cannot
    be read.

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
    if digest is not None:
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        out.error(path, line, "not UTF-8 text")
        out.unreadable.add(path)
        return None


def load_list_file(
    path: Path, out: Collector, digest: Any | None, what: str, *, text: str | None = None
) -> list[Any]:
    """Parse a YAML file that must be a list; [] (reported) on a syntax error or another shape.

    `text`, when given, is the file's content already read (a published snapshot's copy).
    """
    if text is None:
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


def load_mappings(
    path: Path,
    out: Collector,
    digest: Any | None,
    what: str,
    not_mapping: str,
    *,
    text: str | None = None,
) -> list[LineDict]:
    """The mappings of a YAML file that must be a list of them (see `load_list_file`).

    An item that is not a mapping is reported on its own line with `not_mapping` and left out.
    """
    mappings: list[LineDict] = []
    item_lines: list[int] | None = None  # composed only for an item that is not a mapping
    for index, item in enumerate(load_list_file(path, out, digest, what, text=text)):
        if isinstance(item, LineDict):
            mappings.append(item)
            continue
        if item_lines is None:
            item_lines = _sequence_item_lines(path, text)
        out.error(path, item_lines[index] if index < len(item_lines) else 1, not_mapping)
    return mappings


def _sequence_item_lines(path: Path, text: str | None = None) -> list[int]:
    """The 1-based line of each item of a top-level YAML list (for items that are not mappings).

    PyYAML's pure-Python composer is slow, so this runs only when an item is malformed.
    """
    try:
        source = text if text is not None else path.read_text(encoding="utf-8")
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    if not isinstance(root, SequenceNode):
        return []
    return [child.start_mark.line + 1 for child in root.value]


T = TypeVar("T")


def parsed_field(
    item: LineDict,
    key: str,
    parse: Callable[[object], T],
    path: Path,
    out: Collector,
    label: str,
) -> tuple[bool, T | None]:
    """`(True, value)` for `item[key]` read by `parse` (None when absent), or `(False, None)`
    with the `ValueError` reported as "LABEL: KEY: reason" at the key's line."""
    try:
        return True, parse(item.get(key))
    except ValueError as exc:
        out.error(path, item.line_of(key), f"{label}: {key}: {exc}")
        return False, None


def check_fields(
    item: LineDict,
    allowed: Set[str],
    required: Set[str],
    path: Path,
    out: Collector,
    what: str,
    *,
    elsewhere: Mapping[str, str] | None = None,
) -> bool:
    """Report unknown and missing fields of one item; True when there were none.

    `elsewhere` explains fields that are known but not allowed here (a reminder rule's field of
    another kind): they are reported with that explanation instead of as unknown.
    """
    if item.keys() <= allowed and item.keys() >= required:
        return True  # the usual case, checked without building sets
    ok = True
    for key in sorted(set(item) - allowed, key=str):  # YAML keys may be numbers or null
        if elsewhere and key in elsewhere:
            message = f"{what}: field {key!r} {elsewhere[key]}"
        else:
            message = f"{what}: unknown field {key!r} (allowed: {', '.join(sorted(allowed))})"
        out.error(path, item.line_of(key), message)
        ok = False
    for key in sorted(required - set(item)):
        out.error(path, item.line, f"{what}: missing field {key!r}")
        ok = False
    return ok


def not_one_of(name: str, value: Any, allowed: Iterable[str]) -> str:
    """The message for a field whose value is none of `allowed`, worded alike in every seed
    file: "kind 'treaty' must be one of official, media, analysis"."""
    return f"{name} {value!r} must be one of {', '.join(allowed)}"


def str_list(value: Any) -> list[str] | None:
    """The value as a list of non-empty strings, or None when it is anything else."""
    if isinstance(value, str):
        return None
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return [v.strip() for v in value]
    return None
