"""Ramp shapes, Poisson arrivals, shape functions and the diurnal pattern on virtual time."""

from __future__ import annotations

import asyncio
import math
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from redline.clock import NS_PER_S, FakeClock
from redline.load._build import build_executor, peak_vus
from redline.load._closed import ClosedExecutor, ClosedSchedule
from redline.load._executor import StopReason
from redline.load._open import OpenExecutor
from redline.load._poisson import PoissonArrivals, poisson_random
from redline.load._schedule import ArrivalSchedule, ArrivalTimeline, CurveTimeline, RateStage
from redline.load._shape import PiecewiseRateTimeline, ShapeLevels
from redline.plan import DiurnalCurve, LoadModel, Ramp, plan_from_mapping
from tests.unit.load.conftest import FakeServer, MakeCtx, run_executor


def _times(timeline: ArrivalTimeline) -> list[float]:
    times: list[float] = []
    while (t_s := timeline.time_of(len(times))) is not None:
        times.append(t_s)
    return times


def _count_by(times: list[float], t_s: float) -> int:
    return sum(1 for t in times if t < t_s)


# --- ramps in the arrival schedule -----------------------------------------------------

RAMPED = [
    RateStage(10, 100, Ramp.EXPONENTIAL),
    RateStage(5, 100),
    RateStage(0, 20, Ramp.STEP),
    RateStage(5, 400, Ramp.STEP),
    RateStage(10, 0, Ramp.EXPONENTIAL),
    RateStage(5, 50, Ramp.LINEAR),
]


def test_every_ramps_arrivals_by_t_are_the_integral_of_the_rate_rounded_up() -> None:
    schedule = ArrivalSchedule(0, RAMPED)
    times = _times(schedule)
    assert len(times) == schedule.total_arrivals == math.ceil(schedule.arrivals_by(35))
    assert times == sorted(times)
    for k in range(1, 3500):  # every 10 ms
        t_s = k / 100
        assert _count_by(times, t_s) == math.ceil(schedule.arrivals_by(t_s) - 1e-9), t_s


def test_an_exponential_ramp_holds_its_closed_form_count() -> None:
    # 0 -> 100/s: from 1/s, x100 over 10 s: 990/ln(100) = 214.98 arrivals, so 215.
    schedule = ArrivalSchedule(0, [RateStage(10, 100, Ramp.EXPONENTIAL)])
    assert schedule.total_arrivals == 215
    assert schedule.rate_at(5) == pytest.approx(10)
    # Arrival n is due where (100^(t/10) - 1) x 10/ln(100) = n.
    for n in (1, 50, 200):
        expected = 10 * math.log(1 + n * math.log(100) / 10) / math.log(100)
        assert schedule.time_of(n) == pytest.approx(expected, abs=1e-9)


def test_a_step_ramp_jumps_at_its_start() -> None:
    schedule = ArrivalSchedule(10, [RateStage(10, 50, Ramp.STEP)])
    assert schedule.rate_at(0) == 50
    assert schedule.total_arrivals == 500
    assert schedule.time_of(1) == pytest.approx(0.02)


def test_linear_stages_are_computed_as_before() -> None:
    # The linear path is the quadratic of old: 0 -> 100/s over 10 s, 5 t^2 = n.
    schedule = ArrivalSchedule(0, [RateStage(10, 100)])
    assert schedule.time_of(125) == pytest.approx(5.0, abs=1e-12)
    assert schedule.arrivals_by(5) == pytest.approx(125)


# --- Poisson arrivals ------------------------------------------------------------------


def _poisson_times(timeline: ArrivalTimeline, *, seed: int, workers: int = 1) -> list[float]:
    stream = PoissonArrivals(timeline, workers=workers, rng=poisson_random(seed))
    times: list[float] = []
    while (t_s := stream.due_s()) is not None:
        times.append(t_s)
        stream.advance()
    return times


def _mean_and_cv(times: list[float]) -> tuple[float, float]:
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    mean = statistics.fmean(gaps)
    return mean, statistics.pstdev(gaps) / mean


def test_poisson_gaps_are_exponential_at_the_rate() -> None:
    times = _poisson_times(ArrivalSchedule.constant(rate_per_s=200, duration_s=200), seed=0)
    # 40000 planned: the count is Poisson, sd 200; 4 sd either way.
    assert abs(len(times) - 40_000) <= 800
    mean, cv = _mean_and_cv(times)
    assert mean == pytest.approx(0.005, rel=0.02)
    assert cv == pytest.approx(1.0, abs=0.03)  # uniform arrivals would give 0
    assert statistics.median(b - a for a, b in zip(times, times[1:], strict=False)) == (
        pytest.approx(0.005 * math.log(2), rel=0.05)
    )


def test_poisson_arrivals_are_reproducible_from_the_seed() -> None:
    schedule = ArrivalSchedule.constant(rate_per_s=50, duration_s=10)
    assert _poisson_times(schedule, seed=3) == _poisson_times(schedule, seed=3)
    assert _poisson_times(schedule, seed=3) != _poisson_times(schedule, seed=4)


