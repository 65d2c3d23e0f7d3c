"""Every input range redline accepts: the product's contract, in one place.

A value outside its range is refused with one line that names the field, the
bad value as written and the range: ``duration: '5s' is out of range; allowed 10s..24h``.
The validators here turn raw input (a TOML value or a flag's text) into a number
and check its range in one step, so the message can quote what the user wrote.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from redline.plan._problem import Problem, short
from redline.plan._units import (
    bytes_from_text,
    format_binary_size,
    format_duration,
    format_rate,
    per_second_from_text,
    seconds_from_text,
)


class Unit(enum.Enum):
    """What the numbers of a :class:`Range` count, which decides how they are written."""

    COUNT = "count"  # whole things: VUs, iterations, workers
    SECONDS = "seconds"  # time, written "10s", "24h"
    PER_SECOND = "per_second"  # rates, written "0.1/s"
    RATIO = "ratio"  # plain numbers that need not be whole: factors, fractions
    BYTES = "bytes"  # sizes, written in binary units: "128Mi", "512Gi"


@dataclass(frozen=True, slots=True)
class Range:
    """An inclusive range of allowed values.

    Example::

        VUS_RANGE = Range(1, 50_000, Unit.COUNT)
        str(VUS_RANGE)  # "1..50000"
        20 in VUS_RANGE  # True
    """

    low: float
    high: float
    unit: Unit
    #: How the range is written when its units' own spelling reads badly (``"1s..30d"``).
    label: str | None = None

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high  # False for NaN, as it should be

    def __str__(self) -> str:
        if self.label is not None:
            return self.label
        return f"{self._show(self.low)}..{self._show(self.high)}"

    def _show(self, value: float) -> str:
        if self.unit is Unit.SECONDS:
            return format_duration(value)
        if self.unit is Unit.PER_SECOND:
            return format_rate(value)
        if self.unit is Unit.RATIO:
            return f"{value:g}"
        if self.unit is Unit.BYTES:
            return format_binary_size(value)
        return str(int(value))

    def check(self, raw: object, value: float) -> None:
        """Raise :class:`Problem` quoting ``raw`` unless ``value`` (parsed from it) is in range."""
        if value not in self:
            raise Problem(f"{short(raw)} is out of range; allowed {self}")


_DAY_S = 24 * 3600

#: Virtual users: ``vus``, ``max_vus``, ``pre_allocated_vus``.
VUS_RANGE = Range(1, 50_000, Unit.COUNT)
#: Stage targets and ``start_vus`` of VU executors; 0 ramps down to nothing.
VU_TARGET_RANGE = Range(0, 50_000, Unit.COUNT)
#: How long a run lasts (``duration``, ``max_duration``).
DURATION_S_RANGE = Range(10, _DAY_S, Unit.SECONDS)
#: One stage; 0 jumps straight to the stage's target.
STAGE_DURATION_S_RANGE = Range(0, _DAY_S, Unit.SECONDS)
#: All stages of a ramping executor together.
STAGES_TOTAL_S_RANGE = Range(10, _DAY_S, Unit.SECONDS)
#: Ramping up or down gracefully (``graceful_ramp_down``).
RAMP_S_RANGE = Range(0, 3600, Unit.SECONDS)
#: Arrival rate of an open-model executor.
RATE_PER_S_RANGE = Range(0.1, 100_000, Unit.PER_SECOND)
#: Stage targets and ``start_rate`` of arrival-rate executors; 0 stops arrivals.
RATE_TARGET_PER_S_RANGE = Range(0, 100_000, Unit.PER_SECOND)
#: ``connect_timeout`` and ``request_timeout``.
TIMEOUT_S_RANGE = Range(0.1, 300, Unit.SECONDS)
#: Iterations of the iteration executors.
ITERATIONS_RANGE = Range(1, 100_000_000, Unit.COUNT)
#: A request's share of the mix.
WEIGHT_RANGE = Range(1, 1000, Unit.COUNT)
#: Load-generating worker processes.
WORKERS_RANGE = Range(1, 256, Unit.COUNT)
#: Pause between one VU's iterations, and every duration of a think-time model.
THINK_TIME_S_RANGE = Range(0, 60, Unit.SECONDS)
#: The median of a lognormal think time (above 0: its logarithm is taken).
THINK_MEDIAN_S_RANGE = Range(0.001, 60, Unit.SECONDS)
#: The spread of a lognormal think time: the standard deviation of the pause's logarithm.
LOGNORMAL_SIGMA_RANGE = Range(0, 3, Unit.RATIO)
#: Closed model: time from the start of one of a VU's iterations to the start of its next.
PACING_S_RANGE = Range(0.001, 3600, Unit.SECONDS)
#: A threshold's ``over`` window; metrics are kept per second, so no shorter.
THRESHOLD_WINDOW_S_RANGE = Range(1, _DAY_S, Unit.SECONDS)
#: HTTP status codes a request may expect (RFC 9110 section 15).
STATUS_RANGE = Range(100, 599, Unit.COUNT)
#: Load levels of a stress or scalability test.
TEST_STEPS_RANGE = Range(2, 50, Unit.COUNT)
#: A spike's level as a multiple of the test's target.
SPIKE_FACTOR_RANGE = Range(1.1, 100, Unit.RATIO)
#: Repeats of a baseline test.
BASELINE_REPEAT_RANGE = Range(1, 20, Unit.COUNT)
#: The error rate that breaks a stress step or a breakpoint window (0.05 = 5 %).
ERROR_LIMIT_RANGE = Range(0.0, 1.0, Unit.RATIO)
#: The body size of a volume test's requests, in bytes (16 B..100 MiB).
BODY_SIZE_RANGE = Range(16, 100 * 1024**2, Unit.COUNT)
#: The data set a volume test spreads its requests over: ``${row}`` is 0..rows-1.
DATA_ROWS_RANGE = Range(1, 1_000_000_000, Unit.COUNT)
#: The windows a breakpoint ramp is judged in.
JUDGE_WINDOW_S_RANGE = Range(1, 3600, Unit.SECONDS)

# Resource limits, cache TTLs and network ports (issue 10's contract). No plan key
# takes them yet: they are the validation API of the commands that will
# (:mod:`redline.plan._limits`), written down here with every other range.

#: CPU given to a process or container, in cores (``0.5``, ``"500m"``).
CPU_CORES_RANGE = Range(0.1, 64, Unit.RATIO)
#: Memory given to a process or container (``"512Mi"``, ``"2Gi"``).
MEMORY_BYTES_RANGE = Range(128 * 1024**2, 512 * 1024**3, Unit.BYTES)
#: Disk operations per second given to a volume.
IOPS_RANGE = Range(100, 10_000, Unit.COUNT)
#: How long a cache keeps an entry.
CACHE_TTL_S_RANGE = Range(1, 30 * _DAY_S, Unit.SECONDS, label="1s..30d")
#: A TCP port to connect to or listen on.
PORT_RANGE = Range(1, 65_535, Unit.COUNT)


def _number(raw: object) -> int | float | None:
    # TOML and JSON numbers only; ``true`` is an int to Python but not a number to a user.
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return raw


def whole_number_in(allowed: Range) -> Callable[[object], int]:
    """A validator: ``raw`` must be a whole number (not ``true``) within ``allowed``."""

    def validate(raw: object) -> int:
        number = _number(raw)
        if number is None or (isinstance(number, float) and not number.is_integer()):
            raise Problem(f"{short(raw)} is not a whole number; allowed {allowed}")
        allowed.check(raw, number)
        return int(number)

    return validate


def number_in(allowed: Range) -> Callable[[object], float]:
    """A validator: ``raw`` is a number (not ``true``; need not be whole) within ``allowed``."""

    def validate(raw: object) -> float:
        number = _number(raw)
        if number is None:
            raise Problem(f"{short(raw)} is not a number; allowed {allowed}")
        allowed.check(raw, number)
        return float(number)

    return validate


def _quantity_in(
    allowed: Range, from_text: Callable[[str], float | None], unreadable: str
) -> Callable[[object], float]:
    """A validator: ``raw`` is a number, or text ``from_text`` reads, within ``allowed``.

    ``unreadable`` ends the message when it is neither (``"is not a rate; ..."``); every
    message ends with the range, so even unreadable input learns what is allowed.
    """

    def validate(raw: object) -> float:
        try:
            value = from_text(raw) if isinstance(raw, str) else _number(raw)
        except Problem as problem:
            raise Problem(f"{problem.detail}; allowed {allowed}", hint=problem.hint) from None
        if value is None:
            raise Problem(f"{short(raw)} {unreadable}; allowed {allowed}")
        allowed.check(raw, value)
        return float(value)

    return validate


def _signed(from_text: Callable[[str], float]) -> Callable[[str], float]:
    """``from_text`` that also reads a minus sign: ``"-5s"`` -> -5.0, so a negative
    duration or rate is out of range, not unreadable."""

    def read(text: str) -> float:
        stripped = text.strip()
        if stripped.startswith("-"):
            try:
                return -from_text(stripped[1:])
            except Problem:
                pass  # not a value after all: say so about the whole text
        return from_text(text)

    return read


_signed_seconds = _signed(seconds_from_text)
_signed_per_second = _signed(per_second_from_text)


def seconds_in(allowed: Range) -> Callable[[object], float]:
    """A validator: ``raw`` is a duration (``"30s"`` or a number of seconds) within ``allowed``."""
    return _quantity_in(
        allowed, _signed_seconds, "is not a duration; write e.g. '30s' or a number of seconds"
    )


def per_second_in(allowed: Range) -> Callable[[object], float]:
    """A validator: ``raw`` is a rate (``"5000/s"`` or a number per second) within ``allowed``."""
    return _quantity_in(
        allowed, _signed_per_second, "is not a rate; write e.g. '5000/s' or a number per second"
    )


def _fraction_from_text(text: str) -> float | None:
    """``"5%"`` -> 0.05; None for anything else."""
    stripped = text.strip()
    if not stripped.endswith("%"):
        return None
    try:
        return float(stripped[:-1]) / 100
    except ValueError:
        return None


def fraction_in(allowed: Range) -> Callable[[object], float]:
    """A validator: ``raw`` is a number (``0.05``) or a percentage (``"5%"``) within ``allowed``."""
    return _quantity_in(allowed, _fraction_from_text, "is not a number; write e.g. 0.05 or '5%'")


def bytes_in(allowed: Range) -> Callable[[object], int]:
    """A validator: ``raw`` is a size (``"64KiB"``, ``"1MB"``, a byte count) within ``allowed``."""
    size_in = _quantity_in(
        allowed, bytes_from_text, "is not a size; write e.g. '64KiB', '1MB' or a number of bytes"
    )
    return lambda raw: int(size_in(raw))
