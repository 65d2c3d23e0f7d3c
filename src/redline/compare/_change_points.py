"""Change points in a series of figures (one per run or per commit): E-divisive means.

The method MongoDB's performance CI uses to find the commit that moved a
benchmark (Daly et al., "The Use of Change Point Detection to Identify
Software Performance Regressions in a Continuous Integration System",
ICPE 2020), after Matteson & James (2014), "A Nonparametric Approach for
Multiple Change Point Analysis of Multivariate Data":

1. For a segment, every split ``tau`` gets the energy statistic
   ``Q(tau) = a*b/(a+b) * (2*E|X-Y| - E|X-X'| - E|Y-Y'|)`` with ``X`` the
   ``a`` values before ``tau`` and ``Y`` the ``b`` after: large when the two
   sides differ in any way (level or spread), near zero when they do not.
2. The best split over every current segment is a candidate; a permutation
   test (shuffle within each segment, take the best ``Q`` again) gives its
   p-value: ``(1 + #{permuted >= observed}) / (1 + permutations)``.
3. If significant, split there and repeat; else stop.

Implemented with numpy: each segment's ``Q`` for every split comes from one
distance matrix and running sums, ``O(m**2)`` per segment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from redline.errors import ConfigError

__all__ = ["change_points"]

Floats = npt.NDArray[np.float64]

#: Default p-value below which a candidate is a change point.
DEFAULT_SIGNIFICANCE: Final = 0.05
#: Default permutations per test (p-values in steps of 1/200).
DEFAULT_PERMUTATIONS: Final = 199
#: Fewest values on each side of a change point.
DEFAULT_MIN_SIZE: Final = 3
#: Default seed, so the same series always gives the same change points.
DEFAULT_SEED: Final = 20_261_201


def change_points(
    values: Sequence[float],
    *,
    significance: float = DEFAULT_SIGNIFICANCE,
    permutations: int = DEFAULT_PERMUTATIONS,
    min_size: int = DEFAULT_MIN_SIZE,
    seed: int = DEFAULT_SEED,
) -> list[int]:
    """Where ``values`` changes: the index where each new segment starts, sorted.

    Args:
        values: the series, oldest first (a p95 per nightly run, say).
        significance: the permutation test's p-value threshold.
        permutations: shuffles per test.
        min_size: fewest values on each side of a change point (at least 2).
        seed: the permutations' seed.

    Raises:
        ConfigError: an option is out of range, or a value is not finite.

    Example::

        change_points([10, 11, 10, 10, 11, 15, 16, 15, 15, 16])  # [5]
    """
    series = _checked(values, significance, permutations, min_size)
    rng = np.random.default_rng(seed)
    found: list[int] = []
    bounds = [0, series.size]
    while True:
        segments = list(zip(bounds[:-1], bounds[1:], strict=True))
        best = [_best_split(series[start:end], min_size) for start, end in segments]
        observed = max((q for _, q in best), default=-math.inf)
        if observed == -math.inf:
            return sorted(found)
        chosen = max(range(len(best)), key=lambda i: best[i][1])
        exceeded = 0
        for _ in range(permutations):
            shuffled = (
                _best_split(rng.permutation(series[start:end]), min_size)[1]
                for start, end in segments
            )
            exceeded += max(shuffled) >= observed
        if (1 + exceeded) / (1 + permutations) > significance:
            return sorted(found)
        point = segments[chosen][0] + best[chosen][0]
        found.append(point)
        bounds = sorted([*bounds, point])


def _best_split(segment: Floats, min_size: int) -> tuple[int, float]:
    """The split of ``segment`` with the largest ``Q``, and that ``Q`` (-inf if none fits)."""
    size = segment.size
    if size < 2 * min_size:
        return (0, -math.inf)
    distances = np.abs(segment[:, None] - segment[None, :])
    upper = np.triu(distances, 1)
    # within_left[t]: sum of distances among the first t values; within_right[t]:
    # among values t.. ; each from running sums of one triangle's columns or rows.
    within_left = np.concatenate(([0.0], np.cumsum(upper.sum(axis=0))))
    within_right = np.concatenate((np.cumsum(upper.sum(axis=1)[::-1])[::-1], [0.0]))
    total = within_left[-1]
    splits = np.arange(min_size, size - min_size + 1)
    left, right = splits.astype(np.float64), (size - splits).astype(np.float64)
    across = total - within_left[splits] - within_right[splits]
    q = (left * right / size) * (
        2.0 * across / (left * right)
        - within_left[splits] / (left * (left - 1) / 2)
        - within_right[splits] / (right * (right - 1) / 2)
    )
    best = int(np.argmax(q))
    return (int(splits[best]), float(q[best]))


def _checked(
    values: Sequence[float], significance: float, permutations: int, min_size: int
) -> Floats:
    if not 0.0 < significance < 1.0:
        raise ConfigError(f"significance must be in (0, 1), got {significance!r}")
    if permutations < 1:
        raise ConfigError(f"permutations must be at least 1, got {permutations!r}")
    if min_size < 2:
        raise ConfigError(
            f"min_size must be at least 2, got {min_size!r}",
            hint="each side needs two values to have a spread",
        )
    series = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(series)):
        raise ConfigError(
            "change_points needs finite values; got NaN or infinity",
            hint="leave out runs without the figure",
        )
    return series
