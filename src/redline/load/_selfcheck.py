"""The generator watching itself: its CPU, its event-loop lag and its send lag.

A load generator that is out of CPU sends late and reads late, and its
latency figures then describe itself, not the target. These probes let the
summary say so.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass, field

from redline.clock import NS_PER_S, NS_PER_US, Clock, TimerHandle
from redline.metrics import GeneratorStats

__all__ = ["CpuMeter", "LoopLagProbe", "SelfCheck", "p99", "self_check"]

#: How often the loop-lag probe wakes up.
LAG_PROBE_PERIOD_NS = NS_PER_S // 20


def p99(values: list[int]) -> int:
    """The 99th percentile (nearest rank) of ``values``, 0 when empty."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, (len(ordered) * 99) // 100)]


class CpuMeter:
    """CPU seconds (user + system) this process used since the last reading."""

    def __init__(self) -> None:
        self._last_s = self._total_s()

    @staticmethod
    def _total_s() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def read(self) -> float:
        """CPU seconds used since the previous call."""
        total = self._total_s()
        used, self._last_s = total - self._last_s, total
        return used


class LoopLagProbe:
    """Measures how late a periodic timer fires: the event loop's lag."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lags_us: list[int] = []
        self._due_ns = 0
        self._handle: TimerHandle | None = None

    def start(self) -> None:
        """Begin probing on the running loop."""
        self._due_ns = self._clock.now_ns() + LAG_PROBE_PERIOD_NS
        self._handle = self._clock.call_at_ns(self._due_ns, self._fire)

    def stop(self) -> None:
        """Stop probing."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        now = self._clock.now_ns()
        self._lags_us.append(max(0, now - self._due_ns) // NS_PER_US)
        self._due_ns = now + LAG_PROBE_PERIOD_NS
        self._handle = self._clock.call_at_ns(self._due_ns, self._fire)

    def drain(self) -> list[int]:
        """The lags measured since the last call, in microseconds."""
        lags, self._lags_us = self._lags_us, []
        return lags


#: Share of a core above which a worker counts as saturated.
CPU_SATURATED_SHARE = 0.90
#: Event-loop lag above which the generator was reading its sockets late.
LOOP_LAG_LATE_US = 10_000
#: Open model: send lag above which requests left late (the schedule was not kept).
SEND_LAG_LATE_US = 10_000
#: Share of seconds that must show a problem before the run is flagged.
FLAGGED_SECONDS_SHARE = 0.25


@dataclass
class SelfCheck:
    """The generator's verdict on itself for a whole run."""

    #: Mean CPU per worker, as a share of one core, over the run.
    cpu_share: float
    #: Worst per-second p99 event-loop lag, µs.
    loop_lag_p99_us: int
    #: Worst per-second p99 delay of open-model sends behind their intended time, µs.
    send_lag_p99_us: int
    #: Iterations the open model could not start (no free VU).
    dropped_iterations: int
    #: Paced VUs: iterations that ran longer than the pacing.
    pacing_misses: int = 0
    #: Why the generator may have been the bottleneck (empty when it was not).
    reasons: list[str] = field(default_factory=list)

    @property
    def generator_bound(self) -> bool:
        """True when the figures may describe the generator rather than the target."""
        return bool(self.reasons)

    def to_dict(self) -> dict[str, object]:
        """The verdict for a results file."""
        return {
            "cpu_share": round(self.cpu_share, 4),
            "loop_lag_p99_us": self.loop_lag_p99_us,
            "send_lag_p99_us": self.send_lag_p99_us,
            "dropped_iterations": self.dropped_iterations,
            "pacing_misses": self.pacing_misses,
            "generator_bound": self.generator_bound,
            "reasons": self.reasons,
        }


def self_check(per_second: list[GeneratorStats], workers: int) -> SelfCheck:
    """Judge the generator from its per-second figures (merged over workers)."""
    seconds = len(per_second)
    cpu = sum(g.cpu_s for g in per_second)
    cpu_share = cpu / (seconds * workers) if seconds else 0.0
    lags = [g.loop_lag_p99_us for g in per_second]
    late = sum(1 for lag in lags if lag > LOOP_LAG_LATE_US)
    late_sends = sum(1 for g in per_second if g.send_lag_p99_us > SEND_LAG_LATE_US)
    check = SelfCheck(
        cpu_share=cpu_share,
        loop_lag_p99_us=max(lags, default=0),
        send_lag_p99_us=max((g.send_lag_p99_us for g in per_second), default=0),
        dropped_iterations=sum(g.dropped_iterations for g in per_second),
        pacing_misses=sum(g.pacing_misses for g in per_second),
    )
    if cpu_share > CPU_SATURATED_SHARE:
        check.reasons.append(
            f"the generator used {cpu_share:.0%} of each worker's core: add --workers "
            "or cores, or the figures measure redline rather than the target"
        )
    if seconds and late / seconds > FLAGGED_SECONDS_SHARE:
        check.reasons.append(
            f"the generator's event loop lagged over {LOOP_LAG_LATE_US // 1000} ms "
            f"in {late} of {seconds} seconds"
        )
    if seconds and late_sends / seconds > FLAGGED_SECONDS_SHARE:
        check.reasons.append(
            f"the generator sent requests over {SEND_LAG_LATE_US // 1000} ms behind schedule "
            f"(p99 send lag) in {late_sends} of {seconds} seconds"
        )
    return check
