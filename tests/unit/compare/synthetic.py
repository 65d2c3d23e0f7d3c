"""Synthetic runs with known effects, for the comparison's tests and bench/compare_power.py.

Each second ``s`` has ``Poisson(rps)`` requests whose response times are
``median_us * (1 + shift) * exp(level_s) * LogNormal(0, sigma_within)``:
``level_s`` is the second's shared slowness (an AR(1) series with standard
deviation ``between_sd`` and lag-1 correlation ``autocorrelation``), so the
per-second p95 varies from second to second as on a real server, and
multiplying by ``1 + shift`` moves every percentile by exactly ``shift``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from redline.compare import ComparedRun
from redline.metrics import IntervalStats, LatencyHistogram, RunSeries

#: Between-second spread that gives a per-second p95 CV of about 7.5 % at the defaults.
TYPICAL_BETWEEN_SD = 0.065


@dataclass(frozen=True)
class Noise:
    """How a synthetic run varies."""

    rps: float = 200.0
    median_us: float = 5_000.0
    sigma_within: float = 0.25
    between_sd: float = TYPICAL_BETWEEN_SD
    autocorrelation: float = 0.0


def synthetic_series(
    rng: np.random.Generator,
    *,
    seconds: int = 60,
    shift: float = 0.0,
    rps_factor: float = 1.0,
    error_rate: float = 0.0,
    noise: Noise = Noise(),
    endpoints: tuple[str, ...] = ("a",),
    warmup_s: int = 0,
    warmup_factor: float = 3.0,
) -> RunSeries:
    """A run of ``seconds`` seconds; the first ``warmup_s`` are ``warmup_factor`` times slower."""
    series = RunSeries()
    level = _levels(rng, seconds, noise)
    for second in range(seconds):
        slow = warmup_factor if second < warmup_s else 1.0
        for endpoint in endpoints:
            count = int(rng.poisson(noise.rps * rps_factor))
            scale = noise.median_us * (1.0 + shift) * slow * np.exp(level[second])
            latencies = scale * rng.lognormal(0.0, noise.sigma_within, count)
            failures = int(rng.binomial(count, error_rate)) if error_rate else 0
            series.add(_second(endpoint, second, latencies.astype(np.int64), failures))
    return series


def synthetic_run(rng: np.random.Generator, label: str = "", **kwargs: object) -> ComparedRun:
    """:func:`synthetic_series` as a :class:`ComparedRun` with a fixed plan fingerprint."""
    return ComparedRun(
        series=synthetic_series(rng, **kwargs),  # type: ignore[arg-type]
        label=label,
        plan_fingerprint="synthetic",
    )


def per_second_p95_cv(series: RunSeries, endpoint: str = "a") -> float:
    """Coefficient of variation of the per-second p95."""
    p95 = np.array(
        [series.at(s, endpoint).response.value_at_percentile(95.0) for s in series.seconds()],
        np.float64,
    )
    return float(p95.std(ddof=1) / p95.mean())


def _levels(rng: np.random.Generator, seconds: int, noise: Noise) -> np.ndarray:
    phi = noise.autocorrelation
    innovations = rng.normal(0.0, noise.between_sd * np.sqrt(1 - phi**2), seconds)
    level = np.empty(seconds)
    level[0] = rng.normal(0.0, noise.between_sd)
    for second in range(1, seconds):
        level[second] = phi * level[second - 1] + innovations[second]
    return level


def _second(endpoint: str, second: int, latencies_us: np.ndarray, failures: int) -> IntervalStats:
    histogram = LatencyHistogram()
    histogram.record_many(latencies_us)
    count = int(latencies_us.size)
    outcomes: dict[int | str, int] = {200: count - failures}
    if failures:
        outcomes[503] = failures
    return IntervalStats(
        endpoint=endpoint,
        second=second,
        count=count,
        failures=failures,
        outcomes=outcomes,
        service=histogram,
        response=histogram.copy(),
    )
