"""Dates known to a day, a month or a year, ranges of them, their labels and their order."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dates import DateSpan, PartialDate, Precision, parse_date_span, parse_partial_date


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("2024-09-04", PartialDate(2024, 9, 4), Precision.DAY),
        ("2023-07", PartialDate(2023, 7), Precision.MONTH),
        ("2018", PartialDate(2018), Precision.YEAR),
        (" 2024-02-29 ", PartialDate(2024, 2, 29), Precision.DAY),
        ("0001", PartialDate(1), Precision.YEAR),
    ],
)
def test_partial_date_keeps_the_precision_it_is_written_with(
    text: str, expected: PartialDate, precision: Precision
) -> None:
    parsed = parse_partial_date(text)
    assert parsed == expected
    assert parsed.precision is precision
    assert parsed.iso() == text.strip()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "expected YYYY-MM-DD"),
        ("March 2021", "expected YYYY-MM-DD"),
        ("21-03-03", "expected YYYY-MM-DD"),
        ("2021-3", "expected YYYY-MM-DD"),
        ("2021-03-3", "expected YYYY-MM-DD"),
        ("2021-03-03T10:00", "expected YYYY-MM-DD"),
        ("2021/03/03", "expected YYYY-MM-DD"),
        ("٢٠٢٤", "expected YYYY-MM-DD"),  # Arabic-Indic digits are not ISO digits
        ("２０２４", "expected YYYY-MM-DD"),  # nor are full-width ones
        ("0000", "year must be 0001 or later"),
        ("2021-00", "month 0 is not 01-12"),
        ("2021-13", "month 13 is not 01-12"),
        ("2021-02-29", "day 29 is not in 01-28"),
        ("2024-04-31", "day 31 is not in 01-30"),
        ("2024-01-00", "day 0 is not in 01-31"),
    ],
)
def test_bad_partial_dates_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_partial_date(text)


def test_span_from_yaml_values_of_every_kind() -> None:
    assert parse_date_span(None) is None
    assert parse_date_span("") is None
    assert parse_date_span(dt.date(2024, 9, 4)) == DateSpan(PartialDate(2024, 9, 4))
    assert parse_date_span(2018) == DateSpan(PartialDate(2018))
    assert parse_date_span("2023-07") == DateSpan(PartialDate(2023, 7))


def test_range_is_start_slash_end_with_any_precisions() -> None:
    span = parse_date_span("2023-07-11/2023-07-12")
    assert span == DateSpan(PartialDate(2023, 7, 11), PartialDate(2023, 7, 12))
    assert span is not None and span.is_range and span.latest == PartialDate(2023, 7, 12)
    assert span.iso() == "2023-07-11/2023-07-12"
    mixed = parse_date_span("2024/2027-06")
    assert mixed == DateSpan(PartialDate(2024), PartialDate(2027, 6))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024/2021", "the range ends before it starts"),
        ("2023-07-12/2023-07-11", "the range ends before it starts"),
        ("2023-07/", "expected YYYY-MM-DD"),
        ("/2023", "expected YYYY-MM-DD"),
        ("2021/2022/2023", "expected YYYY-MM-DD"),
        (dt.datetime(2024, 9, 4, 10, 0), "has a time of day"),
        (True, "is not a date"),
        (20.5, "expected text such as 2024-09-04"),
        (["2024"], "expected text such as 2024-09-04"),
    ],
)
def test_bad_spans_say_what_is_wrong(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_date_span(value)


def test_range_within_a_year_precision_date_is_allowed_to_overlap() -> None:
    # "2023" may stand for any day of 2023, so a range to a day in it does not end before it.
    span = parse_date_span("2023/2023-01-05")
    assert span == DateSpan(PartialDate(2023), PartialDate(2023, 1, 5))


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("2024-09-04", "4 September 2024"),
        ("2023-07", "July 2023"),
        ("2018", "2018"),
        ("2023-07-11/2023-07-12", "11–12 July 2023"),
        ("2023-06-30/2023-07-02", "30 June 2023–2 July 2023"),
        ("2024/2027", "2024–2027"),
        ("2024-07/2024-09-04", "July 2024–4 September 2024"),
    ],
)
def test_human_labels(text: str, label: str) -> None:
    span = parse_date_span(text)
    assert span is not None and span.human() == label


def test_first_and_last_day_bound_what_a_partial_date_may_mean() -> None:
    assert PartialDate(2024).first_day() == dt.date(2024, 1, 1)
    assert PartialDate(2024).last_day() == dt.date(2024, 12, 31)
    assert PartialDate(2024, 2).last_day() == dt.date(2024, 2, 29)
    assert PartialDate(2023, 2).last_day() == dt.date(2023, 2, 28)
    assert PartialDate(2024, 9, 4).first_day() == PartialDate(2024, 9, 4).last_day()


def test_unknown_parts_sort_before_known_ones() -> None:
    year, month, day = PartialDate(2024), PartialDate(2024, 1), PartialDate(2024, 1, 1)
    assert year < month < day
    assert day > month > year and month >= year and year <= year
    assert sorted([day, PartialDate(2023, 12, 31), month, year]) == [
        PartialDate(2023, 12, 31),
        year,
        month,
        day,
    ]
    assert max([PartialDate(2023, 5), PartialDate(2023)]) == PartialDate(2023, 5)


def test_spans_order_by_their_start() -> None:
    spans = [parse_date_span(t) for t in ("2024-03", "2023-07-11/2023-07-12", "2023")]
    ordered = sorted((s for s in spans if s is not None), key=DateSpan.sort_key)
    assert [s.iso() for s in ordered] == ["2023", "2023-07-11/2023-07-12", "2024-03"]


partial_dates = st.dates(min_value=dt.date(1, 1, 1)).flatmap(
    lambda d: st.sampled_from(
        [PartialDate(d.year), PartialDate(d.year, d.month), PartialDate.from_date(d)]
    )
)


@given(partial_dates)
def test_iso_form_parses_back_to_the_same_date(date: PartialDate) -> None:
    assert parse_partial_date(date.iso()) == date
    assert str(date) == date.iso()


@given(partial_dates, partial_dates)
def test_order_agrees_with_the_sort_key_and_the_iso_text(a: PartialDate, b: PartialDate) -> None:
    assert (a < b) == (a.sort_key() < b.sort_key()) == (a.iso() < b.iso())
    assert (a == b) == (a.sort_key() == b.sort_key())
