"""Turn a plan's executor config into this worker's share of it.

One entry per executor type in ``EXECUTOR_BUILDERS``; each returns a ready,
not yet started executor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redline.load._closed import ClosedExecutor, ClosedSchedule
from redline.load._executor import Executor
from redline.load._open import OpenExecutor
from redline.load._poisson import PoissonArrivals, poisson_random
from redline.load._schedule import (
    ArrivalSchedule,
    ArrivalStream,
    ArrivalTimeline,
    CurveTimeline,
    RateStage,
    share,
)
from redline.load._shape import PiecewiseRateTimeline, ShapeLevels
from redline.load._vu import WorkerContext
from redline.plan import (
    Arrivals,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    DiurnalConfig,
    LoadModel,
    OnBusy,
    PerVuIterationsConfig,
    Plan,
    RampingArrivalRateConfig,
    RampingVusConfig,
    ShapeConfig,
    SharedIterationsConfig,
    load_shape,
)

__all__ = ["build_executor", "max_connections", "peak_vus"]

Builder = Callable[[Any, Plan, WorkerContext, int, int], Executor]
#: The executor configs of the open model: they start iterations at a rate.
OpenConfig = ConstantArrivalRateConfig | RampingArrivalRateConfig | ShapeConfig | DiurnalConfig


def _graceful_stop_s(plan: Plan) -> float:
    # In-flight requests get at most their timeout, and never more than 5 s.
    return min(plan.request_timeout_s, 5.0)


def _closed(
    plan: Plan,
    ctx: WorkerContext,
    vus_at: Callable[[float], int | None],
    duration_s: float,
    *,
    worker: int,
    iterations_per_vu: int | None = None,
    shared_iterations: int | None = None,
) -> Executor:
    schedule = ClosedSchedule(
        vus_at=vus_at,
        duration_s=duration_s,
        iterations_per_vu=iterations_per_vu,
        shared_iterations=shared_iterations,
        graceful_stop_s=_graceful_stop_s(plan),
        think_time=plan.think_time,
        pacing_s=plan.pacing_s,
        seed=worker,
    )
    return ClosedExecutor(ctx, schedule)


def _fixed(vus: int) -> Callable[[float], int]:
    return lambda _t: vus


def _constant_vus(
    cfg: ConstantVusConfig, plan: Plan, ctx: WorkerContext, i: int, n: int
) -> Executor:
    return _closed(plan, ctx, _fixed(share(cfg.vus, i, n)), cfg.duration_s, worker=i)


def _ramping_vus(cfg: RampingVusConfig, plan: Plan, ctx: WorkerContext, i: int, n: int) -> Executor:
    def vus_at(t: float) -> int:
        return share(int(cfg.target_at(t)), i, n)

    return _closed(plan, ctx, vus_at, cfg.planned_duration_s(), worker=i)


def _per_vu_iterations(
    cfg: PerVuIterationsConfig, plan: Plan, ctx: WorkerContext, i: int, n: int
) -> Executor:
    vus_at = _fixed(share(cfg.vus, i, n))
    return _closed(
        plan, ctx, vus_at, cfg.max_duration_s, worker=i, iterations_per_vu=cfg.iterations
    )


def _shared_iterations(
    cfg: SharedIterationsConfig, plan: Plan, ctx: WorkerContext, i: int, n: int
) -> Executor:
    vus_at = _fixed(share(cfg.vus, i, n))
    shared = share(cfg.iterations, i, n)
    return _closed(plan, ctx, vus_at, cfg.max_duration_s, worker=i, shared_iterations=shared)


def _stream(timeline: ArrivalTimeline, cfg: OpenConfig, i: int, n: int) -> ArrivalStream | None:
    """Poisson arrivals when the plan asks for them; None keeps the uniform share."""
    if cfg.arrivals is Arrivals.POISSON:
        return PoissonArrivals(timeline, workers=n, rng=poisson_random(i))
    return None


def _vu_pool(cfg: OpenConfig) -> tuple[int, int]:
    if isinstance(cfg, ShapeConfig | DiurnalConfig):
        return cfg.vu_pool()
    return cfg.pre_allocated_vus, cfg.max_vus


def _open(
    schedule: ArrivalTimeline,
    cfg: OpenConfig,
    plan: Plan,
    ctx: WorkerContext,
    i: int,
    n: int,
) -> Executor:
    queue_for_s = plan.request_timeout_s if cfg.on_busy is OnBusy.QUEUE else 0.0
    pre_allocated_vus, max_vus = _vu_pool(cfg)
    return OpenExecutor(
        ctx,
        schedule,
        worker=i,
        workers=n,
        pre_allocated_vus=share(pre_allocated_vus, i, n),
        max_vus=max(1, share(max_vus, i, n)),
        queue_for_s=queue_for_s,
        graceful_stop_s=_graceful_stop_s(plan),
        arrivals=_stream(schedule, cfg, i, n),
    )


def _constant_rate(
    cfg: ConstantArrivalRateConfig, plan: Plan, ctx: WorkerContext, i: int, n: int
) -> Executor:
    schedule = ArrivalSchedule.constant(rate_per_s=cfg.rate_per_s, duration_s=cfg.duration_s)
    return _open(schedule, cfg, plan, ctx, i, n)


def _ramping_rate(
    cfg: RampingArrivalRateConfig, plan: Plan, ctx: WorkerContext, i: int, n: int
) -> Executor:
    stages = [RateStage(s.duration_s, s.target_per_s, s.ramp) for s in cfg.stages]
    schedule = ArrivalSchedule(cfg.start_rate_per_s, stages)
    return _open(schedule, cfg, plan, ctx, i, n)


def _shape(cfg: ShapeConfig, plan: Plan, ctx: WorkerContext, i: int, n: int) -> Executor:
    # Loaded again here, in the worker; the parent loaded it once to validate the plan.
    levels = ShapeLevels(
        load_shape(cfg.shape),
        name=cfg.shape,
        model=cfg.model,
        limit=cfg.level_limit(),
        errors=ctx.script_errors,
        on_failure=ctx.report_failure,
    )
    if cfg.model is LoadModel.ARRIVAL_RATE:
        timeline = PiecewiseRateTimeline(levels, duration_s=cfg.duration_s)
        return _open(timeline, cfg, plan, ctx, i, n)

    def vus_at(t: float) -> int | None:
        level = levels(t)
        return None if level is None else share(int(level), i, n)

    return _closed(plan, ctx, vus_at, cfg.duration_s, worker=i)


def _diurnal(cfg: DiurnalConfig, plan: Plan, ctx: WorkerContext, i: int, n: int) -> Executor:
    curve = cfg.curve()
    if cfg.model is LoadModel.ARRIVAL_RATE:
        return _open(CurveTimeline(curve, duration_s=cfg.duration_s), cfg, plan, ctx, i, n)

    def vus_at(t: float) -> int:
        return share(round(curve.level_at(t)), i, n)

    return _closed(plan, ctx, vus_at, cfg.duration_s, worker=i)


#: Builders by executor config type.
EXECUTOR_BUILDERS: dict[type, Builder] = {
    ConstantVusConfig: _constant_vus,
    RampingVusConfig: _ramping_vus,
    PerVuIterationsConfig: _per_vu_iterations,
    SharedIterationsConfig: _shared_iterations,
    ConstantArrivalRateConfig: _constant_rate,
    RampingArrivalRateConfig: _ramping_rate,
    ShapeConfig: _shape,
    DiurnalConfig: _diurnal,
}


def build_executor(plan: Plan, ctx: WorkerContext, index: int, workers: int) -> Executor:
    """This worker's executor for ``plan``'s executor config."""
    return EXECUTOR_BUILDERS[type(plan.executor)](plan.executor, plan, ctx, index, workers)


def peak_vus(plan: Plan) -> int:
    """The most VUs the whole plan may run at once (every scenario's peak, added up)."""
    return sum(_executor_peak_vus(run.executor) for run in plan.runs())


def _executor_peak_vus(cfg: Any) -> int:
    if isinstance(cfg, ShapeConfig | DiurnalConfig):
        vus = _modelled_peak_vus(cfg)
    elif isinstance(cfg, ConstantArrivalRateConfig | RampingArrivalRateConfig):
        vus = max(cfg.max_vus, cfg.pre_allocated_vus)
    elif isinstance(cfg, RampingVusConfig):
        vus = max([cfg.start_vus, *(int(s.target) for s in cfg.stages)])
    else:
        vus = cfg.vus
    return vus


def _modelled_peak_vus(cfg: ShapeConfig | DiurnalConfig) -> int:
    if cfg.model is LoadModel.ARRIVAL_RATE:
        return max(cfg.vu_pool())
    if isinstance(cfg, DiurnalConfig):
        return round(cfg.max_level)
    return cfg.max_vus or 1  # validated: a VU shape always has max_vus


def max_connections(plan: Plan) -> int:
    """The most connections the whole plan may hold at once (one per VU per endpoint)."""
    return peak_vus(plan) * len({r.url.split("/", 3)[2] for r in plan.requests})
