"""Problems found while loading the fact base, each tied to a file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
