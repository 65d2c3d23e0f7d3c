"""Executors on virtual time: exact counts, no sockets."""

from __future__ import annotations

import asyncio

from redline.clock import NS_PER_MS, NS_PER_S, FakeClock
from redline.load._closed import ClosedExecutor, ClosedSchedule
from redline.load._executor import StopReason
from redline.load._open import OpenExecutor
from redline.load._schedule import ArrivalSchedule
from redline.load._vu import WorkerContext
from tests.unit.load.conftest import FakeServer, MakeCtx, run_executor


def _recorded(ctx: WorkerContext) -> int:
    return sum(a.recorder.count for a in ctx.picker._table)  # type: ignore[attr-defined]


def _snapshots(ctx: WorkerContext) -> dict[str, object]:
    """Every action's recorded figures (one interval holds the whole test)."""
    actions = {id(a): a for a in ctx.picker._table}.values()  # type: ignore[attr-defined]
    return {a.request.name: a.recorder.snapshot_and_reset(0) for a in actions}


def _total(ctx: WorkerContext) -> int:
    return sum(s.count for s in _snapshots(ctx).values() if s is not None)  # type: ignore[attr-defined]


def test_constant_vus_run_back_to_back_iterations(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 7 * NS_PER_MS
    ctx = make_ctx(vus=4, duration="10s")
    executor = ClosedExecutor(ctx, ClosedSchedule(vus_at=lambda _t: 4, duration_s=10))
    assert run_executor(clock, executor) is StopReason.COMPLETED
    # Each VU starts at 0, 7, 14, ... ms while t < 10 s: 1429 iterations each.
    assert len(server.requests) == 4 * 1429
    assert _total(ctx) == 4 * 1429
    assert server.connections == 4  # keep-alive: one connection per VU


def test_think_time_spaces_iterations(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 10 * NS_PER_MS
    ctx = make_ctx(vus=1, duration="10s")
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=10, think_time_s=0.09)
    run_executor(clock, ClosedExecutor(ctx, schedule))
    assert len(server.requests) == 100  # one iteration every 100 ms


def test_ramping_vus_follow_the_target(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 30 * NS_PER_MS
    ctx = make_ctx(vus=1, duration="10s")
    seen: list[tuple[float, int]] = []
    executor: ClosedExecutor

    def vus_at(t: float) -> int:
        seen.append((t, executor.active_vus()))
        return int(t)  # one more VU each second

    executor = ClosedExecutor(ctx, ClosedSchedule(vus_at=vus_at, duration_s=10))
    run_executor(clock, executor)
    # Each control tick sees the count the previous tick asked for.
    for (t_prev, _), (_, active) in zip(seen, seen[1:], strict=False):
        assert active == int(t_prev)
    assert max(active for _, active in seen) == 9


def test_ramp_down_lets_iterations_finish(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 240 * NS_PER_MS
    ctx = make_ctx(vus=1, duration="10s")
    executor = ClosedExecutor(
        ctx, ClosedSchedule(vus_at=lambda t: 10 if t < 5 else 2, duration_s=10)
    )
    run_executor(clock, executor)
    snapshot = _snapshots(ctx)
    failures = sum(s.failures for s in snapshot.values() if s is not None)  # type: ignore[attr-defined]
    assert failures == 0  # no request was cut off by the ramp-down
    # Iterations start every 240 ms. At 5 s, 8 of 10 VUs retire after the
    # iteration they are in (21 each); the other 2 go on to 9.84 s (42 each).
    assert len(server.requests) == 8 * 21 + 2 * 42


def test_per_vu_iterations_stop_each_vu_after_its_count(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(vus=3, duration="10s")
    schedule = ClosedSchedule(vus_at=lambda _t: 3, duration_s=600, iterations_per_vu=5)
    started = clock.now_ns()
    assert run_executor(clock, ClosedExecutor(ctx, schedule)) is StopReason.COMPLETED
    assert len(server.requests) == 15
    assert clock.now_ns() - started < NS_PER_S  # done long before max duration


def test_shared_iterations_split_the_count(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(vus=4, duration="10s")
    schedule = ClosedSchedule(vus_at=lambda _t: 4, duration_s=600, shared_iterations=10)
    run_executor(clock, ClosedExecutor(ctx, schedule))
    assert len(server.requests) == 10


def test_stop_cuts_off_in_flight_requests(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 10 * NS_PER_S  # nobody ever answers in time
    ctx = make_ctx(vus=3, duration="10s")
    executor = ClosedExecutor(ctx, ClosedSchedule(vus_at=lambda _t: 3, duration_s=60))

    async def main() -> StopReason:
        executor.start(clock.now_ns())
        clock.call_at_ns(clock.now_ns() + NS_PER_S, executor.stop)
        return await executor.finished

    assert asyncio.run(main()) is StopReason.INTERRUPTED
    assert executor.counters.interrupted == 3
    assert _total(ctx) == 0  # cut-off requests are not results


def test_open_model_sends_on_schedule_and_drops_nothing(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 5 * NS_PER_MS
    ctx = make_ctx(rate="100/s", duration="10s")
    schedule = ArrivalSchedule.constant(rate_per_s=100, duration_s=10)
    executor = OpenExecutor(ctx, schedule, worker=0, workers=1, pre_allocated_vus=2, max_vus=10)
    start = clock.now_ns()
    assert run_executor(clock, executor) is StopReason.COMPLETED
    assert executor.counters.dropped == 0
    assert [t - start for t in server.requests] == [n * 10 * NS_PER_MS for n in range(1000)]


def test_open_model_drops_arrivals_when_every_vu_is_busy(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 505 * NS_PER_MS
    ctx = make_ctx(rate="100/s", duration="10s")
    schedule = ArrivalSchedule.constant(rate_per_s=100, duration_s=10)
    executor = OpenExecutor(ctx, schedule, worker=0, workers=1, pre_allocated_vus=1, max_vus=10)
    run_executor(clock, executor)
    assert executor.counters.dropped > 0
    assert executor.counters.started + executor.counters.dropped == 1000
    assert executor.active_vus() == 10


def test_open_model_workers_interleave_one_schedule(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    schedule = ArrivalSchedule.constant(rate_per_s=90, duration_s=10)
    executors = [
        OpenExecutor(
            make_ctx(rate="90/s", duration="10s"),
            schedule,
            worker=i,
            workers=3,
            pre_allocated_vus=2,
            max_vus=4,
        )
        for i in range(3)
    ]

    async def main() -> None:
        start = clock.now_ns()
        for executor in executors:
            executor.start(start)
        await asyncio.gather(*(e.finished for e in executors))

    start = clock.now_ns()
    asyncio.run(main())
    gaps = {b - a for a, b in zip(server.requests, server.requests[1:], strict=False)}
    assert len(server.requests) == 900
    assert server.requests[0] == start
    assert len(gaps) <= 2 and max(gaps) - min(gaps) <= 1  # evenly spaced within 1 ns


def test_queue_mode_sends_late_and_counts_from_the_intended_time(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 150 * NS_PER_MS  # one VU serves 6.7/s; 10/s arrive
    ctx = make_ctx(rate="10/s", duration="10s")
    schedule = ArrivalSchedule.constant(rate_per_s=10, duration_s=10)
    executor = OpenExecutor(
        ctx,
        schedule,
        worker=0,
        workers=1,
        pre_allocated_vus=1,
        max_vus=1,
        queue_for_s=60,
        graceful_stop_s=10,
    )
    run_executor(clock, executor)
    assert executor.counters.dropped == 0
    assert len(server.requests) == 100
    (stats,) = _snapshots(ctx).values()
    assert stats.service.max <= 150_100  # type: ignore[attr-defined]
    # The last arrival was due at 9.9 s and answered at 100 x 0.15 = 15 s.
    assert 5_090_000 <= stats.response.max <= 5_110_000  # type: ignore[attr-defined]


def test_queue_mode_drops_arrivals_that_waited_too_long(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 150 * NS_PER_MS
    ctx = make_ctx(rate="10/s", duration="10s")
    schedule = ArrivalSchedule.constant(rate_per_s=10, duration_s=10)
    executor = OpenExecutor(
        ctx,
        schedule,
        worker=0,
        workers=1,
        pre_allocated_vus=1,
        max_vus=1,
        queue_for_s=1,
        graceful_stop_s=10,
    )
    run_executor(clock, executor)
    assert executor.counters.dropped > 0
    assert executor.counters.dropped + len(server.requests) == 100
    (stats,) = _snapshots(ctx).values()
    assert stats.response.max <= 1_151_000  # type: ignore[attr-defined]


def test_an_empty_share_of_iterations_finishes_at_once(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(vus=1, duration="10s")
    schedule = ClosedSchedule(vus_at=lambda _t: 0, duration_s=600, shared_iterations=0)
    started = clock.now_ns()
    assert run_executor(clock, ClosedExecutor(ctx, schedule)) is StopReason.COMPLETED
    assert clock.now_ns() == started and server.requests == []
