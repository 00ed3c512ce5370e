"""Slack's size limits for the messages the bot sends, checked before anything is sent.

Slack rejects a message that breaks a Block Kit limit (`invalid_blocks`, `msg_blocks_too_long`),
and `slack_sdk` checks only some limits, only for its model objects, never for plain dicts. The
50-block and total-size limits are checked by nobody. `check_message` checks a payload as it is
sent to `chat.postMessage`, `chat.postEphemeral`, `chat.update`, a `response_url` or a slash-command
response, and lists every violation with a path such as `blocks[3].text.text: 3012 chars > 3000`.

Lengths are counted in Python characters (code points). Block types this module has no rules for
(divider, image, rich_text, input, ...) are accepted, but their text still counts towards the total,
and the generic rules (text objects, `block_id`, `action_id`, buttons) apply inside them.
Escaping of mrkdwn is not checked here; the rendering layer does it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, TypeGuard

from bot.text import clip

__all__ = [
    "CONTEXT_ELEMENT_TYPES",
    "MAX_ACTIONS_ELEMENTS",
    "MAX_ACTION_ID_CHARS",
    "MAX_BLOCKS",
    "MAX_BLOCK_ID_CHARS",
    "MAX_BUTTON_TEXT_CHARS",
    "MAX_BUTTON_VALUE_CHARS",
    "MAX_CONTEXT_ELEMENTS",
    "MAX_HEADER_TEXT_CHARS",
    "MAX_NESTING_DEPTH",
    "MAX_SECTION_FIELDS",
    "MAX_SECTION_FIELD_CHARS",
    "MAX_SECTION_TEXT_CHARS",
    "MAX_TOP_LEVEL_TEXT_CHARS",
    "MAX_TOTAL_BLOCKS_TEXT_CHARS",
    "MIN_TEXT_CHARS",
    "POST_MESSAGE_BLOCKS_TEXT_BUDGET",
    "RESPONSE_TYPES",
    "TEXT_OBJECT_TYPES",
    "SlackLimitError",
    "blocks_text_length",
    "check_message",
    "ensure_within_limits",
]

MAX_BLOCKS: Final = 50
"""Blocks in one message."""
MIN_TEXT_CHARS: Final = 1
"""Every text object's `text`, a section's included, must hold at least this many characters."""
MAX_SECTION_TEXT_CHARS: Final = 3000
"""Characters in a section's `text`."""
MAX_SECTION_FIELDS: Final = 10
"""Text objects in a section's `fields`."""
MAX_SECTION_FIELD_CHARS: Final = 2000
"""Characters in each of a section's `fields`."""
MAX_HEADER_TEXT_CHARS: Final = 150
"""Characters in a header's `plain_text`."""
MAX_CONTEXT_ELEMENTS: Final = 10
"""Elements (images and text objects) in a context block."""
MAX_ACTIONS_ELEMENTS: Final = 25
"""Interactive elements in an actions block."""
MAX_BUTTON_TEXT_CHARS: Final = 75
"""Characters in a button's `plain_text` label."""
MAX_BUTTON_VALUE_CHARS: Final = 2000
"""Characters in a button's `value`."""
MAX_ACTION_ID_CHARS: Final = 255
"""Characters in an element's `action_id`."""
MAX_BLOCK_ID_CHARS: Final = 255
"""Characters in a block's `block_id`."""
MAX_TOTAL_BLOCKS_TEXT_CHARS: Final = 12_000
"""Characters of text across all blocks of one message (Slack: `msg_blocks_too_long`)."""
POST_MESSAGE_BLOCKS_TEXT_BUDGET: Final = 10_000
"""Not a documented limit: chat.postMessage has refused ~11,300 characters of block text with
`msg_blocks_too_long` that a response_url accepted, so messages it posts keep this margin."""
MAX_TOP_LEVEL_TEXT_CHARS: Final = 4_000
"""Characters in the top-level `text`, the notification fallback."""
TEXT_OBJECT_TYPES: Final = frozenset({"plain_text", "mrkdwn"})
"""The `type`s a text object may have."""
CONTEXT_ELEMENT_TYPES: Final = frozenset({"image", "plain_text", "mrkdwn"})
"""The `type`s an element of a context block may have."""
RESPONSE_TYPES: Final = frozenset({"ephemeral", "in_channel"})
"""The values a slash-command response's `response_type` may have."""
MAX_NESTING_DEPTH: Final = 32
"""Not a Slack limit: deeper structures are reported rather than walked (guards against cycles)."""

