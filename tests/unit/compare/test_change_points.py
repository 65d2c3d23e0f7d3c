"""E-divisive change points, their false-alarm rate on noise, and sparklines."""

from __future__ import annotations

import numpy as np
import pytest

from redline.compare import change_points, sparkline
from redline.errors import ConfigError


def test_a_step_in_the_level_is_found_where_it_happens() -> None:
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(100, 3, 30), rng.normal(112, 3, 30)])
    assert change_points(values) == [30]


def test_two_steps_are_both_found() -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.normal(100, 2, 25), rng.normal(120, 2, 25), rng.normal(95, 2, 25)])
    assert change_points(values) == [25, 50]


def test_the_docstring_example() -> None:
    assert change_points([10, 11, 10, 10, 11, 15, 16, 15, 15, 16]) == [5]


def test_short_and_flat_series_have_none() -> None:
    assert change_points([]) == []
    assert change_points([1.0, 2.0, 3.0, 4.0, 5.0]) == []
    assert change_points([7.0] * 40) == []


def test_the_same_seed_gives_the_same_points() -> None:
    values = np.random.default_rng(3).normal(0, 1, 50)
    assert change_points(values, seed=5) == change_points(values, seed=5)


def test_false_alarms_on_pure_noise_are_near_the_significance() -> None:
    # bench/compare_power.py measures this with 1,000 series (docs/benchmarks.md).
    rng = np.random.default_rng(4)
    trials = 60
    alarms = sum(
        bool(change_points(rng.normal(0, 1, 40), permutations=99, seed=t)) for t in range(trials)
    )
    assert alarms / trials <= 0.10


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"significance": 0.0}, r"significance must be in \(0, 1\), got 0.0"),
        ({"permutations": 0}, "permutations must be at least 1, got 0"),
        ({"min_size": 1}, "min_size must be at least 2, got 1"),
    ],
)
def test_bad_options_are_refused(options: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        change_points([1.0] * 10, **options)  # type: ignore[arg-type]


def test_values_must_be_finite() -> None:
    with pytest.raises(ConfigError, match="needs finite values"):
        change_points([1.0, float("nan"), 2.0])


def test_sparklines_scale_from_lowest_to_highest() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5, 5]) == "▄▄▄"
    assert sparkline([]) == ""
    assert sparkline([1, None, float("nan"), 3]) == "▁  █"
    assert sparkline([None, None]) == "  "
    assert sparkline([0, 50, 100], low=0, high=200) == "▁▃▅"


def test_long_sparklines_are_averaged_to_the_width() -> None:
    assert sparkline(list(range(100)), width=4) == "▁▃▆█"
    assert len(sparkline(list(range(7)), width=3)) == 3
    with pytest.raises(ConfigError, match="width must be at least 1, got 0"):
        sparkline([1.0], width=0)
