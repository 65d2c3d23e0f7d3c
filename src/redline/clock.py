"""Time, behind one interface, so schedulers run on virtual time in tests.

``load`` and ``metrics`` never call ``time.*`` or ``asyncio.sleep`` directly:
they take a :class:`Clock`. Production code uses :class:`MonotonicClock`;
unit tests use :class:`FakeClock`, which advances only when told to or when
something sleeps on it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

from redline._timerfd import open_alarm

__all__ = [
    "Alarm",
    "Clock",
    "FakeClock",
    "MonotonicClock",
    "NS_PER_MS",
    "NS_PER_S",
    "NS_PER_US",
    "TimerAlarm",
    "TimerHandle",
]

#: Nanoseconds in one second.
NS_PER_S = 1_000_000_000
#: Nanoseconds in one millisecond.
NS_PER_MS = 1_000_000
#: Nanoseconds in one microsecond.
NS_PER_US = 1_000


class Clock(Protocol):
    """A monotonic clock with a matching sleep."""

    def now_ns(self) -> int:
        """Monotonic time in nanoseconds (comparable across processes on one host)."""
        ...

    async def sleep_until_ns(self, deadline_ns: int) -> None:
        """Return once ``now_ns() >= deadline_ns``."""
        ...

    def call_at_ns(self, deadline_ns: int, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` on the running event loop once ``now_ns() >= deadline_ns``."""
        ...

    def alarm(self, callback: Callable[[], None]) -> Alarm:
        """A re-armable one-shot alarm, as precise as the platform allows."""
        ...


class Alarm(Protocol):
    """One deadline at a time: :meth:`arm` replaces the previous one."""

    def arm(self, deadline_ns: int) -> None:
        """Run the callback once ``now_ns() >= deadline_ns``."""
        ...

    def close(self) -> None:
        """Disarm and release the alarm."""
        ...


class TimerHandle(Protocol):
    """What :meth:`Clock.call_at_ns` returns: something that can be cancelled."""

    def cancel(self) -> None: ...


class MonotonicClock:
    """The real clock: ``CLOCK_MONOTONIC``, shared by every process on the host."""

    #: The C function itself, not a method around it: the engine reads the
    #: clock on every request, and this saves a Python call each time.
    now_ns = staticmethod(time.monotonic_ns)

    async def sleep_until_ns(self, deadline_ns: int) -> None:
        delay_ns = deadline_ns - time.monotonic_ns()
        if delay_ns > 0:
            await asyncio.sleep(delay_ns / NS_PER_S)

    def call_at_ns(self, deadline_ns: int, callback: Callable[[], None]) -> TimerHandle:
        loop = asyncio.get_running_loop()
        delay_ns = deadline_ns - time.monotonic_ns()
        if delay_ns <= 0:
            return loop.call_soon(callback)
        # uvloop's timers (libuv's) count whole milliseconds and round the
        # delay to the nearest: a 0.2 ms wait would fire at once, and a
        # scheduler that re-arms until its deadline would spin the CPU. Round
        # up instead: a callback may run up to ~1 ms late, never early.
        delay_ms = -(-delay_ns // NS_PER_MS)
        return loop.call_later(delay_ms / 1000, callback)

    def alarm(self, callback: Callable[[], None]) -> Alarm:
        # A timerfd wakes the loop within microseconds of the deadline, where
        # the loop's own timers may be a millisecond late (see call_at_ns).
        precise = open_alarm(callback)
        return precise if precise is not None else TimerAlarm(self, callback)


class FakeClock:
    """Virtual time for tests: sleeping advances time instantly, in deadline order.

    A sleeper wakes only when every earlier deadline has been served, so a test
    can assert exact counts. Time also moves with :meth:`advance`.

    Example::

        clock = FakeClock()
        await clock.sleep_until_ns(5 * NS_PER_S)
        assert clock.now_ns() == 5 * NS_PER_S
    """

    def __init__(self, start_ns: int = 0) -> None:
        self._now_ns = start_ns
        self._sleepers: list[tuple[int, int, _FakeTimer]] = []
        self._order = itertools.count()
        self._jump_pending = False

    def now_ns(self) -> int:
        return self._now_ns

    def advance(self, delta_ns: int) -> None:
        """Move time forward by ``delta_ns`` and wake every sleeper now due."""
        self._now_ns += delta_ns
        self._wake_due()

    async def sleep_until_ns(self, deadline_ns: int) -> None:
        if deadline_ns <= self._now_ns:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        self.call_at_ns(deadline_ns, wake)
        await future

    def call_at_ns(self, deadline_ns: int, callback: Callable[[], None]) -> TimerHandle:
        timer = _FakeTimer(callback)
        heapq.heappush(self._sleepers, (deadline_ns, next(self._order), timer))
        if not self._jump_pending:
            self._jump_pending = True
            asyncio.get_running_loop().call_soon(self._jump)
        return timer

    def alarm(self, callback: Callable[[], None]) -> Alarm:
        return TimerAlarm(self, callback)

    def _jump(self) -> None:
        # Let every runnable task settle before jumping: only when the loop has
        # nothing else to do does virtual time move to the next deadline.
        # (``_ready`` is the pure-Python loop's run queue: FakeClock is for the
        # default asyncio loop in unit tests, never for uvloop.)
        loop = asyncio.get_running_loop()
        if getattr(loop, "_ready", None):
            loop.call_soon(self._jump)
            return
        self._jump_pending = False
        if self._sleepers:
            deadline_ns = self._sleepers[0][0]
            self._now_ns = max(self._now_ns, deadline_ns)
            self._wake_due()
        if self._sleepers and not self._jump_pending:
            self._jump_pending = True
            loop.call_soon(self._jump)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now_ns:
            _, _, timer = heapq.heappop(self._sleepers)
            timer.fire()


class _FakeTimer:
    """A pending callback on a :class:`FakeClock`."""

    __slots__ = ("_callback", "cancelled")

    def __init__(self, callback: Callable[[], object]) -> None:
        self._callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._callback()


class TimerAlarm:
    """An :class:`Alarm` made of the clock's ordinary timers."""

    def __init__(self, clock: Clock, callback: Callable[[], None]) -> None:
        self._clock = clock
        self._callback = callback
        self._handle: TimerHandle | None = None

    def arm(self, deadline_ns: int) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._clock.call_at_ns(deadline_ns, self._callback)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
