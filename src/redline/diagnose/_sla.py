"""The highest throughput that keeps p95 within a limit: measured, and from the USL fit.

Measured: the levels in load order, up to the first whose p95 passes the limit;
between the last that met it and that first that did not, throughput is
interpolated linearly in p95. From the fit: the mean response time follows
from the law and Little's law, ``R(N) = N/X(N) − Z`` (``Z`` the think time the
measurements imply), and p95 is taken as ``R`` times the measured levels'
median p95/mean ratio; the answer is ``X`` at the largest ``N`` within the
limit, or at ``N*`` if that comes first (past it throughput falls).
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redline.diagnose._load_points import US_PER_S, LoadPoint
from redline.diagnose._usl import UslFit

__all__ = ["SlaAnswer", "SlaSource", "fitted_within_sla", "measured_within_sla"]

#: The largest concurrency the fit's answer searches up to.
MAX_SEARCH_CONCURRENCY = 1e6
#: Bisection steps: enough for a relative precision far below a request.
BISECTION_STEPS = 100


class SlaSource(enum.Enum):
    """Where an answer comes from."""

    #: Interpolated between the last level that met the limit and the first that did not.
    INTERPOLATED = "measured, interpolated"
    #: Every level met the limit: the best measured level (the limit lies beyond the test).
    MEASURED = "measured"
    #: The USL fit, with Little's law and the measured p95/mean ratio.
    FIT = "USL fit"


@dataclass(frozen=True)
class SlaAnswer:
    """The highest throughput within the limit, and how it was found."""

    source: SlaSource
    #: Requests per second, or None when no load met the limit.
    rps: float | None
    #: The concurrency (or level, for measured answers) it is reached at.
    at: float | None
    #: One sentence a reader can check.
    explanation: str


def measured_within_sla(points: Sequence[LoadPoint], p95_limit_us: float) -> SlaAnswer:
    """The highest throughput the measured levels show within ``p95_limit_us``."""
    ordered = sorted(points, key=lambda p: p.level)
    first_bad = next((i for i, p in enumerate(ordered) if p.p95_us > p95_limit_us), None)
    if first_bad is None:
        best = max(ordered, key=lambda p: p.rps)
        return SlaAnswer(
            SlaSource.MEASURED,
            best.rps,
            best.level,
            f"every level met it; the best was {best.rps:,.1f} req/s at {best.level:g} "
            f"{best.unit} (the limit lies beyond the load tested)",
        )
    if first_bad == 0:
        bad = ordered[0]
        return SlaAnswer(
            SlaSource.INTERPOLATED,
            None,
            None,
            f"even the lowest level ({bad.level:g} {bad.unit}) had p95 {bad.p95_us / 1000:,.1f} ms",
        )
    good, bad = ordered[first_bad - 1], ordered[first_bad]
    share = (p95_limit_us - good.p95_us) / (bad.p95_us - good.p95_us)
    rps = max(good.rps, good.rps + share * (bad.rps - good.rps))
    level = good.level + share * (bad.level - good.level)
    return SlaAnswer(
        SlaSource.INTERPOLATED,
        rps,
        level,
        f"between {good.level:g} {good.unit} (met it) and {bad.level:g} {bad.unit} "
        f"(p95 {bad.p95_us / 1000:,.1f} ms): about {rps:,.1f} req/s at {level:,.1f} {good.unit}",
    )


def fitted_within_sla(fit: UslFit, points: Sequence[LoadPoint], p95_limit_us: float) -> SlaAnswer:
    """The highest throughput the fitted law predicts within ``p95_limit_us``."""
    timed = [p for p in points if p.mean_response_s > 0 and p.rps > 0]
    if not timed:
        return SlaAnswer(SlaSource.FIT, None, None, "no level has a mean response time stored")
    think_s = statistics.median(max(0.0, p.concurrency / p.rps - p.mean_response_s) for p in timed)
    ratio = statistics.median(p.p95_us / US_PER_S / p.mean_response_s for p in timed)

    def p95_s(n: float) -> float:
        return ratio * max(n / fit.throughput(n) - think_s, 0.0)

    limit_s = p95_limit_us / US_PER_S
    how = f"p95 = {ratio:.2f} × (N/X(N) − {think_s * 1000:,.0f} ms think time)"
    if p95_s(1.0) > limit_s:
        return SlaAnswer(SlaSource.FIT, None, None, f"not even at N = 1 ({how})")
    ceiling = min(fit.peak_concurrency, MAX_SEARCH_CONCURRENCY)
    n = ceiling if p95_s(ceiling) <= limit_s else _bisect(p95_s, limit_s, 1.0, ceiling)
    measured_max = max(p.concurrency for p in points)
    beyond = " (extrapolated beyond the measured load)" if n > measured_max * 1.05 else ""
    capped = " (capped at N*, past which throughput falls)" if n == fit.peak_concurrency else ""
    if math.isinf(fit.peak_concurrency) and n == MAX_SEARCH_CONCURRENCY:
        capped = f" (still within the limit at N = {MAX_SEARCH_CONCURRENCY:,.0f})"
    rps = fit.throughput(n)
    return SlaAnswer(
        SlaSource.FIT,
        rps,
        n,
        f"{rps:,.1f} req/s at N = {n:,.1f}{capped}{beyond}; {how}",
    )


def _bisect(f: Callable[[float], float], target: float, low: float, high: float) -> float:
    """The largest ``x`` in ``[low, high]`` with ``f(x) <= target``, for an increasing ``f``."""
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        if f(middle) <= target:
            low = middle
        else:
            high = middle
    return low
