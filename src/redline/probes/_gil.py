"""GIL contention of a running Python process: which threads hold the GIL, and which wait for it.

Two py-spy recordings run at once on the same process for the same window,
both ``--threads --nonblocking --idle`` and by line:

- one with ``--gil``: only the samples in which a thread held the GIL;
- one without: every thread at every sample, running or not.

With ``--threads``, py-spy starts each stack with ``thread (TID): NAME`` (the OS
thread id in decimal; a Python thread id in hex when py-spy cannot find the OS
one; no ``: NAME`` for threads Python did not name), which keys the figures.

Glossary (per thread, over the window):

- **samples**: looks at the thread (the recording without ``--gil``).
- **holding**: looks at which it held the GIL (the ``--gil`` recording).
- **waiting**: looks at which it did not hold the GIL while standing at a *running
  point*: a line (the innermost frame's) where it is also seen holding the GIL in
  at least :data:`RUNNING_POINT_SHARE` of the looks there, and at least
  :data:`MIN_RUNNING_POINT_HOLDS` times. A thread asked to give up the GIL stops
  in the middle of its Python code, where it otherwise runs; a thread blocked
  in I/O, a sleep or a lock stands at the call that blocks, where it is almost
  never seen holding the GIL, so it is not counted as waiting. py-spy does not
  say which of the two a thread is doing (both look idle to the OS); this is
  how they are told apart.
- **cpu_share**: CPU time (user + system, ``/proc/PID/task/TID/stat``) over wall
  time. For a thread that only runs Python it is about its holding share; above
  it, the thread runs C code with the GIL released (in parallel, as it should).

The summary figure, :attr:`GilReport.wait_share`: of the time threads wanted the
GIL (holding it or waiting for it), the share spent waiting, all threads
together ("threads that ran Python waited for the GIL X% of the time"). The
process is :attr:`~GilReport.contended` when that reaches
:data:`CONTENDED_WAIT_SHARE` and at least two threads held the GIL.

Limits: one process (``--subprocesses`` is not followed: each process has its own
GIL; measure a pre-forking server's workers one by one). A line that both runs
Python for long and blocks (``handle(sock.recv(n))`` on one line) counts its
blocking as waiting. The reverse: a thread that waits to take the GIL back
after a blocking call returns (the convoy effect on I/O threads) still stands
at that call, so it is counted as blocked, not waiting; for such threads the
waiting figure is a lower bound. Python 3.13's free-threaded build has no GIL
to measure.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redline.errors import ConfigError
from redline.probes._pid import GONE, parse_pid_stat, process_exists, read_text
from redline.probes._pyspy import PySpyConfig, _failure, _run, pyspy_path
from redline.probes._schema import readable_version
from redline.probes._stacks import Frame, StackSamples

__all__ = ["GilReport", "ThreadGil", "gil_contention", "gil_report", "thread_cpu_s"]

#: schema_version history of :meth:`GilReport.to_dict`:
#:     1: first version: pid, window, rate, per-thread samples, holding, waiting and
#:        CPU share; the summary (wait share, GIL busy share, contended); notes.
SCHEMA_VERSION = 1
#: A line is a running point when the thread held the GIL there in this share of its looks.
RUNNING_POINT_SHARE = 0.02
#: ... and at least this many times (one chance hit on a blocking call is not enough).
MIN_RUNNING_POINT_HOLDS = 2
#: Contended: threads waited for the GIL this share of the time they wanted it, or more.
CONTENDED_WAIT_SHARE = 0.2
#: Threads that must have held the GIL for contention (one thread cannot contend alone).
MIN_CONTENDING_THREADS = 2
#: Clock ticks a second, the unit of utime and stime in /proc/PID/task/TID/stat.
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
#: The thread frame py-spy puts at the root of each stack with ``--threads``.
_THREAD_ROOT = re.compile(r"^thread \((?P<id>[^)]*)\)(?:: (?P<name>.*))?$", re.DOTALL)


@dataclass(frozen=True)
class ThreadGil:
    """One thread's GIL figures over the window; see the module docstring's glossary."""

    #: The thread as py-spy names it: the OS thread id, or ``0x...`` (a Python thread id).
    thread_id: str
    name: str
    samples: int
    holding: int
    waiting: int
    #: CPU time over wall time; None when /proc had no figure (the thread ended, or no OS id).
    cpu_share: float | None = None

    @property
    def tid(self) -> int | None:
        """The OS thread id, when py-spy knew it."""
        return int(self.thread_id) if self.thread_id.isdigit() else None

    @property
    def holding_share(self) -> float:
        """Share of its samples in which the thread held the GIL."""
        return min(1.0, self.holding / self.samples) if self.samples else 0.0

    @property
    def waiting_share(self) -> float:
        """Share of its samples in which the thread waited for the GIL."""
        return self.waiting / self.samples if self.samples else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "thread_id": self.thread_id,
            "name": self.name,
            "samples": self.samples,
            "holding": self.holding,
            "waiting": self.waiting,
            "holding_share": self.holding_share,
            "waiting_share": self.waiting_share,
            "cpu_share": self.cpu_share,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThreadGil:
        """Read what :meth:`to_dict` wrote."""
        cpu = data.get("cpu_share")
        return cls(str(data["thread_id"]), str(data["name"]), int(data["samples"]),
                   int(data["holding"]), int(data["waiting"]),
                   None if cpu is None else float(cpu))  # fmt: skip


@dataclass
class GilReport:
    """Who held the GIL and who waited for it in one process; see the module docstring."""

    pid: int
    #: The window: from the first CPU reading to the last, seconds.
    duration_s: float
    rate_hz: int
    #: Threads, the one that held the GIL most first.
    threads: list[ThreadGil] = field(default_factory=list)
    #: True when the window ended early (the process exited, or a stop was asked).
    partial: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def wait_share(self) -> float:
        """Of the time threads wanted the GIL (holding or waiting), the share spent waiting."""
        waiting = sum(t.waiting for t in self.threads)
        wanted = waiting + sum(t.holding for t in self.threads)
        return waiting / wanted if wanted else 0.0

    @property
    def busy_share(self) -> float:
        """Share of the looks in which some thread held the GIL (1.0: never free)."""
        looks = max((t.samples for t in self.threads), default=0)
        return min(1.0, sum(t.holding for t in self.threads) / looks) if looks else 0.0

    @property
    def python_threads(self) -> int:
        """Threads seen holding the GIL at least once."""
        return sum(1 for t in self.threads if t.holding)

    @property
    def contended(self) -> bool:
        """True when :attr:`wait_share` reaches :data:`CONTENDED_WAIT_SHARE` and at least
        :data:`MIN_CONTENDING_THREADS` threads held the GIL."""
        return (
            self.python_threads >= MIN_CONTENDING_THREADS
            and self.wait_share >= CONTENDED_WAIT_SHARE
        )

    def summary(self) -> str:
        """One line: the wait share, the GIL's busy share and the verdict."""
        verdict = "contended" if self.contended else "not contended"
        return (
            f"{self.python_threads} threads ran Python and waited for the GIL "
            f"{self.wait_share:.0%} of the time they wanted it; the GIL was held in "
            f"{self.busy_share:.0%} of samples: {verdict} (threshold {CONTENDED_WAIT_SHARE:.0%})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``schema_version`` and the summary figures."""
        return {
            "schema_version": SCHEMA_VERSION,
            "pid": self.pid,
            "duration_s": self.duration_s,
            "rate_hz": self.rate_hz,
            "wait_share": self.wait_share,
            "busy_share": self.busy_share,
            "contended": self.contended,
            "contended_wait_share": CONTENDED_WAIT_SHARE,
            "summary": self.summary(),
            "threads": [t.to_dict() for t in self.threads],
            "partial": self.partial,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GilReport:
        """Read what :meth:`to_dict` wrote (the summary figures are computed again).

        Raises:
            ValueError: the document is of a newer schema version than this redline reads.
        """
        readable_version(data, SCHEMA_VERSION)
        return cls(int(data["pid"]), float(data["duration_s"]), int(data["rate_hz"]),
                   [ThreadGil.from_dict(t) for t in data.get("threads") or []],
                   bool(data.get("partial", False)),
                   [str(n) for n in data.get("notes") or []])  # fmt: skip


def gil_contention(
    pid: int, duration_s: float, *, rate_hz: int = 100, stop: threading.Event | None = None
) -> GilReport:
    """Measure GIL contention in process ``pid`` for ``duration_s`` (less if ``stop`` is set).

    Raises:
        ConfigError: no such process, or a rate or duration out of range.
        ProfileError: py-spy could not attach (permissions, not a Python process).
    """
    every, holding = _configs(rate_hz)
    if not duration_s > 0:
        raise ConfigError(f"--duration: {duration_s!r} seconds is out of range; allowed > 0")
    if not process_exists(pid):
        raise ConfigError(f"--pid: no process {pid} is running")
    with tempfile.TemporaryDirectory(prefix="redline-gil-") as scratch:
        outs = [Path(scratch) / "every.txt", Path(scratch) / "holding.txt"]
        argvs = [_argv(pid, outs[0], duration_s, every), _argv(pid, outs[1], duration_s, holding)]
        before, started = thread_cpu_s(pid), time.monotonic()
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="redline-py-spy") as pool:
            results = list(pool.map(lambda argv: _run(argv, duration_s, stop), argvs))
        after, wall_s = thread_cpu_s(pid), time.monotonic() - started
        for out, (stderr, _) in zip(outs, results, strict=True):
            if not out.exists():
                raise _failure(pid, stderr)
        texts = [out.read_text() for out in outs]
    cpu_s = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    report = gil_report(StackSamples.from_collapsed(texts[0]),
                        StackSamples.from_collapsed(texts[1]),
                        pid=pid, wall_s=wall_s, rate_hz=rate_hz, cpu_s=cpu_s)  # fmt: skip
    _note_partial(report, pid, [stderr for stderr, _ in results], any(i for _, i in results))
    return report


def _configs(rate_hz: int) -> tuple[PySpyConfig, PySpyConfig]:
    """Every thread at every look, and only the GIL holder (``--idle`` too, so that a
    holder the OS shows as sleeping is not left out)."""
    every = PySpyConfig(rate_hz=rate_hz, idle=True, subprocesses=False, by_line=True)
    holding = PySpyConfig(rate_hz=rate_hz, idle=True, gil=True, subprocesses=False, by_line=True)
    every.validate()
    return every, holding


def _argv(pid: int, out: Path, duration_s: float, config: PySpyConfig) -> list[str]:
    return [pyspy_path(), "record", "--format", "raw", "--output", str(out),
            "--duration", str(math.ceil(duration_s)), "--pid", str(pid),
            "--threads", "--nonblocking", *config.flags()]  # fmt: skip


def _note_partial(report: GilReport, pid: int, stderrs: list[str], interrupted: bool) -> None:
    if any("process exited" in s for s in stderrs):
        report.partial = True
        report.notes.append(f"process {pid} exited during the measurement")
    if interrupted:
        report.partial = True
        report.notes.append("the measurement was stopped early")


def thread_cpu_s(pid: int, proc: str = "/proc") -> dict[int, float]:
    """CPU time so far (user + system, seconds) of each of ``pid``'s threads, by OS id."""
    found = {}
    try:
        tids = os.listdir(f"{proc}/{pid}/task")
    except GONE:
        return {}
    for tid in tids:
        try:
            stat = parse_pid_stat(read_text(f"{proc}/{pid}/task/{tid}/stat"))
        except GONE:  # the thread ended meanwhile
            continue
        found[int(tid)] = (stat.utime_ticks + stat.stime_ticks) / CLOCK_TICKS_PER_S
    return found


def gil_report(
    every: StackSamples,
    holding: StackSamples,
    *,
    pid: int,
    wall_s: float,
    rate_hz: int,
    cpu_s: Mapping[int, float] | None = None,
) -> GilReport:
    """The report of two py-spy ``--threads`` recordings of the same window (a pure step).

    Args:
        every: every thread at every look (``--idle``).
        holding: only the looks in which a thread held the GIL (``--gil``).
        pid: the process.
        wall_s: the window's length.
        rate_hz: looks a second.
        cpu_s: CPU seconds each OS thread used in the window (see :func:`thread_cpu_s`).
    """
    seen, names = _by_thread_and_point(every.stacks.items())
    held, held_names = _by_thread_and_point(holding.stacks.items())
    threads = []
    for thread_id in seen.keys() | held.keys():
        at, held_at = seen.get(thread_id, {}), held.get(thread_id, {})
        waiting = sum(
            max(0, looks - held_at.get(point, 0))
            for point, looks in at.items()
            if _is_running_point(held_at.get(point, 0), looks)
        )
        samples = sum(at.values())
        holds = sum(held_at.values())
        waiting = min(waiting, max(0, samples - holds))
        name = names.get(thread_id) or held_names.get(thread_id) or f"thread {thread_id}"
        cpu = _cpu_share(thread_id, cpu_s, wall_s)
        threads.append(ThreadGil(thread_id, name, samples, holds, waiting, cpu))
    threads.sort(key=lambda t: (-t.holding, -t.samples, t.thread_id))
    return GilReport(pid, wall_s, rate_hz, threads)


def _is_running_point(holds: int, looks: int) -> bool:
    return holds >= MIN_RUNNING_POINT_HOLDS and holds >= RUNNING_POINT_SHARE * looks


def _by_thread_and_point(
    stacks: Iterable[tuple[tuple[Frame, ...], float]],
) -> tuple[dict[str, dict[Frame | None, int]], dict[str, str]]:
    """Looks per thread per running point (the innermost frame), and the threads' names."""
    counts: dict[str, dict[Frame | None, int]] = {}
    names: dict[str, str] = {}
    for stack, weight in stacks:
        root = _THREAD_ROOT.match(str(stack[0])) if stack else None
        if root is None:
            continue  # not a --threads recording: no thread to count it for
        thread_id = root["id"]
        if root["name"]:
            names[thread_id] = root["name"]
        point = stack[-1] if len(stack) > 1 else None
        at = counts.setdefault(thread_id, {})
        at[point] = at.get(point, 0) + int(weight)
    return counts, names


def _cpu_share(thread_id: str, cpu_s: Mapping[int, float] | None, wall_s: float) -> float | None:
    if cpu_s is None or not thread_id.isdigit() or wall_s <= 0:
        return None
    used = cpu_s.get(int(thread_id))
    return None if used is None else used / wall_s
