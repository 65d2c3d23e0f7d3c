"""One figure compared: baseline, candidate, the change with its interval, and the verdict."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Final

__all__ = ["Delta", "Metric", "Verdict", "judge"]


class Verdict(enum.Enum):
    """What a comparison concludes about one figure (or a whole run)."""

    #: Better beyond noise: the interval excludes zero and the effect is at least ``min_effect``.
    IMPROVED = "improved"
    #: Worse beyond noise, by the same rule.
    REGRESSED = "regressed"
    #: Within noise, or smaller than ``min_effect``.
    NO_CHANGE = "no significant change"


class Metric(enum.Enum):
    """A figure compared between two runs, over their steady seconds."""

    #: Requests per second.
    THROUGHPUT = "throughput"
    #: Median response time, µs.
    P50 = "p50"
    #: 90th percentile response time, µs.
    P90 = "p90"
    #: 95th percentile response time, µs.
    P95 = "p95"
    #: 99th percentile response time, µs.
    P99 = "p99"
    #: Failed requests as a share of all requests.
    ERROR_RATE = "error_rate"

    @property
    def higher_is_better(self) -> bool:
        """True for throughput; lower is better for latency and errors."""
        return self is Metric.THROUGHPUT

    @property
    def percentile(self) -> float | None:
        """The response-time percentile this metric reads, or None."""
        return _PERCENTILES.get(self)

    @property
    def unit(self) -> str:
        """``"req/s"``, ``"us"`` or ``"ratio"``."""
        if self is Metric.THROUGHPUT:
            return "req/s"
        return "ratio" if self is Metric.ERROR_RATE else "us"


_PERCENTILES: Final = {Metric.P50: 50.0, Metric.P90: 90.0, Metric.P95: 95.0, Metric.P99: 99.0}
#: The latency metrics, in order.
LATENCY_METRICS: Final = tuple(_PERCENTILES)


@dataclass(frozen=True)
class Delta:
    """One metric of one endpoint, compared.

    ``change`` is relative (``candidate / baseline - 1``: +0.10 is 10 % more)
    and None when the baseline is 0 (an error rate that was nil). Its
    ``interval`` is the bootstrap interval of the relative change at the
    comparison's confidence; ``difference_interval`` is that of
    ``candidate - baseline`` in the metric's unit, which exists even when the
    baseline is 0.
    """

    metric: Metric
    baseline: float
    candidate: float
    change: float | None
    interval: tuple[float, float] | None
    difference_interval: tuple[float, float]
    verdict: Verdict

    @property
    def difference(self) -> float:
        """``candidate - baseline``, in the metric's unit."""
        return self.candidate - self.baseline

    def to_dict(self) -> dict[str, object]:
        """The delta as JSON-ready data (NaN written as null)."""
        return {
            "metric": self.metric.value,
            "unit": self.metric.unit,
            "baseline": _finite(self.baseline),
            "candidate": _finite(self.candidate),
            "change": _finite(self.change),
            "interval": None if self.interval is None else [_finite(v) for v in self.interval],
            "difference_interval": [_finite(v) for v in self.difference_interval],
            "verdict": self.verdict.value,
        }


def judge(
    metric: Metric,
    difference: float,
    change: float | None,
    difference_interval: tuple[float, float],
    *,
    min_effect: float,
    min_difference: float = 0.0,
) -> Verdict:
    """The verdict on one metric.

    A change counts only if the interval of the difference excludes zero AND
    the relative effect is at least ``min_effect`` (a change from a baseline of
    0 counts as infinite) AND the absolute ``difference`` is at least
    ``min_difference``. Its direction then decides: better is
    :attr:`Verdict.IMPROVED`, worse :attr:`Verdict.REGRESSED`.
    """
    low, high = difference_interval
    if math.isnan(low) or math.isnan(high) or low <= 0.0 <= high:
        return Verdict.NO_CHANGE
    rose = low > 0.0
    effect = math.inf if change is None else abs(change)
    if change is not None and (change > 0) != rose:
        return Verdict.NO_CHANGE  # the point estimate disagrees with its own interval
    if effect < min_effect or abs(difference) < min_difference:
        return Verdict.NO_CHANGE
    better = rose if metric.higher_is_better else not rose
    return Verdict.IMPROVED if better else Verdict.REGRESSED


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value
