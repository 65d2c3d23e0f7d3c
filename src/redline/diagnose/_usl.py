"""The Universal Scalability Law fitted to throughput against concurrency.

Gunther's law: ``X(N) = λ·N / (1 + σ·(N − 1) + κ·N·(N − 1))``.

- ``λ`` (lambda): the throughput of one unit of concurrency, req/s.
- ``σ`` (sigma, contention): the share of the work that is serialised (it
  waits its turn on a shared resource); alone it caps throughput at ``λ/σ``.
- ``κ`` (kappa, coherency): the cost of crosstalk between every pair of
  concurrent requests (keeping shared state consistent); it makes throughput
  fall again past the peak concurrency ``N* = √((1 − σ)/κ)``.

The fit is bounded non-linear least squares (``λ > 0``, ``0 ≤ σ ≤ 1``,
``κ ≥ 0``) by Levenberg–Marquardt with the bounds kept by projection, from a
few starting points (one from the law's linearised form), in numpy alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from redline.errors import ConfigError

__all__ = ["FIT_HOLDS_RMSE_SHARE", "USL_MIN_POINTS", "UslFit", "fit_usl"]

#: Load points the fit needs: three parameters, and three degrees of freedom
#: left for the standard errors.
USL_MIN_POINTS = 6
#: Levenberg–Marquardt iterations at most, per starting point.
MAX_ITERATIONS = 500
#: Stop when an accepted step lowers the squared error by less than this share.
RELATIVE_TOLERANCE = 1e-12
#: The smallest λ the projection allows (λ must stay positive).
MIN_LAMBDA = 1e-12
#: A σ or κ that changes the denominator by less than this at the largest
#: measured N is rounding left by the optimiser: it is set to 0.
NEGLIGIBLE_EFFECT = 1e-9
#: The fit holds (its predictions are used) when its residuals' RMS is at most
#: this share of the mean measured throughput. R² alone would reject a flat,
#: saturated curve that the law reproduces well: its variance is all noise.
FIT_HOLDS_RMSE_SHARE = 0.05

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class UslFit:
    """The fitted law, its standard errors, its goodness of fit and what follows from it."""

    #: Throughput of one unit of concurrency, req/s.
    lambda_: float
    #: Contention: the serialised share of the work, 0..1.
    sigma: float
    #: Coherency: the crosstalk cost per pair of concurrent requests.
    kappa: float
    lambda_se: float
    sigma_se: float
    kappa_se: float
    #: Share of the throughput's variance the law explains.
    r_squared: float
    #: Load points fitted.
    points: int
    #: The residuals' root mean square as a share of the mean measured throughput.
    rmse_share: float

    @property
    def holds(self) -> bool:
        """Whether the law reproduces the measurements (see :data:`FIT_HOLDS_RMSE_SHARE`)."""
        return self.rmse_share <= FIT_HOLDS_RMSE_SHARE

    def throughput(self, concurrency: float) -> float:
        """``X(N)``: the throughput the law predicts at ``concurrency``, req/s."""
        n = concurrency
        return self.lambda_ * n / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1))

    @property
    def peak_concurrency(self) -> float:
        """``N* = √((1 − σ)/κ)``: where throughput peaks; ``math.inf`` when κ = 0."""
        if self.kappa <= 0:
            return math.inf
        return max(1.0, math.sqrt(max(0.0, 1 - self.sigma) / self.kappa))

    @property
    def max_throughput(self) -> float:
        """``X(N*)``; with κ = 0 the ceiling ``λ/σ`` it approaches (inf when σ = 0 too)."""
        if self.kappa > 0:
            return self.throughput(self.peak_concurrency)
        return self.lambda_ / self.sigma if self.sigma > 0 else math.inf

    def sigma_meaning(self) -> str:
        """What σ says, in a sentence."""
        return (
            f"contention σ = {self.sigma:.4f}: about {self.sigma:.1%} of the work is "
            "serialised (it waits its turn on a shared resource: a lock, a pool, one core)"
        )

    def kappa_meaning(self) -> str:
        """What κ says, in a sentence."""
        if self.kappa <= 0:
            return (
                "coherency κ = 0: no crosstalk cost measured; throughput never falls, it "
                "flattens toward λ/σ, so the peak concurrency N* is infinite"
            )
        return (
            f"coherency κ = {self.kappa:.3g}: each pair of concurrent requests costs that "
            "much extra work to keep shared state consistent (crosstalk); past N* adding "
            "concurrency lowers throughput"
        )


def fit_usl(concurrency: Sequence[float], throughput: Sequence[float]) -> UslFit:
    """Fit the law to ``throughput`` (req/s) at ``concurrency`` (N), one pair per load point.

    Raises:
        ConfigError: fewer than :data:`USL_MIN_POINTS` points, lengths that differ, or
            a concurrency or throughput that is not positive.

    Example::

        fit = fit_usl([1, 2, 4, 8, 16, 32], [100, 190, 340, 520, 610, 560])
        fit.sigma, fit.kappa, fit.peak_concurrency
    """
    n, x = _checked(concurrency, throughput)
    fitted = [_levenberg_marquardt(n, x, start) for start in _starts(n, x)]
    best = min(fitted, key=lambda p: _ssr(n, x, p))
    return _fit_at(n, x, _snapped(best, float(n.max())))


def _checked(concurrency: Sequence[float], throughput: Sequence[float]) -> tuple[Array, Array]:
    if len(concurrency) != len(throughput):
        raise ConfigError(
            f"USL fit: {len(concurrency)} concurrency values but {len(throughput)} throughputs"
        )
    if len(concurrency) < USL_MIN_POINTS:
        raise ConfigError(
            f"USL fit: needs at least {USL_MIN_POINTS} load points, got {len(concurrency)}",
            hint=f"run more steps (e.g. --steps {USL_MIN_POINTS})",
        )
    n = np.asarray(concurrency, dtype=np.float64)
    x = np.asarray(throughput, dtype=np.float64)
    if not (np.all(np.isfinite(n)) and np.all(n > 0)):
        raise ConfigError(f"USL fit: every concurrency must be above 0, got {list(concurrency)!r}")
    if not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise ConfigError(f"USL fit: every throughput must be above 0, got {list(throughput)!r}")
    return n, x


def _model(n: Array, p: Array) -> Array:
    lam, sigma, kappa = p
    result: Array = lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
    return result


def _jacobian(n: Array, p: Array) -> Array:
    lam, sigma, kappa = p
    d = 1 + sigma * (n - 1) + kappa * n * (n - 1)
    return np.column_stack([n / d, -lam * n * (n - 1) / d**2, -lam * n**2 * (n - 1) / d**2])


def _project(p: Array) -> Array:
    return np.array([max(p[0], MIN_LAMBDA), min(max(p[1], 0.0), 1.0), max(p[2], 0.0)])


def _ssr(n: Array, x: Array, p: Array) -> float:
    return float(np.sum((_model(n, p) - x) ** 2))


def _starts(n: Array, x: Array) -> list[Array]:
    """Starting points: the linearised law's least squares, and two plain guesses."""
    # N/X = ((1 − σ) + (σ − κ)·N + κ·N²)/λ is a quadratic in N: linear least squares.
    a, b, c = np.polynomial.polynomial.polyfit(n, n / x, 2)
    scale = a + b + c
    linear = np.array([1.0, 0.0, 0.0])
    if scale > 0:
        lam = 1 / scale
        linear = np.array([lam, b * lam + c * lam, c * lam])
    first = int(np.argmin(n))
    per_unit = x[first] / n[first]
    return [
        _project(linear),
        np.array([per_unit, 0.05, 0.0]),
        np.array([per_unit, 0.05, 1e-3]),
    ]


