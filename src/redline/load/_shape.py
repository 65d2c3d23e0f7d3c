"""Load-shape functions at run time: sampled, checked, and turned into load.

A ``shape`` executor's function (:mod:`redline.plan._shape`) is asked for the
level every :data:`SHAPE_PIECE_S` (100 ms, the closed model's control period):

- VUs: the closed executor asks ``vus_at(t)`` at each control tick, so the
  function is called at ``t = 0, 0.1, 0.2, ...`` and its answer holds until the next.
- arrival rates: the rate is piecewise constant, each 100 ms piece at the rate
  the function gave at the piece's start (:class:`PiecewiseRateTimeline`).
  Arrivals are due where the integral of that step function reaches each whole
  number, exactly as for a plan's stages. A piece is sampled when the schedule
  reaches it, which is up to one gap between arrivals ahead of the clock, and
  pieces at a rate of 0 are looked past at once.

A value the plan does not allow (above ``max_vus`` or ``max_rate``, negative,
not a number) or an exception from the function ends the run: the error,
naming the shape, the value and the bounds, is added to the worker's script
errors (so the run's report shows it) and the executor stops as if the
function had returned None.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from redline.clock import NS_PER_S
from redline.load._closed import CONTROL_PERIOD_NS
from redline.plan import LoadModel
from redline.plan._shape import ShapeFunction

__all__ = ["SHAPE_PIECE_S", "PiecewiseRateTimeline", "ShapeLevels"]

#: How often a shape function is asked for the level, seconds.
SHAPE_PIECE_S = CONTROL_PERIOD_NS / NS_PER_S

#: Rounding slack of a summed amount, in arrivals (as ``ArrivalSchedule.total_arrivals``).
_AMOUNT_SLACK = 1e-9

#: The unit of each model's level, for messages.
_UNIT = {LoadModel.VUS: "VUs", LoadModel.ARRIVAL_RATE: "arrivals/s"}
#: The key that bounds each model's level.
_LIMIT_KEY = {LoadModel.VUS: "max_vus", LoadModel.ARRIVAL_RATE: "max_rate"}


class ShapeLevels:
    """Calls a shape function and checks each value: a level within bounds, or None.

    Args:
        function: the user's ``f(t_s)``.
        name: the shape as the plan names it (``"shapes.py:waves"``), for messages.
        model: what the level counts (whole VUs, or arrivals per second).
        limit: the highest level allowed (``max_vus`` or ``max_rate``).
        errors: where a bad value or an exception is recorded (message -> count).
    """

    def __init__(
        self,
        function: ShapeFunction,
        *,
        name: str,
        model: LoadModel,
        limit: float,
        errors: dict[str, int],
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._on_failure = on_failure
        self._function = function
        self._name = name
        self._model = model
        self._limit = limit
        self._errors = errors
        self._ended = False

    def __call__(self, t_s: float) -> float | None:
        """The level at ``t_s``; None once the function has ended the run (or failed)."""
        if self._ended:
            return None
        try:
            value = self._function(t_s)
        except Exception as exc:  # the user's function failed: end the run, say how, once
            self._fail(f"raised {type(exc).__name__}: {exc}", t_s)
            return None
        if value is None:
            self._ended = True
            return None
        level = self._level(value)
        if level is None:
            self._fail(f"returned {value!r}", t_s)
            return None
        return level

    def _level(self, value: object) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value) or not 0 <= value <= self._limit:
            return None
        if self._model is LoadModel.VUS and not float(value).is_integer():
            return None
        return float(value)

    def _fail(self, what: str, t_s: float) -> None:
        self._ended = True
        unit = _UNIT[self._model]
        whole = "a whole number of " if self._model is LoadModel.VUS else ""
        message = (
            f"shape {self._name!r} {what} at t={t_s:.1f}s; allowed {whole}{unit} "
            f"0..{self._limit:g} ({_LIMIT_KEY[self._model]}) or None to end the run"
        )
        self._errors[message] = self._errors.get(message, 0) + 1
        if self._on_failure is not None:
            self._on_failure(message)


class PiecewiseRateTimeline:
    """Arrivals of a rate sampled every ``piece_s`` and held until the next sample.

    ``rate_at(t)`` is asked at ``t = 0, piece_s, 2 x piece_s, ...`` (never twice);
    None ends the schedule, as does ``duration_s``. Queries must not go back in
    time: each worker builds its own timeline and asks it in order.
    """

    def __init__(
        self,
        rate_at: Callable[[float], float | None],
        *,
        duration_s: float,
        piece_s: float = SHAPE_PIECE_S,
    ) -> None:
        self._rate_at = rate_at
        self.duration_s = duration_s
        self._piece_ns = round(piece_s * NS_PER_S)
        #: The current piece: its index, the amount due by its start, its rate.
        self._piece = -1
        self._start_amount = 0.0
        self._rate = 0.0
        self._ended = False

    def time_of(self, n: int) -> float | None:
        return self.time_at(float(n))

    def time_at(self, amount: float) -> float | None:
        while self._piece < 0 or amount >= self._end_amount():
            if not self._next_piece():
                return None
        return self._start_s(self._piece) + (amount - self._start_amount) / self._rate

    def _start_s(self, piece: int) -> float:
        # From whole nanoseconds: no drift from adding up, and t = 0.3, not 0.30000000000000004.
        return piece * self._piece_ns / NS_PER_S

    def _end_amount(self) -> float:
        # An amount within _AMOUNT_SLACK of a piece's end counts as past it, as an
        # ArrivalSchedule's total does: float sums must not add an arrival at the end.
        start_ns = self._piece * self._piece_ns
        end_ns = min(start_ns + self._piece_ns, round(self.duration_s * NS_PER_S))
        return self._start_amount + self._rate * (end_ns - start_ns) / NS_PER_S - _AMOUNT_SLACK

    def _next_piece(self) -> bool:
        if self._ended:
            return False
        if self._piece >= 0:
            self._start_amount = self._end_amount() + _AMOUNT_SLACK
        self._piece += 1
        start_s = self._start_s(self._piece)
        rate = self._rate_at(start_s) if start_s < self.duration_s else None
        if rate is None:
            self._ended = True
            return False
        self._rate = rate
        return True
