"""The investigation's plans, sized from their budgets."""

from __future__ import annotations

import pytest

from redline.investigate import baseline_plan, plan_level, scalability_plan
from redline.plan import parse_threshold, plan_from_flags
from redline.plan._context import Context


def context(vus: int = 4) -> Context:
    plan = plan_from_flags("http://127.0.0.1:9/", vus=vus, duration="10s",
                           thresholds=["error_rate<5%"])  # fmt: skip
    return Context(plan=plan, slas=(parse_threshold("p95<50ms", field="sla"),))


@pytest.mark.parametrize(
    ("budget_s", "repeats", "each_s"), [(12.0, 1, 10.0), (40.0, 3, 10.0), (60.0, 3, 16.0)]
)
def test_baseline_repeats_as_many_times_as_the_budget_holds(
    budget_s: float, repeats: int, each_s: float
) -> None:
    plan = baseline_plan(context(), budget_s)
    assert plan.test is not None
    assert (plan.test.type.value, plan.test.repeat, plan.test.duration_s) == (
        "baseline", repeats, each_s,
    )  # fmt: skip
    assert plan.test.level == 4
    assert [t.source for t in plan.thresholds] == ["error_rate<5%"]


def test_scalability_is_a_stress_test_judged_by_the_slas() -> None:
    plan = scalability_plan(context(), 40.0)
    assert plan.test is not None
    assert (plan.test.type.value, plan.test.steps, plan.test.duration_s) == ("stress", 4, 34.0)
    assert [t.source for t in plan.thresholds] == ["error_rate<5%", "p95<50ms"]
    assert [w.level for w in plan.judged_windows()] == [2.0, 4.0, 6.0, 8.0]


def test_a_tiny_budget_still_gives_the_shortest_test() -> None:
    plan = scalability_plan(context(), 5.0)
    assert plan.test is not None
    assert (plan.test.steps, plan.test.duration_s) == (2, 10.0)


def test_the_level_is_the_plans_vus() -> None:
    assert plan_level(context(7).plan) == 7
