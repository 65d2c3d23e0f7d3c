"""Soak tests: does latency or the error rate drift over a long steady load?"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from redline.diagnose._phase_stats import window_of
from redline.diagnose._trend import Trend, linear_trend
from redline.load import RunResult
from redline.metrics import RunSeries
from redline.plan import Phase, PhaseKind

__all__ = ["SoakVerdict", "server_memory_trend", "soak_verdict", "with_server_memory"]


@dataclass(frozen=True)
class SoakVerdict:
    """The drift of the soak's steady part."""

    #: p95 response time, µs per second of run.
    p95_trend: Trend | None
    #: Error rate (0..1) per second of run.
    error_rate_trend: Trend | None
    #: The server's resident memory, bytes per second: filled in when the
    #: server's process is sampled during the run (resource probes); else None.
    server_memory_trend: Trend | None = None

    def to_dict(self) -> dict[str, object]:
        """The verdict for a results file (slopes per hour)."""
        return {
            "p95_us": self.p95_trend.to_dict() if self.p95_trend else None,
            "error_rate": self.error_rate_trend.to_dict() if self.error_rate_trend else None,
            "server_memory_bytes": (
                self.server_memory_trend.to_dict() if self.server_memory_trend else None
            ),
        }


def soak_verdict(series: RunSeries, phases: list[Phase], ran_s: float) -> SoakVerdict:
    """Fit trends to the soak hold's per-second p95 and error rate."""
    hold = next(p for p in phases if p.kind is PhaseKind.HOLD)
    seconds = window_of(hold.steady_start_s, min(hold.end_s, ran_s))
    times: list[float] = []
    p95s: list[float] = []
    errors: list[float] = []
    if seconds is not None:
        for second in range(seconds[0], seconds[1] + 1):
            stats = series.at(second)
            if stats.count:
                times.append(float(second))
                p95s.append(float(stats.response.value_at_percentile(95.0)))
                errors.append(stats.error_rate)
    return SoakVerdict(linear_trend(times, p95s), linear_trend(times, errors))


def server_memory_trend(
    samples: list[dict[str, Any]], phases: list[Phase], ran_s: float, every_s: float = 1.0
) -> Trend | None:
    """Fit the server's RSS over the soak hold's steady span (bytes per second); sample
    ``k`` was taken over ``[k·every_s, (k+1)·every_s)``."""
    hold = next((p for p in phases if p.kind is PhaseKind.HOLD), None)
    seconds = window_of(hold.steady_start_s, min(hold.end_s, ran_s)) if hold else None
    if seconds is None:
        return None
    first, last = seconds
    points = [
        (s["second"] * every_s, float(s["rss_bytes"]))
        for s in samples
        if first <= s["second"] * every_s <= last and s.get("rss_bytes") is not None
    ]
    return linear_trend([t for t, _ in points], [v for _, v in points])


def with_server_memory(verdict: SoakVerdict | None, result: RunResult) -> SoakVerdict | None:
    """``verdict`` with the server's memory trend, when the run sampled the server."""
    if verdict is None or result.resources is None or not result.resources.of("server"):
        return verdict
    resources = result.resources
    trend = server_memory_trend(
        resources.of("server"), result.plan.phases(), result.elapsed_s, resources.interval_s
    )
    return replace(verdict, server_memory_trend=trend)
