"""Thresholds: pass/fail criteria on a run's metrics, written as one short string.

Grammar::

    threshold = METRIC [ "[" ENDPOINT "]" ] OP VALUE [ " over " DURATION ] [ ":abort" ]

    "p95<300ms"               95th percentile latency of all requests under 300 ms
    "error_rate<1%"           fewer than 1 % of requests failed
    "rps>=1000"               at least 1000 completed requests per second
    "p99[checkout]<1s:abort"  for the request named "checkout"; stop the run once it fails
    "p95<300ms over 30s"      evaluated on a sliding 30 s window rather than the whole run

Glossary:
    metric: what is measured (:class:`Metric`).
    endpoint: the ``name`` of one request in the plan; without it, all requests.
    window: how much recent time the metric covers; without it, the whole run.
    abort: stop the run as soon as the threshold fails, rather than only failing the verdict.
"""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from redline.plan._bounds import THRESHOLD_WINDOW_S_RANGE
from redline.plan._problem import Problem
from redline.plan._units import NUMBER, per_second_from_text, seconds_from_text


class Metric(enum.StrEnum):
    """A figure a threshold can test. Latency metrics are compared in microseconds.

    A ``StrEnum``, so a member is also its name as written: ``Metric.P95 == "p95"``.
    """

    P50 = "p50"  # median latency
    P90 = "p90"  # 90th percentile latency
    P95 = "p95"  # 95th percentile latency
    P99 = "p99"  # 99th percentile latency
    P99_9 = "p99.9"  # 99.9th percentile latency
    P99_99 = "p99.99"  # 99.99th percentile latency
    MAX = "max"  # slowest request
    MIN = "min"  # fastest request
    MEAN = "mean"  # arithmetic mean latency
    ERROR_RATE = "error_rate"  # failed requests / all requests, as a fraction 0..1
    RPS = "rps"  # completed requests per second
    COUNT = "count"  # completed requests
    DROPPED = "dropped"  # iterations an arrival-rate executor could not start in time

    @property
    def is_latency(self) -> bool:
        """Whether values are latencies, held in microseconds."""
        return self in _LATENCY_METRICS

    @property
    def percentile(self) -> float | None:
        """The percentile (``99.9`` for ``p99.9``), or ``None`` for other metrics."""
        return float(self.value[1:]) if self.value.startswith("p") else None


_LATENCY_METRICS = frozenset(
    {
        Metric.P50,
        Metric.P90,
        Metric.P95,
        Metric.P99,
        Metric.P99_9,
        Metric.P99_99,
        Metric.MAX,
        Metric.MIN,
        Metric.MEAN,
    }
)


class Comparison(enum.StrEnum):
    """How the observed figure must compare with the threshold's value to pass."""

    LT = "<"  # strictly below
    LE = "<="  # at or below
    GT = ">"  # strictly above
    GE = ">="  # at or above

    def holds(self, observed: float, limit: float) -> bool:
        """Whether ``observed <op> limit``."""
        return _COMPARE[self](observed, limit)


_COMPARE: dict[Comparison, Callable[[float, float], bool]] = {
    Comparison.LT: operator.lt,
    Comparison.LE: operator.le,
    Comparison.GT: operator.gt,
    Comparison.GE: operator.ge,
}

#: Microseconds in one of each latency unit.
_LATENCY_UNIT_US = {"us": 1, "µs": 1, "ms": 1_000, "s": 1_000_000}

_HEAD = re.compile(r"(?P<metric>[^\s\[<>=!]+)\s*(?:\[(?P<endpoint>[^\]]*)\])?\s*(?P<op>[<>=!]+)")
_OVER = re.compile(r"\s+over\s+")
_ABORT = ":abort"
_GRAMMAR = "expected METRIC[ENDPOINT] OP VALUE [over DURATION][:abort], e.g. 'p95<300ms'"
_METRICS = ", ".join(metric.value for metric in Metric)
_OPS = ", ".join(op.value for op in Comparison)


