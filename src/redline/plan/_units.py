"""Durations and rates as people write them: ``"1m30s"``, ``"500ms"``, ``"5000/s"``.

Grammar (whitespace around the whole text is ignored)::

    duration = NUMBER                      seconds
             | (NUMBER UNIT)+              summed, in any order: "1h30m", "1m30s"
    UNIT     = "d" | "h" | "m" | "s" | "ms" | "us" | "µs"
    rate     = NUMBER [ "/" (UNIT | duration) ]    per second when no divisor:
                                                   "5000", "5000/s", "300/m", "10/1s"
    NUMBER   = digits with an optional decimal part: "2", "2.5", ".5"

Arithmetic is exact (:class:`fractions.Fraction`) until the final ``float``, so
``parse_duration(format_duration(x)) == x`` for every ``x`` with whole
microseconds. Parsers check the form only; each field's range is checked where
the field is known (:mod:`redline.plan._bounds`).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

from redline.plan._problem import Problem

#: A non-negative decimal number without exponent.
NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"

#: Seconds in one of each duration unit.
_UNIT_S: dict[str, Fraction] = {
    "d": Fraction(86_400),
    "h": Fraction(3600),
    "m": Fraction(60),
    "s": Fraction(1),
    "ms": Fraction(1, 1_000),
    "us": Fraction(1, 1_000_000),
    "µs": Fraction(1, 1_000_000),
}

_UNIT = "|".join(sorted(_UNIT_S, key=len, reverse=True))  # "ms" before "m"
_PART = re.compile(rf"({NUMBER})\s*({_UNIT})")
_DURATION = re.compile(rf"(?:{NUMBER}\s*(?:{_UNIT})\s*)+")
_RATE = re.compile(rf"({NUMBER})\s*(?:/\s*(.+))?")

_US_PER_S = 1_000_000
_US_PER_MIN = 60 * _US_PER_S
_US_PER_H = 60 * _US_PER_MIN

_DURATION_EXPECTED = (
    "expected seconds or a number with a unit (d, h, m, s, ms, us), e.g. '30s', '1m30s', '500ms'"
)
_RATE_EXPECTED = "expected a number per second or per unit, e.g. '5000/s', '300/m', '10/1s', '2.5'"


def _exact_seconds(text: str) -> Fraction:
    stripped = text.strip()
    if re.fullmatch(NUMBER, stripped):
        return Fraction(stripped)
    if not _DURATION.fullmatch(stripped):
        raise Problem(f"{text!r} is not a duration; {_DURATION_EXPECTED}")
    return sum(
        (Fraction(number) * _UNIT_S[unit] for number, unit in _PART.findall(stripped)),
        Fraction(0),
    )


def _to_float(value: Fraction) -> float:
    try:
        return float(value)
    except OverflowError:  # hundreds of digits: out of every range, and said so by the caller
        return math.inf


def seconds_from_text(text: str) -> float:
    """Seconds in ``text``; raises :class:`Problem` (no field name) if it is not a duration."""
    return _to_float(_exact_seconds(text))


def per_second_from_text(text: str) -> float:
    """Events per second in ``text``; raises :class:`Problem` if it is not a rate."""
    match = _RATE.fullmatch(text.strip())
    if match is None:
        raise Problem(f"{text!r} is not a rate; {_RATE_EXPECTED}")
    count, divisor = match.groups()
    if divisor is None:
        return _to_float(Fraction(count))
    divisor = divisor.strip()
    period_s = _UNIT_S[divisor] if divisor in _UNIT_S else _divisor_seconds(text, divisor)
    if period_s == 0:
        raise Problem(f"{text!r} divides by a zero duration; {_RATE_EXPECTED}")
    return _to_float(Fraction(count) / period_s)


def _divisor_seconds(text: str, divisor: str) -> Fraction:
    try:
        return _exact_seconds(divisor)
    except Problem:
        raise Problem(f"{text!r} is not a rate; {_RATE_EXPECTED}") from None


def parse_duration(text: str, *, field: str) -> float:
    """Seconds in a human-written duration.

    Args:
        text: ``"500ms"``, ``"10s"``, ``"1m"``, ``"1h30m"``, or a bare number of seconds.
        field: the name the user gave the value under, used in the error.

    Returns:
        The duration in seconds (not range-checked).

    Raises:
        ConfigError: ``text`` is not a duration.

    Example::

        parse_duration("1m30s", field="duration")  # 90.0
    """
    try:
        return seconds_from_text(text)
    except Problem as problem:
        raise problem.at_field(field) from None


def parse_rate(text: str, *, field: str) -> float:
    """Events per second in a human-written rate.

    Args:
        text: ``"5000/s"``, ``"300/m"``, ``"10/1s"``, ``"2.5/s"``, or a bare number per second.
        field: the name the user gave the value under, used in the error.

    Returns:
        The rate per second (not range-checked).

    Raises:
        ConfigError: ``text`` is not a rate.

    Example::

        parse_rate("300/m", field="rate")  # 5.0
    """
    try:
        return per_second_from_text(text)
    except Problem as problem:
        raise problem.at_field(field) from None


def _plain_decimal(value: float) -> str:
    # The shortest repr, spelled without an exponent so the parsers can read it back.
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_duration(seconds: float) -> str:
    """Write ``seconds`` the way :func:`parse_duration` reads it, to the microsecond.

    ``90`` -> ``"1m30s"``, ``5400`` -> ``"1h30m"``, ``0.5`` -> ``"500ms"``, ``1.5`` -> ``"1.5s"``.

    Raises:
        ValueError: ``seconds`` is negative or not finite (a programming error).
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds: {seconds!r} is not a finite, non-negative number")
    total_us = round(seconds * _US_PER_S)
    if total_us == 0:
        return "0s"
    hours, rest_us = divmod(total_us, _US_PER_H)
    minutes, rest_us = divmod(rest_us, _US_PER_MIN)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    if rest_us == 0:
        return text
    if not text and rest_us < _US_PER_S:
        return f"{rest_us // 1000}ms" if rest_us % 1000 == 0 else f"{rest_us}us"
    whole_s, fraction_us = divmod(rest_us, _US_PER_S)
    decimals = f".{fraction_us:06d}".rstrip("0") if fraction_us else ""
    return f"{text}{whole_s}{decimals}s"


