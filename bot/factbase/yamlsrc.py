"""YAML loading that remembers where each value came from.

Curators need "file:line: what is wrong". PyYAML's safe loader is extended so that every mapping
it builds is a `LineDict`, which knows its own line and the line of each key.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode


class LineDict(dict[str, Any]):
    """A dict from YAML that records its starting line and the line of each of its keys."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The 1-based line of `key`, or the mapping's own line when the key is absent."""
        return self.key_lines.get(key, self.line)


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed


class _LineLoader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader that builds `LineDict`s; the only change is the bookkeeping of lines."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=True)
        result = LineDict(mapping)
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str):
                result.key_lines[key] = key_node.start_mark.line + 1
        return result


def _construct_line_dict(loader: _LineLoader, node: MappingNode) -> LineDict:
    return loader.construct_mapping(node)  # type: ignore[return-value]


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_line_dict)


class YamlSyntaxError(ValueError):
    """YAML that does not parse, with the line and what the parser expected."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_yaml(text: str) -> Any:
    """Parse YAML text, mappings as `LineDict`s; raise `YamlSyntaxError` with a line number."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise YamlSyntaxError(line, f"YAML syntax: {what}") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"YAML syntax: {exc}") from exc
