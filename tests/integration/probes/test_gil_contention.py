"""GIL contention measured with py-spy on real programs: four threads fighting, and one alone.

Each program is started, measured for two seconds and killed (by its PID), so a
test takes under five seconds.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from redline.errors import ProfileError
from redline.probes._gil import GilReport, gil_contention

#: How long the measurement runs, seconds.
MEASURE_S = 2.0
#: Time for the program to start its threads before it is measured.
SETTLE_S = 0.5

SPIN = textwrap.dedent(
    """\
    import threading, time

    def spin():
        end = time.monotonic() + 20
        total = 0
        while time.monotonic() < end:
            for i in range(1000):
                total += i

    def nap():
        end = time.monotonic() + 20
        while time.monotonic() < end:
            time.sleep(0.05)

    threads = [threading.Thread(target=spin, name=f"spin-{{i}}") for i in range({spinners})]
    threads += [threading.Thread(target=nap, name=f"nap-{{i}}") for i in range({nappers})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    """
)


@contextmanager
def running(tmp_path: Path, *, spinners: int, nappers: int) -> Iterator[int]:
    script = tmp_path / "threads.py"
    script.write_text(SPIN.format(spinners=spinners, nappers=nappers))
    proc = subprocess.Popen([sys.executable, str(script)])
    try:
        time.sleep(SETTLE_S)
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def measure(pid: int) -> GilReport:
    started = time.monotonic()
    report = gil_contention(pid, MEASURE_S)
    assert time.monotonic() - started < MEASURE_S + 2
    return report


def test_four_threads_in_python_loops_contend_for_the_gil(tmp_path: Path) -> None:
    with running(tmp_path, spinners=4, nappers=0) as pid:
        report = measure(pid)
    spinners = [t for t in report.threads if t.name.startswith("spin-")]
    assert len(spinners) == 4 and report.python_threads == 4
    for thread in spinners:
        assert 0.1 <= thread.holding_share <= 0.5, thread
        assert thread.waiting_share >= 0.4, thread
        assert thread.cpu_share is not None and thread.cpu_share < 0.6, thread
    # the GIL lets one of them run at a time: together they use about one CPU
    assert sum(t.cpu_share or 0 for t in spinners) < 1.3
    assert report.wait_share >= 0.5
    assert report.contended, report.summary()
    assert not report.partial


def test_one_computing_thread_among_sleepers_is_not_contended(tmp_path: Path) -> None:
    with running(tmp_path, spinners=1, nappers=3) as pid:
        report = measure(pid)
    by_name = {t.name: t for t in report.threads}
    assert by_name["spin-0"].holding_share >= 0.7
    for name in ("nap-0", "nap-1", "nap-2", "MainThread"):
        assert by_name[name].waiting == 0, by_name[name]
    assert report.wait_share < 0.2
    assert not report.contended, report.summary()


def test_a_process_that_is_not_python_is_refused_with_a_hint() -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        with pytest.raises(ProfileError, match=f"process {sleeper.pid} is not a Python") as caught:
            gil_contention(sleeper.pid, 1)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert caught.value.hint
