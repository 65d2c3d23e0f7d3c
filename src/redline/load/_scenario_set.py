"""Several scenarios run at once, each by its own executor, as one executor.

The worker drives one executor; a plan with ``[scenarios]`` gives it a
:class:`ScenarioSet`, which starts each member at its scenario's start time,
adds up their counters and finishes when every member has.
"""

from __future__ import annotations

from collections.abc import Callable

from redline.clock import NS_PER_S, Clock
from redline.load._executor import Executor, ExecutorCounters, FinishLine, StopReason

__all__ = ["ScenarioSet"]


class ScenarioSet(FinishLine):
    """Runs member executors side by side, each from its own offset.

    Args:
        clock: the worker's clock (members start on it).
        members: each member executor with its start offset, in seconds.
    """

    def __init__(self, clock: Clock, members: list[tuple[float, Executor]]) -> None:
        self._clock = clock
        self._members = members
        self._stopped = False
        self._merged = ExecutorCounters()

    @property
    def counters(self) -> ExecutorCounters:
        """Every member's counters added up; send lags are moved here from the members."""
        merged = self._merged
        merged.started = sum(m.counters.started for _, m in self._members)
        merged.dropped = sum(m.counters.dropped for _, m in self._members)
        merged.interrupted = sum(m.counters.interrupted for _, m in self._members)
        merged.pacing_misses = sum(m.counters.pacing_misses for _, m in self._members)
        for _, member in self._members:
            merged.send_lags_us.extend(member.counters.send_lags_us)
            member.counters.send_lags_us = []
        return merged

    @counters.setter
    def counters(self, value: ExecutorCounters) -> None:
        # The Executor protocol's attribute is writable; the sums are rebuilt on read.
        self._merged = value

    def active_vus(self) -> int:
        return sum(member.active_vus() for _, member in self._members)

    def start(self, start_ns: int) -> None:
        _ = self.finished
        for offset_s, member in self._members:
            member.finished.add_done_callback(lambda _: self._check_done())
            member_start_ns = start_ns + round(offset_s * NS_PER_S)
            if offset_s <= 0:
                member.start(member_start_ns)
            else:
                self._clock.call_at_ns(member_start_ns, self._starter(member, member_start_ns))

    def _starter(self, member: Executor, start_ns: int) -> Callable[[], None]:
        def start_member() -> None:
            if not self._stopped:
                member.start(start_ns)

        return start_member

    def stop(self) -> None:
        self._stopped = True
        for _, member in self._members:
            if not member.finished.done():
                member.stop()

    def _check_done(self) -> None:
        if not all(member.finished.done() for _, member in self._members):
            return
        reasons = {member.finished.result() for _, member in self._members}
        interrupted = StopReason.INTERRUPTED in reasons
        self._resolve(StopReason.INTERRUPTED if interrupted else StopReason.COMPLETED)