_PLAIN_TEXT_ONLY: Final = frozenset({"plain_text"})
_MAX_VIOLATIONS_IN_MESSAGE: Final = 5


class SlackLimitError(ValueError):
    """A message payload breaks Slack's limits; `violations` lists every problem found."""

    def __init__(self, violations: Iterable[str]) -> None:
        self.violations: tuple[str, ...] = tuple(violations)
        shown = "; ".join(self.violations[:_MAX_VIOLATIONS_IN_MESSAGE])
        hidden = len(self.violations) - _MAX_VIOLATIONS_IN_MESSAGE
        more = f" (and {hidden} more)" if hidden > 0 else ""
        super().__init__(f"message breaks Slack's limits: {shown}{more}")

    def __reduce__(self) -> tuple[type[SlackLimitError], tuple[tuple[str, ...]]]:
        return (type(self), (self.violations,))


def check_message(payload: Mapping[str, Any]) -> list[str]:
    """List how `payload` breaks Slack's limits, one human-readable line each; `[]` if it is valid.

    Never raises: malformed payloads (a block that is not an object, text that is not a string,
    and so on) are reported as violations.
    """
    checker = _Checker()
    try:
        checker.check_payload(payload)
    except Exception as exc:  # a hostile Mapping or the like: fail closed, never crash the caller
        checker.add("payload", f"could not be checked ({type(exc).__name__})")
    return checker.violations


def ensure_within_limits(payload: Mapping[str, Any]) -> None:
    """Raise `SlackLimitError` if `payload` breaks any of Slack's limits; do nothing otherwise."""
    violations = check_message(payload)
    if violations:
        raise SlackLimitError(violations)


def blocks_text_length(blocks: Sequence[Any]) -> int:
    """Count the characters of text in `blocks`, as Slack's total-size limit counts them.

    Every string stored under a `text` key anywhere inside the blocks is counted: text objects,
    rich-text elements, text in unknown block types. Useful for splitting long content over
    several messages before `MAX_TOTAL_BLOCKS_TEXT_CHARS` is reached.
    """
    return _text_length(blocks, 0)


def _text_length(node: Any, depth: int) -> int:
    if depth > MAX_NESTING_DEPTH:
        return 0
    total = 0
    if _is_mapping(node):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                total += len(value)
            elif _is_container(value):
                total += _text_length(value, depth + 1)
    elif _is_array(node):
        for item in node:
            total += _text_length(item, depth + 1)
    return total


