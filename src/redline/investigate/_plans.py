"""The investigation's plans, derived from the Context's plan and each phase's budget (pure).

- the baseline: a ``baseline`` test at the plan's load, repeated up to
  :data:`BASELINE_REPEATS` times, as many as the budget holds;
- the scalability test: a ``stress`` test (half the plan's load, the load,
  then beyond it in equal steps) judged by the SLAs at each step, so it stops
  at the first step that breaches them.

Both keep the plan's requests, scenario and settings; only the load shape changes.
"""

from __future__ import annotations

from typing import Any, Final

from redline.plan import Plan
from redline.plan._bounds import DURATION_S_RANGE, TEST_STEPS_RANGE
from redline.plan._context import Context
from redline.plan._test_types import BASELINE_PAUSE_S

__all__ = ["BASELINE_REPEATS", "baseline_plan", "plan_level", "scalability_plan"]

#: How many times the baseline is repeated when its budget allows.
BASELINE_REPEATS: Final = 3
#: Share of a load phase's budget spent sending load (the rest: analysis, storing).
LOAD_SHARE: Final = 0.85
#: The shortest test a type allows.
MIN_TEST_S: Final = float(DURATION_S_RANGE.low)
#: Seconds of each scalability step (before the count is capped).
STEP_S: Final = 8.0
#: The most scalability steps.
MAX_STEPS: Final = 5
#: VUs when the plan's executor names none (an arrival-rate or iterations plan).
DEFAULT_LEVEL_VUS: Final = 10


def plan_level(plan: Plan) -> int:
    """The plan's load in VUs: its executor's ``vus`` (or ``max_vus``), else a default."""
    for key in ("vus", "max_vus"):
        value = getattr(plan.executor, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_LEVEL_VUS


def baseline_plan(context: Context, budget_s: float) -> Plan:
    """The baseline at the plan's load: as many repeats (up to 3) of 10 s or more as fit."""
    load_s = budget_s * LOAD_SHARE
    repeats = int((load_s + BASELINE_PAUSE_S) // (MIN_TEST_S + BASELINE_PAUSE_S))
    repeats = max(1, min(BASELINE_REPEATS, repeats))
    duration_s = max(MIN_TEST_S, (load_s - (repeats - 1) * BASELINE_PAUSE_S) / repeats)
    test = {"type": "baseline", "target": plan_level(context.plan), "repeat": repeats,
            "duration": f"{duration_s:.0f}s"}  # fmt: skip
    return _derived(context.plan, "baseline", test, extra_thresholds=())


def scalability_plan(context: Context, budget_s: float) -> Plan:
    """Steps from half the plan's load upward, judged by the SLAs; stops at the first breach."""
    duration_s = max(MIN_TEST_S, budget_s * LOAD_SHARE)
    steps = max(int(TEST_STEPS_RANGE.low), min(MAX_STEPS, int(duration_s // STEP_S)))
    test = {"type": "stress", "target": plan_level(context.plan), "steps": steps,
            "duration": f"{duration_s:.0f}s"}  # fmt: skip
    return _derived(context.plan, "scalability", test, extra_thresholds=context.slas)


def _derived(plan: Plan, label: str, test: dict[str, Any], *, extra_thresholds: Any) -> Plan:
    data = plan.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data.pop("executor", None)
    data["test"] = test
    data["name"] = f"{plan.name} {label}"
    data["thresholds"] = [*data.get("thresholds", []), *extra_thresholds]
    return Plan.model_validate(data)
