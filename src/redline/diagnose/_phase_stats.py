"""Statistics of each phase of a run, its warm-up left out, and where it became steady."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from redline.diagnose._figures import Figures, figures_of
from redline.metrics import IntervalStats, RunSeries
from redline.plan import Phase

__all__ = ["PhaseStats", "phase_stats", "steady_from_s", "window_of"]

#: Seconds in the rolling window that steady-state detection compares.
STEADY_WINDOW_S = 5
#: A hold is steady from the first second after which every rolling window's
#: throughput stays within this fraction of the rest of the hold's median.
STEADY_TOLERANCE = 0.10


@dataclass(frozen=True, kw_only=True)
class PhaseStats(Figures):
    """One phase's figures over its steady part (after warm-up)."""

    phase: Phase
    bytes_in_per_s: float
    bytes_out_per_s: float
    #: Seconds from the run's start at which throughput settled, or None.
    steady_from_s: int | None
    #: Where the figures end: the phase's end, or the run's if it stopped sooner.
    covered_end_s: float

    def to_dict(self) -> dict[str, object]:
        """The figures for a results file."""
        return {
            **self.phase.to_dict(),
            **self.figures_dict(),
            "bytes_in_per_s": self.bytes_in_per_s,
            "bytes_out_per_s": self.bytes_out_per_s,
            "steady_from_s": self.steady_from_s,
            "covered_end_s": self.covered_end_s,
        }


def window_of(start_s: float, end_s: float) -> tuple[int, int] | None:
    """The whole seconds ``[start_s, end_s)`` covers, as (first, last); None if none."""
    first, last = math.ceil(start_s), math.ceil(end_s) - 1
    return (first, last) if last >= first else None


def phase_stats(series: RunSeries, phase: Phase, ran_s: float) -> PhaseStats | None:
    """``phase``'s figures after its warm-up, to its end or the run's; None if it never ran."""
    covered_end_s = min(phase.end_s, ran_s)
    seconds = window_of(phase.steady_start_s, covered_end_s)
    if seconds is None:
        return None
    first, last = seconds
    stats = _window(series, first, last, phase.requests)
    span_s = float(last - first + 1)
    return PhaseStats(
        phase=phase,
        **figures_of(stats, span_s),
        bytes_in_per_s=stats.bytes_in / span_s,
        bytes_out_per_s=stats.bytes_out / span_s,
        steady_from_s=steady_from_s(series, first, last, phase.requests),
        covered_end_s=round(covered_end_s, 3),
    )


def steady_from_s(
    series: RunSeries, first: int, last: int, requests: tuple[str, ...] = ()
) -> int | None:
    """The first second from which every rolling window's rate is within tolerance.

    The reference is the median per-second rate of ``first..last``; None when
    the span is shorter than one window or never settles.
    """
    rates = [_window(series, s, s, requests).count for s in range(first, last + 1)]
    if len(rates) < STEADY_WINDOW_S:
        return None
    reference = statistics.median(rates)
    if reference == 0:
        return None
    means = [
        statistics.fmean(rates[i : i + STEADY_WINDOW_S])
        for i in range(len(rates) - STEADY_WINDOW_S + 1)
    ]
    settled = None
    for i, mean in enumerate(means):
        if abs(mean / reference - 1) <= STEADY_TOLERANCE:
            settled = i if settled is None else settled
        else:
            settled = None
    return None if settled is None else first + settled


def _window(series: RunSeries, first: int, last: int, requests: tuple[str, ...]) -> IntervalStats:
    """``first..last`` merged over ``requests`` (every request when empty)."""
    if not requests:
        return series.window(first, last)
    merged = IntervalStats(endpoint=", ".join(requests), second=first, duration_s=last - first + 1)
    for name in requests:
        merged.merge(series.window(first, last, name))
    return merged
