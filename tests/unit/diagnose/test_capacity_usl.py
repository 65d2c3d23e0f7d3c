"""The Universal Scalability Law fit: recovery of known parameters, refusals, derived figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from redline.diagnose import USL_MIN_POINTS, fit_usl
from redline.errors import ConfigError

#: Concurrency levels of the synthetic runs.
LEVELS = np.array([1, 2, 4, 8, 12, 16, 24, 32, 48, 64], dtype=float)


def usl(n: np.ndarray, lam: float, sigma: float, kappa: float) -> np.ndarray:
    result: np.ndarray = lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
    return result


@pytest.mark.parametrize(
    ("lam", "sigma", "kappa"),
    [(100.0, 0.05, 0.002), (1000.0, 0.1, 0.001), (40.0, 0.3, 0.003)],
)
def test_the_fit_recovers_known_parameters_from_noisy_data_within_10_percent(
    lam: float, sigma: float, kappa: float
) -> None:
    rng = np.random.default_rng(7)
    noisy = usl(LEVELS, lam, sigma, kappa) * (1 + rng.normal(0, 0.01, len(LEVELS)))
    fit = fit_usl(LEVELS.tolist(), noisy.tolist())
    assert fit.lambda_ == pytest.approx(lam, rel=0.10)
    assert fit.sigma == pytest.approx(sigma, rel=0.10)
    assert fit.kappa == pytest.approx(kappa, rel=0.10)
    assert fit.r_squared > 0.99
    assert fit.holds
    # The truth lies within three standard errors of each estimate.
    assert abs(fit.sigma - sigma) <= 3 * fit.sigma_se
    assert abs(fit.kappa - kappa) <= 3 * fit.kappa_se


def test_exact_data_is_fitted_exactly_and_the_peak_follows() -> None:
    fit = fit_usl(LEVELS.tolist(), usl(LEVELS, 100.0, 0.05, 0.002).tolist())
    assert (fit.lambda_, fit.sigma, fit.kappa) == pytest.approx((100.0, 0.05, 0.002), rel=1e-6)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.peak_concurrency == pytest.approx(math.sqrt(0.95 / 0.002), rel=1e-6)
    assert fit.max_throughput == pytest.approx(fit.throughput(fit.peak_concurrency))
    # The peak is a maximum: either side is lower.
    assert fit.throughput(fit.peak_concurrency * 0.8) < fit.max_throughput
    assert fit.throughput(fit.peak_concurrency * 1.2) < fit.max_throughput


def test_contention_alone_gives_kappa_zero_and_an_infinite_peak() -> None:
    fit = fit_usl(LEVELS.tolist(), usl(LEVELS, 200.0, 0.04, 0.0).tolist())
    # κ is exactly 0 (bounded, and snapped when negligible), not a tiny value.
    assert fit.kappa == 0.0
    assert fit.sigma == pytest.approx(0.04, rel=1e-4)
    assert math.isinf(fit.peak_concurrency)
    assert fit.max_throughput == pytest.approx(200.0 / 0.04, rel=1e-3)
    assert "infinite" in fit.kappa_meaning()


def test_the_meanings_name_contention_and_coherency() -> None:
    fit = fit_usl(LEVELS.tolist(), usl(LEVELS, 100.0, 0.05, 0.002).tolist())
    assert "5.0% of the work is serialised" in fit.sigma_meaning()
    assert "crosstalk" in fit.kappa_meaning()


def test_fewer_than_six_points_are_refused_not_fitted() -> None:
    with pytest.raises(ConfigError, match=r"needs at least 6 load points, got 5"):
        fit_usl([1, 2, 4, 8, 16], [100, 190, 340, 520, 610])
    assert USL_MIN_POINTS == 6


def test_mismatched_or_non_positive_inputs_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"6 concurrency values but 5 throughputs"):
        fit_usl([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5])
    with pytest.raises(ConfigError, match=r"every throughput must be above 0"):
        fit_usl([1, 2, 3, 4, 5, 6], [1, 2, 3, 0, 5, 6])
    with pytest.raises(ConfigError, match=r"every concurrency must be above 0"):
        fit_usl([0, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6])
