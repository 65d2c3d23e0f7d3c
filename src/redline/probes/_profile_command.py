"""Profile a program redline starts: ``redline profile -- python app.py``.

Two ways, both ending the program by its PID when the duration is over:

- **py-spy** (the default): start the program, attach py-spy to it;
- **in-process** (pyinstrument): run the program under
  :mod:`redline.probes._inprocess`, which writes the profile when the program
  is stopped with SIGTERM. For where attaching is not permitted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from redline.errors import ConfigError, ProfileError
from redline.probes._gil import GilReport, gil_contention
from redline.probes._loop_watch import BlockingReport
from redline.probes._perf import profile_perf
from redline.probes._pyspy import CpuProfile, PySpyConfig, profile_pid
from redline.probes._stacks import StackSamples

__all__ = [
    "profile_command",
    "profile_running",
    "python_target",
    "start_program",
    "stop_program",
    "wait_program",
    "wait_ready",
]

#: How long a stopped program may take to exit before it is killed.
STOP_GRACE_S = 5.0
#: How long a runner may take to start (its imports) before it is stopped anyway.
READY_WAIT_S = 30.0
#: How often the wait looks at the program and the stop request.
POLL_S = 0.05


def python_target(command: list[str], *, flag: str = "--in-process") -> list[str]:
    """The program and arguments of ``python [options] app.py|-m mod ...``, for the in-process path.

    Raises:
        ConfigError: the command does not start with a Python interpreter.
    """
    if not command or not Path(command[0]).name.startswith("python"):
        raise ConfigError(
            f"{flag}: {' '.join(command)!r} is not a Python command; "
            "allowed: python app.py ... or python -m module ..."
        )
    rest = command[1:]
    while rest and rest[0].startswith("-") and rest[0] != "-m":
        rest = rest[1:]  # interpreter options (-u, -X dev) do not apply in-process
    if not rest:
        raise ConfigError(f"{flag}: {' '.join(command)!r} names no program to run")
    return rest


def profile_command(
    command: list[str],
    duration_s: float,
    config: PySpyConfig,
    *,
    in_process: bool = False,
    loop_watch_ms: float | None = None,
    gil: bool = False,
    perf: bool = False,
    stop: threading.Event | None = None,
) -> CpuProfile:
    """Start ``command``, profile it for ``duration_s`` (or until it exits), then stop it.

    Raises:
        ConfigError: the command cannot be started.
        ProfileError: py-spy could not attach, or the in-process profile was not written.
    """
    if in_process:
        return _in_process(python_target(command), duration_s, config, stop, loop_watch_ms)
    proc = start_program(command)
    try:
        if perf:
            return profile_perf(proc.pid, duration_s, rate_hz=config.rate_hz, stop=stop)
        return profile_running(proc.pid, duration_s, config, gil=gil, stop=stop)
    finally:
        stop_program(proc)


def profile_running(
    pid: int,
    duration_s: float,
    config: PySpyConfig,
    *,
    gil: bool = False,
    stop: threading.Event | None = None,
) -> CpuProfile:
    """py-spy on ``pid``; with ``gil``, the threads' GIL contention over the same window too.

    Raises:
        ConfigError: no such process, or a bad option.
        ProfileError: py-spy could not attach.
    """
    if not gil:
        return profile_pid(pid, duration_s, config, stop=stop)
    found: dict[str, GilReport | BaseException] = {}

    def contention() -> None:
        try:
            found["gil"] = gil_contention(pid, duration_s, rate_hz=config.rate_hz, stop=stop)
        except BaseException as exc:  # raised again in the caller's thread below
            found["gil"] = exc

    beside = threading.Thread(target=contention, name="redline-gil", daemon=True)
    beside.start()
    try:
        profile = profile_pid(pid, duration_s, config, stop=stop)
    finally:
        beside.join()
    report = found["gil"]
    if isinstance(report, BaseException):
        raise report
    profile.gil = report
    return profile


def _in_process(
    target: list[str],
    duration_s: float,
    config: PySpyConfig,
    stop: threading.Event | None,
    loop_watch_ms: float | None,
) -> CpuProfile:
    with tempfile.TemporaryDirectory(prefix="redline-profile-") as scratch:
        out = Path(scratch) / "stacks.txt"
        loops = Path(scratch) / "loops.json"
        interval_ms = 1000 / config.rate_hz
        watch = [] if loop_watch_ms is None else [
            "--loop-watch-ms", f"{loop_watch_ms:g}", "--loop-report", str(loops)
        ]  # fmt: skip
        runner = [sys.executable, "-m", "redline.probes._inprocess", "--out", str(out),
                  "--interval-ms", f"{interval_ms:g}", *watch, "--", *target]  # fmt: skip
        started = time.monotonic()
        proc = start_program(runner)
        exited = wait_program(proc, duration_s, stop)
        wait_ready(proc, out.with_name(out.name + ".ready"))
        stop_program(proc)
        if not out.exists():
            raise ProfileError(
                f"the in-process profile of {' '.join(target)!r} was not written "
                f"(exit code {proc.returncode})",
                hint="run the program alone to see why it fails",
            )
        samples = StackSamples.from_collapsed(out.read_text(), unit="us")
        blocking = (
            BlockingReport.from_dict(json.loads(loops.read_text())) if loops.exists() else None
        )
    notes = ["the program exited during profiling"] if exited else []
    interrupted = stop is not None and stop.is_set()
    notes += ["profiling was stopped early"] if interrupted else []
    return CpuProfile(samples, "pyinstrument", time.monotonic() - started,
                      partial=exited or interrupted, notes=notes, blocking=blocking)  # fmt: skip


def start_program(command: list[str]) -> subprocess.Popen[bytes]:
    try:
        # Its own process group: a Ctrl-C meant for redline does not reach it first.
        return subprocess.Popen(command, start_new_session=True)
    except OSError as exc:
        raise ConfigError(f"command {' '.join(command)!r} cannot start: {exc.strerror}") from None


def wait_program(
    proc: subprocess.Popen[bytes], duration_s: float, stop: threading.Event | None
) -> bool:
    """Wait out the duration; True when the program exited before it."""
    deadline = time.monotonic() + duration_s
    waiter = stop or threading.Event()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return True
        if waiter.wait(POLL_S):
            return False
    return False


def wait_ready(
    proc: subprocess.Popen[bytes], ready: Path, *, timeout_s: float = READY_WAIT_S
) -> None:
    """Wait until a runner has created ``ready`` (or exited): a SIGTERM before it kills it
    without the profile it would otherwise write."""
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None and not ready.exists() and time.monotonic() < deadline:
        time.sleep(POLL_S)


def stop_program(proc: subprocess.Popen[bytes], *, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; by PID, the program only."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
