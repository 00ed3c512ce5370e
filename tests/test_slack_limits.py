"""Tests for `bot.slack.limits`: each limit at its edge, malformed payloads, the total size."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack import limits
from bot.slack.limits import (
    SlackLimitError,
    blocks_text_length,
    check_message,
    ensure_within_limits,
)


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def section(text: str = "hello") -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def button(label: str = "Open", *, value: str = "v", action_id: str = "open") -> dict[str, Any]:
    return {"type": "button", "text": plain(label), "value": value, "action_id": action_id}


def message(*blocks: Any, text: str = "fallback") -> dict[str, Any]:
    return {"text": text, "blocks": list(blocks)}


def test_realistic_brief_is_valid() -> None:
    payload = {
        "channel": "C1",
        "text": "NATO: a brief",
        "response_type": "in_channel",
        "thread_ts": "1700000000.000100",
        "metadata": {"event_type": "brief_posted", "event_payload": {"key": "k1"}},
        "blocks": [
            {"type": "header", "text": plain("NATO")},
            {
                "type": "section",
                "block_id": "summary",
                "text": {"type": "mrkdwn", "text": "*Founded* 1949", "verbatim": True},
                "fields": [mrkdwn("*Members*"), mrkdwn("32")],
                "accessory": button(),
            },
            {"type": "divider"},
            {"type": "context", "elements": [mrkdwn("Source: nato.int"), plain("2024")]},
            {"type": "actions", "elements": [button("More", action_id="more")]},
        ],
    }
    assert check_message(payload) == []
    ensure_within_limits(payload)


def test_message_without_blocks_is_valid() -> None:
    assert check_message({"text": "hi", "replace_original": True}) == []


# -- each limit at its edge ------------------------------------------------------------------


def test_fifty_blocks_pass_and_fifty_one_fail() -> None:
    assert check_message(message(*[section("x")] * limits.MAX_BLOCKS)) == []
    assert check_message(message(*[section("x")] * (limits.MAX_BLOCKS + 1))) == [
        "blocks: 51 blocks > 50"
    ]


def test_section_text_of_3000_chars_passes_and_3001_fails() -> None:
    assert check_message(message(section("a" * 3000))) == []
    assert check_message(message(section("a" * 3001))) == ["blocks[0].text.text: 3001 chars > 3000"]


def test_section_text_of_one_char_passes_and_empty_fails() -> None:
    assert check_message(message(section("a"))) == []
    assert check_message(message(section(""))) == ["blocks[0].text.text: empty"]


def test_ten_section_fields_pass_and_eleven_fail() -> None:
    def with_fields(count: int) -> dict[str, Any]:
        return {"type": "section", "fields": [mrkdwn("f")] * count}

    assert check_message(message(with_fields(10))) == []
    assert check_message(message(with_fields(11))) == ["blocks[0].fields: 11 fields > 10"]


def test_section_field_of_2000_chars_passes_and_2001_fails() -> None:
    def with_field(length: int) -> dict[str, Any]:
        return {"type": "section", "fields": [mrkdwn("ok"), plain("b" * length)]}

    assert check_message(message(with_field(2000))) == []
    assert check_message(message(with_field(2001))) == [
        "blocks[0].fields[1].text: 2001 chars > 2000"
    ]


def test_header_of_150_chars_passes_and_151_fails() -> None:
    assert check_message(message({"type": "header", "text": plain("h" * 150)})) == []
    assert check_message(message({"type": "header", "text": plain("h" * 151)})) == [
        "blocks[0].text.text: 151 chars > 150"
    ]


def test_header_must_be_plain_text() -> None:
    assert check_message(message({"type": "header", "text": mrkdwn("*h*")})) == [
        "blocks[0].text.type: 'mrkdwn' is not plain_text"
    ]


def test_ten_context_elements_pass_and_eleven_fail() -> None:
    image = {"type": "image", "image_url": "https://example.com/i.png", "alt_text": "i"}
    ten = [mrkdwn("c")] * 9 + [image]
    assert check_message(message({"type": "context", "elements": ten})) == []
    assert check_message(message({"type": "context", "elements": [*ten, plain("c")]})) == [
        "blocks[0].elements: 11 elements > 10"
    ]


def test_context_rejects_interactive_elements() -> None:
    assert check_message(message({"type": "context", "elements": [button()]})) == [
        "blocks[0].elements[0].type: 'button' is not allowed in a context block"
        " (only image or mrkdwn or plain_text)"
    ]


def test_twenty_five_actions_pass_and_twenty_six_fail() -> None:
    def actions(count: int) -> dict[str, Any]:
        return {"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(count)]}

    assert check_message(message(actions(25))) == []
    assert check_message(message(actions(26))) == ["blocks[0].elements: 26 elements > 25"]


def test_button_text_of_75_chars_passes_and_76_fails() -> None:
    assert check_message(message({"type": "actions", "elements": [button("b" * 75)]})) == []
    assert check_message(message({"type": "actions", "elements": [button("b" * 76)]})) == [
        "blocks[0].elements[0].text.text: 76 chars > 75"
    ]


def test_button_text_must_be_plain_text() -> None:
    bad = {"type": "button", "text": mrkdwn("*b*"), "action_id": "b"}
    assert check_message(message({"type": "actions", "elements": [bad]})) == [
        "blocks[0].elements[0].text.type: 'mrkdwn' is not plain_text"
    ]


def test_button_value_of_2000_chars_passes_and_2001_fails() -> None:
    ok = {"type": "actions", "elements": [button(value="v" * 2000)]}
    too_long = {"type": "actions", "elements": [button(value="v" * 2001)]}
    assert check_message(message(ok)) == []
    assert check_message(message(too_long)) == ["blocks[0].elements[0].value: 2001 chars > 2000"]


def test_button_in_section_accessory_is_checked_too() -> None:
    block = {"type": "section", "text": mrkdwn("s"), "accessory": button("b" * 76)}
    assert check_message(message(block)) == ["blocks[0].accessory.text.text: 76 chars > 75"]


def test_action_id_of_255_chars_passes_and_256_fails() -> None:
    ok = {"type": "actions", "elements": [button(action_id="a" * 255)]}
    too_long = {"type": "actions", "elements": [button(action_id="a" * 256)]}
    assert check_message(message(ok)) == []
    assert check_message(message(too_long)) == ["blocks[0].elements[0].action_id: 256 chars > 255"]


def test_block_id_of_255_chars_passes_and_256_fails() -> None:
    assert check_message(message({**section(), "block_id": "b" * 255})) == []
    assert check_message(message({**section(), "block_id": "b" * 256})) == [
        "blocks[0].block_id: 256 chars > 255"
    ]


def test_top_level_text_of_4000_chars_passes_and_4001_fails() -> None:
    assert check_message({"text": "t" * 4000}) == []
    assert check_message({"text": "t" * 4001}) == ["text: 4001 chars > 4000"]


# -- total size ------------------------------------------------------------------------------


def test_total_text_of_12000_chars_passes_and_12001_fails() -> None:
    four_full_sections = [section("a" * 3000) for _ in range(4)]
    assert blocks_text_length(four_full_sections) == 12_000
    assert check_message(message(*four_full_sections)) == []
    one_more = {"type": "context", "elements": [plain("a")]}
    assert check_message(message(*four_full_sections, one_more)) == [
        "blocks: 12001 chars of text in total > 12000"
    ]


def test_total_counts_text_in_fields_buttons_and_unknown_blocks() -> None:
    blocks = [
        {"type": "section", "fields": [mrkdwn("ab"), mrkdwn("cde")], "accessory": button("fg")},
        {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "hijk"}]}
            ],
        },
        {"type": "image", "image_url": "https://example.com/i.png", "alt_text": "not counted"},
        {"type": "input", "label": plain("lmn"), "element": {"type": "plain_text_input"}},
    ]
    assert blocks_text_length(blocks) == 2 + 3 + 2 + 4 + 3
    assert check_message(message(*blocks)) == []


def test_total_counts_unknown_blocks_towards_the_limit() -> None:
    rich = {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "r"}]}],
    }
    blocks = [section("a" * 3000) for _ in range(4)]
    assert check_message(message(*blocks, rich)) == ["blocks: 12001 chars of text in total > 12000"]


def test_unknown_block_types_are_tolerated_and_counted_in_the_block_limit() -> None:
    assert check_message(message(*[{"type": "divider"}] * 50)) == []
    assert check_message(message(*[{"type": "divider"}] * 51)) == ["blocks: 51 blocks > 50"]


# -- text objects, link_names, response_type ------------------------------------------------


@pytest.mark.parametrize(
    ("text_object", "violation"),
    [
        ({"type": "markdown", "text": "x"}, "blocks[0].text.type: 'markdown' is not"),
        ({"text": "x"}, "blocks[0].text.type: missing (must be"),
        ({"type": "mrkdwn"}, "blocks[0].text.text: missing"),
        ({"type": "mrkdwn", "text": 7}, "blocks[0].text.text: expected a string, got number"),
        ({"type": "plain_text", "text": ""}, "blocks[0].text.text: empty"),
        ("just a string", "blocks[0].text: expected a text object, got string"),
    ],
)
def test_section_text_must_be_a_proper_text_object(text_object: Any, violation: str) -> None:
    violations = check_message(message({"type": "section", "text": text_object}))
    assert len(violations) == 1
    assert violations[0].startswith(violation)


def test_text_objects_anywhere_must_have_text() -> None:
    confirm = {
        "title": plain("Sure?"),
        "text": mrkdwn(""),
        "confirm": plain("Yes"),
        "deny": plain("No"),
    }
    block = {"type": "actions", "elements": [{**button(), "confirm": confirm}]}
    assert check_message(message(block)) == ["blocks[0].elements[0].confirm.text.text: empty"]


def test_section_needs_text_or_fields() -> None:
    assert check_message(message({"type": "section"})) == [
        "blocks[0]: a section needs text or fields"
    ]


@pytest.mark.parametrize("value", [True, False, 1, "1", None])
def test_link_names_is_reported_whatever_its_value(value: Any) -> None:
    assert check_message({"text": "hi", "link_names": value}) == [
        "link_names: must not be set (it turns @names in text into mentions)"
    ]


def test_response_type_must_be_ephemeral_or_in_channel() -> None:
    assert check_message({"text": "hi", "response_type": "ephemeral"}) == []
    assert check_message({"text": "hi", "response_type": "in_channel"}) == []
    assert check_message({"text": "hi", "response_type": "public"}) == [
        "response_type: 'public' is not ephemeral or in_channel"
    ]


# -- malformed payloads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([], ["payload: expected an object, got array"]),
        ("text", ["payload: expected an object, got string"]),
        (None, ["payload: expected an object, got null"]),
        ({"text": 5}, ["text: expected a string, got number"]),
        ({"text": ["a"]}, ["text: expected a string, got array"]),
        ({"blocks": "[]"}, ["blocks: expected an array, got string"]),
        ({"blocks": {"type": "divider"}}, ["blocks: expected an array, got object"]),
        ({"blocks": [None]}, ["blocks[0]: expected a block object, got null"]),
        ({"blocks": ["section"]}, ["blocks[0]: expected a block object, got string"]),
        ({"blocks": [{"text": mrkdwn("x")}]}, ["blocks[0].type: missing"]),
        ({"blocks": [{"type": 3}]}, ["blocks[0].type: expected a string, got number"]),
        ({"blocks": [{"type": ["section"]}]}, ["blocks[0].type: expected a string, got array"]),
        (
            {"blocks": [{"type": "section", "fields": "a, b"}]},
            ["blocks[0].fields: expected an array, got string"],
        ),
        (
            {"blocks": [{"type": "section", "fields": [None]}]},
            ["blocks[0].fields[0]: missing"],
        ),
        ({"blocks": [{"type": "actions"}]}, ["blocks[0].elements: missing"]),
        (
            {"blocks": [{"type": "context", "elements": {"a": 1}}]},
            ["blocks[0].elements: expected an array, got object"],
        ),
        (
            {"blocks": [{"type": "actions", "elements": [7]}]},
            ["blocks[0].elements[0]: expected an object, got number"],
        ),
        ({"blocks": [{"type": "header"}]}, ["blocks[0].text: missing"]),
        (
            {"blocks": [{**section(), "block_id": 12}]},
            ["blocks[0].block_id: expected a string, got number"],
        ),
        (
            {"blocks": [{"type": "actions", "elements": [{**button(), "value": {"k": 1}}]}]},
            ["blocks[0].elements[0].value: expected a string, got object"],
        ),
        (
            {"blocks": [{"type": "context", "elements": [{"type": {}}]}]},
            ["blocks[0].elements[0].type: {} is not allowed in a context block (only image"],
        ),
    ],
)
def test_malformed_payloads_are_reported_not_raised(payload: Any, expected: list[str]) -> None:
    violations = check_message(payload)
    assert len(violations) == len(expected), violations
    for violation, start in zip(violations, expected, strict=True):
        assert violation.startswith(start)


def test_blocks_none_means_no_blocks() -> None:
    assert check_message({"text": "hi", "blocks": None}) == []


def test_self_referencing_payload_is_reported_not_recursed_forever() -> None:
    block: dict[str, Any] = {"type": "rich_text", "elements": []}
    block["elements"].append(block)
    violations = check_message({"blocks": [block]})
    assert len(violations) == 1
    assert "nested more than" in violations[0]


def test_violations_in_several_blocks_are_all_listed_in_block_order() -> None:
    payload = message(section(""), {"type": "divider"}, {"type": "header", "text": plain("")})
    assert check_message(payload) == ["blocks[0].text.text: empty", "blocks[2].text.text: empty"]


# -- SlackLimitError and ensure_within_limits -----------------------------------------------


def test_ensure_within_limits_raises_slack_limit_error_with_every_violation() -> None:
    payload = {"text": "t" * 4001, "link_names": True}
    with pytest.raises(SlackLimitError) as caught:
        ensure_within_limits(payload)
    assert caught.value.violations == tuple(check_message(payload))
    assert len(caught.value.violations) == 2
    assert isinstance(caught.value, ValueError)
    assert "text: 4001 chars > 4000" in str(caught.value)


def test_slack_limit_error_message_is_bounded_but_violations_are_complete() -> None:
    error = SlackLimitError([f"v{i}" for i in range(8)])
    assert len(error.violations) == 8
    assert str(error).endswith("v0; v1; v2; v3; v4 (and 3 more)")


def test_slack_limit_error_survives_pickling() -> None:
    error = SlackLimitError(["a: b", "c: d"])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.violations == error.violations
    assert str(copy) == str(error)


# -- never raises ---------------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        "type",
        "text",
        "blocks",
        "fields",
        "elements",
        "element",
        "accessory",
        "block_id",
        "action_id",
        "value",
        "confirm",
        "link_names",
        "response_type",
        "section",
        "header",
        "context",
        "actions",
        "button",
        "mrkdwn",
        "plain_text",
    ]
) | st.text(max_size=5)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["section", "header", "context", "actions", "button", "mrkdwn", "plain_text"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(_KEYS, children, max_size=6),
    max_leaves=25,
)
_PAYLOADS = (
    _JSON
    | st.dictionaries(_KEYS, _JSON, max_size=6)
    | st.fixed_dictionaries(
        {"blocks": st.lists(st.dictionaries(_KEYS, _JSON, max_size=6), max_size=6)}
    )
)


@settings(max_examples=200, deadline=None)
@given(_PAYLOADS)
def test_check_message_never_raises_on_json_like_payloads(payload: Any) -> None:
    violations = check_message(payload)
    assert isinstance(violations, list)
    assert all(isinstance(v, str) for v in violations)
    # The catch-all in check_message must never be what answered: that would hide a bug.
    assert not any("could not be checked" in v for v in violations)
