"""A series drawn in one line of block characters: ``▁▂▃▄▅▆▇█``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from redline.errors import ConfigError

__all__ = ["sparkline"]

#: The eight heights, lowest first.
BARS: Final = "▁▂▃▄▅▆▇█"
#: What a missing value (NaN or None) is drawn as.
GAP: Final = " "


def sparkline(
    values: Sequence[float | None],
    *,
    width: int | None = None,
    low: float | None = None,
    high: float | None = None,
) -> str:
    """Draw ``values`` as one bar each, scaled from ``low`` to ``high``.

    Args:
        values: the series; None or NaN draws a gap.
        width: at most this many bars: longer series are averaged in equal
            buckets (None: one bar per value).
        low: the value drawn as ``▁`` (default: the smallest).
        high: the value drawn as ``█`` (default: the largest).

    A flat series draws at mid height.

    Raises:
        ConfigError: ``width`` is below 1.

    Example::

        sparkline([1, 2, 3, 4, 5, 6, 7, 8])  # "▁▂▃▄▅▆▇█"
    """
    if width is not None and width < 1:
        raise ConfigError(f"width must be at least 1, got {width!r}")
    points = [math.nan if v is None else float(v) for v in values]
    if width is not None and len(points) > width:
        points = _buckets(points, width)
    finite = [v for v in points if math.isfinite(v)]
    if not finite:
        return GAP * len(points)
    bottom = min(finite) if low is None else low
    top = max(finite) if high is None else high
    return "".join(_bar(v, bottom, top) for v in points)


def _bar(value: float, bottom: float, top: float) -> str:
    if not math.isfinite(value):
        return GAP
    if top <= bottom:
        return BARS[len(BARS) // 2 - 1]
    share = min(1.0, max(0.0, (value - bottom) / (top - bottom)))
    return BARS[round(share * (len(BARS) - 1))]


def _buckets(points: list[float], width: int) -> list[float]:
    """Mean of the finite values in each of ``width`` equal buckets (NaN if none)."""
    out: list[float] = []
    for bucket in range(width):
        start, end = bucket * len(points) // width, (bucket + 1) * len(points) // width
        finite = [v for v in points[start:end] if math.isfinite(v)]
        out.append(sum(finite) / len(finite) if finite else math.nan)
    return out
