"""CPU profiles of the server while the load runs: one per steady window.

``redline run ... --profile`` profiles the server only where the load is
steady (a phase's time after its warm-up; ramps are skipped), one profile per
load step, so a profile belongs to a known load. :class:`ProfileSchedule` runs
py-spy for each window in a thread of its own, timed from the run's
synchronized start like the resource sampler.

py-spy's own CPU is measured per window (the children's CPU time reaped
around it), so the run can say what profiling cost.
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redline.clock import NS_PER_S, Clock, MonotonicClock
from redline.errors import RedlineError
from redline.plan import Phase, PhaseKind
from redline.probes._pyspy import CpuProfile, PySpyConfig, profile_pid
from redline.probes._stacks import StackSamples

if TYPE_CHECKING:
    from redline.optimize import PidRegistry

__all__ = ["ProfileSchedule", "ProfileWindow", "WindowProfile", "steady_windows"]

#: Windows shorter than this are not profiled (too few samples to say anything).
MIN_WINDOW_S = 1.0


@dataclass(frozen=True)
class ProfileWindow:
    """Where to profile: a phase's steady part, in seconds from the run's start."""

    name: str
    start_s: float
    end_s: float
    #: The phase's load, in ``unit`` (VUs or /s).
    level: float
    unit: str


def steady_windows(phases: list[Phase]) -> list[ProfileWindow]:
    """The steady part of each held phase (after its warm-up); ramps are left out."""
    return [
        ProfileWindow(p.name, p.steady_start_s, p.end_s, p.level, p.unit)
        for p in phases
        if p.kind is PhaseKind.HOLD and p.end_s - p.steady_start_s >= MIN_WINDOW_S
    ]


@dataclass
class WindowProfile:
    """One window's profile, or why there is none."""

    window: ProfileWindow
    profile: CpuProfile | None
    #: CPU seconds py-spy used for this window.
    profiler_cpu_s: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """For the results file: the stacks as collapsed text."""
        profile = self.profile
        return {
            "name": self.window.name,
            "start_s": self.window.start_s,
            "end_s": self.window.end_s,
            "level": self.window.level,
            "unit": self.window.unit,
            "method": profile.method if profile else None,
            "partial": profile.partial if profile else True,
            "notes": profile.notes if profile else [],
            "samples_unit": profile.samples.unit if profile else None,
            "stacks": profile.samples.to_collapsed() if profile else "",
            "profiler_cpu_s": round(self.profiler_cpu_s, 4),
            "error": self.error,
        }

    @staticmethod
    def samples_of(data: Mapping[str, Any]) -> StackSamples:
        """The stacks of a window as :meth:`to_dict` wrote them."""
        return StackSamples.from_collapsed(
            data.get("stacks") or "", unit=data.get("samples_unit") or "samples"
        )


class ProfileSchedule:
    """Profiles ``pid`` in each window, from :meth:`start` until the windows end or :meth:`stop`.

    Example::

        schedule = ProfileSchedule(pid, windows, PySpyConfig())
        schedule.start(start_ns)
        ...
        profiles = schedule.stop()
    """

    def __init__(
        self,
        pid: int,
        windows: list[ProfileWindow],
        config: PySpyConfig,
        *,
        clock: Clock | None = None,
        registry: PidRegistry | None = None,
    ) -> None:
        self.pid = pid
        self._registry = registry
        self.windows = [w for w in windows if w.end_s - w.start_s >= MIN_WINDOW_S]
        self._config = config
        self._clock = clock or MonotonicClock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._results: list[WindowProfile] = []

    def start(self, start_ns: int) -> None:
        """Profile each window, timed from ``start_ns`` (the run's synchronized start)."""
        self._thread = threading.Thread(
            target=self._loop, args=(start_ns,), name="redline-profile", daemon=True
        )
        self._thread.start()

    def stop(self) -> list[WindowProfile]:
        """End a window in progress (its profile is kept, marked partial); the profiles."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return list(self._results)

    def _loop(self, start_ns: int) -> None:
        for window in self.windows:
            delay_s = (start_ns + window.start_s * NS_PER_S - self._clock.now_ns()) / NS_PER_S
            if self._stop.wait(max(0.0, delay_s)):
                return
            self._results.append(self._profile(window))

    def _profile(self, window: ProfileWindow) -> WindowProfile:
        before = _children_cpu_s()
        started = time.monotonic()
        try:
            profile = profile_pid(self.pid, window.end_s - window.start_s, self._config,
                                  stop=self._stop, registry=self._registry)  # fmt: skip
        except RedlineError as exc:
            return WindowProfile(window, None, 0.0, error=exc.message)
        if time.monotonic() - started < window.end_s - window.start_s - MIN_WINDOW_S:
            profile.partial = True
        return WindowProfile(window, profile, _children_cpu_s() - before)


def _children_cpu_s() -> float:
    """CPU seconds of this process's reaped children (py-spy, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