def test_workers_poisson_streams_merge_into_one_at_the_full_rate() -> None:
    schedule = ArrivalSchedule.constant(rate_per_s=400, duration_s=100)
    merged = sorted(
        t for worker in range(4) for t in _poisson_times(schedule, seed=worker, workers=4)
    )
    assert abs(len(merged) - 40_000) <= 800
    mean, cv = _mean_and_cv(merged)
    assert mean == pytest.approx(0.0025, rel=0.02)
    assert cv == pytest.approx(1.0, abs=0.03)


def test_poisson_arrivals_follow_a_ramp_second_by_second() -> None:
    schedule = ArrivalSchedule(0, [RateStage(20, 2000, Ramp.EXPONENTIAL)])
    times = _poisson_times(schedule, seed=1)
    for second in range(10, 20):  # 2000^(t/20)/s: about 45 to 1800 a second
        expected = schedule.arrivals_by(second + 1) - schedule.arrivals_by(second)
        got = _count_by(times, second + 1) - _count_by(times, second)
        assert abs(got - expected) <= 4 * math.sqrt(expected) + 1, second


def test_the_open_executor_sends_poisson_arrivals(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    schedule = ArrivalSchedule.constant(rate_per_s=100, duration_s=20)
    expected = [round(t * NS_PER_S) for t in _poisson_times(schedule, seed=0)]
    executor = OpenExecutor(
        make_ctx(rate="100/s", duration="20s"),
        schedule,
        worker=0,
        workers=1,
        pre_allocated_vus=5,
        max_vus=50,
        arrivals=PoissonArrivals(schedule, workers=1, rng=poisson_random(0)),
    )
    start = clock.now_ns()
    assert run_executor(clock, executor) is StopReason.COMPLETED
    assert [t - start for t in server.requests] == expected


# --- shape functions -----------------------------------------------------------------


def _levels(
    function: Callable[[float], object], errors: dict[str, int], *, model: LoadModel, limit: float
) -> ShapeLevels:
    return ShapeLevels(function, name="shapes.py:f", model=model, limit=limit, errors=errors)


def test_a_vu_shape_is_sampled_every_100_ms_and_none_ends_the_run(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    asked: list[float] = []

    def shape(t_s: float) -> int | None:
        asked.append(t_s)
        return None if t_s >= 4 else 1 + int(t_s)

    errors: dict[str, int] = {}
    levels = _levels(shape, errors, model=LoadModel.VUS, limit=10)
    active: list[int] = []
    executor: ClosedExecutor

    def vus_at(t_s: float) -> int | None:
        active.append(executor.active_vus())
        level = levels(t_s)
        return None if level is None else int(level)

    executor = ClosedExecutor(make_ctx(), ClosedSchedule(vus_at=vus_at, duration_s=60))
    start = clock.now_ns()
    assert run_executor(clock, executor) is StopReason.COMPLETED
    assert asked == [k / 10 for k in range(41)]  # 0, 0.1, ..., 4.0, then done
    # Each tick sees the VUs the tick before asked for: 1 + int(t) at t - 0.1.
    assert (active[10], active[11], active[21], active[40]) == (1, 2, 3, 4)
    assert clock.now_ns() - start < 5 * NS_PER_S  # long before duration
    assert errors == {}


@pytest.mark.parametrize(
    ("value", "shown"), [(11, "11"), (2.5, "2.5"), (-1, "-1"), ("3", "'3'"), (True, "True")]
)
def test_a_vu_shape_out_of_bounds_ends_the_run_with_one_error(
    clock: FakeClock, make_ctx: MakeCtx, value: object, shown: str
) -> None:
    errors: dict[str, int] = {}
    levels = _levels(lambda t: 2 if t < 1 else value, errors, model=LoadModel.VUS, limit=10)

    def vus_at(t_s: float) -> int | None:
        level = levels(t_s)
        return None if level is None else int(level)

    executor = ClosedExecutor(make_ctx(), ClosedSchedule(vus_at=vus_at, duration_s=60))
    run_executor(clock, executor)
    assert errors == {
        f"shape 'shapes.py:f' returned {shown} at t=1.0s; allowed a whole number of VUs "
        "0..10 (max_vus) or None to end the run": 1
    }


def test_a_shape_that_raises_ends_the_run_naming_the_exception() -> None:
    errors: dict[str, int] = {}
    levels = _levels(lambda t: 1 / 0, errors, model=LoadModel.ARRIVAL_RATE, limit=100)
    assert levels(0.5) is None
    assert levels(0.6) is None  # once ended, never asked again
    assert errors == {
        "shape 'shapes.py:f' raised ZeroDivisionError: division by zero at t=0.5s; "
        "allowed arrivals/s 0..100 (max_rate) or None to end the run": 1
    }


def test_a_rate_shape_is_piecewise_constant_per_100_ms() -> None:
    asked: list[float] = []

    def rate(t_s: float) -> float | None:
        asked.append(t_s)
        return 10.0 if t_s < 5 else 50.0 if t_s < 8 else 0.0

    timeline = PiecewiseRateTimeline(rate, duration_s=10)
    times = _times(timeline)
    assert len(times) == 50 + 150  # 10/s for 5 s, 50/s for 3 s, then nothing
    assert times[:3] == [0.0, 0.1, 0.2]
    assert times[50] == pytest.approx(5.0) and times[51] == pytest.approx(5.02)
    assert asked == [k / 10 for k in range(100)]  # each piece once, at its start


def test_a_rate_shape_arrivals_by_t_are_the_integral_of_the_steps() -> None:
    def rate(t_s: float) -> float:
        return 7.3 * (1 + math.sin(t_s))  # a rate that changes every piece

    times = _times(PiecewiseRateTimeline(rate, duration_s=20))
    amount = 0.0
    for piece in range(200):
        amount += rate(piece / 10) * 0.1
        assert _count_by(times, (piece + 1) / 10) == math.ceil(amount - 1e-9), piece


def test_a_rate_shape_that_returns_none_ends_the_schedule() -> None:
    timeline = PiecewiseRateTimeline(lambda t: None if t >= 2 else 5.0, duration_s=60)
    assert len(_times(timeline)) == 10


# --- the diurnal pattern -------------------------------------------------------------


def test_diurnal_arrivals_by_t_are_the_integral_rounded_up() -> None:
    curve = DiurnalCurve(low=5, high=95, period_s=20)
    timeline = CurveTimeline(curve, duration_s=50)
    times = _times(timeline)
    assert len(times) == timeline.total_arrivals == math.ceil(50 * 50 - 1e-9)  # mean 50/s
    for k in range(1, 500):
        t_s = k / 10
        assert _count_by(times, t_s) == math.ceil(curve.amount_by(t_s) - 1e-9), t_s
    # Busiest at half a period, quietest at the start of one.
    per_second = [_count_by(times, s + 1) - _count_by(times, s) for s in range(20)]
    assert per_second.index(max(per_second)) in (9, 10)
    assert per_second.index(min(per_second)) in (0, 19)


def _plan(executor: dict[str, object]) -> object:
    return plan_from_mapping(
        {"requests": [{"name": "a", "url": "http://127.0.0.1:9/"}], "executor": executor}
    )


def test_a_diurnal_vu_pattern_rounds_the_curve(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    plan = _plan({"type": "diurnal", "min": 2, "max": 12, "period": "10s", "duration": "20s"})
    assert peak_vus(plan) == 12  # type: ignore[arg-type]
    ctx = make_ctx()
    executor = build_executor(plan, ctx, 0, 1)  # type: ignore[arg-type]
    seen: dict[float, int] = {}

    async def main() -> None:
        start = clock.now_ns()
        executor.start(start)
        for t_s in (0.05, 2.55, 5.05, 7.55, 10.05, 15.05):
            await clock.sleep_until_ns(start + round(t_s * NS_PER_S))
            seen[t_s] = executor.active_vus()
        await executor.finished

    asyncio.run(main())
    # The control tick before each look: min at 0, mid at a quarter, max at a half.
    assert seen == {0.05: 2, 2.55: 7, 5.05: 12, 7.55: 7, 10.05: 2, 15.05: 12}


def test_a_shape_plan_builds_in_the_worker(
    clock: FakeClock,
    server: FakeServer,
    make_ctx: MakeCtx,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shapes.py").write_text("def rate(t_s):\n    return 20 if t_s < 5 else 40\n")
    plan = _plan(
        {
            "type": "shape",
            "shape": "shapes.py:rate",
            "model": "arrival-rate",
            "max_rate": "40/s",
            "duration": "10s",
        }
    )
    ctx = make_ctx()
    start = clock.now_ns()
    assert run_executor(clock, build_executor(plan, ctx, 0, 1)) is StopReason.COMPLETED  # type: ignore[arg-type]
    sent_s = [(t - start) / NS_PER_S for t in server.requests]
    assert len(sent_s) == 5 * 20 + 5 * 40
    assert _count_by(sent_s, 5) == 100
    assert ctx.script_errors == {}


def test_a_rate_shape_above_max_rate_stops_sending(
    clock: FakeClock,
    server: FakeServer,
    make_ctx: MakeCtx,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shapes.py").write_text("def rate(t_s):\n    return 20 if t_s < 3 else 90\n")
    plan = _plan(
        {
            "type": "shape",
            "shape": "shapes.py:rate",
            "model": "arrival-rate",
            "max_rate": "50/s",
            "duration": "10s",
        }
    )
    ctx = make_ctx()
    run_executor(clock, build_executor(plan, ctx, 0, 1))  # type: ignore[arg-type]
    assert len(server.requests) == 60
    assert ctx.script_errors == {
        "shape 'shapes.py:rate' returned 90 at t=3.0s; allowed arrivals/s 0..50 (max_rate) "
        "or None to end the run": 1
    }
