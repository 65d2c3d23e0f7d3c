"""The open model: iterations start at their intended times whatever the
target does. Serves constant-arrival-rate and ramping-arrival-rate.

Sends are scheduled by absolute time (``start + t(n)``), never by sleeping
between them, so a slow target cannot slow the sending. An arrival that finds
no free VU, with ``max_vus`` already busy, is counted as dropped, never
delayed (k6 ``constant_arrival_rate.go``). Each worker takes every
``workers``-th arrival of the one global schedule, so the merged sends are
evenly spaced and the total is exactly the plan's; or, with Poisson arrivals,
draws its own Poisson stream at ``rate / workers`` (:mod:`redline.load._poisson`).
"""

from __future__ import annotations

from collections import deque

from redline.clock import NS_PER_S, NS_PER_US, Alarm
from redline.load._executor import ExecutorCounters, FinishLine, StopReason
from redline.load._schedule import ArrivalStream, ArrivalTimeline, UniformArrivals
from redline.load._vu import VirtualUser, WorkerContext

__all__ = ["OpenExecutor"]


class OpenExecutor(FinishLine):
    """Starts iterations at the arrival times of an :class:`ArrivalSchedule`.

    Args:
        ctx: the worker's shared context.
        schedule: the whole plan's arrivals (an ``ArrivalSchedule``, or any timeline).
        worker: this worker's index; it takes arrivals ``worker, worker + workers, ...``.
        workers: how many workers share the schedule.
        arrivals: the times this worker sends at; by default the uniform share
            above (:class:`~redline.load._schedule.UniformArrivals`).
        pre_allocated_vus: VUs created up front.
        max_vus: VUs this worker may create in all.
        queue_for_s: when every VU is busy, how long an arrival may wait for
            one before it is dropped; 0 drops it at once (k6's rule).
        graceful_stop_s: how long in-flight iterations may finish after the last arrival.
    """

    def __init__(
        self,
        ctx: WorkerContext,
        schedule: ArrivalTimeline,
        *,
        worker: int,
        workers: int,
        pre_allocated_vus: int,
        max_vus: int,
        queue_for_s: float = 0.0,
        graceful_stop_s: float = 5.0,
        arrivals: ArrivalStream | None = None,
    ) -> None:
        self._ctx = ctx
        self._arrivals = arrivals or UniformArrivals(schedule, worker=worker, workers=workers)
        self._pre_allocated = pre_allocated_vus
        self._max_vus = max(max_vus, pre_allocated_vus)
        self._graceful_stop_ns = int(graceful_stop_s * NS_PER_S)
        self._queue_for_ns = int(queue_for_s * NS_PER_S)
        #: Intended start times of arrivals waiting for a free VU (queue mode).
        self._waiting: deque[int] = deque()
        self._idle: list[VirtualUser] = []
        self._busy = 0
        self._created = 0
        self._start_ns = 0
        self._stopping = False
        self._all: list[VirtualUser] = []
        self._alarm: Alarm | None = None
        self.counters = ExecutorCounters()

    def active_vus(self) -> int:
        return self._created

    def start(self, start_ns: int) -> None:
        self._start_ns = start_ns
        _ = self.finished
        self._alarm = self._ctx.clock.alarm(self._tick)
        for _ in range(self._pre_allocated):
            self._idle.append(self._new_vu())
        self._tick()

    def _new_vu(self) -> VirtualUser:
        vu = self._ctx.new_user(self._on_done, number=self._created)
        self._created += 1
        self._all.append(vu)
        return vu

    def _tick(self) -> None:
        if self._stopping:
            return
        clock = self._ctx.clock
        now = clock.now_ns()
        arrivals = self._arrivals
        while True:
            t_s = arrivals.due_s()
            if t_s is None:
                self._drain()
                return
            intended = self._start_ns + round(t_s * NS_PER_S)
            if intended > now:
                assert self._alarm is not None  # made in start()
                self._alarm.arm(intended)
                return
            self._dispatch(intended, now)
            arrivals.advance()

    def _dispatch(self, intended_ns: int, now_ns: int) -> None:
        if self._idle:
            vu = self._idle.pop()
        elif self._created < self._max_vus:
            vu = self._new_vu()
        elif self._queue_for_ns:
            self._waiting.append(intended_ns)
            return
        else:
            self.counters.dropped += 1
            return
        self._launch(vu, intended_ns, now_ns)

    def _launch(self, vu: VirtualUser, intended_ns: int, now_ns: int) -> None:
        self._busy += 1
        self.counters.started += 1
        self.counters.send_lags_us.append((now_ns - intended_ns) // NS_PER_US)
        vu.start_iteration(intended_ns, now_ns)

    def _on_done(self, vu: VirtualUser) -> None:
        self._busy -= 1
        if self._waiting and not self.finished.done():
            now = self._ctx.clock.now_ns()
            intended = self._next_waiting(now)
            if intended is not None:
                self._launch(vu, intended, now)
                return
        self._idle.append(vu)
        if self._stopping and self._busy == 0:
            self._settle(StopReason.COMPLETED)

    def _next_waiting(self, now_ns: int) -> int | None:
        """The oldest waiting arrival still worth sending; older ones are dropped."""
        while self._waiting:
            intended = self._waiting.popleft()
            if now_ns - intended <= self._queue_for_ns:
                return intended
            self.counters.dropped += 1
        return None

    def _drain(self) -> None:
        """No arrivals left: wait briefly for those in flight, then finish."""
        self._stopping = True
        if self._busy == 0 and not self._waiting:
            self._settle(StopReason.COMPLETED)
            return
        clock = self._ctx.clock
        clock.call_at_ns(clock.now_ns() + self._graceful_stop_ns, self._cut_off)

    def _cut_off(self) -> None:
        """The graceful stop is over: arrivals still waiting count as dropped."""
        self.counters.dropped += len(self._waiting)
        self._abort_all(StopReason.COMPLETED)

    def stop(self) -> None:
        if not self.finished.done():
            self._abort_all(StopReason.INTERRUPTED)

    def _abort_all(self, reason: StopReason) -> None:
        self._stopping = True
        self._waiting.clear()
        for vu in self._all:
            if vu.abort():
                self.counters.interrupted += 1
        self._busy = 0
        self._settle(reason)

    def _settle(self, reason: StopReason) -> None:
        self._stopping = True
        if self._alarm is not None:
            self._alarm.close()
            self._alarm = None
        for vu in self._idle:
            vu.close()
        self._resolve(reason)
