"""Poisson arrivals: exponential gaps at the schedule's rate, as from many
independent users, rather than k6's evenly spaced arrivals.

How: the *amount* of a timeline (``∫ rate dt``, see :mod:`redline.load._schedule`)
is the clock of a Poisson process. Points of a rate-1 process in amount,
``E1, E1 + E2, ...`` with ``Ei`` drawn from an exponential distribution of mean
1, mapped back through the timeline's inverse, are a Poisson process whose
rate at each instant is the schedule's rate then (time rescaling). So a ramp,
an exponential ramp or a diurnal curve needs no special case: each gap is
exponential with the instantaneous rate.

Workers: each of ``W`` workers draws its own stream at ``rate / W`` (its
amounts step by ``W x Ei``) from its own generator, seeded from its index, so
a run is the same every time. Independent Poisson streams merge into a
Poisson stream at the sum of their rates (the superposition theorem), so the
arrivals the target sees are still Poisson at the full rate. Unlike uniform
arrivals, the total is not exact: it is Poisson-distributed around the
integral of the rate (100000 planned arrivals give 100000 +- about 316).
"""

from __future__ import annotations

import random

from redline.load._schedule import ArrivalTimeline

__all__ = ["PoissonArrivals", "poisson_random"]


def poisson_random(seed: int) -> random.Random:
    """The generator a worker draws its Poisson gaps from (seeded apart from the
    request picker and the think times, which use the same worker index)."""
    return random.Random(f"poisson-arrivals/{seed}")


class PoissonArrivals:
    """One worker's Poisson stream over a timeline shared by ``workers`` workers.

    Args:
        timeline: the whole plan's arrivals (any :class:`ArrivalTimeline`).
        workers: how many workers draw streams; each draws at ``rate / workers``.
        rng: this worker's generator (:func:`poisson_random` of its index).

    Example::

        stream = PoissonArrivals(ArrivalSchedule.constant(rate_per_s=100, duration_s=10),
                                 workers=1, rng=poisson_random(0))
        stream.due_s()   # the first arrival, about 10 ms in
    """

    def __init__(self, timeline: ArrivalTimeline, *, workers: int, rng: random.Random) -> None:
        self._timeline = timeline
        self._workers = workers
        self._draw = rng.expovariate
        self._amount = self._gap()
        self._due_s: float | None = None
        self._looked_up = False

    def _gap(self) -> float:
        """The next gap in amount: ``workers`` times a draw of mean 1."""
        return self._workers * self._draw(1.0)

    def due_s(self) -> float | None:
        if not self._looked_up:
            self._due_s = self._timeline.time_at(self._amount)
            self._looked_up = True
        return self._due_s

    def advance(self) -> None:
        self._amount += self._gap()
        self._looked_up = False
