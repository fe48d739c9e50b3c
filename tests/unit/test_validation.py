"""The rules for values from outside: storable text, BIGINT integers, times, whole numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.contact import check_timezone
from domain.errors import InvalidRequest
from domain.validation import (
    MAX_BIGINT,
    MIN_BIGINT,
    fits_bigint,
    text_problem,
    utc_moment,
    whole_number,
)


def test_text_postgresql_refuses_is_named():
    assert text_problem("latte") is None
    assert text_problem("caf\u00e9 \U0001f600 \ufffe\n\t") is None  # odd but storable
    assert text_problem("lat\x00te") == "nul"
    assert text_problem("lat\ud800te") == "surrogate"
    assert text_problem("\udfff") == "surrogate"
    assert text_problem("x" * 65, 64) == "too_long"
    assert text_problem("x" * 64, 64) is None
    assert text_problem("\x00" * 100, 64) == "nul"  # the worse problem first


@given(st.text())
def test_text_is_storable_exactly_when_utf8_without_nul(value: str):
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        storable = False
    else:
        storable = "\x00" not in value
    assert (text_problem(value) is None) == storable


def test_bigint_bounds():
    assert fits_bigint(MAX_BIGINT)
    assert fits_bigint(MIN_BIGINT)
    assert not fits_bigint(MAX_BIGINT + 1)
    assert not fits_bigint(MIN_BIGINT - 1)


def test_whole_numbers_only_in_ascii_digits_and_range():
    assert whole_number("42", 1, 100) == 42
    assert whole_number("0042", 1, 100) == 42
    assert whole_number("0" * 5000 + "7", 1, 100) == 7  # zeros do not reach int's limit
    assert whole_number(str(MAX_BIGINT), 1, MAX_BIGINT) == MAX_BIGINT
    for text in (
        "",
        "0",
        "101",
        "-1",
        "+1",
        "1.5",
        "1e3",
        " 1",
        "²",
        "①",
        "١٢",
        str(MAX_BIGINT + 1),
        "9" * 5000,
    ):
        assert whole_number(text, 1, 100 if len(text) < 10 else MAX_BIGINT) is None, text


def test_times_in_utc_from_2000_on():
    plus_one = timezone(timedelta(hours=1))
    assert utc_moment(datetime(2026, 3, 1, 11, tzinfo=plus_one)) == datetime(
        2026, 3, 1, 10, tzinfo=UTC
    )
    assert utc_moment(datetime(2026, 3, 1, 10)) == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert utc_moment(datetime(2000, 1, 1, 1, tzinfo=plus_one)) == datetime(2000, 1, 1, tzinfo=UTC)
    assert utc_moment(datetime(1999, 12, 31, 23, 59, tzinfo=UTC)) is None
    assert utc_moment(datetime(1, 1, 1, tzinfo=plus_one)) is None  # no UTC equivalent
    assert utc_moment(datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=10)))) is None


@pytest.mark.parametrize("name", ["Mars/Olympus", "9" * 1000, "../etc/passwd", ""])
def test_an_unknown_time_zone_is_refused(name: str) -> None:
    with pytest.raises(InvalidRequest):
        check_timezone(name)
    assert check_timezone("Europe/Madrid") == "Europe/Madrid"
