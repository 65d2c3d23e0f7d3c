"""Spike tests: how long the target takes to recover, and the errors during the spike."""

from __future__ import annotations

from dataclasses import dataclass

from redline.diagnose._phase_stats import window_of
from redline.metrics import RunSeries
from redline.plan import Phase, PhaseKind

__all__ = ["SpikeVerdict", "spike_verdict"]

#: p95 counts as recovered within this fraction of its pre-spike level.
RECOVERED_WITHIN = 0.10
#: ... for this many consecutive seconds (one good second is noise).
RECOVERED_FOR_S = 3


@dataclass(frozen=True)
class SpikeVerdict:
    """What the spike did."""

    #: p95 response time before the spike (its steady part), in µs.
    before_p95_us: int
    spike_p95_us: int
    spike_errors: int
    spike_error_rate: float
    #: Seconds from the drop back until p95 stayed within 10 % of before; None if never.
    recovery_s: int | None

    def to_dict(self) -> dict[str, object]:
        """The verdict for a results file."""
        return {
            "before_p95_us": self.before_p95_us,
            "spike_p95_us": self.spike_p95_us,
            "spike_errors": self.spike_errors,
            "spike_error_rate": self.spike_error_rate,
            "recovery_s": self.recovery_s,
            "recovered_within": RECOVERED_WITHIN,
            "recovered_for_s": RECOVERED_FOR_S,
        }


def spike_verdict(series: RunSeries, phases: list[Phase], ran_s: float) -> SpikeVerdict | None:
    """Judge a spike test's run; None when the run stopped before the spike ended."""
    before = next(p for p in phases if p.kind is PhaseKind.HOLD)
    spike = next(p for p in phases if p.kind is PhaseKind.SPIKE)
    recovery = next(p for p in phases if p.kind is PhaseKind.RECOVERY)
    before_s = window_of(before.steady_start_s, before.end_s)
    spike_s = window_of(spike.start_s - 1, spike.end_s)  # the 1 s rise is part of the spike
    if before_s is None or spike_s is None or ran_s < spike.end_s:
        return None
    calm = series.window(*before_s)
    stormy = series.window(*spike_s)
    before_p95 = calm.response.value_at_percentile(95.0) if calm.count else 0
    return SpikeVerdict(
        before_p95_us=before_p95,
        spike_p95_us=stormy.response.value_at_percentile(95.0) if stormy.count else 0,
        spike_errors=stormy.failures,
        spike_error_rate=stormy.error_rate,
        recovery_s=_recovery_s(series, before_p95, recovery, ran_s),
    )


def _recovery_s(series: RunSeries, before_p95_us: int, recovery: Phase, ran_s: float) -> int | None:
    seconds = window_of(recovery.start_s, min(recovery.end_s, ran_s))
    if seconds is None or before_p95_us == 0:
        return None
    first, last = seconds
    limit = before_p95_us * (1 + RECOVERED_WITHIN)
    streak = 0
    for second in range(first, last + 1):
        stats = series.at(second)
        good = stats.count > 0 and stats.response.value_at_percentile(95.0) <= limit
        streak = streak + 1 if good else 0
        if streak >= RECOVERED_FOR_S:
            return second - RECOVERED_FOR_S + 1 - first
    return None
