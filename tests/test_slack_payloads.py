"""Reading Slack's form bodies: `parse_form` gives what `urllib.parse.parse_qsl` gives."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.payloads import parse_form, parse_payload

FORM_TEXT = st.text(alphabet=st.sampled_from("ab=&%+2F0Cé _\u2014"), max_size=60)
"""Text made mostly of the characters form encoding treats specially."""
ESCAPES = st.text(alphabet=st.sampled_from("%%%0123456789abcdefABCDEF+=&x"), max_size=60)
"""ASCII text thick with escapes, valid or not, in either case: UTF-8 split or broken."""


@given(FORM_TEXT)
def test_parse_form_agrees_with_parse_qsl_on_any_text(text: str) -> None:
    assert parse_form(text) == dict(parse_qsl(text, keep_blank_values=True))


@given(ESCAPES)
def test_parse_form_agrees_with_parse_qsl_on_ascii_escapes(text: str) -> None:
    assert parse_form(text) == dict(parse_qsl(text, keep_blank_values=True))


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=8))
def test_parse_form_reads_back_what_urlencode_wrote(fields: dict[str, str]) -> None:
    assert parse_form(urlencode(fields)) == fields


def test_a_slash_command_body_is_read_field_by_field() -> None:
    body = urlencode(
        {
            "command": "/brief",
            "text": "what's new on the ITPP? 50% + more",
            "user_id": "U1",
            "response_url": "https://hooks.slack.com/commands/T1/1/abc",
            "channel_name": "",
        }
    ).encode()
    payload = parse_payload(body, "application/x-www-form-urlencoded")
    assert payload["text"] == "what's new on the ITPP? 50% + more"
    assert payload["response_url"] == "https://hooks.slack.com/commands/T1/1/abc"
    assert payload["channel_name"] == ""
    assert payload["command"] == "/brief"
