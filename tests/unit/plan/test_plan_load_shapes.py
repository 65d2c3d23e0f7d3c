"""Ramp shapes, Poisson arrivals, shape functions and the diurnal pattern: the plan side."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.plan import (
    Arrivals,
    DiurnalConfig,
    DiurnalCurve,
    LoadModel,
    Ramp,
    RampCurve,
    ShapeConfig,
    default_max_vus,
    default_pre_allocated_vus,
    load_shape,
    plan_from_mapping,
)

SHAPES_PY = """
def waves(t_s):
    return None if t_s >= 20 else 10

def rate(t_s):
    return 100.0

def _private(t_s):
    return 1
"""


def plan_of(**executor: Any) -> Any:
    data = {"requests": [{"name": "a", "url": "http://127.0.0.1/"}], "executor": executor}
    return plan_from_mapping(data)


def executor_of(**keys: Any) -> Any:
    return plan_of(**keys).executor


@pytest.fixture
def shapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A shapes.py in the working directory, so plans name it as 'shapes.py:...'."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "shapes.py"
    path.write_text(SHAPES_PY)
    return path


# --- ramps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "ramp"),
    [
        ("linear", Ramp.LINEAR),
        ("step", Ramp.STEP),
        ("instant", Ramp.STEP),
        ("Exponential", Ramp.EXPONENTIAL),
    ],
)
def test_a_stage_names_its_ramp(written: str, ramp: Ramp) -> None:
    config = executor_of(
        type="ramping-vus", stages=[{"duration": "10s", "target": 10, "ramp": written}]
    )
    assert config.stages[0].ramp is ramp


def test_the_default_ramp_is_linear_as_in_k6() -> None:
    config = executor_of(type="ramping-vus", stages=[{"duration": "10s", "target": 10}])
    assert config.stages[0].ramp is Ramp.LINEAR


def test_an_unknown_ramp_is_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^executor\.stages\[0\]\.ramp: 'cubic' is not a ramp; allowed linear, step, "
        r"exponential, instant \(= step\)$",
    ):
        executor_of(type="ramping-vus", stages=[{"duration": "10s", "target": 10, "ramp": "cubic"}])


@pytest.mark.parametrize(
    ("t_s", "vus"), [(0, 50), (4.99, 50), (5, 50), (9.99, 50), (10, 0), (14.9, 0), (15, 0)]
)
def test_a_step_ramp_jumps_at_the_stage_start_and_holds(t_s: float, vus: float) -> None:
    config = executor_of(
        type="ramping-vus",
        start_vus=5,
        stages=[
            {"duration": "10s", "target": 50, "ramp": "step"},
            {"duration": "5s", "target": 0, "ramp": "step"},
        ],
    )
    assert config.target_at(t_s) == pytest.approx(vus)


@pytest.mark.parametrize(
    ("t_s", "vus"), [(0, 1), (2.5, math.sqrt(10)), (5, 10), (7.5, 10**1.5), (10, 100)]
)
def test_an_exponential_ramp_from_zero_starts_at_one_and_grows_geometrically(
    t_s: float, vus: float
) -> None:
    config = executor_of(
        type="ramping-vus",
        stages=[
            {"duration": "10s", "target": 100, "ramp": "exponential"},
            {"duration": "10s", "target": 100},
        ],
    )
    assert config.target_at(t_s) == pytest.approx(vus)


def test_an_exponential_ramp_down_decays_to_one_then_drops_to_zero() -> None:
    config = executor_of(
        type="ramping-arrival-rate",
        start_rate="100/s",
        stages=[{"duration": "10s", "target": 0, "ramp": "exponential"}],
    )
    assert config.target_at(0) == pytest.approx(100)
    assert config.target_at(5) == pytest.approx(10)
    assert config.target_at(9.999) == pytest.approx(1, rel=1e-3)
    assert config.target_at(10) == 0


@pytest.mark.parametrize(
    ("start", "target", "bad"), [("0.5/s", "100/s", "0.5"), ("0/s", "0.25/s", "0.25")]
)
def test_an_exponential_ramp_cannot_reach_a_level_between_zero_and_one(
    start: str, target: str, bad: str
) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"^executor\.stages\[0\]\.ramp: 'exponential' from \S+ to \S+ cannot reach {bad}; "
        r"allowed levels of 0 or at least 1 at both ends, or another ramp$",
    ):
        executor_of(
            type="ramping-arrival-rate",
            start_rate=start,
            stages=[{"duration": "10s", "target": target, "ramp": "exponential"}],
        )
    # Linear may go there.
    executor_of(
        type="ramping-arrival-rate",
        start_rate=start,
        stages=[{"duration": "10s", "target": target}],
    )


def test_a_saved_plan_keeps_a_ramp_only_when_it_is_not_linear() -> None:
    plan = plan_of(
        type="ramping-arrival-rate",
        stages=[
            {"duration": "10s", "target": 100, "ramp": "exponential"},
            {"duration": "10s", "target": 100},
        ],
    )
    saved = json.loads(json.dumps(plan.model_dump(mode="json")))
    assert saved["executor"]["stages"] == [
        {"duration": 10.0, "target": 100.0, "ramp": "exponential"},
        {"duration": 10.0, "target": 100.0},
    ]
    assert plan_from_mapping(saved) == plan


@given(
    ramp=st.sampled_from(list(Ramp)),
    start=st.sampled_from([0.0, 1.0, 3.0, 250.0, 5000.0]),
    target=st.sampled_from([0.0, 1.0, 7.0, 900.0, 20000.0]),
    duration_s=st.floats(1, 3600),
    fraction=st.floats(0.001, 1.0),
)
def test_the_amount_inverse_finds_the_time_again(
    ramp: Ramp, start: float, target: float, duration_s: float, fraction: float
) -> None:
    curve = RampCurve(ramp, start, target, duration_s)
    t_s = duration_s * fraction
    amount = curve.amount_by(t_s)
    if amount > 1e-9:
        assert curve.time_to(amount) == pytest.approx(t_s, rel=1e-9, abs=1e-9)


def test_the_exponential_amount_is_the_integral_of_the_level() -> None:
    curve = RampCurve(Ramp.EXPONENTIAL, 0, 100, 10)
    # ∫ 100^(t/10) dt over 0..10 = 10 x 99 / ln 100
    assert curve.amount_by(10) == pytest.approx(990 / math.log(100))
    steps = 100_000
    riemann = sum(curve.level_at((k + 0.5) * 10 / steps) for k in range(steps)) * 10 / steps
    assert riemann == pytest.approx(curve.amount_by(10), rel=1e-8)


# --- Poisson arrivals ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["constant-arrival-rate", "ramping-arrival-rate"])
def test_arrivals_are_uniform_unless_poisson_is_asked_for(kind: str) -> None:
    keys: dict[str, Any] = (
        {"rate": "100/s", "duration": "10s"}
        if kind == "constant-arrival-rate"
        else {"stages": [{"duration": "10s", "target": 100}]}
    )
    assert executor_of(type=kind, **keys).arrivals is Arrivals.UNIFORM
    assert executor_of(type=kind, arrivals="poisson", **keys).arrivals is Arrivals.POISSON
    with pytest.raises(
        ConfigError,
        match=r"^executor\.arrivals: 'bursty' is invalid; input should be 'uniform' or 'poisson'$",
    ):
        executor_of(type=kind, arrivals="bursty", **keys)


# --- shape functions -----------------------------------------------------------------


def test_a_shape_names_a_function_in_a_file(shapes: Path) -> None:
    config = executor_of(type="shape", shape="shapes.py:waves", duration="30s", max_vus=20)
    assert isinstance(config, ShapeConfig)
    assert config.model is LoadModel.VUS
    assert config.planned_duration_s() == 30.0
    assert config.level_limit() == 20
    assert load_shape(config.shape)(3.0) == 10
    assert load_shape(config.shape)(25.0) is None


def test_a_rate_shape_defaults_its_vu_pool_from_max_rate(shapes: Path) -> None:
    config = executor_of(
        type="shape",
        shape="shapes.py:rate",
        model="arrival-rate",
        max_rate="300/s",
        duration="30s",
        arrivals="poisson",
    )
    assert config.level_limit() == 300.0
    assert config.max_vus == default_max_vus(300.0)
    assert config.vu_pool() == (default_pre_allocated_vus(300.0, config.max_vus), config.max_vus)


@pytest.mark.parametrize(
    ("keys", "error"),
    [
        (
            {"shape": "shapes.py:nope", "max_vus": 5},
            r"^executor\.shape: 'shapes\.py:nope': 'shapes\.py' has no function 'nope'; "
            r"allowed rate, waves$",
        ),
        (
            {"shape": "missing.py:waves", "max_vus": 5},
            r"^executor\.shape: 'missing\.py:waves': 'missing\.py' is not a file; allowed a "
            r"Python file, relative to the directory redline runs in$",
        ),
        (
            {"shape": "shapes.py", "max_vus": 5},
            r"^executor\.shape: 'shapes\.py' is not a shape function; write 'file\.py:function'",
        ),
        (
            {"shape": "shapes.py:waves"},
            r"^executor\.max_vus: missing; a shape with model 'vus' needs the most VUs",
        ),
        (
            {"shape": "shapes.py:rate", "model": "arrival-rate"},
            r"^executor\.max_rate: missing; a shape with model 'arrival-rate' needs the highest",
        ),
        (
            {"shape": "shapes.py:waves", "max_vus": 5, "max_rate": "10/s"},
            r"^executor\.max_rate: 10\.0 is given with model 'vus'; "
            r"allowed only with model 'arrival-rate'$",
        ),
        (
            {"shape": "shapes.py:waves", "max_vus": 5, "arrivals": "poisson"},
            r"^executor\.arrivals: 'poisson' is given with model 'vus'; "
            r"allowed only with model 'arrival-rate'$",
        ),
        (
            {"shape": "shapes.py:waves", "max_vus": 5, "duration": "5s"},
            r"^executor\.duration: '5s' is out of range; allowed 10s\.\.24h$",
        ),
    ],
)
def test_bad_shapes_are_refused_in_one_line(shapes: Path, keys: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        executor_of(**{"type": "shape", "duration": "30s", **keys})


def test_a_shape_file_that_does_not_import_is_refused(shapes: Path) -> None:
    shapes.write_text("def waves(t_s):\n    return 1 +\n")
    with pytest.raises(
        ConfigError,
        match=r"^executor\.shape: 'shapes\.py:waves': importing 'shapes\.py' raised "
        r"SyntaxError: .*; allowed a file that imports$",
    ) as caught:
        executor_of(type="shape", shape="shapes.py:waves", duration="30s", max_vus=5)
    assert caught.value.hint == "run it with python to see the traceback"


# --- the diurnal pattern -------------------------------------------------------------


def test_a_diurnal_pattern_starts_at_min_and_peaks_at_half_a_period() -> None:
    config = executor_of(type="diurnal", min=10, max=50, period="60s", duration="2m")
    assert isinstance(config, DiurnalConfig)
    assert config.target_at(0) == pytest.approx(10)
    assert config.target_at(15) == pytest.approx(30)
    assert config.target_at(30) == pytest.approx(50)
    assert config.target_at(60) == pytest.approx(10)
    assert config.target_at(90) == pytest.approx(50)
    assert config.planned_duration_s() == 120.0


def test_a_diurnal_rate_reads_rates_and_defaults_its_vu_pool() -> None:
    config = executor_of(
        type="diurnal", model="arrival-rate", min="300/m", max="50/s", period="1m", duration="1m"
    )
    assert (config.min_level, config.max_level) == (5.0, 50.0)
    assert config.vu_pool()[1] == default_max_vus(50.0)


@pytest.mark.parametrize(
    ("keys", "error"),
    [
        ({"min": 60, "max": 50}, r"^executor\.min: 60 is above max \(50\); allowed 0\.\.50$"),
        ({"max": 0}, r"^executor\.max: 0 runs nothing; allowed above 0$"),
        ({"min": 2.5}, r"^executor\.min: 2\.5 is not a whole number; allowed 0\.\.50000$"),
        ({"period": "5s"}, r"^executor\.period: '5s' is out of range; allowed 10s\.\.168h$"),
        ({"period": "200h"}, r"^executor\.period: '200h' is out of range; allowed 10s\.\.168h$"),
        (
            {"max_vus": 80},
            r"^executor\.max_vus: 80 is given with model 'vus'; "
            r"allowed only with model 'arrival-rate'$",
        ),
    ],
)
def test_bad_diurnal_patterns_are_refused_in_one_line(keys: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        executor_of(
            **{"type": "diurnal", "min": 1, "max": 50, "period": "60s", "duration": "1m", **keys}
        )


@given(
    low=st.floats(0, 1000),
    spread=st.floats(0.1, 1000),
    period_s=st.floats(10, 86400),
    fraction=st.floats(0.0001, 5),
)
def test_the_diurnal_inverse_finds_the_time_again(
    low: float, spread: float, period_s: float, fraction: float
) -> None:
    curve = DiurnalCurve(low=low, high=low + spread, period_s=period_s)
    t_s = period_s * fraction
    amount = curve.amount_by(t_s)
    found = curve.time_to(amount)
    # Where the rate is ~0 (low = 0, at a whole period) the integral is flat and
    # many times share one amount: the amount must match; the time where it is steep.
    assert curve.amount_by(found) == pytest.approx(amount, rel=1e-9, abs=1e-6)
    if curve.level_at(t_s) > 1e-3 * spread:
        assert found == pytest.approx(t_s, rel=1e-7, abs=1e-6)
