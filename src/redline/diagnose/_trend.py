"""Linear trends with a confidence interval: drift in a soak test, a leak's slope.

A least-squares line through (time, value) points; the slope's 95 %
confidence interval uses Student's t with n - 2 degrees of freedom. A trend is
*significant* when its interval excludes zero.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

__all__ = ["Trend", "linear_trend"]

#: Two-sided 95 % critical values of Student's t by degrees of freedom (1..30).
_T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
#: Beyond 30 degrees of freedom, the normal distribution's 97.5th percentile.
_Z_975 = statistics.NormalDist().inv_cdf(0.975)


def t_critical_95(degrees_of_freedom: int) -> float:
    """The two-sided 95 % critical value of Student's t."""
    if degrees_of_freedom < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {degrees_of_freedom!r}")
    if degrees_of_freedom <= len(_T_975):
        return _T_975[degrees_of_freedom - 1]
    return _Z_975


@dataclass(frozen=True)
class Trend:
    """A fitted line: value units per second, with its 95 % interval."""

    slope_per_s: float
    low_per_s: float
    high_per_s: float
    points: int

    @property
    def significant(self) -> bool:
        """Whether the interval excludes zero: the value really moves."""
        return self.low_per_s > 0 or self.high_per_s < 0

    def to_dict(self, *, per_s: float = 3600.0) -> dict[str, object]:
        """The trend for a results file, scaled per hour by default."""
        return {
            "slope_per_h": self.slope_per_s * per_s,
            "ci95_per_h": [self.low_per_s * per_s, self.high_per_s * per_s],
            "points": self.points,
            "significant": self.significant,
        }


def linear_trend(times_s: list[float], values: list[float]) -> Trend | None:
    """The least-squares trend of ``values`` over ``times_s``; None with fewer than 3 points."""
    n = len(times_s)
    if n != len(values):
        raise ValueError(f"times and values differ in length: {n} and {len(values)}")
    if n < 3:
        return None
    mean_t, mean_v = statistics.fmean(times_s), statistics.fmean(values)
    s_tt = sum((t - mean_t) ** 2 for t in times_s)
    if s_tt == 0:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in zip(times_s, values, strict=True)) / s_tt
    residuals = [v - (mean_v + slope * (t - mean_t)) for t, v in zip(times_s, values, strict=True)]
    variance = sum(r * r for r in residuals) / (n - 2)
    half_width = t_critical_95(n - 2) * math.sqrt(variance / s_tt)
    return Trend(slope, slope - half_width, slope + half_width, n)
