"""``pacing``: its range, and the plans it cannot be part of."""

from __future__ import annotations

import json
from typing import Any

import pytest

from redline.errors import ConfigError
from redline.plan import PACING_S_RANGE, plan_from_mapping

URL = "http://127.0.0.1:8080/"

CLOSED = [
    {"type": "constant-vus", "vus": 2, "duration": "10s"},
    {"type": "ramping-vus", "stages": [{"duration": "10s", "target": 2}]},
    {"type": "per-vu-iterations", "vus": 2, "iterations": 5},
    {"type": "shared-iterations", "vus": 2, "iterations": 5},
    {"type": "diurnal", "min": 1, "max": 5, "period": "1m", "duration": "1m"},
]
OPEN = [
    {"type": "constant-arrival-rate", "rate": 10, "duration": "10s"},
    {"type": "ramping-arrival-rate", "stages": [{"duration": "10s", "target": 10}]},
]
DIURNAL_RATE = {
    "type": "diurnal",
    "model": "arrival-rate",
    "min": 1,
    "max": 5,
    "period": "1m",
    "duration": "1m",
}
ALLOWED = (
    "allowed with constant-vus, ramping-vus, per-vu-iterations, shared-iterations, "
    "and shape or diurnal with model 'vus'"
)


def plan_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"requests": [{"name": "home", "url": URL}]}
    data.update(overrides)
    return data


def test_no_pacing_by_default() -> None:
    assert plan_from_mapping(plan_data()).pacing_s is None


@pytest.mark.parametrize(("raw", "seconds"), [("1ms", 0.001), ("1h", 3600), ("5s", 5), (0.5, 0.5)])
def test_accepts_the_limits_and_inside(raw: object, seconds: float) -> None:
    assert plan_from_mapping(plan_data(pacing=raw)).pacing_s == seconds


@pytest.mark.parametrize("raw", [0, "999us", "1h1ms", -1])
def test_refuses_just_outside_with_one_line(raw: object) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_from_mapping(plan_data(pacing=raw))
    assert str(caught.value) == f"pacing: {raw!r} is out of range; allowed {PACING_S_RANGE}"
    assert str(PACING_S_RANGE) == "1ms..1h"


def test_refuses_a_pacing_that_is_not_a_duration() -> None:
    with pytest.raises(ConfigError, match=r"^pacing: 'often' is not a duration; "):
        plan_from_mapping(plan_data(pacing="often"))


@pytest.mark.parametrize(
    "think_time", ["1s", {"dist": "uniform", "min": "0s", "max": "1s"}], ids=["constant", "uniform"]
)
def test_refuses_pacing_with_think_time(think_time: object) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_from_mapping(plan_data(pacing="5s", think_time=think_time))
    assert str(caught.value) == (
        "pacing: '5s' is given with think_time too; allowed one of pacing and think_time"
    )
    assert caught.value.hint is not None and "remove think_time" in caught.value.hint


def test_a_zero_think_time_is_no_think_time() -> None:
    assert plan_from_mapping(plan_data(pacing="5s", think_time="0s")).pacing_s == 5


@pytest.mark.parametrize("executor", CLOSED, ids=lambda e: e["type"])
def test_paces_every_closed_model_executor(executor: dict[str, Any]) -> None:
    assert plan_from_mapping(plan_data(pacing="2s", executor=executor)).pacing_s == 2


@pytest.mark.parametrize("executor", OPEN, ids=lambda e: e["type"])
def test_refuses_pacing_with_an_arrival_rate(executor: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_from_mapping(plan_data(pacing="2s", executor=executor))
    assert str(caught.value) == (
        f"pacing: '2s' is given with {executor['type']!r}, which starts iterations at a rate; "
        + ALLOWED
    )


def test_refuses_pacing_with_a_diurnal_arrival_rate() -> None:
    with pytest.raises(ConfigError) as caught:
        plan_from_mapping(plan_data(pacing="2s", executor=DIURNAL_RATE))
    assert str(caught.value) == (
        "pacing: '2s' is given with 'diurnal' with model 'arrival-rate', "
        "which starts iterations at a rate; " + ALLOWED
    )


@pytest.mark.parametrize("executor", OPEN, ids=lambda e: e["type"])
def test_think_time_with_an_arrival_rate_is_accepted_and_unused(executor: dict[str, Any]) -> None:
    # As before think-time models: the open model has no pause between iterations.
    plan = plan_from_mapping(plan_data(think_time="1s", executor=executor))
    assert plan.think_time_s == 1


def test_a_saved_plan_reloads_to_the_same_pacing() -> None:
    plan = plan_from_mapping(plan_data(pacing="1500ms"))
    saved = json.loads(json.dumps(plan.model_dump(mode="json")))
    assert saved["pacing"] == 1.5
    assert plan_from_mapping(saved) == plan