@dataclass(frozen=True, slots=True)
class Threshold:
    """One pass/fail criterion, parsed from its source text by :func:`parse_threshold`.

    Attributes:
        source: the text as written, used in reports and when the plan is saved.
        metric: what is measured.
        op: how the observed figure must compare with ``value``.
        value: the limit: microseconds for latency metrics, a fraction 0..1 for
            ``error_rate``, per second for ``rps``, a count for ``count`` and ``dropped``.
        endpoint: the request name it applies to, or ``None`` for all requests.
        window_s: the sliding window in seconds, or ``None`` for the whole run.
        abort: stop the run as soon as it fails.
    """

    source: str
    metric: Metric
    op: Comparison
    value: float
    endpoint: str | None = None
    window_s: float | None = None
    abort: bool = False

    def holds(self, observed: float) -> bool:
        """Whether the observed figure (in the units of :attr:`value`) passes.

        Example::

            parse_threshold("p95<300ms").holds(250_000.0)  # True: 250 ms < 300 ms
        """
        return self.op.holds(observed, self.value)

    def __str__(self) -> str:
        return self.source


def _latency_us(text: str) -> float:
    match = re.fullmatch(rf"({NUMBER})\s*(us|µs|ms|s)", text)
    if match is None:
        raise Problem(
            f"{text!r} is not a latency; write a number with a unit us, ms or s, e.g. '300ms'"
        )
    return float(Fraction(match[1]) * _LATENCY_UNIT_US[match[2]])


def _fraction(text: str) -> float:
    percent = re.fullmatch(rf"({NUMBER})\s*%", text)
    if percent is not None:
        value = Fraction(percent[1]) / 100
    elif re.fullmatch(NUMBER, text):
        value = Fraction(text)
    else:
        raise Problem(f"{text!r} is not an error rate; write a percentage such as '1%' or 0.01")
    if value > 1:
        raise Problem(f"{text!r} is out of range; allowed 0%..100% (or a fraction 0..1)")
    return float(value)


def _count(text: str) -> float:
    if not re.fullmatch(NUMBER, text):
        raise Problem(f"{text!r} is not a count; write a non-negative number such as 100")
    return float(Fraction(text))


def _metric_value(metric: Metric, text: str) -> float:
    if metric.is_latency:
        return _latency_us(text)
    if metric is Metric.ERROR_RATE:
        return _fraction(text)
    if metric is Metric.RPS:
        return per_second_from_text(text)
    return _count(text)


def _window_s(text: str) -> float:
    window_s = seconds_from_text(text)
    THRESHOLD_WINDOW_S_RANGE.check(text, window_s)
    return window_s


def threshold_from_text(source: str) -> Threshold:
    """Parse a threshold; raises :class:`Problem` (no field name) if it is malformed."""
    text = source.strip()
    abort = text.endswith(_ABORT)
    if abort:
        text = text.removesuffix(_ABORT).rstrip()
    condition, *windows = _OVER.split(text)
    head = _HEAD.match(condition)
    if head is None or len(windows) > 1:
        raise Problem(f"{source!r} is not a threshold; {_GRAMMAR}")
    try:
        metric = Metric(head["metric"])
    except ValueError:
        raise Problem(
            f"{source!r} has unknown metric {head['metric']!r}; allowed {_METRICS}"
        ) from None
    try:
        op = Comparison(head["op"])
    except ValueError:
        raise Problem(f"{source!r} has unknown operator {head['op']!r}; allowed {_OPS}") from None
    endpoint = head["endpoint"]
    if endpoint is not None and not endpoint.strip():
        raise Problem(f"{source!r} has an empty endpoint '[]'; name a request or drop the brackets")
    try:
        value = _metric_value(metric, condition[head.end() :].strip())
    except Problem as problem:
        raise Problem(f"{source!r} has a bad value: {problem.detail}") from None
    try:
        window_s = _window_s(windows[0]) if windows else None
    except Problem as problem:
        raise Problem(f"{source!r} has a bad window: {problem.detail}") from None
    return Threshold(
        source=source,
        metric=metric,
        op=op,
        value=value,
        endpoint=endpoint.strip() if endpoint is not None else None,
        window_s=window_s,
        abort=abort,
    )


def parse_threshold(text: str, *, field: str = "threshold") -> Threshold:
    """Parse one threshold (see the module docstring for the grammar).

    Args:
        text: e.g. ``"p95<300ms"``, ``"error_rate<1%"``, ``"p99[checkout]<1s over 30s:abort"``.
        field: the name the user gave the value under, used in the error.

    Raises:
        ConfigError: ``text`` does not follow the grammar, names an unknown metric or
            operator, or its value does not suit the metric.

    Example::

        threshold = parse_threshold("p99[checkout]<1s:abort")
        threshold.value, threshold.endpoint, threshold.abort  # (1000000.0, "checkout", True)
    """
    try:
        return threshold_from_text(text)
    except Problem as problem:
        raise problem.at_field(field) from None
