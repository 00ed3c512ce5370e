"""The curators' YAML loader: the same values as PyYAML's safe loader, plus line numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.factbase.yamlsrc import LineDict, YamlSyntaxError, _LineLoader, load_yaml

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=40),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=5),
    ),
    max_leaves=25,
)


def plain(value: Any) -> Any:
    """LineDicts as plain dicts, so values compare with PyYAML's."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, False, True]))
def test_fast_path_gives_what_pyyaml_gives(document: Any, flow: bool | None) -> None:
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    assert plain(load_yaml(text)) == plain(yaml.load(text, Loader=_LineLoader))
    assert plain(load_yaml(text)) == yaml.safe_load(text)


@pytest.mark.parametrize("path", sorted(SEEDS.glob("**/*.yaml")), ids=lambda p: p.name)
def test_every_bundled_file_loads_as_pyyaml_loads_it(path: Path) -> None:
    text = path.read_text()
    assert plain(load_yaml(text)) == plain(yaml.load(text, Loader=_LineLoader))


def test_mappings_know_their_lines_and_their_keys_lines() -> None:
    data = load_yaml("# comment\n- id: a\n  topics: [x]\n\n- id: b\n  quote: >-\n    long\n")
    assert isinstance(data[1], LineDict)
    assert (data[0].line, data[0].line_of("topics")) == (2, 3)
    assert (data[1].line, data[1].line_of("quote"), data[1].line_of("absent")) == (5, 6, 5)


def test_anchors_aliases_and_merge_keys_still_work() -> None:
    data = load_yaml("base: &b {a: 1}\nother:\n  <<: *b\n  c: 2\n")
    assert plain(data) == {"base": {"a": 1}, "other": {"a": 1, "c": 2}}


def test_an_impossible_unquoted_date_is_text_for_the_checker_not_a_crash() -> None:
    assert load_yaml("date: 2021-02-30\n") == {"date": "2021-02-30"}
    assert load_yaml("date: 2021-02-28\n") == {"date": dt.date(2021, 2, 28)}


def test_syntax_errors_carry_the_line() -> None:
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml("- id: a\n- id: [b\n- id: c\n")
    assert info.value.line in (2, 3)
    assert info.value.message.startswith("YAML syntax")


@pytest.mark.parametrize(
    "text,line,message",
    [
        (
            "- id: a\n  quote: one\n  quote: two\n",
            3,
            "duplicate key 'quote' in the mapping starting on line 1",
        ),
        # an anchor sends the text to PyYAML's own constructor: the same report
        (
            "- &x id: a\n  quote: one\n  quote: two\n",
            3,
            "duplicate key 'quote' in the mapping starting on line 1",
        ),
        ("a: 1\nb:\n  c: 1\n  c: 1\n", 4, "duplicate key 'c' in the mapping starting on line 3"),
    ],
)
def test_a_key_written_twice_is_a_syntax_error_on_its_line(
    text: str, line: int, message: str
) -> None:
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml(text)
    assert (info.value.line, info.value.message) == (line, f"YAML syntax: {message}")


def test_merged_keys_may_be_overridden_once() -> None:
    text = "base: &b {a: 1, c: 1}\nother:\n  <<: *b\n  c: 2\n"
    assert plain(load_yaml(text)) == {"base": {"a": 1, "c": 1}, "other": {"a": 1, "c": 2}}
