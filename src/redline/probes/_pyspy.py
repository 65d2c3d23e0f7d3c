"""CPU profiles of a running Python process with py-spy, no restart needed.

py-spy reads the target's memory from outside (ptrace), so the target runs
unchanged; it samples ``rate_hz`` times a second and writes collapsed stacks
(``--format raw``), which :class:`~redline.probes._stacks.StackSamples` reads.
Its failures are translated here into :class:`~redline.errors.ProfileError`
with a hint, so callers never parse py-spy's output.
"""

from __future__ import annotations

import math
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from redline.errors import ConfigError, ProfileError
from redline.probes._pid import process_exists
from redline.probes._stacks import StackSamples

if TYPE_CHECKING:  # the reports' modules import this one
    from redline.optimize import PidRegistry
    from redline.probes._gil import GilReport
    from redline.probes._loop_watch import BlockingReport

__all__ = ["CpuProfile", "PySpyConfig", "profile_pid", "pyspy_path"]

#: How long py-spy may take beyond the duration to write its output.
WRITE_GRACE_S = 15.0
#: How often the wait looks at py-spy and the stop request.
POLL_S = 0.1
#: Sampling rates py-spy is asked for (samples a second).
MIN_RATE_HZ, MAX_RATE_HZ = 1, 1000
#: py-spy's words for the failures a user can fix, and redline's message and hint for each.
_FAILURES: tuple[tuple[str, str, str], ...] = (
    (
        "Permission denied",
        "py-spy may not read process {pid}'s memory (ptrace is not permitted)",
        "run redline as root, or give the container --cap-add SYS_PTRACE; or profile "
        "in-process: redline profile -- python app.py",
    ),
    (
        "Operation not permitted",
        "py-spy may not read process {pid}'s memory (ptrace is not permitted)",
        "run redline as root, or give the container --cap-add SYS_PTRACE; or profile "
        "in-process: redline profile -- python app.py",
    ),
    (
        "Failed to find python version",
        "--pid {pid}: process {pid} is not a Python process py-spy can read",
        "give the PID of the Python interpreter (a worker, not a shell or supervisor); for "
        "other programs add --perf",
    ),
    (
        "No python processes found",
        "--pid {pid}: process {pid} is not a Python process py-spy can read",
        "give the PID of the Python interpreter (a worker, not a shell or supervisor); for "
        "other programs add --perf",
    ),
    (
        "Failed to get process executable name",
        "--pid {pid}: no process {pid} is running",
        "check the PID (ps -ef); the process may have exited",
    ),
)


@dataclass(frozen=True, kw_only=True)
class PySpyConfig:
    """What py-spy records (its ``record`` flags)."""

    rate_hz: int = 100
    #: Include C/C++/Cython frames (``--native``).
    native: bool = False
    #: Include idle threads (``--idle``): waiting shows up as time.
    idle: bool = False
    #: Only samples holding the GIL (``--gil``).
    gil: bool = False
    #: Follow child processes (``--subprocesses``): pre-forking servers' workers.
    subprocesses: bool = True
    #: One frame per line rather than per function (the function's first line).
    by_line: bool = False

    def validate(self) -> None:
        """Raises ConfigError naming the flag when a value is out of range."""
        if not MIN_RATE_HZ <= self.rate_hz <= MAX_RATE_HZ:
            raise ConfigError(
                f"--rate: {self.rate_hz!r} samples a second is out of range; "
                f"allowed {MIN_RATE_HZ}..{MAX_RATE_HZ}"
            )

    def flags(self) -> list[str]:
        chosen = {
            "--native": self.native,
            "--idle": self.idle,
            "--gil": self.gil,
            "--subprocesses": self.subprocesses,
            "--function": not self.by_line,
        }
        # Full paths: the same file:line whichever way the profile was taken.
        flags = ["--rate", str(self.rate_hz), "--full-filenames"]
        return flags + [f for f, on in chosen.items() if on]


@dataclass
class CpuProfile:
    """Stacks sampled from a process, how they were taken, and whether the profile is whole."""

    samples: StackSamples
    #: ``py-spy`` or ``pyinstrument``.
    method: str
    duration_s: float
    #: True when the profile ended early (the process exited, or it was interrupted).
    partial: bool = False
    notes: list[str] = field(default_factory=list)
    #: Threads and the GIL over the same window (``--gil-contention``), when asked for.
    gil: GilReport | None = None
    #: Event-loop stalls (in-process ``--loop-watch``), when asked for.
    blocking: BlockingReport | None = None


def pyspy_path() -> str:
    """The py-spy executable: beside this Python (installed with redline), else on PATH.

    Raises:
        ProfileError: py-spy is not installed.
    """
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise ProfileError("py-spy is not installed", hint="reinstall redline (uv sync)")
    return found


def profile_pid(
    pid: int,
    duration_s: float,
    config: PySpyConfig,
    *,
    stop: threading.Event | None = None,
    registry: PidRegistry | None = None,
) -> CpuProfile:
    """Sample ``pid`` for ``duration_s`` (less if ``stop`` is set or the process exits).

    py-spy's own process is in ``registry`` while it runs (``redline verify`` looks there).

    Raises:
        ConfigError: no such process, or a bad option.
        ProfileError: py-spy could not attach (permissions, not a Python process).
    """
    config.validate()
    if not process_exists(pid):
        raise ConfigError(f"--pid: no process {pid} is running")
    with tempfile.TemporaryDirectory(prefix="redline-profile-") as scratch:
        out = Path(scratch) / "stacks.txt"
        seconds = str(math.ceil(duration_s) + 1)  # interrupted at the deadline: see _run
        argv = [pyspy_path(), "record", "--format", "raw", "--output", str(out),
                "--duration", seconds, "--pid", str(pid), *config.flags()]  # fmt: skip
        started = time.monotonic()
        stderr, interrupted = _run(argv, duration_s, stop, registry)
        if not out.exists():
            raise _failure(pid, stderr)
        samples = StackSamples.from_collapsed(out.read_text())
    # py-spy says so, or (a zombie child of ours, not reaped yet) the process is gone.
    exited = "process exited" in stderr or not process_exists(pid)
    notes = []
    if exited:
        notes.append(f"process {pid} exited during profiling")
    if interrupted:
        notes.append("profiling was stopped early")
    return CpuProfile(
        samples, "py-spy", time.monotonic() - started, partial=exited or interrupted, notes=notes
    )


def _run(
    argv: list[str],
    duration_s: float,
    stop: threading.Event | None,
    registry: PidRegistry | None = None,
) -> tuple[str, bool]:
    """Run py-spy for ``duration_s``; on ``stop``, end it early. Its stderr, and if stopped.

    py-spy counts whole seconds, so it is asked for more and interrupted at the
    deadline: on SIGINT it writes what it has, so a window ends on time.
    """
    with (
        subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        ) as proc,
        registry.tracking(proc.pid, "py-spy") if registry else nullcontext(),
    ):
        waiter = stop or threading.Event()
        deadline = time.monotonic() + duration_s
        interrupted = False
        while proc.poll() is None and time.monotonic() < deadline:
            if waiter.wait(min(POLL_S, max(0.0, deadline - time.monotonic()))):
                interrupted = True
                break
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            _, stderr = proc.communicate(timeout=WRITE_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
    return stderr or "", interrupted


def _failure(pid: int, stderr: str) -> ProfileError:
    for words, message, hint in _FAILURES:
        if words in stderr:
            return ProfileError(message.format(pid=pid), hint=hint)
    first = next((line for line in stderr.splitlines() if line.strip()), "no output")
    return ProfileError(f"py-spy could not profile process {pid}: {first}")
