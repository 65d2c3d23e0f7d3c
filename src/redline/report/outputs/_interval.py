"""One completed second of a run, as every streaming output is fed it."""

from __future__ import annotations

import dataclasses
from typing import Any

from redline.metrics import (
    ALL_ENDPOINTS,
    GeneratorStats,
    IntervalStats,
    LatencyHistogram,
    RunSeries,
)

__all__ = [
    "LATENCY_PERCENTILES",
    "Interval",
    "RunningTotals",
    "errors_by_kind",
    "figures",
    "latency_figures",
    "statuses",
]

#: Percentiles the streaming outputs write, with their names (``p99.9``).
LATENCY_PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)
#: The lowest HTTP status counted as an error (as the terminal summary counts them).
ERROR_STATUS = 400


@dataclasses.dataclass(frozen=True)
class Interval:
    """One second every worker has reported, merged: all endpoints and each one.

    Built by the parent process after it merged the second (never by a worker), and
    owned by one output: :meth:`copy` gives each output its own, as outputs run on
    threads of their own.
    """

    #: The second, counted from the run's start (0-based).
    second: int
    #: Every endpoint merged (endpoint :data:`~redline.metrics.ALL_ENDPOINTS`).
    overall: IntervalStats
    #: Each endpoint seen so far in the run, by name (sorted); zero counts if idle.
    endpoints: dict[str, IntervalStats]
    #: The load generator in this second (active VUs, iterations), when reported.
    generator: GeneratorStats | None = None

    @classmethod
    def from_series(cls, series: RunSeries, second: int) -> Interval:
        """The merged ``second`` of ``series`` (new objects: the series is not shared)."""
        return cls(
            second=second,
            overall=series.at(second),
            endpoints={name: series.at(second, name) for name in series.endpoints()},
            generator=series.generator_at(second),
        )

    def copy(self) -> Interval:
        """An independent copy, for another output's thread."""
        return Interval(
            second=self.second,
            overall=self.overall.copy(),
            endpoints={name: stats.copy() for name, stats in self.endpoints.items()},
            generator=None if self.generator is None else self.generator.copy(),
        )

    @property
    def active_vus(self) -> int:
        """Virtual users active in this second (0 when the generator did not say)."""
        return 0 if self.generator is None else self.generator.active_vus


def errors_by_kind(stats: IntervalStats) -> dict[str, int]:
    """Errors by kind: an engine error (``timeout``, ``refused``...) or an HTTP status >= 400.

    Keys are strings (``"timeout"``, ``"503"``), sorted.
    """
    kinds = {
        str(outcome): count
        for outcome, count in stats.outcomes.items()
        if isinstance(outcome, str) or outcome >= ERROR_STATUS
    }
    return dict(sorted(kinds.items()))


def statuses(stats: IntervalStats) -> dict[str, int]:
    """Requests by HTTP status (``"200"``), sorted; requests without a response are left out."""
    found = {str(k): n for k, n in stats.outcomes.items() if isinstance(k, int)}
    return dict(sorted(found.items()))


def latency_figures(histogram: LatencyHistogram) -> dict[str, float | int | None]:
    """``mean``, each :data:`LATENCY_PERCENTILES` (``p50``...) and ``max``, in µs.

    Every value is None when nothing was recorded.
    """
    keys = ["mean", *(f"p{p:g}" for p in LATENCY_PERCENTILES), "max"]
    if histogram.count == 0:
        return dict.fromkeys(keys)
    values: list[float | int] = [round(histogram.mean, 1)]
    values += list(histogram.percentiles(LATENCY_PERCENTILES).values())
    values.append(histogram.max)
    return dict(zip(keys, values, strict=True))


def figures(stats: IntervalStats) -> dict[str, Any]:
    """One endpoint's (or all endpoints') figures for an interval, JSON-ready.

    ``count``, ``rps``, ``failures``, ``errors`` (by kind), ``statuses``, ``latency_us``
    (response time: from when the request was meant to start) and ``service_us``
    (from when it was sent).
    """
    return {
        "count": stats.count,
        "rps": round(stats.rate_per_s, 3),
        "failures": stats.failures,
        "errors": errors_by_kind(stats),
        "statuses": statuses(stats),
        "latency_us": latency_figures(stats.response),
        "service_us": latency_figures(stats.service),
    }


class RunningTotals:
    """Every interval added so far, merged: all endpoints, and each endpoint by name.

    The merged statistics span from the first interval's second to the last's, so their
    ``rate_per_s`` is the average over the run so far.
    """

    def __init__(self) -> None:
        self.overall = IntervalStats(endpoint=ALL_ENDPOINTS, second=0, duration_s=1)
        self._by_name: dict[str, IntervalStats] = {}
        self._first: int | None = None
        self._last = 0
        #: The last interval's generator figures (active VUs now), or None.
        self.generator: GeneratorStats | None = None
        #: How many intervals were added.
        self.intervals = 0

    def add(self, interval: Interval) -> None:
        """Merge ``interval`` in (it is not kept)."""
        self._first = interval.second if self._first is None else min(self._first, interval.second)
        self._last = max(self._last, interval.second)
        self.intervals += 1
        self.overall.merge(interval.overall)
        for name, stats in interval.endpoints.items():
            total = self._by_name.get(name)
            if total is None:
                total = self._by_name[name] = IntervalStats(endpoint=name, second=0)
            total.merge(stats)
        if interval.generator is not None:
            self.generator = interval.generator
        span = max(self._last - self._first + 1, 1)
        for stats in (self.overall, *self._by_name.values()):
            stats.second, stats.duration_s = self._first, span

    @property
    def seconds(self) -> int:
        """Seconds from the first interval to the last (0 before any)."""
        return self.overall.duration_s if self.intervals else 0

    def endpoints(self) -> dict[str, IntervalStats]:
        """Each endpoint's totals, by name (sorted); the objects are live, not copies."""
        return dict(sorted(self._by_name.items()))
