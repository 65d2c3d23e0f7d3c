"""Pure schedule math: how many VUs at time t, when the n-th arrival is due,
and how a plan's load is split exactly across worker processes.

Nothing here reads a clock or starts anything; the executors call these
functions with times they got from a :class:`~redline.clock.Clock`.

Glossary:
    arrival: one iteration the open model must start, at its *intended* time.
    segment: the share of a plan one worker runs (worker ``i`` of ``n``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ArrivalSchedule", "RateStage", "share"]


def share(total: int, index: int, parts: int) -> int:
    """Worker ``index``'s exact share of ``total`` units split over ``parts``.

    The shares of all workers add up to ``total`` and differ by at most one
    (the execution-segment rule k6 uses), e.g. 65 VUs over 2 workers -> 32, 33.
    """
    return (total * (index + 1)) // parts - (total * index) // parts


@dataclass(frozen=True, slots=True)
class RateStage:
    """Ramp the arrival rate linearly to ``target_per_s`` over ``duration_s``."""

    duration_s: float
    target_per_s: float


class ArrivalSchedule:
    """Intended start times of an open-model run with a piecewise-linear rate.

    The rate starts at ``start_per_s`` and follows the stages; arrival ``n``
    (0-based) is due when the cumulative number of arrivals ``∫ rate dt``
    reaches ``n``, so the first is due at ``t = 0``.

    Example::

        schedule = ArrivalSchedule.constant(rate_per_s=5000, duration_s=10)
        schedule.time_of(1)        # 0.0002
        schedule.total_arrivals    # 50000
    """

    def __init__(self, start_per_s: float, stages: Sequence[RateStage]) -> None:
        self._starts_s = [0.0]
        self._rates = [start_per_s]
        self._cumulative = [0.0]
        for stage in stages:
            self._add_stage(stage)

    @classmethod
    def constant(cls, *, rate_per_s: float, duration_s: float) -> ArrivalSchedule:
        """A flat rate for ``duration_s``."""
        return cls(rate_per_s, [RateStage(duration_s, rate_per_s)])

    def _add_stage(self, stage: RateStage) -> None:
        start_rate = self._rates[-1]
        arrivals = (start_rate + stage.target_per_s) / 2 * stage.duration_s
        self._starts_s.append(self._starts_s[-1] + stage.duration_s)
        self._rates.append(stage.target_per_s)
        self._cumulative.append(self._cumulative[-1] + arrivals)

    @property
    def duration_s(self) -> float:
        """When the schedule ends."""
        return self._starts_s[-1]

    @property
    def total_arrivals(self) -> int:
        """How many arrivals the whole schedule holds (those due before its end)."""
        total = self._cumulative[-1]
        # Arrival n is due when the cumulative count reaches n; the one due
        # exactly at the end belongs to the next run, not this one.
        whole = math.ceil(total - 1e-9)
        return max(0, whole)

    def rate_at(self, t_s: float) -> float:
        """The planned arrival rate at ``t_s`` seconds (linear within a stage)."""
        if t_s >= self.duration_s:
            return self._rates[-1]
        i = bisect.bisect_right(self._starts_s, t_s) - 1
        span = self._starts_s[i + 1] - self._starts_s[i]
        frac = (t_s - self._starts_s[i]) / span if span else 1.0
        return self._rates[i] + (self._rates[i + 1] - self._rates[i]) * frac

    def time_of(self, n: int) -> float | None:
        """Seconds from the start at which arrival ``n`` is due, or None past the end."""
        if n < 0 or n >= self.total_arrivals:
            return None
        i = bisect.bisect_right(self._cumulative, n) - 1
        i = min(i, len(self._starts_s) - 2)
        # Skip zero-length or zero-rate stages that hold no arrivals.
        while self._cumulative[i + 1] <= n and i < len(self._starts_s) - 2:
            i += 1
        return self._starts_s[i] + self._offset_in_stage(i, n - self._cumulative[i])

    def _offset_in_stage(self, i: int, arrivals: float) -> float:
        """Solve r0*t + (r1-r0)/(2T) * t² = arrivals for t within stage i."""
        if arrivals <= 0:
            return 0.0
        r0, r1 = self._rates[i], self._rates[i + 1]
        span = self._starts_s[i + 1] - self._starts_s[i]
        slope = (r1 - r0) / span if span else 0.0
        if abs(slope) < 1e-12:
            return arrivals / r0
        # The positive root, written to avoid cancellation when slope is small.
        disc = r0 * r0 + 2 * slope * arrivals
        return 2 * arrivals / (r0 + math.sqrt(max(disc, 0.0)))
