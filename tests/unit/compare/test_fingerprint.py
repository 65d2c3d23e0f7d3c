"""Plan fingerprints: the same requests and executor type match; anything else differs."""

from __future__ import annotations

import copy

from redline.compare import load_shape, plan_fingerprint
from redline.plan import Plan

PLAN = {
    "name": "shop",
    "requests": [
        {
            "name": "pay",
            "method": "POST",
            "url": "http://127.0.0.1:8080/pay?x=1",
            "headers": {"Authorization": "***"},
            "body": '{"cart": 1}',
        }
    ],
    "executor": {"type": "constant-vus", "vus": 8, "duration": 60.0},
}


def _with(change: dict[str, object], at: str = "request") -> dict[str, object]:
    plan = copy.deepcopy(PLAN)
    target = plan["requests"][0] if at == "request" else plan["executor"]  # type: ignore[index]
    target.update(change)  # type: ignore[attr-defined]
    return plan


def test_host_port_header_values_and_load_level_do_not_change_it() -> None:
    same = plan_fingerprint(PLAN)
    assert plan_fingerprint(_with({"url": "http://staging:9000/pay?x=1"})) == same
    assert plan_fingerprint(_with({"headers": {"authorization": "Bearer abc"}})) == same
    assert plan_fingerprint(_with({"vus": 64, "duration": 300.0}, at="executor")) == same


def test_what_is_sent_and_the_executor_type_change_it() -> None:
    same = plan_fingerprint(PLAN)
    for change in (
        {"url": "http://127.0.0.1:8080/pay?x=2"},
        {"method": "PUT"},
        {"body": '{"cart": 2}'},
        {"headers": {}},
        {"name": "checkout"},
    ):
        assert plan_fingerprint(_with(change)) != same, change
    assert plan_fingerprint(_with({"type": "constant-arrival-rate"}, at="executor")) != same


def test_a_plan_object_and_its_results_form_agree() -> None:
    plan = Plan.model_validate(
        {
            "base_url": "http://127.0.0.1:8080",
            "requests": [{"name": "home", "url": "/"}],
            "executor": {"type": "constant-vus", "vus": 2, "duration": "30s"},
        }
    )
    assert plan_fingerprint(plan) == plan_fingerprint(plan.model_dump(mode="json", by_alias=True))
    assert load_shape(plan) == "constant-vus vus=2 duration=30.0"


def test_load_shapes_name_stages_and_scenarios() -> None:
    ramp = {"executor": {"type": "ramping-vus", "stages": [{"target": 10, "duration": 5.0}]}}
    assert load_shape(ramp) == "ramping-vus stages=10/5.0s"
    scenarios = {
        "scenarios": {
            "b": {"executor": {"type": "constant-arrival-rate", "rate": 20.0}},
            "a": {"executor": {"type": "constant-vus", "vus": 6}},
        }
    }
    assert load_shape(scenarios) == "a: constant-vus vus=6; b: constant-arrival-rate rate=20.0"
    assert load_shape({}) == "unknown"
