"""YAML loading that remembers where each value came from.

Curators need "file:line: what is wrong". Every mapping loaded here is a `LineDict`, which knows
its own line and the line of each key; otherwise the result is exactly what PyYAML's safe loader
gives.

Parsing is libyaml's (when installed). Building the Python values from the parser's events is done
here, in one loop, because PyYAML's generic constructor was most of the time of loading a large
fact base. Documents using anchors, aliases, explicit tags or merge keys are rare in `seeds/` and
are handed to PyYAML's own (slower) safe loader, extended only to build `LineDict`s, so both
paths give the same values.
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache
from typing import Any

import yaml
from yaml import events
from yaml.nodes import MappingNode, ScalarNode

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed

_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Implicitly resolved scalar tags built here; any other (merge "<<", value "=") goes to PyYAML.
_SCALAR_CONSTRUCTORS: dict[str, Any] = {
    f"tag:yaml.org,2002:{name}": yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{name}"]
    for name in ("int", "float", "bool", "null")
}


class LineDict(dict[str, Any]):
    """A dict from YAML that records its starting line and the line of each of its keys."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The 1-based line of `key`, or the mapping's own line when the key is absent."""
        return self.key_lines.get(key, self.line)


def _new_line_dict(line: int) -> LineDict:
    result = LineDict()
    result.line = line
    result.key_lines = {}
    return result


def _construct_timestamp(loader: Any, node: ScalarNode) -> Any:
    """A date or time; text that only looks like one ("2021-02-30") stays text.

    PyYAML raises a bare `ValueError` (no line) for such a value; keeping the text lets the
    fact base's own date check report it on its line with the reason.
    """
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return node.value


class _LineLoader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader that builds `LineDict`s; the only change is the bookkeeping of lines."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # merged keys may be overridden: only written twice is a mistake
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # PyYAML's constructor reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, _duplicate_key(key, node.start_mark.line + 1), key_node.start_mark
                )
            seen.add(key)
        mapping = super().construct_mapping(node, deep=True)
        result = _new_line_dict(node.start_mark.line + 1)
        result.update(mapping)
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str):
                result.key_lines[key] = key_node.start_mark.line + 1
        return result


def _duplicate_key(key: Any, mapping_line: int) -> str:
    """The message for a key written twice in one mapping (PyYAML would keep the last silently)."""
    return f"duplicate key {key!r} in the mapping starting on line {mapping_line}"


def _construct_line_dict(loader: _LineLoader, node: MappingNode) -> LineDict:
    return loader.construct_mapping(node)  # type: ignore[return-value]


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_line_dict)
_LineLoader.add_constructor(_TIMESTAMP_TAG, _construct_timestamp)
_RESOLVER = yaml.resolver.Resolver()  # the implicit resolvers every safe loader uses


class YamlSyntaxError(ValueError):
    """YAML that does not parse, with the line and what the parser expected."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _UseFullLoader(Exception):
    """The text uses a YAML feature that `_build` leaves to PyYAML's loader."""


_MISSING = object()


def _plain_tag(value: str) -> str:
    """The tag YAML 1.1 gives a plain (unquoted, untagged) scalar, as PyYAML's composer would."""
    tag = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return str(tag)


_plain_tag_cached = lru_cache(maxsize=4096)(_plain_tag)  # keys and ids repeat in every file
# Plain scalars starting with any other character are strings (the resolvers are keyed by it).
_RESOLVED_FIRST_CHARS = frozenset(k for k in _RESOLVER.yaml_implicit_resolvers if k)
_ALL_FIRST_CHARS = None in _RESOLVER.yaml_implicit_resolvers  # resolvers for any first character


def _build(text: str) -> Any:
    """Build the single document in `text` from parser events, as `_LineLoader` would."""
    loader = _BaseLoader(text)
    try:
        get_event = loader.get_event
        scalar, mapping_start, sequence_start = (
            events.ScalarEvent,
            events.MappingStartEvent,
            events.SequenceStartEvent,
        )
        mapping_end, sequence_end = events.MappingEndEvent, events.SequenceEndEvent
        containers: list[Any] = []  # open mappings and sequences, innermost last
        keys: list[Any] = []  # for each open mapping, its key awaiting a value
        documents = 0
        result: Any = None
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar:
                if event.anchor is not None or event.tag is not None:
                    raise _UseFullLoader
                value: Any = event.value
                if event.implicit[0] and (
                    not value or value[0] in _RESOLVED_FIRST_CHARS or _ALL_FIRST_CHARS
                ):
                    tag = _plain_tag_cached(value) if len(value) <= 80 else _plain_tag(value)
                    if (
                        tag == _INT_TAG
                        and value.isdecimal()
                        and value.isascii()
                        and (value[0] != "0" or len(value) == 1)
                    ):
                        value = int(value)  # what PyYAML gives, without its general parser
                    elif tag != _STR_TAG:
                        node = ScalarNode(tag, value, event.start_mark, event.end_mark)
                        if tag == _TIMESTAMP_TAG:
                            value = _construct_timestamp(loader, node)
                        elif tag in _SCALAR_CONSTRUCTORS:
                            value = _SCALAR_CONSTRUCTORS[tag](loader, node)
                        else:
                            raise _UseFullLoader
            elif kind is mapping_start:
                if (
                    event.anchor is not None
                    or event.tag is not None
                    or (containers and keys[-1] is _MISSING and type(containers[-1]) is LineDict)
                ):
                    raise _UseFullLoader  # a mapping used as a key: PyYAML rejects it
                containers.append(_new_line_dict(event.start_mark.line + 1))
                keys.append(_MISSING)
                continue
            elif kind is sequence_start:
                if (
                    event.anchor is not None
                    or event.tag is not None
                    or (containers and keys[-1] is _MISSING and type(containers[-1]) is LineDict)
                ):
                    raise _UseFullLoader
                containers.append([])
                keys.append(_MISSING)
                continue
            elif kind is mapping_end or kind is sequence_end:
                value = containers.pop()
                keys.pop()
            elif kind is events.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _UseFullLoader  # PyYAML reports "expected a single document"
                continue
            elif kind is events.StreamEndEvent:
                return result
            elif kind is events.AliasEvent:
                raise _UseFullLoader
            else:  # stream start, document end
                continue
            if not containers:
                result = value
                continue
            top = containers[-1]
            if type(top) is list:
                top.append(value)
            elif keys[-1] is _MISSING:
                if value in top:
                    line = event.start_mark.line + 1
                    raise YamlSyntaxError(line, f"YAML syntax: {_duplicate_key(value, top.line)}")
                keys[-1] = value
                if isinstance(value, str):
                    top.key_lines[value] = event.start_mark.line + 1
            else:
                top[keys[-1]] = value
                keys[-1] = _MISSING
    finally:
        loader.dispose()


def load_yaml(text: str) -> Any:
    """Parse YAML text, mappings as `LineDict`s; raise `YamlSyntaxError` with a line number."""
    try:
        try:
            return _build(text)
        except _UseFullLoader:
            return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise YamlSyntaxError(line, f"YAML syntax: {what}") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"YAML syntax: {exc}") from exc
    except RecursionError:
        raise YamlSyntaxError(1, "YAML syntax: nested too deeply") from None
