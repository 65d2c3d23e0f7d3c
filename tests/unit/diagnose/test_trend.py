"""Linear trends and their 95 % intervals."""

from __future__ import annotations

import random

import pytest

from redline.diagnose import linear_trend
from redline.diagnose._trend import t_critical_95


def test_a_clean_line_has_its_slope_and_a_tight_interval() -> None:
    times = [float(t) for t in range(100)]
    trend = linear_trend(times, [3.0 + 0.5 * t for t in times])
    assert trend is not None
    assert trend.slope_per_s == pytest.approx(0.5)
    assert trend.low_per_s == pytest.approx(0.5)
    assert trend.significant


def test_noise_without_a_slope_is_not_significant() -> None:
    rng = random.Random(7)
    times = [float(t) for t in range(200)]
    trend = linear_trend(times, [100 + rng.gauss(0, 5) for _ in times])
    assert trend is not None
    assert trend.low_per_s < 0 < trend.high_per_s
    assert not trend.significant


def test_a_small_slope_in_noise_is_found_with_enough_points() -> None:
    rng = random.Random(3)
    times = [float(t) for t in range(600)]
    trend = linear_trend(times, [100 + 0.05 * t + rng.gauss(0, 5) for t in times])
    assert trend is not None
    assert trend.significant
    assert trend.low_per_s < 0.05 < trend.high_per_s


def test_the_interval_covers_the_true_slope_about_95_percent_of_the_time() -> None:
    rng = random.Random(11)
    times = [float(t) for t in range(12)]  # few points: Student's t, not the normal
    covered = 0
    for _ in range(2_000):
        trend = linear_trend(times, [2.0 * t + rng.gauss(0, 3) for t in times])
        assert trend is not None
        covered += trend.low_per_s <= 2.0 <= trend.high_per_s
    assert 0.93 <= covered / 2_000 <= 0.97


def test_too_few_points_or_one_instant_give_no_trend() -> None:
    assert linear_trend([0.0, 1.0], [1.0, 2.0]) is None
    assert linear_trend([5.0, 5.0, 5.0], [1.0, 2.0, 3.0]) is None
    with pytest.raises(ValueError, match="differ in length"):
        linear_trend([0.0, 1.0, 2.0], [1.0])


def test_t_critical_values() -> None:
    assert t_critical_95(1) == pytest.approx(12.706)
    assert t_critical_95(10) == pytest.approx(2.228)
    assert t_critical_95(1_000) == pytest.approx(1.96, abs=1e-3)
    with pytest.raises(ValueError):
        t_critical_95(0)
