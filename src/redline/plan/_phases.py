"""From test shapes to executors, and from executors back to phases.

A test type derives a ramping executor (:func:`executor_for_shape`); a plan
with an explicit executor still gets phases, one per stage
(:func:`phases_of_executor`), so every run can be reported phase by phase.
"""

from __future__ import annotations

import dataclasses

from redline.plan._data import GeneratorConfig, GeneratorKind
from redline.plan._executors import (
    ExecutorConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    RateStage,
    Stage,
)
from redline.plan._problem import Problem
from redline.plan._request import RequestSpec
from redline.plan._test_types import (
    BODY_METHODS,
    WARMUP_FRACTION,
    Phase,
    PhaseKind,
    TestConfig,
    volume_body,
)

__all__ = ["executor_for_shape", "phases_of_executor", "with_row_generator", "with_volume_bodies"]

#: The variable a volume test's ``rows`` fills: a record index, 0..rows-1.
ROW_VARIABLE = "row"


def executor_for_shape(test: TestConfig) -> ExecutorConfig:
    """The ramping executor that follows ``test``'s stages (VUs or arrivals/s)."""
    shape = test.shape()
    if test.is_rate:
        return RampingArrivalRateConfig(
            start_rate_per_s=shape.start_level,
            stages=[RateStage(duration_s=d, target_per_s=level) for d, level in shape.stages],
        )
    return RampingVusConfig(
        start_vus=round(shape.start_level),
        stages=[Stage(duration_s=d, target=round(level)) for d, level in shape.stages],
        # A test type's ramp-downs are part of its shape: VUs leave when told.
        graceful_ramp_down_s=0.0,
    )


def phases_of_executor(executor: ExecutorConfig) -> list[Phase]:
    """One phase per stage (ramp-up, hold or ramp-down), or one hold for a constant load."""
    unit = "/s" if _is_rate(executor) else "VUs"
    if isinstance(executor, RampingVusConfig | RampingArrivalRateConfig):
        phases = _phases_of_stages(executor)
    else:
        duration_s = executor.planned_duration_s()
        level = float(getattr(executor, "vus", getattr(executor, "rate_per_s", 0.0)))
        phases = [_hold("steady", 0.0, duration_s, level)]
    return [dataclasses.replace(p, unit=unit) for p in phases]


def _is_rate(executor: ExecutorConfig) -> bool:
    """Whether the executor's level is an arrival rate (the open model)."""
    return "arrival-rate" in executor.type or getattr(executor, "model", None) == "arrival-rate"


def _phases_of_stages(executor: RampingVusConfig | RampingArrivalRateConfig) -> list[Phase]:
    if isinstance(executor, RampingVusConfig):
        level = float(executor.start_vus)
        stages = [(s.duration_s, float(s.target)) for s in executor.stages]
    else:
        level = executor.start_rate_per_s
        stages = [(s.duration_s, s.target_per_s) for s in executor.stages]
    phases: list[Phase] = []
    t_s = 0.0
    for index, (duration_s, target) in enumerate(stages, start=1):
        if duration_s > 0:
            if target == level:
                phases.append(_hold(f"stage {index}", t_s, t_s + duration_s, target))
            else:
                kind = PhaseKind.RAMP_UP if target > level else PhaseKind.RAMP_DOWN
                phases.append(Phase(f"stage {index}", kind, t_s, t_s + duration_s, target))
        t_s += duration_s
        level = target
    return phases


def _hold(name: str, start_s: float, end_s: float, level: float) -> Phase:
    warmup_s = min(end_s - start_s, max(1.0, (end_s - start_s) * WARMUP_FRACTION))
    return Phase(name, PhaseKind.HOLD, start_s, end_s, level, warmup_s)


def with_volume_bodies(requests: list[RequestSpec], body_size: int) -> list[RequestSpec]:
    """``requests`` with a ``body_size`` body on each POST, PUT and PATCH that has none.

    Raises:
        Problem: no request could carry the body (at ``test.body_size``).
    """
    fillable = [r.method in BODY_METHODS and r.body is None for r in requests]
    if not any(fillable):
        raise Problem(
            f"{body_size!r}: no request can carry it; allowed on a POST, PUT or PATCH "
            "request without a body of its own",
            at=("test", "body_size"),
        )
    body = volume_body(body_size)
    return [
        r.model_copy(update={"body": body}) if fill else r
        for r, fill in zip(requests, fillable, strict=True)
    ]


def with_row_generator(generate: list[GeneratorConfig], rows: int) -> list[GeneratorConfig]:
    """``generate`` and one more: ``${row}``, drawn uniformly from 0..rows-1 per iteration.

    Raises:
        Problem: the plan already generates a ``row`` (at ``test.rows``).
    """
    if any(g.name == ROW_VARIABLE for g in generate):
        raise Problem(
            f"{rows!r} fills ${{{ROW_VARIABLE}}}, which [[generate]] already names; "
            "allowed one of the two",
            at=("test", "rows"),
        )
    row = GeneratorConfig(name=ROW_VARIABLE, kind=GeneratorKind.INT, min=0, max=rows - 1)
    return [*generate, row]