def _levenberg_marquardt(n: Array, x: Array, start: Array) -> Array:
    p, damping = _project(start), 1e-3
    ssr = _ssr(n, x, p)
    for _ in range(MAX_ITERATIONS):
        jac = _jacobian(n, p)
        residual = _model(n, p) - x
        jtj, gradient = jac.T @ jac, jac.T @ residual
        # Marquardt's scaling by diag(JᵀJ): λ, σ and κ differ by orders of magnitude.
        scaled = jtj + damping * np.diag(np.maximum(np.diag(jtj), 1e-300))
        try:
            step = np.linalg.solve(scaled, -gradient)
        except np.linalg.LinAlgError:
            damping *= 10
            continue
        candidate = _project(p + step)
        candidate_ssr = _ssr(n, x, candidate)
        if candidate_ssr < ssr:
            improved = ssr - candidate_ssr
            p, damping = candidate, max(damping / 10, 1e-12)
            ssr = candidate_ssr
            if improved <= RELATIVE_TOLERANCE * max(ssr, 1e-300):
                break
        else:
            damping *= 10
            if damping > 1e12:
                break
    return p


def _snapped(p: Array, max_n: float) -> Array:
    """σ and κ whose effect within the measured range is nil, set to exactly 0."""
    lam, sigma, kappa = p
    sigma = 0.0 if sigma * max_n < NEGLIGIBLE_EFFECT else sigma
    kappa = 0.0 if kappa * max_n * max_n < NEGLIGIBLE_EFFECT else kappa
    return np.array([lam, sigma, kappa])


def _fit_at(n: Array, x: Array, p: Array) -> UslFit:
    residual = _model(n, p) - x
    ssr = float(np.sum(residual**2))
    sst = float(np.sum((x - x.mean()) ** 2))
    dof = len(n) - len(p)
    jac = _jacobian(n, p)
    # Standard errors from the Jacobian at the optimum: cov = s²·(JᵀJ)⁻¹.
    covariance = (ssr / dof) * np.linalg.pinv(jac.T @ jac)
    se = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    return UslFit(
        lambda_=float(p[0]),
        sigma=float(p[1]),
        kappa=float(p[2]),
        lambda_se=float(se[0]),
        sigma_se=float(se[1]),
        kappa_se=float(se[2]),
        r_squared=1 - ssr / sst if sst > 0 else (1.0 if ssr == 0 else 0.0),
        points=len(n),
        rmse_share=math.sqrt(ssr / len(n)) / float(x.mean()),
    )
