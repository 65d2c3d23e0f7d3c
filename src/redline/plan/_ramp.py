"""Ramp shapes: how a stage moves from the previous level to its target.

A *level* is VUs (closed model) or arrivals per second (open model). Each ramp
gives the level ``t_s`` seconds into a stage of ``duration_s``, the *amount*
(the level integrated over time: arrivals, for a rate) and that amount's inverse,
which is how the open model finds when arrival ``n`` is due.

The ramps:

- ``linear`` (the default, k6's): a straight line from the previous level.
- ``step``: the target from the stage's first instant, held to its end (the
  same as a 0-length linear stage followed by a hold). ``instant`` is another
  name for it.
- ``exponential``: geometric growth (or decay) from the previous level to the
  target: the level is multiplied by the same factor every second, so
  ``level(t) = a x (b / a) ** (t / duration)``. A geometric curve never
  reaches 0, so a level of 0 at either end is replaced by
  :data:`EXPONENTIAL_FLOOR` (1 VU or 1/s) within the stage: 0 -> 100 starts at
  1 and reaches 100; 100 -> 0 decays to 1 and drops to 0 when the stage ends.
  A level strictly between 0 and 1 (a rate such as 0.5/s) is refused.

When both ends are equal every ramp holds the level.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass

from redline.plan._problem import Problem, short

__all__ = ["EXPONENTIAL_FLOOR", "RAMP_ALIASES", "Ramp", "RampCurve", "check_ramp", "ramp_from_text"]


class Ramp(enum.StrEnum):
    """How a stage moves from the previous level to its target."""

    #: A straight line (k6's only ramp).
    LINEAR = "linear"
    #: Jump to the target at the stage's start and hold it.
    STEP = "step"
    #: Geometric growth or decay: the same factor every second.
    EXPONENTIAL = "exponential"


#: Other names a plan may use for a ramp.
RAMP_ALIASES: dict[str, Ramp] = {"instant": Ramp.STEP}

#: The level an exponential ramp uses in place of 0 (1 VU, or 1 arrival/s).
EXPONENTIAL_FLOOR = 1.0

#: Below this, ln(b/a) is treated as 0 and the ramp as a hold (avoids 0/0).
_FLAT_LOG_RATIO = 1e-12

_ALLOWED = ", ".join([*Ramp, *(f"{alias} (= {ramp})" for alias, ramp in RAMP_ALIASES.items())])


def ramp_from_text(raw: object) -> Ramp:
    """A validator: ``raw`` names a ramp (``"linear"``, ``"step"``, ...).

    Raises:
        Problem: it names none, e.g. ``'cubic' is not a ramp; allowed linear, step, ...``.
    """
    if isinstance(raw, Ramp):
        return raw
    if isinstance(raw, str):
        name = raw.strip().lower()
        if name in RAMP_ALIASES:
            return RAMP_ALIASES[name]
        if name in Ramp.__members__.values():
            return Ramp(name)
    raise Problem(f"{short(raw)} is not a ramp; allowed {_ALLOWED}")


def _unreachable(level: float) -> bool:
    return 0 < level < EXPONENTIAL_FLOOR


def check_ramp(ramp: Ramp, start: float, target: float) -> None:
    """Refuse a ramp that cannot go from ``start`` to ``target``.

    Only the exponential ramp has limits: it cannot start or end strictly
    between 0 and :data:`EXPONENTIAL_FLOOR`.

    Raises:
        Problem: naming the ramp, both levels, and what is allowed (blames ``ramp``).
    """
    if ramp is not Ramp.EXPONENTIAL or start == target:
        return
    bad = start if _unreachable(start) else target if _unreachable(target) else None
    if bad is not None:
        raise Problem(
            f"{ramp.value!r} from {start:g} to {target:g} cannot reach {bad:g}; allowed "
            f"levels of 0 or at least {EXPONENTIAL_FLOOR:g} at both ends, or another ramp",
            at=("ramp",),
        )


@dataclass(frozen=True, slots=True)
class RampCurve:
    """One stage's level from ``start`` to ``target`` over ``duration_s`` seconds.

    Times are seconds into the stage, ``0 <= t_s <= duration_s``. A 0-length
    stage holds nothing: the level jumps to the target.

    Example::

        curve = RampCurve(Ramp.EXPONENTIAL, start=1, target=100, duration_s=10)
        curve.level_at(5)                        # 10.0
        curve.time_to(curve.amount_by(5))        # 5.0
    """

    ramp: Ramp
    start: float
    target: float
    duration_s: float

    def level_at(self, t_s: float) -> float:
        """The level ``t_s`` seconds into the stage."""
        return _LEVEL[self._kind()](self, t_s)

    def amount_by(self, t_s: float) -> float:
        """The level integrated from the stage's start to ``t_s`` (arrivals, for a rate)."""
        return _AMOUNT[self._kind()](self, t_s)

    def time_to(self, amount: float) -> float:
        """The inverse of :meth:`amount_by`: when the integral reaches ``amount`` (> 0)."""
        return _TIME[self._kind()](self, amount)

    def _kind(self) -> Ramp | None:
        # None: a hold, whatever the ramp (both ends equal, or no time to ramp in).
        if self.start == self.target or self.duration_s <= 0:
            return None
        return self.ramp

    def _ends(self) -> tuple[float, float]:
        """The exponential ramp's ends, a level of 0 replaced by the floor."""
        return self.start or EXPONENTIAL_FLOOR, self.target or EXPONENTIAL_FLOOR

    def _log_ratio(self) -> float:
        low, high = self._ends()
        return math.log(high / low)


