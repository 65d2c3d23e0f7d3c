"""The virtual clock that the schedulers' tests run on."""

from __future__ import annotations

import asyncio

from redline.clock import NS_PER_S, FakeClock


def test_sleep_advances_virtual_time_instantly() -> None:
    clock = FakeClock()

    async def main() -> None:
        await clock.sleep_until_ns(5 * NS_PER_S)

    asyncio.run(main())
    assert clock.now_ns() == 5 * NS_PER_S


def test_sleepers_wake_in_deadline_order() -> None:
    clock = FakeClock()
    woke: list[tuple[str, int]] = []

    async def sleeper(name: str, at_s: int) -> None:
        await clock.sleep_until_ns(at_s * NS_PER_S)
        woke.append((name, clock.now_ns() // NS_PER_S))

    async def main() -> None:
        await asyncio.gather(sleeper("late", 3), sleeper("early", 1), sleeper("mid", 2))

    asyncio.run(main())
    assert woke == [("early", 1), ("mid", 2), ("late", 3)]


def test_cancelled_timer_never_fires() -> None:
    clock = FakeClock()
    fired: list[int] = []

    async def main() -> None:
        handle = clock.call_at_ns(NS_PER_S, lambda: fired.append(1))
        clock.call_at_ns(2 * NS_PER_S, lambda: fired.append(2))
        handle.cancel()
        await clock.sleep_until_ns(3 * NS_PER_S)

    asyncio.run(main())
    assert fired == [2]


def test_advance_wakes_due_timers() -> None:
    clock = FakeClock()
    fired: list[int] = []

    async def main() -> None:
        clock.call_at_ns(NS_PER_S, lambda: fired.append(clock.now_ns()))
        clock.advance(2 * NS_PER_S)

    asyncio.run(main())
    assert fired == [2 * NS_PER_S]