def format_rate(per_s: float) -> str:
    """Write a rate the way :func:`parse_rate` reads it: ``5000.0`` -> ``"5000/s"``.

    Raises:
        ValueError: ``per_s`` is negative or not finite (a programming error).
    """
    if not math.isfinite(per_s) or per_s < 0:
        raise ValueError(f"per_s: {per_s!r} is not a finite, non-negative number")
    return f"{_plain_decimal(per_s)}/s"


#: Byte units, decimal and binary, as people write them; ``Ki``/``Mi``/``Gi``/``Ti`` and
#: ``K``/``M``/``G``/``T`` are Kubernetes' spellings of the same (case is ignored).
_BYTE_UNITS = {
    "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
    "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4,
}  # fmt: skip
#: Binary units, largest first, as :func:`format_binary_size` writes them.
_BINARY_UNITS = (("Ti", 1024**4), ("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024))
_BYTES = re.compile(rf"({NUMBER})\s*([a-z]*)")


def bytes_from_text(text: str) -> int | None:
    """``"64KiB"`` -> 65536, ``"1MB"`` -> 1000000, ``"512"`` -> 512; None if unreadable."""
    match = _BYTES.fullmatch(text.strip().lower())
    if match is None or match.group(2) not in (*_BYTE_UNITS, ""):
        return None
    # Exact: a float would overflow on hundreds of digits, which are out of range, not errors.
    return round(Fraction(match.group(1)) * _BYTE_UNITS.get(match.group(2), 1))


def format_binary_size(size: float) -> str:
    """Write a byte count the way :func:`bytes_from_text` reads it, in the largest binary
    unit that divides it exactly: ``134217728`` -> ``"128Mi"``, ``1536`` -> ``"1536"``.

    Raises:
        ValueError: ``size`` is negative or not finite (a programming error).
    """
    if not math.isfinite(size) or size < 0:
        raise ValueError(f"size: {size!r} is not a finite, non-negative number")
    count = round(size)
    for unit, factor in _BINARY_UNITS:
        if count and count % factor == 0:
            return f"{count // factor}{unit}"
    return str(count)
