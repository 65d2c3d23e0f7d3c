"""Soak tests: does latency or the error rate drift over a long steady load?"""

from __future__ import annotations

from dataclasses import dataclass

from redline.diagnose._phase_stats import window_of
from redline.diagnose._trend import Trend, linear_trend
from redline.metrics import RunSeries
from redline.plan import Phase, PhaseKind

__all__ = ["SoakVerdict", "soak_verdict"]


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
