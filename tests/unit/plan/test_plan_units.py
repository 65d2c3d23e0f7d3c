"""Durations and rates: the grammar, exact round trips, and errors that name the field."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.plan import format_duration, format_rate, parse_duration, parse_rate


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("10s", 10.0),
        ("1m", 60.0),
        ("1h30m", 5400.0),
        ("2h", 7200.0),
        ("1m30s", 90.0),
        ("30", 30.0),
        ("2.5", 2.5),
        (".5s", 0.5),
        ("250us", 0.00025),
        ("250µs", 0.00025),
        ("1h 30m", 5400.0),
        ("  45s  ", 45.0),
        ("0", 0.0),
        ("0s", 0.0),
        ("1.5m", 90.0),
        ("30s1m", 90.0),  # any order, as Go's time.ParseDuration
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text, field="duration") == seconds


@pytest.mark.parametrize("text", ["", " ", "s", "10x", "-5s", "1e3s", "ten", "5 seconds", "1h-30m"])
def test_parse_duration_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"^duration: {re_repr(text)} is not a duration; expected"
    ):
        parse_duration(text, field="duration")


def test_parse_duration_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^executor\.stages\[2\]\.duration: 'soon' is not"):
        parse_duration("soon", field="executor.stages[2].duration")


def test_parse_duration_does_not_check_ranges() -> None:
    assert parse_duration("9999h", field="duration") == 9999 * 3600


def test_parse_duration_of_hundreds_of_digits_is_infinite_not_an_overflow() -> None:
    assert parse_duration("9" * 400 + "h", field="duration") == math.inf


@pytest.mark.parametrize(
    ("text", "per_s"),
    [
        ("5000/s", 5000.0),
        ("300/m", 5.0),
        ("10/1s", 10.0),
        ("5000", 5000.0),
        ("2.5/s", 2.5),
        ("3600/h", 1.0),
        ("1/100ms", 10.0),
        ("10/2", 5.0),
        ("6 / m", 0.1),
        ("0/s", 0.0),
    ],
)
def test_parse_rate(text: str, per_s: float) -> None:
    assert parse_rate(text, field="rate") == per_s


@pytest.mark.parametrize("text", ["", "/s", "fast", "5000/", "5000/x", "-5/s", "5/s/s", "5000rps"])
def test_parse_rate_refuses_what_is_not_a_rate(text: str) -> None:
    with pytest.raises(ConfigError, match=rf"^rate: {re_repr(text)} is not a rate; expected"):
        parse_rate(text, field="rate")


def test_parse_rate_refuses_a_zero_period() -> None:
    with pytest.raises(ConfigError, match=r"^--rate: '10/0s' divides by a zero duration"):
        parse_rate("10/0s", field="--rate")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.5, "500ms"),
        (0.00025, "250us"),
        (1.5, "1.5s"),
        (10, "10s"),
        (90, "1m30s"),
        (3600, "1h"),
        (5400, "1h30m"),
        (86400, "24h"),
        (3661.25, "1h1m1.25s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(("per_s", "text"), [(5000, "5000/s"), (0.1, "0.1/s"), (1e-5, "0.00001/s")])
def test_format_rate(per_s: float, text: str) -> None:
    assert format_rate(per_s) == text


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_formatting_refuses_impossible_numbers(bad: float) -> None:
    with pytest.raises(ValueError, match="not a finite, non-negative number"):
        format_duration(bad)
    with pytest.raises(ValueError, match="not a finite, non-negative number"):
        format_rate(bad)


@given(st.integers(min_value=0, max_value=10 * 86_400 * 1_000_000))
def test_duration_round_trips_at_microsecond_resolution(microseconds: int) -> None:
    seconds = microseconds / 1_000_000
    assert parse_duration(format_duration(seconds), field="d") == seconds


@given(
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=999),
)
def test_duration_components_add_up(hours: int, minutes: int, seconds: int, ms: int) -> None:
    text = f"{hours}h{minutes}m{seconds}s{ms}ms"
    expected = hours * 3600 + minutes * 60 + seconds + ms / 1000
    assert parse_duration(text, field="d") == pytest.approx(expected, abs=1e-9)


@given(st.integers(min_value=0, max_value=10**9))
def test_bare_numbers_are_seconds(seconds: int) -> None:
    assert parse_duration(str(seconds), field="d") == seconds


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_rate_round_trips_exactly(per_s: float) -> None:
    assert parse_rate(format_rate(per_s), field="r") == per_s


@given(st.integers(min_value=0, max_value=10**7))
def test_rates_per_minute_and_hour(count: int) -> None:
    assert parse_rate(f"{count}/m", field="r") == count / 60
    assert parse_rate(f"{count}/h", field="r") == count / 3600
    assert parse_rate(f"{count}", field="r") == parse_rate(f"{count}/s", field="r") == count


def re_repr(text: str) -> str:
    """``repr(text)`` escaped for a regular expression."""
    return re.escape(repr(text))
