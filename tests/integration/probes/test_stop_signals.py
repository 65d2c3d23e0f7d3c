"""StopSignals for real: a program is stopped even when Python ignores the interrupt.

Each program runs in its own interpreter (signal handlers belong to the main
thread of a process) and prints ``stopped`` when ``StopSignals.run`` raised
``KeyboardInterrupt``, then ``done`` when the code after it ran to the end.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

#: Bound for a stopped program to end; a hang fails the test instead of the suite.
EXIT_TIMEOUT_S = 20

HARNESS = textwrap.dedent(
    """\
    import os, signal, sys, time
    from redline.probes._stop_signals import StopSignals

    def spin(seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    {program}

    stops = StopSignals()
    stops.arm()
    {before}
    print("ready", flush=True)
    open({ready_file!r}, "w").close()
    try:
        stops.run(program)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    {after}
    print("done", flush=True)
    """
)

#: The stop arrives in ``__del__``, where Python reports an interrupt as "ignored".
IN_DEL = """
class Stopper:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, before kill returns

def program():
    Stopper()
    spin(60)
"""

#: The program swallows the first interrupt itself and goes on.
SWALLOWING = """
def program():
    try:
        spin(60)
    except BaseException:
        print("swallowed", flush=True)
    spin(60)
"""

FOREVER = """
def program():
    spin(60)
"""

QUICK = """
def program():
    return 1
"""


def run_harness(tmp_path: Path, program: str, *, before: str = "", after: str = "",
                stop_after_s: float | None = 0.5) -> subprocess.CompletedProcess[str]:  # fmt: skip
    script, ready = tmp_path / "harness.py", tmp_path / "ready"
    script.write_text(HARNESS.format(program=textwrap.dedent(program), before=before,
                                     after=after, ready_file=str(ready)))  # fmt: skip
    # Readiness by a file, not by reading stdout: a line read ahead of communicate()
    # would take what follows it into a buffer communicate() never sees.
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:  # fmt: skip
        try:
            deadline = time.monotonic() + EXIT_TIMEOUT_S
            while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            if stop_after_s is not None:
                time.sleep(stop_after_s)
                proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=EXIT_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return subprocess.CompletedProcess(script, proc.returncode, stdout, stderr)


def test_an_interrupt_ignored_in_a_destructor_is_sent_again(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = run_harness(tmp_path, IN_DEL, stop_after_s=None)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["ready", "stopped", "done"]
    assert "KeyboardInterrupt" not in proc.stderr  # ours is not reported as "ignored"
    assert time.monotonic() - started < EXIT_TIMEOUT_S / 2  # not the program's 60 s


def test_an_interrupt_the_program_swallows_is_repeated(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = run_harness(tmp_path, SWALLOWING)
    assert proc.stdout.splitlines() == ["ready", "swallowed", "stopped", "done"], proc.stderr
    assert time.monotonic() - started < 0.5 + EXIT_TIMEOUT_S / 2  # not the program's 60 s


def test_a_stop_before_the_program_starts_stops_it_at_once(tmp_path: Path) -> None:
    before = "os.kill(os.getpid(), signal.SIGTERM); time.sleep(0.1)"
    proc = run_harness(tmp_path, FOREVER, before=before, stop_after_s=None)
    assert proc.stdout.splitlines() == ["ready", "stopped", "done"], proc.stderr


def test_the_code_after_the_program_is_not_interrupted(tmp_path: Path) -> None:
    after = "os.kill(os.getpid(), signal.SIGTERM); spin(1.5)"  # spans a repeat period too
    proc = run_harness(tmp_path, QUICK, after=after, stop_after_s=None)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["ready", "done"]
