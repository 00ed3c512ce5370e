"""Problems found while loading the fact base, each tied to a file and line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

UNREADABLE_MESSAGES = ("cannot read", "not a regular file", "not UTF-8 text", "YAML syntax")
"""How the problems of a file that could not be read at all begin: the root causes, shown first."""


@dataclass(frozen=True, order=True, slots=True)
class Problem:
    """One thing wrong (or worth a curator's attention) in the seeds, with where it is."""

    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class FactBaseError(Exception):
    """Raised when the seeds have errors; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        first = errors[0] if errors else ""
        super().__init__(f"fact base has {len(errors)} error(s); first: {first}")


def display_path(path: Path, root: Path) -> str:
    """A path relative to the seeds' parent when possible, so messages stay short and clickable."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def iter_problem_lines(problems: Iterable[Problem]) -> list[str]:
    """Problems as the lines `briefbot check` prints: errors first, among them files that could
    not be read at all (a YAML syntax error explains much of what follows), each sorted by file
    and line. `/readyz` and `/brief reload` show only the first lines, so the order matters."""
    ordered = sorted(
        problems,
        key=lambda p: (
            p.severity != "error",
            not p.message.startswith(UNREADABLE_MESSAGES),
            p.path,
            p.line,
            p.message,
        ),
    )
    return [str(p) for p in ordered]
