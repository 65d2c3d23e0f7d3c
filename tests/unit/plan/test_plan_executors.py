"""Executor configs: k6 type names, defaults, schedules (``target_at``) and cross-field checks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.plan import (
    EXECUTOR_CONFIGS,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    DiurnalConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    RateStage,
    ShapeConfig,
    SharedIterationsConfig,
    Stage,
    default_max_vus,
    default_pre_allocated_vus,
    plan_from_mapping,
)


def executor_of(**keys: Any) -> Any:
    data = {"requests": [{"name": "a", "url": "http://127.0.0.1/"}], "executor": keys}
    return plan_from_mapping(data).executor


def test_type_names_are_k6_names() -> None:
    assert EXECUTOR_CONFIGS == {
        "constant-vus": ConstantVusConfig,
        "ramping-vus": RampingVusConfig,
        "constant-arrival-rate": ConstantArrivalRateConfig,
        "ramping-arrival-rate": RampingArrivalRateConfig,
        "per-vu-iterations": PerVuIterationsConfig,
        "shared-iterations": SharedIterationsConfig,
        # redline's own, beyond k6's six (docs/load-shapes.md)
        "shape": ShapeConfig,
        "diurnal": DiurnalConfig,
    }


def test_constant_vus() -> None:
    config = executor_of(type="constant-vus", vus=64, duration="30s")
    assert config == ConstantVusConfig(vus=64, duration_s=30.0)
    assert config.planned_duration_s() == 30.0


def test_per_vu_and_shared_iterations_default_to_ten_minutes_at_most() -> None:
    for kind in ("per-vu-iterations", "shared-iterations"):
        config = executor_of(type=kind, vus=2, iterations=10)
        assert config.max_duration_s == 600.0
        assert config.planned_duration_s() == 600.0


def test_shared_iterations_need_an_iteration_per_vu() -> None:
    with pytest.raises(
        ConfigError, match=r"^executor\.iterations: 5 is below vus \(10\); allowed 10\.\.100000000$"
    ):
        executor_of(type="shared-iterations", vus=10, iterations=5)
    executor_of(type="shared-iterations", vus=10, iterations=10)


def test_per_vu_iterations_may_be_fewer_than_vus() -> None:
    executor_of(type="per-vu-iterations", vus=10, iterations=1)


RAMP = [
    {"duration": "10s", "target": 20},
    {"duration": "30s", "target": 20},
    {"duration": "5s", "target": 0},
]


@pytest.mark.parametrize(
    ("t_s", "vus"),
    [(-1, 0), (0, 0), (5, 10), (10, 20), (25, 20), (40, 20), (42.5, 10), (45, 0), (1000, 0)],
)
def test_ramping_vus_interpolates_linearly_as_k6(t_s: float, vus: float) -> None:
    config = executor_of(type="ramping-vus", stages=RAMP)
    assert config.target_at(t_s) == pytest.approx(vus)
    assert config.planned_duration_s() == 45.0
    assert config.graceful_ramp_down_s == 30.0


def test_a_zero_length_stage_jumps() -> None:
    config = executor_of(
        type="ramping-vus",
        start_vus=5,
        stages=[{"duration": 0, "target": 50}, {"duration": "10s", "target": 50}],
    )
    assert config.target_at(0) == 50
    assert config.target_at(5) == 50


def test_ramping_arrival_rate() -> None:
    config = executor_of(
        type="ramping-arrival-rate",
        start_rate="100/s",
        stages=[{"duration": "10s", "target": "300/s"}, {"duration": "1m", "target": "6000/m"}],
    )
    assert config.stages == [
        RateStage(duration_s=10.0, target_per_s=300.0),
        RateStage(duration_s=60.0, target_per_s=100.0),
    ]
    assert config.target_at(5) == pytest.approx(200.0)
    assert config.target_at(40) == pytest.approx(200.0)
    assert config.planned_duration_s() == 70.0
    assert config.max_vus == default_max_vus(300.0)
    assert config.pre_allocated_vus == default_pre_allocated_vus(300.0, config.max_vus)


@given(
    start=st.integers(min_value=0, max_value=100),
    points=st.lists(
        st.tuples(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=100)),
        min_size=1,
        max_size=5,
    ),
    t_s=st.floats(min_value=-10, max_value=600, allow_nan=False),
)
def test_target_stays_between_the_neighbouring_targets(
    start: int, points: list[tuple[int, int]], t_s: float
) -> None:
    stages = [Stage(duration_s=d, target=target) for d, target in points]
    stages.append(Stage(duration_s=10, target=1))  # total >= 10 s, a target above 0
    config = RampingVusConfig(start_vus=start, stages=stages)
    levels = [start] + [stage.target for stage in stages]
    assert min(levels) <= config.target_at(t_s) <= max(levels)
    assert config.target_at(config.planned_duration_s()) == 1


@pytest.mark.parametrize(
    ("rate", "max_vus", "pre_allocated_vus"),
    [(0.1, 100, 1), (50, 100, 5), (5000, 5000, 500), (100_000, 50_000, 10_000)],
)
def test_arrival_rate_vu_defaults(rate: float, max_vus: int, pre_allocated_vus: int) -> None:
    config = executor_of(type="constant-arrival-rate", rate=rate, duration=10)
    assert (config.max_vus, config.pre_allocated_vus) == (max_vus, pre_allocated_vus)


def test_a_given_max_vus_caps_the_pre_allocated_default() -> None:
    config = executor_of(type="constant-arrival-rate", rate="5000/s", duration=10, max_vus=200)
    assert (config.max_vus, config.pre_allocated_vus) == (200, 200)


def test_a_given_pre_allocation_raises_the_max_default() -> None:
    config = executor_of(
        type="constant-arrival-rate", rate="10/s", duration=10, pre_allocated_vus=300
    )
    assert (config.max_vus, config.pre_allocated_vus) == (300, 300)


@pytest.mark.parametrize("kind", ["constant-arrival-rate", "ramping-arrival-rate"])
def test_max_vus_may_not_be_below_pre_allocated(kind: str) -> None:
    keys: dict[str, Any] = {"type": kind, "pre_allocated_vus": 20, "max_vus": 10}
    if kind == "constant-arrival-rate":
        keys |= {"rate": 10, "duration": 10}
    else:
        keys |= {"stages": [{"duration": 10, "target": 10}]}
    with pytest.raises(
        ConfigError,
        match=r"^executor\.max_vus: 10 is below pre_allocated_vus \(20\); allowed 20\.\.50000$",
    ):
        executor_of(**keys)


def test_a_bad_rate_is_the_only_problem_reported() -> None:
    data = {
        "requests": [{"name": "a", "url": "http://127.0.0.1/"}],
        "executor": {"type": "constant-arrival-rate", "rate": "lots", "duration": 10},
    }
    with pytest.raises(ConfigError) as caught:
        plan_from_mapping(data)
    assert str(caught.value) == (
        "executor.rate: 'lots' is not a rate; "
        "expected a number per second or per unit, e.g. '5000/s', '300/m', '10/1s', '2.5'; "
        "allowed 0.1/s..100000/s"
    )


@pytest.mark.parametrize("kind", ["ramping-vus", "ramping-arrival-rate"])
def test_ramping_needs_stages(kind: str) -> None:
    with pytest.raises(ConfigError, match=r"^executor\.stages: missing; this key is required$"):
        executor_of(type=kind)
    with pytest.raises(
        ConfigError, match=r"^executor\.stages: \[\] is empty; give at least one stage"
    ):
        executor_of(type=kind, stages=[])


@pytest.mark.parametrize("kind", ["ramping-vus", "ramping-arrival-rate"])
def test_ramping_to_nothing_from_nothing_is_refused(kind: str) -> None:
    with pytest.raises(
        ConfigError, match=r"^executor\.stages: every target is 0, so nothing would run"
    ):
        executor_of(type=kind, stages=[{"duration": "20s", "target": 0}])


def test_a_stage_must_be_a_table_with_known_keys() -> None:
    with pytest.raises(ConfigError, match=r"^executor\.stages\[1\]: 5 is not a table$"):
        executor_of(type="ramping-vus", stages=[{"duration": 10, "target": 1}, 5])
    with pytest.raises(
        ConfigError,
        match=r"^executor\.stages\[0\]\.vus: unknown key; allowed duration, ramp, target$",
    ) as caught:
        executor_of(type="ramping-vus", stages=[{"duration": 10, "vus": 1}])
    assert caught.value.hint is None


@pytest.mark.parametrize(
    ("keys", "error"),
    [
        (
            {"vus": 1, "duration": 10},
            r"^executor\.type: missing; allowed constant-vus, ramping-vus, ",
        ),
        ({"type": "constant"}, r"^executor\.type: 'constant' is not an executor type; allowed "),
        ({"type": "constant-vus"}, r"^executor\.duration: missing; this key is required$"),
        (
            {"type": "constant-vus", "duration": 10, "vu": 2},
            r"^executor\.vu: unknown key; allowed duration, type, vus$",
        ),
        (
            {"type": "constant-vus", "duration": 10, "duration_s": 20},
            r"^executor\.duration_s: given twice, as 'duration' and 'duration_s'$",
        ),
        ({"type": "constant-arrival-rate", "duration": 10}, r"^executor\.rate: missing"),
    ],
)
def test_executor_table_errors(keys: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        executor_of(**keys)


def test_unknown_keys_suggest_the_nearest_known_one() -> None:
    with pytest.raises(ConfigError) as caught:
        executor_of(type="constant-vus", duration=10, vu=2)
    assert caught.value.hint == "did you mean 'vus'?"


def test_python_callers_use_the_unit_suffixed_names() -> None:
    config = ConstantArrivalRateConfig(rate_per_s=100.0, duration_s=60.0)
    assert (config.max_vus, config.pre_allocated_vus) == (100, 10)
    assert SharedIterationsConfig(vus=2, iterations=4, max_duration_s=30).planned_duration_s() == 30
    assert RampingVusConfig.toml_key("graceful_ramp_down_s") == "graceful_ramp_down"
    assert RampingVusConfig.toml_key("stages") == "stages"


def test_python_built_ramping_rate_takes_vu_defaults_from_its_stages() -> None:
    config = RampingArrivalRateConfig(
        stages=[
            RateStage(duration_s=10, target_per_s=2000),
            RateStage(duration_s=10, target_per_s=0),
        ]
    )
    assert (config.max_vus, config.pre_allocated_vus) == (2000, 200)
