"""The precise alarm on a real event loop (uvloop), against the monotonic clock."""

from __future__ import annotations

import asyncio
import time

import uvloop

from redline.clock import Alarm, MonotonicClock, TimerAlarm


def _lateness_us(precise: bool, delays_us: list[int]) -> list[int]:
    """Arm an alarm for each delay in turn; return how late each fired, µs (< 0: early)."""
    clock = MonotonicClock()
    lateness: list[int] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for delay_us in delays_us:
            done: asyncio.Future[int] = loop.create_future()
            alarm: Alarm = (
                clock.alarm(lambda: done.set_result(time.monotonic_ns()))  # noqa: B023
                if precise
                else TimerAlarm(clock, lambda: done.set_result(time.monotonic_ns()))  # noqa: B023
            )
            deadline = time.monotonic_ns() + delay_us * 1000
            alarm.arm(deadline)
            fired = await done
            alarm.close()
            lateness.append((fired - deadline) // 1000)

    uvloop.run(main())
    return lateness


def test_precise_alarm_is_never_early_and_rarely_late() -> None:
    lateness = sorted(_lateness_us(True, [200] * 50))
    assert lateness[0] >= 0
    # On a busy machine one wake-up can be late; the median is well under 1 ms.
    assert lateness[len(lateness) // 2] < 500


def test_loop_timer_alarm_fires() -> None:
    lateness = _lateness_us(False, [200, 700, 1500] * 5)
    assert len(lateness) == 15 and max(lateness) < 50_000


def test_a_re_armed_alarm_does_not_spin() -> None:
    """Re-arming inside the callback skips the expiry read; the fd must not stay readable."""
    clock = MonotonicClock()
    fires = 0

    async def main() -> None:
        def callback() -> None:
            nonlocal fires
            fires += 1
            alarm.arm(time.monotonic_ns() + 5_000_000)  # every 5 ms

        alarm = clock.alarm(callback)
        alarm.arm(time.monotonic_ns() + 5_000_000)
        await asyncio.sleep(0.2)
        alarm.close()

    uvloop.run(main())
    # About 40; a spinning fd would give thousands, a starved loop a few.
    assert 3 <= fires <= 60
