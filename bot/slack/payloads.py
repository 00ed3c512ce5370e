"""Reading Slack's request bodies, and refusing the ones whose shape Bolt would trip over.

Bolt parses a body the way `parse_payload` does, then reads fields such as `event.type`,
`actions[0].action_id` or `user.id` assuming Slack's shapes; a validly signed but malformed body
(a JSON array, `null`, `actions: []`, an `event` that is a string) would raise inside Bolt and be
answered 500. `parse_payload` checks the fields Bolt and the listeners read before anything is
dispatched, so any malformed request is a 400.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

JSON_TYPE = "application/json"


class MalformedRequest(ValueError):
    """A request body that is not one of Slack's payloads; the message says what is wrong."""


def parse_payload(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The payload in `body` (JSON, form fields, or a form's `payload` JSON), shape-checked.

    Raises `MalformedRequest` naming the first problem found.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not UTF-8") from None
    if not text:
        raise MalformedRequest("the body is empty")
    try:
        if content_type == JSON_TYPE or text.startswith("{"):
            payload = json.loads(text)
        else:
            form = parse_form(text)
            if "payload" not in form:
                if form and form.keys().isdisjoint(_CHECKED_IN_FORMS):
                    return form  # a slash command's strings: nothing `_check` could refuse
                payload = form
            else:
                payload = json.loads(form["payload"])
    except ValueError:
        raise MalformedRequest("the body is not valid JSON or form data") from None
    except RecursionError:  # `json` gives up on arrays or objects nested thousands deep
        raise MalformedRequest("the payload is nested too deeply") from None
    if not isinstance(payload, dict) or not payload:
        raise MalformedRequest("the payload is not a JSON object")
    _check(payload)
    return payload


def parse_form(text: str) -> dict[str, str]:
    """Form fields, as `dict(urllib.parse.parse_qsl(text, keep_blank_values=True))` gives them
    (the last of repeated names wins), in about a third of its time: a slash command's dozen
    fields rarely need unquoting, so only those with `%` or `+` are decoded
    (`tests/test_slack_payloads.py` checks the two agree on any text)."""
    fields: dict[str, str] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = _unquote(name.replace("+", " "))
        if "%" in value or "+" in value:
            value = _unquote(value.replace("+", " "))
        fields[name] = value
    return fields


def _unquote(text: str) -> str:
    """`urllib.parse.unquote(text)`; for ASCII text (all that Slack sends, escapes included)
    by its byte-level half, which skips `unquote`'s regex split into ASCII runs."""
    if "%" not in text:
        return text
    if text.isascii():
        return unquote_to_bytes(text).decode("utf-8", "replace")
    return unquote(text)


_STRINGS = ("type", "command", "text", "channel_id", "user_id", "response_url", "event_id")
"""Top-level fields that must be strings when present."""
_OBJECTS_OR_IDS = ("team", "user", "channel", "enterprise")
"""Fields Slack sends as an id string or an object with an `id`, depending on the payload."""
_OBJECTS = ("container", "view", "message")
_CHECKED_IN_FORMS = frozenset({"type", "authorizations", *_OBJECTS})
"""The only fields by which `_check` can refuse a form, whose values are all strings."""


def _check(payload: Mapping[str, Any]) -> None:
    for key in _STRINGS:
        _expect_string(payload, key, key)
    _check_ids(payload, "")
    for key in _OBJECTS:
        if key in payload and not isinstance(payload[key], dict):
            raise MalformedRequest(f"{key} is not an object")
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        raise MalformedRequest("authorizations is not a list of objects")
    kind = payload.get("type")
    if kind == "event_callback":
        event = payload.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise MalformedRequest("event_callback without an event object and its type")
        for key in ("text", "ts", "thread_ts", "subtype", "channel_type", "bot_id"):
            _expect_string(event, key, f"event.{key}")
        _check_ids(event, "event.")
    elif kind == "url_verification":
        _expect_string(payload, "challenge", "challenge", required=True)
    elif kind in ("block_actions", "interactive_message"):
        actions = payload.get("actions")
        if not (isinstance(actions, list) and actions and isinstance(actions[0], dict)):
            raise MalformedRequest(f"{kind} without actions")
        for action in actions:
            if not isinstance(action, dict):
                raise MalformedRequest("an action is not an object")
            for key in ("action_id", "value", "block_id"):
                _expect_string(action, key, f"actions[].{key}")


def _check_ids(payload: Mapping[str, Any], prefix: str) -> None:
    for key in _OBJECTS_OR_IDS:
        value = payload.get(key)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, dict) or not isinstance(value.get("id", ""), str):
            raise MalformedRequest(f"{prefix}{key} is neither an id nor an object with one")


def _expect_string(
    payload: Mapping[str, Any], key: str, name: str, *, required: bool = False
) -> None:
    value = payload.get(key)
    if (value is None and required) or (value is not None and not isinstance(value, str)):
        raise MalformedRequest(f"{name} is not a string")