def _hold_level(c: RampCurve, t_s: float) -> float:
    return c.target


def _hold_amount(c: RampCurve, t_s: float) -> float:
    return c.target * t_s


def _hold_time(c: RampCurve, amount: float) -> float:
    return amount / c.target


def _linear_level(c: RampCurve, t_s: float) -> float:
    return c.start + (c.target - c.start) * (t_s / c.duration_s)


def _linear_amount(c: RampCurve, t_s: float) -> float:
    return c.start * t_s + (c.target - c.start) / (2 * c.duration_s) * t_s * t_s


def _linear_time(c: RampCurve, amount: float) -> float:
    # The positive root of start*t + slope/2 * t² = amount, free of cancellation.
    slope = (c.target - c.start) / c.duration_s
    disc = c.start * c.start + 2 * slope * amount
    return 2 * amount / (c.start + math.sqrt(max(disc, 0.0)))


def _exponential_level(c: RampCurve, t_s: float) -> float:
    low, _ = c._ends()
    return low * math.exp(c._log_ratio() * t_s / c.duration_s)


def _exponential_amount(c: RampCurve, t_s: float) -> float:
    # ∫ a·e^(k·u/T) du from 0 to t = a·T·(e^(k·t/T) − 1)/k; expm1 keeps it exact for small k.
    low, _ = c._ends()
    k = c._log_ratio()
    if abs(k) < _FLAT_LOG_RATIO:
        return low * t_s
    return low * c.duration_s * math.expm1(k * t_s / c.duration_s) / k


def _exponential_time(c: RampCurve, amount: float) -> float:
    # The inverse of the integral above: t = T·ln(1 + amount·k/(a·T))/k.
    low, _ = c._ends()
    k = c._log_ratio()
    if abs(k) < _FLAT_LOG_RATIO:
        return amount / low
    return c.duration_s * math.log1p(amount * k / (low * c.duration_s)) / k


_LEVEL: dict[Ramp | None, Callable[[RampCurve, float], float]] = {
    None: _hold_level,
    Ramp.LINEAR: _linear_level,
    Ramp.STEP: _hold_level,
    Ramp.EXPONENTIAL: _exponential_level,
}
_AMOUNT: dict[Ramp | None, Callable[[RampCurve, float], float]] = {
    None: _hold_amount,
    Ramp.LINEAR: _linear_amount,
    Ramp.STEP: _hold_amount,
    Ramp.EXPONENTIAL: _exponential_amount,
}
_TIME: dict[Ramp | None, Callable[[RampCurve, float], float]] = {
    None: _hold_time,
    Ramp.LINEAR: _linear_time,
    Ramp.STEP: _hold_time,
    Ramp.EXPONENTIAL: _exponential_time,
}
