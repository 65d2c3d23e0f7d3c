"""Pure schedule math: how many VUs at time t, when the n-th arrival is due,
and how a plan's load is split exactly across worker processes.

Nothing here reads a clock or starts anything; the executors call these
functions with times they got from a :class:`~redline.clock.Clock`.

Glossary:
    arrival: one iteration the open model must start, at its *intended* time.
    segment: the share of a plan one worker runs (worker ``i`` of ``n``).
    amount: the rate integrated from the start, ``∫ rate dt``: how many arrivals
        are due by a time. A timeline maps an amount back to its time.
    stream: the intended times one worker sends at, drawn from a timeline
        (:class:`UniformArrivals` here, ``PoissonArrivals`` in ``_poisson``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from redline.plan import Ramp, RampCurve

__all__ = [
    "ArrivalSchedule",
    "ArrivalStream",
    "ArrivalTimeline",
    "CurveTimeline",
    "RateStage",
    "UniformArrivals",
    "share",
]


def share(total: int, index: int, parts: int) -> int:
    """Worker ``index``'s exact share of ``total`` units split over ``parts``.

    The shares of all workers add up to ``total`` and differ by at most one
    (the execution-segment rule k6 uses), e.g. 65 VUs over 2 workers -> 32, 33.
    """
    return (total * (index + 1)) // parts - (total * index) // parts


class ArrivalTimeline(Protocol):
    """When each amount of arrivals is due: the inverse of the rate's integral."""

    def time_of(self, n: int) -> float | None:
        """Seconds from the start at which arrival ``n`` (0-based) is due, or None past the end."""
        ...

    def time_at(self, amount: float) -> float | None:
        """Seconds at which the integral of the rate reaches ``amount``, or None past the end."""
        ...


class Curve(Protocol):
    """A rate over time with its integral and the integral's inverse."""

    def level_at(self, t_s: float) -> float: ...

    def amount_by(self, t_s: float) -> float: ...

    def time_to(self, amount: float) -> float: ...


class CurveTimeline:
    """The arrivals of a rate given as a curve (the diurnal pattern), for ``duration_s``.

    Arrival ``n`` is due when the curve's integral reaches ``n``, as in
    :class:`ArrivalSchedule`; the total is the integral over the run, rounded up.
    """

    def __init__(self, curve: Curve, *, duration_s: float) -> None:
        self._curve = curve
        self.duration_s = duration_s
        self._total = curve.amount_by(duration_s)

    @property
    def total_arrivals(self) -> int:
        """How many arrivals are due before the end (as :attr:`ArrivalSchedule.total_arrivals`)."""
        return max(0, math.ceil(self._total - 1e-9))

    def rate_at(self, t_s: float) -> float:
        """The planned arrival rate at ``t_s`` seconds."""
        return self._curve.level_at(t_s)

    def arrivals_by(self, t_s: float) -> float:
        """The integral of the rate from the start to ``t_s``."""
        return self._curve.amount_by(min(max(t_s, 0.0), self.duration_s))

    def time_of(self, n: int) -> float | None:
        if n < 0 or n >= self.total_arrivals:
            return None
        return self._curve.time_to(n)

    def time_at(self, amount: float) -> float | None:
        if amount < 0 or amount >= self._total:
            return None
        return self._curve.time_to(amount)


class ArrivalStream(Protocol):
    """One worker's intended start times, in order."""

    def due_s(self) -> float | None:
        """The next arrival's time, seconds from the start; None when there are no more."""
        ...

    def advance(self) -> None:
        """Move past the arrival :meth:`due_s` returned."""
        ...


class UniformArrivals:
    """Worker ``worker`` of ``workers`` takes arrivals ``worker, worker + workers, ...``
    of one timeline: merged, the workers send evenly spaced, exactly the plan's total."""

    def __init__(self, timeline: ArrivalTimeline, *, worker: int, workers: int) -> None:
        self._timeline = timeline
        self._n = worker
        self._step = workers

    def due_s(self) -> float | None:
        return self._timeline.time_of(self._n)

    def advance(self) -> None:
        self._n += self._step


@dataclass(frozen=True, slots=True)
class RateStage:
    """Ramp the arrival rate to ``target_per_s`` over ``duration_s``, linearly unless
    ``ramp`` says otherwise (:class:`~redline.plan.Ramp`)."""

    duration_s: float
    target_per_s: float
    ramp: Ramp = Ramp.LINEAR


