"""The closed model's pauses on virtual time: sampled think times, and pacing."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Iterator

import pytest

from redline.clock import NS_PER_MS, NS_PER_S, FakeClock
from redline.load._closed import ClosedExecutor, ClosedSchedule, think_time_random
from redline.load._executor import StopReason
from redline.plan import (
    ConstantThinkTimeConfig,
    ExponentialThinkTimeConfig,
    LognormalThinkTimeConfig,
    UniformThinkTimeConfig,
)
from tests.unit.load.conftest import FakeServer, MakeCtx, run_executor


def _gaps(times: list[int]) -> list[int]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def _pauses(config: UniformThinkTimeConfig, seed: int) -> Iterator[int]:
    sample = config.sampler(think_time_random(seed))
    while True:
        yield round(sample() * NS_PER_S)


@pytest.mark.parametrize("seed", [0, 3])
def test_each_pause_is_the_next_draw_of_the_workers_generator(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx, seed: int
) -> None:
    server.service_ns = 10 * NS_PER_MS
    think = UniformThinkTimeConfig(min_s=0.05, max_s=0.15)
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=10, think_time=think, seed=seed)
    run_executor(clock, ClosedExecutor(make_ctx(), schedule))
    pauses = _pauses(think, seed)
    expected = [server.service_ns + next(pauses) for _ in server.requests[1:]]
    assert _gaps(server.requests) == expected
    assert len(set(expected)) == len(expected)  # drawn anew each time
    assert 10 / 0.16 < len(server.requests) < 10 / 0.06


def test_workers_draw_different_pauses(clock: FakeClock, make_ctx: MakeCtx) -> None:
    think = ExponentialThinkTimeConfig(average_s=0.2)
    servers = [FakeServer(clock) for _ in range(2)]
    executors = []
    for worker, server in enumerate(servers):
        ctx = make_ctx()
        ctx.connect = server.connect  # type: ignore[assignment]
        schedule = ClosedSchedule(vus_at=lambda _t: 2, duration_s=10, think_time=think, seed=worker)
        executors.append(ClosedExecutor(ctx, schedule))

    async def main() -> None:
        for executor in executors:
            executor.start(clock.now_ns())
        await asyncio.gather(*(e.finished for e in executors))

    asyncio.run(main())
    first, second = (server.requests for server in servers)
    assert first[:2] == second[:2]  # every VU starts at once
    assert first != second


def test_many_vus_pause_for_the_models_mean_on_average(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 20 * NS_PER_MS
    think = LognormalThinkTimeConfig(median_s=0.1, sigma=0.5)
    vus = 20
    schedule = ClosedSchedule(vus_at=lambda _t: vus, duration_s=60, think_time=think)
    run_executor(clock, ClosedExecutor(make_ctx(), schedule))
    # By Little's law each VU runs one iteration per (service + mean pause).
    period_s = 0.02 + think.mean_s()
    assert len(server.requests) == pytest.approx(vus * 60 / period_s, rel=0.03)


def test_a_constant_model_waits_its_value(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 10 * NS_PER_MS
    think = ConstantThinkTimeConfig(value_s=0.09)
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=10, think_time=think)
    run_executor(clock, ClosedExecutor(make_ctx(), schedule))
    assert set(_gaps(server.requests)) == {100 * NS_PER_MS}


def test_a_zero_model_runs_back_to_back(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 7 * NS_PER_MS
    think = UniformThinkTimeConfig(min_s=0, max_s=0)
    schedule = ClosedSchedule(vus_at=lambda _t: 4, duration_s=10, think_time=think)
    executor = ClosedExecutor(make_ctx(), schedule)
    assert executor._back_to_back  # the hot path, as with no think time at all
    run_executor(clock, executor)
    assert len(server.requests) == 4 * 1429


def test_think_time_and_think_time_s_are_exclusive() -> None:
    with pytest.raises(ValueError, match="give think_time or think_time_s, not both"):
        ClosedSchedule(
            vus_at=lambda _t: 1,
            duration_s=10,
            think_time_s=1,
            think_time=ConstantThinkTimeConfig(value_s=1),
        )


def test_a_vu_retired_while_pausing_never_sends_again(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 10 * NS_PER_MS
    schedule = ClosedSchedule(
        vus_at=lambda t: 2 if t < 1 else 1,
        duration_s=10,
        think_time=ConstantThinkTimeConfig(value_s=5),
    )
    start = clock.now_ns()
    run_executor(clock, ClosedExecutor(make_ctx(), schedule))
    # Both start at 0 and pause until 5.01 s; one is retired at 1 s, mid-pause.
    assert [t - start for t in server.requests] == [0, 0, 5_010 * NS_PER_MS]


def test_stop_ends_pauses_at_once(clock: FakeClock, server: FakeServer, make_ctx: MakeCtx) -> None:
    schedule = ClosedSchedule(
        vus_at=lambda _t: 3, duration_s=60, think_time=ConstantThinkTimeConfig(value_s=30)
    )
    executor = ClosedExecutor(make_ctx(), schedule)

    async def main() -> StopReason:
        executor.start(clock.now_ns())
        clock.call_at_ns(clock.now_ns() + NS_PER_S, executor.stop)
        return await executor.finished

    assert asyncio.run(main()) is StopReason.INTERRUPTED
    assert len(server.requests) == 3
    assert executor.counters.interrupted == 0  # nobody was waiting for a response


def test_pacing_starts_iterations_on_the_schedule(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 100 * NS_PER_MS
    schedule = ClosedSchedule(vus_at=lambda _t: 2, duration_s=10, pacing_s=0.45)
    executor = ClosedExecutor(make_ctx(), schedule)
    start = clock.now_ns()
    assert run_executor(clock, executor) is StopReason.COMPLETED
    # Two VUs, each starting at 0, 0.45, 0.9, ... 9.9 s: exactly every 450 ms.
    expected = [k * 450 * NS_PER_MS for k in range(23) for _ in range(2)]
    assert [t - start for t in server.requests] == expected
    assert executor.counters.pacing_misses == 0
    assert executor.counters.started == 46


def test_an_iteration_due_at_the_end_does_not_start(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=10, pacing_s=0.5)
    start = clock.now_ns()
    run_executor(clock, ClosedExecutor(make_ctx(), schedule))
    assert [t - start for t in server.requests] == [k * 500 * NS_PER_MS for k in range(20)]


def test_an_iteration_as_long_as_the_pacing_is_not_a_miss(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 500 * NS_PER_MS
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=10, pacing_s=0.5)
    executor = ClosedExecutor(make_ctx(), schedule)
    run_executor(clock, executor)
    assert set(_gaps(server.requests)) == {500 * NS_PER_MS}
    assert executor.counters.pacing_misses == 0


def test_an_iteration_longer_than_the_pacing_is_a_miss(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    service_ms = iter([100, 100, 700, 100, 1200, 100, 100, 100])
    server.delay_of = lambda _now: next(service_ms) * NS_PER_MS
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=4, pacing_s=0.5)
    executor = ClosedExecutor(make_ctx(), schedule)
    start = clock.now_ns()
    run_executor(clock, executor)
    # The third takes 700 ms: the fourth starts when it ends (1.7 s), and the
    # schedule goes on from there; the fifth takes 1.2 s: the sixth starts at 3.4 s.
    starts_ms = [0, 500, 1000, 1700, 2200, 3400, 3900]
    assert [t - start for t in server.requests] == [ms * NS_PER_MS for ms in starts_ms]
    assert executor.counters.pacing_misses == 2


def test_paced_iteration_counts_finish_without_waiting_for_the_next_slot(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 10 * NS_PER_MS
    schedule = ClosedSchedule(vus_at=lambda _t: 3, duration_s=600, iterations_per_vu=4, pacing_s=1)
    start = clock.now_ns()
    executor = ClosedExecutor(make_ctx(), schedule)
    assert run_executor(clock, executor) is StopReason.COMPLETED
    assert sorted({t - start for t in server.requests}) == [k * NS_PER_S for k in range(4)]
    assert len(server.requests) == 12
    assert executor.finished.done()


def test_paced_shared_iterations_stop_at_the_count(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    schedule = ClosedSchedule(vus_at=lambda _t: 2, duration_s=600, shared_iterations=5, pacing_s=1)
    start = clock.now_ns()
    run_executor(clock, ClosedExecutor(make_ctx(), schedule))
    assert [t - start for t in server.requests] == [0, 0, NS_PER_S, NS_PER_S, 2 * NS_PER_S]


def test_pacing_holds_its_period_under_varied_service_times(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    # Service times up to 290 ms under a 300 ms pacing: never a miss, never a drift.
    server.delay_of = lambda now: (now // NS_PER_MS) % 29 * 10 * NS_PER_MS
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=30, pacing_s=0.3)
    executor = ClosedExecutor(make_ctx(), schedule)
    run_executor(clock, executor)
    assert set(_gaps(server.requests)) == {300 * NS_PER_MS}
    assert executor.counters.pacing_misses == 0
    assert statistics.fmean(_gaps(server.requests)) == 300 * NS_PER_MS
