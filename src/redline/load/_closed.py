"""The closed model: a number of VUs, each starting its next iteration when
the last one ends. Serves constant-vus, ramping-vus, per-vu-iterations and
shared-iterations (they differ only in how many VUs, and when to stop).

Between iterations a VU may wait:

- think time: a pause after each iteration, drawn anew each time from the
  plan's think-time model, with one generator per worker, seeded from the
  worker's index (so a run's pauses are the same every time);
- pacing: each iteration starts ``pacing`` after the previous one *started*,
  on an absolute schedule (``start + n x pacing``), so timer lateness never adds
  up. An iteration that outlasts the pacing is a *pacing miss*: the next one
  starts at once, the schedule restarts from there (no burst to catch up), and
  the miss is counted.

With neither, a finished VU starts again straight away, on a path kept free of
both (``_back_to_back``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from redline.clock import NS_PER_S, TimerHandle
from redline.load._executor import ExecutorCounters, FinishLine, StopReason
from redline.load._vu import VirtualUser, WorkerContext
from redline.plan import ConstantThinkTimeConfig, ThinkTimeConfig

__all__ = ["ClosedExecutor", "ClosedSchedule", "think_time_random"]

#: How often the VU count is brought in line with the stages.
CONTROL_PERIOD_NS = NS_PER_S // 10


@dataclass(frozen=True)
class ClosedSchedule:
    """This worker's share of a closed-model plan.

    Attributes:
        vus_at: VUs wanted at ``t`` seconds from the start, asked every
            :data:`CONTROL_PERIOD_NS`; None ends the run early (a load-shape
            function that is done), as reaching ``duration_s`` does.
        duration_s: when to stop starting iterations.
        iterations_per_vu: per-vu-iterations: each VU stops after this many.
        shared_iterations: shared-iterations: the worker stops after this many in all.
        graceful_stop_s: how long in-flight iterations may finish after the end.
        think_time_s: a constant pause between a VU's iterations (the shorthand
            for ``think_time=ConstantThinkTimeConfig(value_s=...)``).
        think_time: the model each pause is drawn from; give this or ``think_time_s``.
        pacing_s: start a VU's iterations this far apart (None: no pacing).
        seed: seeds the think-time draws (:func:`think_time_random`): the worker's index.
    """

    vus_at: Callable[[float], int | None]
    duration_s: float
    iterations_per_vu: int | None = None
    shared_iterations: int | None = None
    graceful_stop_s: float = 5.0
    think_time_s: float = 0.0
    think_time: ThinkTimeConfig | None = None
    pacing_s: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.think_time is not None and self.think_time_s:
            raise ValueError("give think_time or think_time_s, not both")


def think_time_random(seed: int) -> random.Random:
    """The generator a worker draws its think times from.

    Seeded apart from the worker's request picker (seeded with the bare index):
    two generators with one seed give the same numbers, and a VU's pause would
    follow from the request it picked.
    """
    return random.Random(f"think-time/{seed}")


def _think_sampler(schedule: ClosedSchedule) -> Callable[[], float] | None:
    """Draws pauses in seconds, or None when every pause is 0."""
    model = schedule.think_time or ConstantThinkTimeConfig(value_s=schedule.think_time_s)
    # Pauses are never negative, so a mean of 0 means no pause at all.
    if model.mean_s() == 0:
        return None
    return model.sampler(think_time_random(schedule.seed))


class ClosedExecutor(FinishLine):
    """Runs a :class:`ClosedSchedule` on virtual users."""

    def __init__(self, ctx: WorkerContext, schedule: ClosedSchedule) -> None:
        self._ctx = ctx
        self._schedule = schedule
        self._vus: set[VirtualUser] = set()
        #: Retired VUs still finishing their last requests (a user's on_stop).
        self._leaving: set[VirtualUser] = set()
        self._retiring = 0
        self._start_ns = 0
        self._stopping = False
        self._numbered = 0
        self._duration_ns = round(schedule.duration_s * NS_PER_S)
        self._think_s = _think_sampler(schedule)
        self._pacing_ns = round(schedule.pacing_s * NS_PER_S) if schedule.pacing_s else 0
        #: Paced VUs: when each one's next iteration is due.
        self._due_ns: dict[VirtualUser, int] = {}
        #: VUs waiting between iterations, with the timer that wakes them.
        self._waits: dict[VirtualUser, TimerHandle] = {}
        self._counted = (
            schedule.iterations_per_vu is not None or schedule.shared_iterations is not None
        )
        #: No think time, no pacing and no iteration limits: a finished VU starts again at once.
        self._back_to_back = not self._counted and self._think_s is None and not self._pacing_ns
        self.counters = ExecutorCounters()
        #: Pacing: iterations that started late because the one before outlasted the pacing.

    def active_vus(self) -> int:
        return len(self._vus) - self._retiring

    def start(self, start_ns: int) -> None:
        self._start_ns = start_ns
        _ = self.finished
        if self._counted:
            # Iteration-counted executors start every VU once and never resize.
            self._resize(self._schedule.vus_at(0.0) or 0)
            if not self._vus:  # nothing to run in this worker's share
                self._settle(StopReason.COMPLETED)
                return
        self._control()

    def _control(self) -> None:
        if self._stopping:
            return
        clock = self._ctx.clock
        elapsed_s = (clock.now_ns() - self._start_ns) / NS_PER_S
        if elapsed_s >= self._schedule.duration_s:
            self._end()
            return
        if not self._counted:
            wanted = self._schedule.vus_at(elapsed_s)
            if wanted is None:
                self._end()
                return
            self._resize(wanted)
        clock.call_at_ns(clock.now_ns() + CONTROL_PERIOD_NS, self._control)

    def _resize(self, wanted: int) -> None:
        active = len(self._vus) - self._retiring
        if wanted > active:
            # Take back retiring VUs first; they are still connected.
            revived = min(self._retiring, wanted - active)
            self._retiring -= revived
            for _ in range(wanted - active - revived):
                self._add_vu()
        elif wanted < active:
            # Extra VUs finish their iteration first (k6's graceful ramp-down).
            idle = [vu for vu in self._vus if not vu.busy][: active - wanted]
            for vu in idle:
                self._retire(vu)
            self._retiring += active - wanted - len(idle)

    def _add_vu(self) -> None:
        vu = self._ctx.new_user(self._on_done, number=self._numbered)
        self._numbered += 1
        self._vus.add(vu)
        self._begin(vu)

    def _begin(self, vu: VirtualUser, due_ns: int | None = None) -> None:
        """Start ``vu``'s next iteration; ``due_ns`` is when it was due, if it waited."""
        limit = self._schedule.shared_iterations
        if limit is not None and self.counters.started >= limit:
            self._retire(vu)
            return
        self.counters.started += 1
        now = self._ctx.clock.now_ns()
        if self._pacing_ns:
            # From when it was due, not when the timer fired: lateness does not add up.
            self._due_ns[vu] = (now if due_ns is None else due_ns) + self._pacing_ns
        vu.start_iteration(now, now)

    def _on_done(self, vu: VirtualUser) -> None:
        if self._back_to_back and not self._stopping and not self._retiring:
            # The hot path of the closed model: the VU goes again straight away,
            # its next iteration due when the last one ended.
            self.counters.started += 1
            vu.start_iteration(vu.done_ns, vu.done_ns)
            return
        if self._stopping:
            self._retire(vu)
        elif self._retiring:
            self._retiring -= 1
            self._retire(vu)
        elif self._schedule.iterations_per_vu is not None and (
            vu.iterations >= self._schedule.iterations_per_vu
        ):
            self._retire(vu)
        elif self._pacing_ns:
            self._pace(vu)
        elif self._think_s is not None:
            self._wait(vu, self._ctx.clock.now_ns() + round(self._think_s() * NS_PER_S))
        else:
            self._begin(vu)

    def _pace(self, vu: VirtualUser) -> None:
        due_ns = self._due_ns[vu]
        if self._ctx.clock.now_ns() > due_ns:
            self.counters.pacing_misses += 1
            self._begin(vu)  # at once, and the schedule restarts from now
        else:
            self._wait(vu, due_ns)

    def _wait(self, vu: VirtualUser, until_ns: int) -> None:
        self._waits[vu] = self._ctx.clock.call_at_ns(until_ns, lambda: self._resume(vu, until_ns))

    def _resume(self, vu: VirtualUser, due_ns: int) -> None:
        del self._waits[vu]
        # Due at or after the end: the control tick that ends the run may come
        # just after this, but no iteration is meant to start there.
        if self._stopping or due_ns - self._start_ns >= self._duration_ns:
            self._retire(vu)
        else:
            self._begin(vu, due_ns)

    def _retire(self, vu: VirtualUser) -> None:
        self._vus.discard(vu)
        self._due_ns.pop(vu, None)
        wait = self._waits.pop(vu, None)
        if wait is not None:
            wait.cancel()
        # A VU may run a last request or two before it leaves (a user's on_stop).
        self._leaving.add(vu)
        vu.leave(lambda: self._gone(vu))

    def _gone(self, vu: VirtualUser) -> None:
        self._leaving.discard(vu)
        if not self._vus and not self._leaving and (self._stopping or self._counted):
            self._settle(StopReason.COMPLETED)

    def _settle(self, reason: StopReason) -> None:
        self._stopping = True
        self._resolve(reason)

    def _end(self) -> None:
        """The duration is over: let in-flight iterations finish, briefly."""
        self._stopping = True
        for vu in [v for v in self._vus if not v.busy]:
            self._retire(vu)
        if not self._vus and not self._leaving:
            self._settle(StopReason.COMPLETED)
            return
        clock = self._ctx.clock
        deadline = clock.now_ns() + int(self._schedule.graceful_stop_s * NS_PER_S)
        clock.call_at_ns(deadline, lambda: self._cut_off(StopReason.COMPLETED))

    def stop(self) -> None:
        self._cut_off(StopReason.INTERRUPTED)

    def _cut_off(self, reason: StopReason) -> None:
        self._stopping = True
        for vu in [*self._vus, *self._leaving]:
            if vu.abort():
                self.counters.interrupted += 1
        self._vus.clear()
        self._leaving.clear()
        for wait in self._waits.values():
            wait.cancel()
        self._waits.clear()
        self._settle(reason)