class ArrivalSchedule:
    """Intended start times of an open-model run whose rate follows stages.

    The rate starts at ``start_per_s`` and follows the stages; arrival ``n``
    (0-based) is due when the cumulative number of arrivals ``∫ rate dt``
    reaches ``n``, so the first is due at ``t = 0``. Linear stages are solved
    as a quadratic; step and exponential ones by their integral's closed-form
    inverse (:class:`~redline.plan.RampCurve`), so every ramp is exact.

    Example::

        schedule = ArrivalSchedule.constant(rate_per_s=5000, duration_s=10)
        schedule.time_of(1)        # 0.0002
        schedule.total_arrivals    # 50000
    """

    def __init__(self, start_per_s: float, stages: Sequence[RateStage]) -> None:
        self._starts_s = [0.0]
        self._rates = [start_per_s]
        self._cumulative = [0.0]
        #: Each stage's curve, for the ramps that are not linear (None for linear).
        self._curves: list[RampCurve | None] = []
        for stage in stages:
            self._add_stage(stage)

    @classmethod
    def constant(cls, *, rate_per_s: float, duration_s: float) -> ArrivalSchedule:
        """A flat rate for ``duration_s``."""
        return cls(rate_per_s, [RateStage(duration_s, rate_per_s)])

    def _add_stage(self, stage: RateStage) -> None:
        start_rate = self._rates[-1]
        if stage.ramp is Ramp.LINEAR:
            arrivals = (start_rate + stage.target_per_s) / 2 * stage.duration_s
            self._curves.append(None)
        else:
            curve = RampCurve(stage.ramp, start_rate, stage.target_per_s, stage.duration_s)
            arrivals = curve.amount_by(stage.duration_s) if stage.duration_s > 0 else 0.0
            self._curves.append(curve)
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
        curve = self._curves[i]
        if curve is not None:
            return curve.level_at(t_s - self._starts_s[i])
        span = self._starts_s[i + 1] - self._starts_s[i]
        frac = (t_s - self._starts_s[i]) / span if span else 1.0
        return self._rates[i] + (self._rates[i + 1] - self._rates[i]) * frac

    def arrivals_by(self, t_s: float) -> float:
        """The integral of the rate from the start to ``t_s``: arrivals due by then."""
        if t_s <= 0:
            return 0.0
        if t_s >= self.duration_s:
            return self._cumulative[-1]
        i = bisect.bisect_right(self._starts_s, t_s) - 1
        offset_s = t_s - self._starts_s[i]
        curve = self._curves[i] or RampCurve(
            Ramp.LINEAR,
            self._rates[i],
            self._rates[i + 1],
            self._starts_s[i + 1] - self._starts_s[i],
        )
        return self._cumulative[i] + curve.amount_by(offset_s)

    def time_of(self, n: int) -> float | None:
        """Seconds from the start at which arrival ``n`` is due, or None past the end."""
        if n < 0 or n >= self.total_arrivals:
            return None
        return self._time_within(n)

    def time_at(self, amount: float) -> float | None:
        """Seconds at which :meth:`arrivals_by` reaches ``amount``, or None past the end."""
        if amount < 0 or amount >= self._cumulative[-1]:
            return None
        return self._time_within(amount)

    def _time_within(self, amount: float) -> float:
        i = bisect.bisect_right(self._cumulative, amount) - 1
        i = min(i, len(self._starts_s) - 2)
        # Skip zero-length or zero-rate stages that hold no arrivals.
        while self._cumulative[i + 1] <= amount and i < len(self._starts_s) - 2:
            i += 1
        return self._starts_s[i] + self._offset_in_stage(i, amount - self._cumulative[i])

    def _offset_in_stage(self, i: int, arrivals: float) -> float:
        """Solve r0*t + (r1-r0)/(2T) * t² = arrivals for t within stage i (or the
        non-linear stage's curve)."""
        if arrivals <= 0:
            return 0.0
        curve = self._curves[i]
        if curve is not None:
            return curve.time_to(arrivals)
        r0, r1 = self._rates[i], self._rates[i + 1]
        span = self._starts_s[i + 1] - self._starts_s[i]
        slope = (r1 - r0) / span if span else 0.0
        if abs(slope) < 1e-12:
            return arrivals / r0
        # The positive root, written to avoid cancellation when slope is small.
        disc = r0 * r0 + 2 * slope * arrivals
        return 2 * arrivals / (r0 + math.sqrt(max(disc, 0.0)))
