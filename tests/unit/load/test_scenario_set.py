"""Scenarios side by side on virtual time: offsets, added counters, one finish."""

from __future__ import annotations

import asyncio

from redline.clock import NS_PER_MS, NS_PER_S, FakeClock
from redline.load._closed import ClosedExecutor, ClosedSchedule
from redline.load._executor import StopReason
from redline.load._open import OpenExecutor
from redline.load._scenario_set import ScenarioSet
from redline.load._schedule import ArrivalSchedule
from tests.unit.load.conftest import FakeServer, MakeCtx


def test_members_start_at_their_offsets_and_the_set_finishes_with_the_last(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 10 * NS_PER_MS
    start = clock.now_ns()
    closed = ClosedExecutor(make_ctx(vus=2), ClosedSchedule(vus_at=lambda _t: 2, duration_s=10))
    rate = OpenExecutor(
        make_ctx(rate="50/s"),
        ArrivalSchedule.constant(rate_per_s=50.0, duration_s=10.0),
        worker=0,
        workers=1,
        pre_allocated_vus=5,
        max_vus=5,
    )
    scenarios = ScenarioSet(clock, [(0.0, closed), (5.0, rate)])

    started_at: dict[str, int] = {}

    def look(label: str) -> None:
        started_at[label] = rate.counters.started

    async def main() -> tuple[StopReason, int]:
        scenarios.start(start)
        clock.call_at_ns(start + 5 * NS_PER_S - 1, lambda: look("just before 5 s"))
        clock.call_at_ns(start + 5 * NS_PER_S + 1, lambda: look("just after 5 s"))
        reason = await scenarios.finished
        return reason, clock.now_ns()

    reason, ended = asyncio.run(main())
    assert reason is StopReason.COMPLETED
    assert started_at == {"just before 5 s": 0, "just after 5 s": 1}
    # The open member's last arrival is due at 5 s + 9.98 s, answered 10 ms later.
    assert ended == start + 14_990 * NS_PER_MS
    counters = scenarios.counters
    assert counters.started == closed.counters.started + rate.counters.started
    assert rate.counters.started == 500
    assert closed.counters.started == 2 * 1000
    assert counters.send_lags_us and rate.counters.send_lags_us == []  # moved, not copied


def test_stop_before_a_member_starts_keeps_it_from_starting(
    clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    first = ClosedExecutor(make_ctx(vus=1), ClosedSchedule(vus_at=lambda _t: 1, duration_s=20))
    later = ClosedExecutor(make_ctx(vus=1), ClosedSchedule(vus_at=lambda _t: 1, duration_s=20))
    scenarios = ScenarioSet(clock, [(0.0, first), (10.0, later)])

    async def main() -> StopReason:
        scenarios.start(clock.now_ns())
        clock.call_at_ns(clock.now_ns() + 2 * NS_PER_S, scenarios.stop)
        return await scenarios.finished

    assert asyncio.run(main()) is StopReason.INTERRUPTED
    assert later.counters.started == 0
