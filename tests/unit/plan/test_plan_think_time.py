"""Think-time models: every key at, inside and outside its range, checks across keys,
saving and reloading, and what the samplers draw (10,000 seeded samples)."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.plan import (
    THINK_TIME_MODELS,
    ConstantThinkTimeConfig,
    ExponentialThinkTimeConfig,
    LognormalThinkTimeConfig,
    NormalThinkTimeConfig,
    ThinkTimeConfig,
    UniformThinkTimeConfig,
    plan_from_mapping,
    validate,
)
from redline.plan._think import MAX_DRAWS, think_time_from_raw

URL = "http://127.0.0.1:8080/"
SAMPLES = 10_000


def plan_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"requests": [{"name": "home", "url": URL}]}
    data.update(overrides)
    return data


def think(**table: Any) -> dict[str, Any]:
    return plan_data(think_time=table)


def model(**table: Any) -> ThinkTimeConfig:
    return plan_from_mapping(think(**table)).think_time


@dataclass(frozen=True)
class Case:
    """One bounded key of one model: values at and inside its limits, and just outside."""

    path: str
    build: Callable[[Any], dict[str, Any]]
    allowed: str
    fine: tuple[Any, ...]
    bad: tuple[Any, ...]

    def __str__(self) -> str:
        return self.path


def _key(dist: str, key: str, **others: Any) -> Callable[[Any], dict[str, Any]]:
    return lambda value: think(dist=dist, **others, **{key: value})


SECONDS = "0s..1m"
CASES = [
    Case("think_time", lambda v: plan_data(think_time=v), SECONDS, (0, "1m", 2.5), (-0.001, "61s")),
    Case("think_time.value", _key("constant", "value"), SECONDS, (0, 60, "2s"), (-1, "60.001s")),
    Case(
        "think_time.min",
        _key("uniform", "min", max="1m"),
        SECONDS,
        (0, "1m", "1s"),
        (-0.001, "1m1s"),
    ),
    Case("think_time.max", _key("uniform", "max", min=0), SECONDS, (0, "1m", "3s"), (-1, 60.5)),
    Case("think_time.mean", _key("exponential", "mean"), SECONDS, (0, "1m", "2s"), (-1, "2m")),
    Case(
        "think_time.max",
        _key("exponential", "max", mean=0),
        SECONDS,
        (0, "1m", "9s"),
        (-1, "1m1ms"),
    ),
    Case(
        "think_time.mean",
        _key("normal", "mean", stddev="1s"),
        SECONDS,
        (0, "1m", "2s"),
        (-0.5, "61s"),
    ),
    Case(
        "think_time.stddev",
        _key("normal", "stddev", mean="2s"),
        SECONDS,
        (0, "1m", "500ms"),
        (-0.001, "1m0.001s"),
    ),
    Case(
        "think_time.min",
        _key("normal", "min", mean=0, stddev=1),
        SECONDS,
        (0,),
        (-0.001, "70s"),
    ),
    Case(
        "think_time.median",
        _key("lognormal", "median", sigma=0.5),
        "1ms..1m",
        ("1ms", "1m", "1s"),
        ("999us", 0, "1m1s"),
    ),
    Case(
        "think_time.sigma",
        _key("lognormal", "sigma", median="1s"),
        "0..3",
        (0, 3, 0.5, 1),
        (-0.01, 3.01, 10),
    ),
    Case(
        "think_time.max",
        _key("lognormal", "max", median="1ms", sigma=1),
        SECONDS,
        ("1ms", "1m", "10s"),
        (-1, "61s"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_accepts_the_limits_and_inside(case: Case) -> None:
    for value in case.fine:
        plan_from_mapping(case.build(value))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_refuses_just_outside_with_one_line(case: Case) -> None:
    for value in case.bad:
        with pytest.raises(ConfigError) as caught:
            plan_from_mapping(case.build(value))
        assert (
            str(caught.value) == f"{case.path}: {value!r} is out of range; allowed {case.allowed}"
        )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"dist": "uniform", "min": "5s", "max": "3s"},
            "think_time.min: '5s' is above max ('3s'); allowed min <= max",
        ),
        (
            {"dist": "exponential", "mean": "10s", "max": "5s"},
            "think_time.mean: '10s' is above max ('5s'); allowed mean <= max",
        ),
        (
            {"dist": "normal", "mean": "2s", "stddev": "1s", "min": "3s", "max": "1s"},
            "think_time.min: '3s' is above max ('1s'); allowed min <= max",
        ),
        (
            {"dist": "normal", "mean": "5s", "stddev": "1s", "max": "3s"},
            "think_time.mean: '5s' is above max ('3s'); allowed min <= mean <= max",
        ),
        (
            {"dist": "normal", "mean": "500ms", "stddev": "1s", "min": "1s"},
            "think_time.mean: '500ms' is below min ('1s'); allowed min <= mean <= max",
        ),
        (
            {"dist": "lognormal", "median": "2s", "sigma": 1, "max": "1s"},
            "think_time.median: '2s' is above max ('1s'); allowed min <= median <= max",
        ),
        (
            {"dist": "lognormal", "median": "100ms", "sigma": 1, "min": "1s"},
            "think_time.median: '100ms' is below min ('1s'); allowed min <= median <= max",
        ),
        (
            {"dist": "normal", "mean": "2s"},
            "think_time.stddev: missing; this key is required",
        ),
        (
            {"dist": "uniform", "min": "1s", "max": "2s", "mean": "1s"},
            "think_time.mean: unknown key; allowed dist, max, min",
        ),
        (
            {"min": "1s", "max": "3s"},
            "think_time.dist: missing; allowed constant, uniform, exponential, normal, lognormal",
        ),
        (
            {"dist": "gaussian", "mean": "1s"},
            "think_time.dist: 'gaussian' is not a think-time distribution; "
            "allowed constant, uniform, exponential, normal, lognormal",
        ),
        (
            {"dist": ["uniform"]},
            "think_time.dist: ['uniform'] is not a think-time distribution; "
            "allowed constant, uniform, exponential, normal, lognormal",
        ),
        (
            {"dist": "lognormal", "median": "1s", "sigma": "wide"},
            "think_time.sigma: 'wide' is not a number; allowed 0..3",
        ),
        (
            {"dist": "lognormal", "median": "1s", "sigma": True},
            "think_time.sigma: True is not a number; allowed 0..3",
        ),
        (
            {"dist": "constant", "value": "soon"},
            "think_time.value: 'soon' is not a duration; "
            "expected seconds or a number with a unit (d, h, m, s, ms, us), "
            "e.g. '30s', '1m30s', '500ms'; allowed 0s..1m",
        ),
    ],
)
def test_refuses_bad_tables_with_one_line(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_from_mapping(plan_data(think_time=table))
    assert str(caught.value) == message
    assert [str(problem) for problem in validate(plan_data(think_time=table))] == [message]


def test_a_misspelt_dist_gets_a_hint() -> None:
    with pytest.raises(ConfigError, match=r"^think_time\.dist: 'unifrom' is not") as caught:
        plan_from_mapping(think(dist="unifrom", min=1, max=2))
    assert caught.value.hint == "did you mean 'uniform'?"


@pytest.mark.parametrize("raw", [[1], True, None, {"x"}])
def test_refuses_what_is_neither_a_duration_nor_a_table(raw: object) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^think_time: .* is not a think time; allowed a duration such as '2s', "
        r"or a table with dist = constant, uniform, exponential, normal, lognormal$",
    ):
        plan_from_mapping(plan_data(think_time=raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2s", ConstantThinkTimeConfig(value_s=2)),
        (2, ConstantThinkTimeConfig(value_s=2)),
        ("250ms", ConstantThinkTimeConfig(value_s=0.25)),
        ({"dist": "constant", "value": "2s"}, ConstantThinkTimeConfig(value_s=2)),
        ({"dist": "uniform", "min": "1s", "max": 3}, UniformThinkTimeConfig(min_s=1, max_s=3)),
        ({"dist": "exponential", "mean": "2s"}, ExponentialThinkTimeConfig(average_s=2, max_s=60)),
        (
            {"dist": "normal", "mean": "2s", "stddev": "500ms"},
            NormalThinkTimeConfig(average_s=2, stddev_s=0.5, min_s=0, max_s=60),
        ),
        (
            {"dist": "lognormal", "median": "1s", "sigma": 0.5, "max": "10s"},
            LognormalThinkTimeConfig(median_s=1, sigma=0.5, min_s=0, max_s=10),
        ),
    ],
)
def test_each_way_of_writing_a_model(raw: object, expected: ThinkTimeConfig) -> None:
    plan = plan_from_mapping(plan_data(think_time=raw))
    assert plan.think_time == expected
    assert plan.think_time_s == pytest.approx(expected.mean_s())


def test_no_think_time_by_default() -> None:
    plan = plan_from_mapping(plan_data())
    assert plan.think_time == ConstantThinkTimeConfig(value_s=0)
    assert plan.think_time_s == 0.0


@pytest.mark.parametrize(
    "raw",
    [
        "2s",
        {"dist": "uniform", "min": "50ms", "max": "150ms"},
        {"dist": "exponential", "mean": "2s", "max": "30s"},
        {"dist": "normal", "mean": "2s", "stddev": "500ms", "min": "1s"},
        {"dist": "lognormal", "median": "1s", "sigma": 0.5},
    ],
)
def test_a_saved_plan_reloads_to_the_same_think_time(raw: object) -> None:
    plan = plan_from_mapping(plan_data(think_time=raw))
    saved = json.loads(json.dumps(plan.model_dump(mode="json")))
    assert plan_from_mapping(saved) == plan


def test_a_constant_is_saved_as_seconds() -> None:
    plan = plan_from_mapping(plan_data(think_time="250ms"))
    assert plan.model_dump(mode="json")["think_time"] == 0.25
    table = plan_from_mapping(think(dist="uniform", min=1, max=2))
    assert table.model_dump(mode="json")["think_time"] == {"dist": "uniform", "min": 1, "max": 2}


def test_models_are_accepted_as_objects() -> None:
    uniform = UniformThinkTimeConfig(min_s=1, max_s=2)
    assert think_time_from_raw(uniform) is uniform
    assert set(THINK_TIME_MODELS) == {"constant", "uniform", "exponential", "normal", "lognormal"}


SECONDS_ST = st.floats(min_value=0, max_value=60, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(low=SECONDS_ST, high=SECONDS_ST)
def test_uniform_accepts_exactly_the_ordered_bounds(low: float, high: float) -> None:
    problems = validate(think(dist="uniform", min=low, max=high))
    assert (problems == []) == (low <= high)


@settings(max_examples=200, deadline=None)
@given(
    mean=SECONDS_ST,
    low=st.none() | SECONDS_ST,
    high=st.none() | SECONDS_ST,
)
def test_normal_accepts_exactly_a_mean_within_the_bounds(
    mean: float, low: float | None, high: float | None
) -> None:
    bounds = {key: v for key, v in (("min", low), ("max", high)) if v is not None}
    problems = validate(think(dist="normal", mean=mean, stddev=1, **bounds))
    lowest = 0.0 if low is None else low
    highest = 60.0 if high is None else high
    assert (problems == []) == (lowest <= mean <= highest and lowest <= highest)


TABLE_VALUES = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True)
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.sampled_from(["1s", "1m", "2m", "-1s", "abc", *THINK_TIME_MODELS])
    | st.lists(st.integers(), max_size=2)
)


@settings(max_examples=200, deadline=None)
@given(
    table=st.dictionaries(
        st.sampled_from(["dist", "value", "min", "max", "mean", "stddev", "median", "sigma", "x"]),
        TABLE_VALUES,
        max_size=5,
    )
)
def test_any_table_gives_a_model_or_one_line_errors(table: dict[str, Any]) -> None:
    for problem in validate(plan_data(think_time=table)):
        assert "\n" not in str(problem)
        assert str(problem).startswith("think_time")


def _draw(config: ThinkTimeConfig, seed: int = 7, n: int = SAMPLES) -> list[float]:
    sample = config.sampler(random.Random(seed))
    return [sample() for _ in range(n)]


def _check_mean(draws: list[float], expected_mean: float, sd: float) -> None:
    # Four standard errors: a seeded run is stable, and a wrong formula is far off.
    assert statistics.fmean(draws) == pytest.approx(
        expected_mean, abs=4 * sd / math.sqrt(len(draws))
    )


@pytest.mark.parametrize(
    ("config", "sd"),
    [
        (UniformThinkTimeConfig(min_s=0.05, max_s=0.15), 0.1 / math.sqrt(12)),
        (ExponentialThinkTimeConfig(average_s=2), 2.0),
        (NormalThinkTimeConfig(average_s=2, stddev_s=0.5), 0.5),
        (
            LognormalThinkTimeConfig(median_s=1, sigma=0.5),
            math.sqrt((math.exp(0.25) - 1) * math.exp(0.25)),
        ),
    ],
    ids=["uniform", "exponential", "normal", "lognormal"],
)
def test_samplers_have_the_stated_mean_and_spread(config: ThinkTimeConfig, sd: float) -> None:
    draws = _draw(config)
    _check_mean(draws, config.mean_s(), sd)
    assert statistics.stdev(draws) == pytest.approx(sd, rel=0.06)


@pytest.mark.parametrize(
    "config",
    [
        ExponentialThinkTimeConfig(average_s=2, max_s=3),
        NormalThinkTimeConfig(average_s=1, stddev_s=1, min_s=0.5, max_s=2),
        NormalThinkTimeConfig(average_s=0.1, stddev_s=1),  # min 0 cuts off half the curve
        LognormalThinkTimeConfig(median_s=1, sigma=1, min_s=0.5, max_s=3),
        LognormalThinkTimeConfig(median_s=10, sigma=3),  # max 1m cuts off a long tail
    ],
    ids=["exponential", "normal", "normal-half", "lognormal", "lognormal-tail"],
)
def test_bounded_samplers_stay_within_and_keep_the_truncated_mean(
    config: ThinkTimeConfig,
) -> None:
    draws = _draw(config)
    low, high = getattr(config, "min_s", 0.0), config.max_s  # type: ignore[union-attr]
    assert low <= min(draws) and max(draws) <= high
    _check_mean(draws, config.mean_s(), statistics.stdev(draws))


def test_the_truncated_means_are_exact() -> None:
    assert ExponentialThinkTimeConfig(average_s=2, max_s=3).mean_s() == pytest.approx(
        2 - 3 / (math.exp(1.5) - 1)
    )
    assert ExponentialThinkTimeConfig(average_s=1).mean_s() == pytest.approx(1.0, abs=1e-12)
    # Symmetric bounds around the mean keep it.
    assert NormalThinkTimeConfig(average_s=2, stddev_s=1, min_s=1, max_s=3).mean_s() == 2
    # Half a normal above 0: sigma x sqrt(2 / pi).
    half = NormalThinkTimeConfig(average_s=0, stddev_s=1, max_s=60)
    assert half.mean_s() == pytest.approx(math.sqrt(2 / math.pi))
    assert LognormalThinkTimeConfig(median_s=1, sigma=0.5).mean_s() == pytest.approx(
        math.exp(0.125)
    )


def test_degenerate_models_draw_one_value() -> None:
    assert set(_draw(ConstantThinkTimeConfig(value_s=2), n=10)) == {2.0}
    assert set(_draw(ExponentialThinkTimeConfig(average_s=0), n=10)) == {0.0}
    assert set(_draw(NormalThinkTimeConfig(average_s=2, stddev_s=0), n=10)) == {2.0}
    assert set(_draw(LognormalThinkTimeConfig(median_s=1, sigma=0), n=10)) == {1.0}
    same = NormalThinkTimeConfig(average_s=1, stddev_s=1, min_s=1, max_s=1)
    assert (same.mean_s(), set(_draw(same, n=10))) == (1.0, {1.0})


def test_bounds_hold_when_draws_seldom_land_within_them() -> None:
    # A 1 ms window in a 10 s spread: after MAX_DRAWS misses the draw is clamped.
    narrow = NormalThinkTimeConfig(average_s=1, stddev_s=10, min_s=1, max_s=1.001)
    draws = _draw(narrow, n=1000)
    assert all(1 <= d <= 1.001 for d in draws)
    assert MAX_DRAWS >= 16


def test_the_same_seed_draws_the_same_pauses() -> None:
    config = LognormalThinkTimeConfig(median_s=1, sigma=0.5)
    assert _draw(config, seed=3, n=100) == _draw(config, seed=3, n=100)
    assert _draw(config, seed=3, n=100) != _draw(config, seed=4, n=100)