class _Checker:
    """Collects the violations of one payload."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        # Text objects already checked by a positional rule, so the generic rule skips them.
        self._checked_text_objects: set[int] = set()

    def add(self, path: str, problem: str) -> None:
        self.violations.append(f"{path}: {problem}")

    def check_payload(self, payload: Any) -> None:
        if not isinstance(payload, Mapping):
            self.add("payload", f"expected an object, got {_json_type(payload)}")
            return
        text = payload.get("text")
        if text is not None:
            if not isinstance(text, str):
                self.add("text", f"expected a string, got {_json_type(text)}")
            else:
                self._check_length("text", text, MAX_TOP_LEVEL_TEXT_CHARS)
        if "link_names" in payload:
            self.add("link_names", "must not be set (it turns @names in text into mentions)")
        response_type = payload.get("response_type")
        if response_type is not None and not _is_one_of(response_type, RESPONSE_TYPES):
            self.add(
                "response_type", f"{clip(repr(response_type), 40)} is not {_either(RESPONSE_TYPES)}"
            )
        blocks = payload.get("blocks")
        if blocks is not None:
            self._check_blocks(blocks)

    def _check_blocks(self, blocks: Any) -> None:
        if not _is_array(blocks):
            self.add("blocks", f"expected an array, got {_json_type(blocks)}")
            return
        if len(blocks) > MAX_BLOCKS:
            self.add("blocks", f"{len(blocks)} blocks > {MAX_BLOCKS}")
        for index, block in enumerate(blocks):
            path = f"blocks[{index}]"
            self._check_block(path, block)
            self._walk(block, path, 1)
        total = blocks_text_length(blocks)
        if total > MAX_TOTAL_BLOCKS_TEXT_CHARS:
            self.add("blocks", f"{total} chars of text in total > {MAX_TOTAL_BLOCKS_TEXT_CHARS}")

    def _check_block(self, path: str, block: Any) -> None:
        if not isinstance(block, Mapping):
            self.add(path, f"expected a block object, got {_json_type(block)}")
            return
        block_type = block.get("type")
        if block_type is None:
            self.add(f"{path}.type", "missing")
        elif not isinstance(block_type, str):
            self.add(f"{path}.type", f"expected a string, got {_json_type(block_type)}")
        elif block_type == "section":
            self._check_section(path, block)
        elif block_type == "header":
            self._check_text_object(
                f"{path}.text",
                block.get("text"),
                types=_PLAIN_TEXT_ONLY,
                max_chars=MAX_HEADER_TEXT_CHARS,
            )
        elif block_type == "context":
            self._check_context(path, block)
        elif block_type == "actions":
            self._check_elements(path, block, MAX_ACTIONS_ELEMENTS)
        # Other block types are tolerated; `_walk` applies the generic rules inside them.

    def _check_section(self, path: str, block: Mapping[Any, Any]) -> None:
        text = block.get("text")
        fields = block.get("fields")
        if text is None and fields is None:
            self.add(path, "a section needs text or fields")
        if text is not None:
            self._check_text_object(f"{path}.text", text, max_chars=MAX_SECTION_TEXT_CHARS)
        if fields is None:
            return
        if not _is_array(fields):
            self.add(f"{path}.fields", f"expected an array, got {_json_type(fields)}")
            return
        if len(fields) > MAX_SECTION_FIELDS:
            self.add(f"{path}.fields", f"{len(fields)} fields > {MAX_SECTION_FIELDS}")
        for index, field in enumerate(fields):
            self._check_text_object(
                f"{path}.fields[{index}]", field, max_chars=MAX_SECTION_FIELD_CHARS
            )

    def _check_context(self, path: str, block: Mapping[Any, Any]) -> None:
        elements = self._check_elements(path, block, MAX_CONTEXT_ELEMENTS)
        for index, element in enumerate(elements):
            if not isinstance(element, Mapping):
                continue
            element_type = element.get("type")
            if not _is_one_of(element_type, CONTEXT_ELEMENT_TYPES):
                self.add(
                    f"{path}.elements[{index}].type",
                    f"{clip(repr(element_type), 40)} is not allowed in a context block"
                    f" (only {_either(CONTEXT_ELEMENT_TYPES)})",
                )

    def _check_elements(
        self, path: str, block: Mapping[Any, Any], max_elements: int
    ) -> Sequence[Any]:
        """Check a block's `elements` array and return it (empty if it is unusable)."""
        elements = block.get("elements")
        if elements is None:
            self.add(f"{path}.elements", "missing")
            return ()
        if not _is_array(elements):
            self.add(f"{path}.elements", f"expected an array, got {_json_type(elements)}")
            return ()
        if len(elements) > max_elements:
            self.add(f"{path}.elements", f"{len(elements)} elements > {max_elements}")
        for index, element in enumerate(elements):
            if not isinstance(element, Mapping):
                problem = f"expected an object, got {_json_type(element)}"
                self.add(f"{path}.elements[{index}]", problem)
        return elements

    def _check_button(self, path: str, button: Mapping[Any, Any]) -> None:
        self._check_text_object(
            f"{path}.text",
            button.get("text"),
            types=_PLAIN_TEXT_ONLY,
            max_chars=MAX_BUTTON_TEXT_CHARS,
        )
        if "value" in button:
            self._check_string(f"{path}.value", button["value"], MAX_BUTTON_VALUE_CHARS)

    def _check_text_object(
        self,
        path: str,
        obj: Any,
        *,
        types: frozenset[str] = TEXT_OBJECT_TYPES,
        max_chars: int | None = None,
    ) -> None:
        if obj is None:
            self.add(path, "missing")
            return
        if not isinstance(obj, Mapping):
            self.add(path, f"expected a text object, got {_json_type(obj)}")
            return
        self._checked_text_objects.add(id(obj))
        obj_type = obj.get("type")
        if obj_type is None:
            self.add(f"{path}.type", f"missing (must be {_either(types)})")
        elif not _is_one_of(obj_type, types):
            self.add(f"{path}.type", f"{clip(repr(obj_type), 40)} is not {_either(types)}")
        text = obj.get("text")
        if text is None:
            self.add(f"{path}.text", "missing")
        elif not isinstance(text, str):
            self.add(f"{path}.text", f"expected a string, got {_json_type(text)}")
        elif len(text) < MIN_TEXT_CHARS:
            self.add(f"{path}.text", "empty")
        elif max_chars is not None:
            self._check_length(f"{path}.text", text, max_chars)

    def _walk(self, node: Any, path: str, depth: int) -> None:
        """Apply the rules that hold wherever a thing appears: text objects, ids, buttons."""
        if depth > MAX_NESTING_DEPTH:
            self.add(path, f"nested more than {MAX_NESTING_DEPTH} levels deep")
            return
        if _is_mapping(node):
            node_type = node.get("type")
            if node_type == "button":
                self._check_button(path, node)
            elif (
                _is_one_of(node_type, TEXT_OBJECT_TYPES)
                and id(node) not in self._checked_text_objects
            ):
                self._check_text_object(path, node)
            if "block_id" in node:
                self._check_string(f"{path}.block_id", node["block_id"], MAX_BLOCK_ID_CHARS)
            if "action_id" in node:
                self._check_string(f"{path}.action_id", node["action_id"], MAX_ACTION_ID_CHARS)
            for key, value in node.items():
                if _is_container(value):
                    self._walk(value, f"{path}.{key}", depth + 1)
        elif _is_array(node):
            for index, item in enumerate(node):
                if _is_container(item):
                    self._walk(item, f"{path}[{index}]", depth + 1)

    def _check_string(self, path: str, value: Any, max_chars: int) -> None:
        if not isinstance(value, str):
            self.add(path, f"expected a string, got {_json_type(value)}")
        else:
            self._check_length(path, value, max_chars)

    def _check_length(self, path: str, text: str, max_chars: int) -> None:
        if len(text) > max_chars:
            self.add(path, f"{len(text)} chars > {max_chars}")


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""JSON's scalar types: answered without `isinstance` against the ABCs, which is slow (every
payload the bot sends is checked, every reminder among them)."""


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return type(value) is dict or isinstance(value, Mapping)


def _is_array(value: Any) -> TypeGuard[Sequence[Any]]:
    kind = type(value)
    if kind is list:
        return True
    if kind in _SCALARS or kind is dict:
        return False
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def _is_container(value: Any) -> bool:
    kind = type(value)
    if kind is dict or kind is list:
        return True
    if kind in _SCALARS:
        return False
    return isinstance(value, Mapping) or _is_array(value)


def _is_one_of(value: Any, allowed: frozenset[str]) -> bool:
    # `value in allowed` would raise TypeError for unhashable values such as lists.
    return isinstance(value, str) and value in allowed


def _either(allowed: frozenset[str]) -> str:
    return " or ".join(sorted(allowed))


def _json_type(value: Any) -> str:
    """Name `value`'s type as JSON would, for messages about malformed payloads."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if _is_array(value):
        return "array"
    return type(value).__name__
