"""Kneedle, Little's law, the SLA answers and the forecast, on worked examples."""

from __future__ import annotations

import math

import pytest

from redline.diagnose import (
    LoadPoint,
    SlaSource,
    UslFit,
    find_knee,
    fitted_within_sla,
    forecast,
    little_check,
    little_concurrency,
    measured_within_sla,
)
from redline.errors import ConfigError


def point(level: float, rps: float, p95_ms: float, mean_ms: float | None = None) -> LoadPoint:
    mean_s = (mean_ms if mean_ms is not None else p95_ms * 0.8) / 1000
    return LoadPoint(
        name=f"step {level:g}",
        level=level,
        unit="VUs",
        concurrency=level,
        rps=rps,
        p95_us=int(p95_ms * 1000),
        error_rate=0.0,
        mean_response_s=mean_s,
        little=little_check(vus=level, rps=rps, mean_response_s=mean_s),
    )


# Kneedle


def test_kneedle_finds_the_knee_of_a_hockey_stick() -> None:
    loads = [10, 20, 30, 40, 50, 60, 70, 80]
    p95 = [20, 21, 22, 23, 24, 80, 200, 400]
    knee = find_knee(loads, p95)
    assert knee is not None
    assert (knee.index, knee.x, knee.y) == (4, 50.0, 24.0)


def test_kneedle_finds_the_knee_of_a_smooth_queueing_curve() -> None:
    # M/M/1 residence time 1/(μ − λ): flat at low load, steep near μ = 100.
    loads = [float(x) for x in range(10, 100, 10)]
    knee = find_knee(loads, [1 / (100 - x) for x in loads])
    assert knee is not None
    assert 70 <= knee.x <= 90


def test_kneedle_sees_no_knee_in_a_straight_line_or_too_few_points() -> None:
    assert find_knee([1, 2, 3, 4, 5, 6], [10, 20, 30, 40, 50, 60]) is None
    assert find_knee([1, 2], [10, 100]) is None
    assert find_knee([1, 2, 3, 4], [5, 5, 5, 5]) is None


def test_kneedle_sorts_by_load() -> None:
    knee = find_knee([50, 10, 80, 30, 20, 60, 40, 70], [24, 20, 400, 22, 21, 80, 23, 200])
    assert knee is not None
    assert knee.x == 50.0


# Little's law


def test_littles_law_gives_concurrency_from_throughput_and_response_time() -> None:
    assert little_concurrency(400.0, 0.025) == pytest.approx(10.0)


def test_littles_law_holds_for_a_consistent_closed_level() -> None:
    check = little_check(vus=10, rps=80, mean_response_s=0.025, think_s=0.1)
    assert check.implied_vus == pytest.approx(10.0)
    assert not check.broken
    assert "consistent" in check.explanation()


def test_littles_law_flags_a_level_whose_vus_were_not_busy() -> None:
    # 50 VUs, but 200 req/s x 100 ms = 20 in flight: the generator could not keep up.
    check = little_check(vus=50, rps=200, mean_response_s=0.1)
    assert check.deviation == pytest.approx(-0.6)
    assert check.broken
    assert "generator was the bottleneck" in check.explanation()


def test_littles_law_tolerates_20_percent_and_flags_more() -> None:
    assert not little_check(vus=10, rps=81, mean_response_s=0.1).broken  # -19 %
    assert little_check(vus=10, rps=79, mean_response_s=0.1).broken  # -21 %
    assert little_check(vus=10, rps=130, mean_response_s=0.1).broken  # +30 %


# Highest throughput within the SLA


POINTS = [point(4, 380, 12), point(8, 700, 16), point(12, 900, 30), point(16, 950, 60)]


def test_the_measured_answer_interpolates_between_the_last_good_and_first_bad_level() -> None:
    answer = measured_within_sla(POINTS, 20_000)  # p95 < 20 ms: between 8 (16 ms) and 12 (30 ms)
    assert answer.source is SlaSource.INTERPOLATED
    share = (20 - 16) / (30 - 16)
    assert answer.rps == pytest.approx(700 + share * 200)
    assert answer.at == pytest.approx(8 + share * 4)


def test_the_measured_answer_says_when_every_level_met_it_or_none_did() -> None:
    every = measured_within_sla(POINTS, 100_000)
    assert every.source is SlaSource.MEASURED
    assert every.rps == 950
    assert "beyond the load tested" in every.explanation
    none = measured_within_sla(POINTS, 5_000)
    assert none.rps is None
    assert "even the lowest level" in none.explanation


def test_the_fitted_answer_uses_littles_law_and_stops_at_the_peak() -> None:
    fit = UslFit(
        lambda_=100.0, sigma=0.05, kappa=0.002, lambda_se=0, sigma_se=0, kappa_se=0,
        r_squared=1.0, points=6, rmse_share=0.0,
    )  # fmt: skip
    # Exact points of the law, p95 = mean (ratio 1), no think time.
    points = [
        point(n, fit.throughput(n), 1000 * n / fit.throughput(n), 1000 * n / fit.throughput(n))
        for n in (1, 2, 4, 8, 16, 32)
    ]
    answer = fitted_within_sla(fit, points, 20_000)  # p95 ≤ 20 ms, reached before N*
    assert answer.source is SlaSource.FIT
    assert answer.at is not None and answer.rps is not None
    assert answer.at < fit.peak_concurrency
    assert answer.at / fit.throughput(answer.at) == pytest.approx(0.02, rel=1e-6)
    assert answer.rps == pytest.approx(fit.throughput(answer.at))
    # R(N*) = N*/X(N*) is 29.5 ms: with 100 ms allowed the peak comes first.
    generous = fitted_within_sla(fit, points, 100_000)
    assert generous.at == pytest.approx(fit.peak_concurrency)
    assert "capped at N*" in generous.explanation


# Forecast


def test_the_forecast_month_and_instances_on_a_worked_example() -> None:
    # 1200 req/s growing 10 %/month against 2000 req/s per instance:
    # 1200·1.1⁵ = 1932.6 still fits, 1200·1.1⁶ = 2125.9 does not: month 6, 2 instances.
    result = forecast(peak_rps=1200, growth=0.10, capacity_rps=2000)
    assert result.breaks_in_months == 6
    assert result.load_then_rps == pytest.approx(1200 * 1.1**6)
    assert result.instances_then == 2
    assert "month 6" in result.explanation()
    assert "each instance behaves like the measured one" in result.explanation()


def test_the_forecast_says_already_broken_or_never() -> None:
    now = forecast(peak_rps=5000, growth=0.05, capacity_rps=2000)
    assert now.breaks_in_months == 0
    assert now.instances_then == math.ceil(5000 / 2000)
    assert "already now" in now.explanation()
    never = forecast(peak_rps=100, growth=0.0, capacity_rps=2000)
    assert never.breaks_in_months is None
    assert "stays within" in never.explanation()


def test_the_forecast_refuses_impossible_inputs() -> None:
    with pytest.raises(ConfigError, match=r"peak 0 must be above 0"):
        forecast(peak_rps=0, growth=0.1, capacity_rps=10)
    with pytest.raises(ConfigError, match=r"growth -0.1 must be 0 or more"):
        forecast(peak_rps=1, growth=-0.1, capacity_rps=10)
    with pytest.raises(ConfigError, match=r"capacity 0 must be above 0"):
        forecast(peak_rps=1, growth=0.1, capacity_rps=0)
