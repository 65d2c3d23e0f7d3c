"""Run one generator process pinned to its core and measure what it cost.

CPU time comes from ``os.wait4``: the user+system time of the process and of every
descendant it waited for, i.e. the generator's whole process tree and never the
target's. Memory is sampled from ``/proc/<pid>/status`` VmRSS, summed over the tree
(shared pages of forked workers count once per process, so the sum is an upper bound),
and from ``/proc/<pid>/smaps_rollup`` Pss, which splits each shared page among its
sharers, so its sum counts such a page once.

CPU during the load: given a ``load_probe`` (how many load requests the target has
seen), the poll that first finds it positive reads the tree's CPU so far from
``/proc/<pid>/stat`` (a ``LoadMark``); the load phase's CPU is the final wait4 figure
less that mark, so the generator's start-up (imports, JIT, spawning) is left out.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from targets import GENERATOR_CORE

#: How often the harness checks on the generator; it sleeps in between.
POLL_INTERVAL_S = 0.05
#: How long a generator may overrun its planned duration before it is killed.
OVERRUN_GRACE_S = 30.0
#: Clock ticks per second of the utime/stime fields in /proc/<pid>/stat.
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
#: Fields of /proc/<pid>/stat after the ")" that ends the command name: utime, stime,
#: cutime, cstime (fields 14-17 of proc(5), counted from 1 with pid first).
STAT_CPU_FIELDS = slice(11, 15)


@dataclass(frozen=True)
class LoadMark:
    """The first poll at which the target had seen load from the generator."""

    #: Seconds from spawn to that poll.
    elapsed_s: float
    #: The tree's CPU time (user+system) read at that poll.
    cpu_s: float
    #: Load requests the target had seen by then (the probe's answer).
    requests_seen: int


@dataclass(frozen=True)
class ProcessUsage:
    """What one generator process tree used, and what it printed."""

    returncode: int
    wall_s: float
    user_s: float
    system_s: float
    #: ru_maxrss of the largest single process in the tree, KiB.
    max_rss_kib: int
    #: Largest sum of VmRSS over the tree seen while polling, KiB (0 unless sampled).
    peak_tree_rss_kib: int
    stdout: str
    stderr: str
    timed_out: bool
    #: Where the load began, if a load probe was given and saw it.
    load_mark: LoadMark | None = None
    #: Largest sum of Pss over the tree seen while polling, KiB (0 unless sampled).
    peak_tree_pss_kib: int = 0

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.system_s


def tree_pids(pid: int) -> list[int]:
    """Return pid and all of its live descendants."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue.extend(int(child) for child in task.read_text().split())
            except OSError:  # the task ended while we looked
                continue
    return pids


def cpu_ticks(pid: int) -> int:
    """Return utime+stime+cutime+cstime of one process in clock ticks, 0 if it is gone.

    cutime+cstime are its children that ended and were waited for, which wait4's final
    figure includes too; live children are counted by tree_cpu_s on their own.
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    # The command name (field 2) may hold spaces and parentheses: split after its ")".
    return sum(int(field) for field in text[text.rfind(")") + 2 :].split()[STAT_CPU_FIELDS])


def tree_cpu_s(pid: int) -> float:
    """Return the CPU time (user+system) used so far by pid's process tree, in seconds."""
    return sum(cpu_ticks(p) for p in tree_pids(pid)) / CLOCK_TICKS_PER_S


def vm_rss_kib(pid: int) -> int:
    """Return the VmRSS of one process in KiB, 0 if it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def tree_rss_kib(pid: int) -> int:
    """Return the summed VmRSS of pid's process tree in KiB."""
    return sum(vm_rss_kib(p) for p in tree_pids(pid))


def pss_kib(pid: int) -> int:
    """Return the Pss (RSS with each shared page split among its sharers) in KiB, 0 if gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def tree_pss_kib(pid: int) -> int:
    """Return the summed Pss of pid's process tree in KiB: pages forked workers share
    count once in all, unlike the VmRSS sum."""
    return sum(pss_kib(p) for p in tree_pids(pid))


def run_measured(
    argv: list[str],
    *,
    timeout_s: float,
    cwd: Path | None = None,
    sample_rss: bool = False,
    on_poll: Callable[[float], None] | None = None,
    load_probe: Callable[[], int] | None = None,
) -> ProcessUsage:
    """Run argv under ``taskset -c GENERATOR_CORE`` and return its resource usage.

    Args:
        argv: the generator command; taskset execs it, so the PID is the generator's.
        timeout_s: wall-clock bound; past it the process group gets SIGTERM, then SIGKILL.
        cwd: working directory for the generator.
        sample_rss: sum VmRSS and Pss over the tree at every poll and keep the peaks.
        on_poll: called with seconds since start at every poll (e.g. to watch the target).
        load_probe: returns how many load requests the target has seen; asked at every
            poll until positive, when the tree's CPU is read into ``load_mark``.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        process = subprocess.Popen(
            ["taskset", "-c", str(GENERATOR_CORE), *argv],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        watch = _Watch(sample_rss, on_poll, load_probe)
        status, rusage, timed_out = _wait(process, start, timeout_s, watch)
        wall_s = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return ProcessUsage(
            returncode=os.waitstatus_to_exitcode(status),
            wall_s=wall_s,
            user_s=rusage.ru_utime,
            system_s=rusage.ru_stime,
            max_rss_kib=rusage.ru_maxrss,
            peak_tree_rss_kib=watch.peak_rss_kib,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            timed_out=timed_out,
            load_mark=watch.load_mark,
            peak_tree_pss_kib=watch.peak_pss_kib,
        )


class _Watch:
    """What the harness does at every poll while the generator runs."""

    def __init__(
        self,
        sample_rss: bool,
        on_poll: Callable[[float], None] | None,
        load_probe: Callable[[], int] | None,
    ):
        self._sample_rss = sample_rss
        self._on_poll = on_poll
        self._load_probe = load_probe
        self.peak_rss_kib = 0
        self.peak_pss_kib = 0
        self.load_mark: LoadMark | None = None

    def __call__(self, pid: int, elapsed_s: float) -> None:
        if self._load_probe is not None and self.load_mark is None:
            seen = self._load_probe()
            if seen > 0:  # read the CPU right after the target said so
                self.load_mark = LoadMark(elapsed_s, tree_cpu_s(pid), seen)
        if self._sample_rss:
            self.peak_rss_kib = max(self.peak_rss_kib, tree_rss_kib(pid))
            self.peak_pss_kib = max(self.peak_pss_kib, tree_pss_kib(pid))
        if self._on_poll is not None:
            self._on_poll(elapsed_s)


def _wait(
    process: subprocess.Popen[bytes], start: float, timeout_s: float, watch: _Watch
) -> tuple[int, resource.struct_rusage, bool]:
    """Poll the process with wait4 until it exits or overruns; return status and rusage."""
    try:
        while True:
            pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                return status, rusage, False
            elapsed = time.monotonic() - start
            if elapsed > timeout_s:
                break
            watch(process.pid, elapsed)
            time.sleep(POLL_INTERVAL_S)
        _kill_group(process, signal.SIGTERM)
        return (*_wait_blocking(process), True)
    except BaseException:
        if process.returncode is None:
            _kill_group(process, signal.SIGKILL)
            _wait_blocking(process)
        raise


def _kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the session we started for this generator (its PID is the group id)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _wait_blocking(process: subprocess.Popen[bytes]) -> tuple[int, resource.struct_rusage]:
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return status, rusage
        time.sleep(POLL_INTERVAL_S)
    _kill_group(process, signal.SIGKILL)
    _, status, rusage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return status, rusage
