"""Several scenarios in one plan, each with its own executor and start time (as k6's).

Example (TOML)::

    [scenarios.browse]
    requests = ["home", "item"]
    executor = { type = "constant-vus", vus = 20, duration = "2m" }

    [scenarios.checkout]
    start_time = "30s"
    executor = { type = "constant-arrival-rate", rate = "5/s", duration = "1m" }
    steps = [{ request = "cart", think_time = "1s" }, { request = "pay" }]

Every scenario runs its own requests (by name, from ``[[requests]]``), picked
by weight as in a one-scenario plan or, with ``steps``, all in order, on
virtual users of its own; all scenarios run at once, each from its
``start_time``. A request belongs to one
scenario, so its figures are that scenario's: the report adds them up per
scenario.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

from redline.plan._bounds import RAMP_S_RANGE, seconds_in
from redline.plan._executors import ExecutorConfig
from redline.plan._problem import Problem, short
from redline.plan._section import Section
from redline.plan._steps import StepSpec

__all__ = ["ScenarioConfig", "check_scenarios"]

#: A scenario's name: it labels report rows and result keys.
_SCENARIO_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")

StartTimeS = Annotated[float, BeforeValidator(seconds_in(RAMP_S_RANGE))]


class ScenarioConfig(Section):
    """One ``[scenarios.NAME]`` table: what it sends, how hard, from when."""

    executor: ExecutorConfig
    #: Names of the plan's requests this scenario sends; all of them when empty.
    requests: list[str] = []
    #: Requests every iteration of this scenario runs, in order (as a plan's
    #: ``[[steps]]``); empty: each iteration picks one request by weight.
    steps: list[StepSpec] = []
    #: When the scenario starts, from the run's start.
    start_time_s: StartTimeS = Field(
        default=0.0, validation_alias="start_time", serialization_alias="start_time"
    )

    def planned_end_s(self) -> float:
        """When the scenario's load is planned to end, from the run's start."""
        return self.start_time_s + self.executor.planned_duration_s()


def check_scenarios(scenarios: dict[str, ScenarioConfig], request_names: list[str]) -> None:
    """Refuse bad names, unknown requests, and a request in two scenarios or in none.

    Raises:
        Problem: one line, at the scenario key that is wrong.
    """
    owner: dict[str, str] = {}
    for name, scenario in scenarios.items():
        if not _SCENARIO_NAME.fullmatch(name):
            raise Problem(
                f"{short(name)} is not a scenario name; allowed 1..64 letters, digits, _ . -",
                at=("scenarios", name),
            )
        chosen = scenario.requests or _step_requests(scenario) or request_names
        _check_steps(name, scenario, chosen)
        for index, request in enumerate(chosen):
            if request not in request_names:
                raise Problem(
                    f"{request!r} is not a request of the plan; allowed {', '.join(request_names)}",
                    at=("scenarios", name, "requests", index),
                )
            if request in owner:
                raise Problem(
                    f"{request!r} is already in scenario {owner[request]!r}; a request belongs "
                    "to one scenario (give this one a request of its own)",
                    at=("scenarios", name, "requests"),
                )
            owner[request] = name
    unused = [r for r in request_names if r not in owner]
    if unused:
        verb = "is" if len(unused) == 1 else "are"
        raise Problem(
            f"{', '.join(map(repr, unused))} {verb} in no scenario; list every request "
            "in one scenario's requests",
            at=("scenarios",),
        )


def _step_requests(scenario: ScenarioConfig) -> list[str]:
    """A scenario with steps and no request list sends its steps' requests."""
    return list(dict.fromkeys(step.request for step in scenario.steps))


def _check_steps(name: str, scenario: ScenarioConfig, chosen: list[str]) -> None:
    for index, step in enumerate(scenario.steps):
        if step.request not in chosen:
            raise Problem(
                f"{step.request!r} is not one of this scenario's requests; "
                f"allowed {', '.join(chosen)}",
                at=("scenarios", name, "steps", index, "request"),
            )
