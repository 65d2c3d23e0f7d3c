"""Where a curve bends: Kneedle (Satopää, Albrecht, Irwin and Raghavan, 2011).

"Finding a 'Kneedle' in a Haystack: Detecting Knee Points in System Behavior",
ICDCS workshops 2011. For latency against load the curve is convex and
increasing: flat, then rising steeply. Both axes are scaled to 0..1; the
difference curve ``x − y`` is the distance below the diagonal; a local
maximum of it is a knee once the difference then falls below its value minus
``sensitivity`` times the mean spacing of ``x`` (the paper's threshold), or
the data ends there (offline, every point is known).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["KNEE_MIN_POINTS", "Knee", "find_knee"]

#: Points Kneedle needs to see a bend at all.
KNEE_MIN_POINTS = 3
#: The paper's S: higher is more conservative. 1 is its recommended default.
DEFAULT_SENSITIVITY = 1.0


@dataclass(frozen=True)
class Knee:
    """The point where the curve bends."""

    #: Position of the point in the input, as sorted by ``x``.
    index: int
    x: float
    y: float


def find_knee(
    x: Sequence[float], y: Sequence[float], *, sensitivity: float = DEFAULT_SENSITIVITY
) -> Knee | None:
    """The knee of the convex, increasing curve ``y(x)`` (e.g. p95 against load); None if none.

    None also when there are fewer than :data:`KNEE_MIN_POINTS` points or the
    curve never lies below its chord (it does not bend upward).

    Example::

        find_knee([1, 2, 3, 4, 5, 6], [10, 10, 11, 12, 30, 80])  # Knee(index=3, x=4.0, y=12.0)
    """
    if len(x) != len(y) or len(x) < KNEE_MIN_POINTS:
        return None
    order = np.argsort(np.asarray(x, dtype=np.float64), kind="stable")
    xs = np.asarray(x, dtype=np.float64)[order]
    ys = np.asarray(y, dtype=np.float64)[order]
    x_span, y_span = xs[-1] - xs[0], ys.max() - ys.min()
    if x_span <= 0 or y_span <= 0:
        return None
    xn, yn = (xs - xs[0]) / x_span, (ys - ys.min()) / y_span
    difference = xn - yn
    threshold_step = sensitivity * float(np.mean(np.diff(xn)))
    for i in _local_maxima(difference):
        if difference[i] <= 0:
            continue
        threshold = difference[i] - threshold_step
        later = difference[i + 1 :]
        if np.any(later < threshold):
            return Knee(index=i, x=float(xs[i]), y=float(ys[i]))
    return None


def _local_maxima(values: npt.NDArray[np.float64]) -> list[int]:
    last = len(values) - 1
    return [i for i in range(1, last) if values[i] >= values[i - 1] and values[i] > values[i + 1]]
