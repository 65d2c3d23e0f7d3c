"""Several scenarios in one plan: their runs, phases, duration and errors."""

from __future__ import annotations

from typing import Any

import pytest

from redline.errors import ConfigError
from redline.plan import plan_from_mapping

BASE = "http://127.0.0.1:8080"
REQUESTS = [{"name": "home", "url": "/"}, {"name": "cart", "url": "/cart"}]
BROWSE = {"requests": ["home"], "executor": {"type": "constant-vus", "vus": 3, "duration": "20s"}}
BUY = {
    "requests": ["cart"],
    "start_time": "5s",
    "executor": {"type": "constant-arrival-rate", "rate": "5/s", "duration": "30s"},
}


def plan_of(scenarios: dict[str, Any], **extra: Any) -> Any:
    return plan_from_mapping(
        {"base_url": BASE, "requests": REQUESTS, "scenarios": scenarios, **extra}
    )


def test_each_scenario_runs_its_requests_from_its_start() -> None:
    plan = plan_of({"browse": BROWSE, "buy": BUY})
    runs = plan.runs()
    assert [(r.name, [q.name for q in r.requests], r.start_time_s) for r in runs] == [
        ("browse", ["home"], 0.0),
        ("buy", ["cart"], 5.0),
    ]
    assert runs[1].executor.type == "constant-arrival-rate"
    assert plan.planned_duration_s() == 35.0  # buy ends last: 5 s + 30 s


def test_phases_are_named_and_placed_per_scenario() -> None:
    plan = plan_of({"browse": BROWSE, "buy": BUY})
    assert [(p.name, p.start_s, p.end_s) for p in plan.phases()] == [
        ("browse: steady", 0.0, 20.0),
        ("buy: steady", 5.0, 35.0),
    ]


def test_a_plain_plan_is_one_default_scenario() -> None:
    plan = plan_from_mapping({"base_url": BASE, "requests": REQUESTS})
    (run,) = plan.runs()
    assert run.name == "default"
    assert [q.name for q in run.requests] == ["home", "cart"]
    assert run.start_time_s == 0.0


def test_one_scenario_without_a_request_list_takes_them_all() -> None:
    plan = plan_of({"all": {"executor": BROWSE["executor"]}})
    assert [q.name for q in plan.runs()[0].requests] == ["home", "cart"]


@pytest.mark.parametrize(
    ("scenarios", "extra", "message"),
    [
        ({"browse": BROWSE}, {}, "scenarios: 'cart' is in no scenario"),
        (
            {"browse": {**BROWSE, "requests": ["home", "nope"]}, "buy": BUY},
            {},
            "scenarios.browse.requests[1]: 'nope' is not a request of the plan",
        ),
        (
            {"browse": {**BROWSE, "requests": ["home", "cart"]}, "buy": BUY},
            {},
            "scenarios.buy.requests: 'cart' is already in scenario 'browse'",
        ),
        ({"b c": BROWSE, "buy": BUY}, {}, "is not a scenario name"),
        ({"browse": {**BROWSE, "start_time": "2h"}, "buy": BUY}, {}, "allowed 0s..1h"),
        (
            {"browse": BROWSE, "buy": BUY},
            {"executor": {"type": "constant-vus", "vus": 1, "duration": "10s"}},
            "executor: is given with [scenarios]; each scenario has its own executor",
        ),
        (
            {"browse": BROWSE, "buy": BUY},
            {"test": {"type": "load", "target": 5}},
            "test: is given with [scenarios]; each scenario has its own test",
        ),
    ],
)
def test_bad_scenarios_are_one_line(
    scenarios: dict[str, Any], extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_of(scenarios, **extra)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_scenario_runs_its_own_steps() -> None:
    plan = plan_of(
        {
            "browse": BROWSE,
            "buy": {
                "executor": BUY["executor"],
                "steps": [{"request": "cart", "think_time": "1s"}],
            },
        }
    )
    buy = plan.runs()[1]
    assert [q.name for q in buy.requests] == ["cart"]  # its requests: its steps'
    assert buy.steps is not None
    assert [(s.request, s.think_time_s) for s in buy.steps] == [("cart", 1.0)]
    assert plan.runs()[0].steps == []


@pytest.mark.parametrize(
    ("scenarios", "extra", "message"),
    [
        (
            {"browse": {**BROWSE, "steps": [{"request": "cart"}]}, "buy": BUY},
            {},
            "scenarios.browse.steps[0].request: 'cart' is not one of this scenario's requests",
        ),
        (
            {"browse": BROWSE, "buy": BUY},
            {"steps": [{"request": "home"}]},
            "steps: is given with [scenarios]; each scenario has its own steps",
        ),
    ],
)
def test_bad_scenario_steps(scenarios: dict[str, Any], extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_of(scenarios, **extra)
    assert message in str(caught.value)
