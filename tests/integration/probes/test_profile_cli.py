"""``redline profile``: py-spy attached to a running program, and the in-process path.

The programs are written for the test: one spends most of its time in a known
function, which must top the hotspots with its file and line.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

#: Bound for one profile command, start-up included.
COMMAND_TIMEOUT_S = 90

HOT_PROGRAM = textwrap.dedent(
    """\
    import math, time

    def render_invoice(n):
        total = 0.0
        for i in range(n):
            total += math.sqrt(i) * 1.0001
        return total

    def idle():
        time.sleep(0.0002)

    end = time.monotonic() + {seconds}
    while time.monotonic() < end:
        render_invoice(20000)
        idle()
    """
)


def program(tmp_path: Path, seconds: float = 30) -> Path:
    path = tmp_path / "billing.py"
    path.write_text(HOT_PROGRAM.format(seconds=seconds))
    return path


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", "profile", *args],
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False,
    )  # fmt: skip


def first_hotspot(stdout: str) -> list[str]:
    """The first row of the hotspot table: rank, function, file:line, self, total."""
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if cells and cells[0] == "1":
            return cells
    raise AssertionError(f"no hotspot table in:\n{stdout}")


def check_outputs(prefix: Path) -> None:
    svg = prefix.with_name(prefix.name + ".svg").read_text()
    assert "render_invoice" in svg
    ET.fromstring(svg)
    speedscope = json.loads(prefix.with_name(prefix.name + ".speedscope.json").read_text())
    assert any(f["name"] == "render_invoice" for f in speedscope["shared"]["frames"])
    assert "render_invoice" in prefix.with_name(prefix.name + ".txt").read_text()


def test_py_spy_attached_to_a_running_program_finds_its_hot_function(tmp_path: Path) -> None:
    script = program(tmp_path)
    target = subprocess.Popen([sys.executable, str(script)])
    try:
        time.sleep(0.5)
        out = tmp_path / "prof"
        proc = redline("--pid", str(target.pid), "--duration", "3s", "--out", str(out))
    finally:
        target.terminate()
        target.wait(timeout=10)
    assert proc.returncode == 0, proc.stderr
    assert "method: py-spy" in proc.stdout and "complete" in proc.stdout
    rank, function, location, *_ = first_hotspot(proc.stdout)
    assert (function, location) == ("render_invoice", f"{script}:3")
    check_outputs(out)


def test_in_process_profile_of_a_started_program_finds_it_too(tmp_path: Path) -> None:
    script = program(tmp_path)
    out = tmp_path / "prof"
    proc = redline("--duration", "3s", "--in-process", "--out", str(out), "--",
                   sys.executable, str(script))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "method: pyinstrument" in proc.stdout
    _, function, location, *_ = first_hotspot(proc.stdout)
    assert (function, location) == ("render_invoice", f"{script}:3")
    check_outputs(out)


def test_a_program_that_exits_early_gives_a_partial_profile(tmp_path: Path) -> None:
    script = program(tmp_path, seconds=1.5)
    out = tmp_path / "prof"
    proc = redline("--duration", "10s", "--out", str(out), "--", sys.executable, str(script))
    assert proc.returncode == 0, proc.stderr
    assert "PARTIAL" in proc.stdout
    assert "exited during profiling" in proc.stdout
    check_outputs(out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pid", "999999"], "error: --pid: no process 999999 is running"),
        (["--duration", "0s", "--pid", "1"], "error: --duration: '0s' is out of range"),
        (["--rate", "5000", "--pid", "1"], "error: --rate: 5000 samples a second is out of range"),
        ([], "error: profile: give --pid PID or a program after --"),
        (
            ["--out", "/nonexistent/dir/p", "--pid", "1"],
            "error: --out: '/nonexistent/dir' is not a writable folder",
        ),
        (["--in-process", "--", "sleep", "5"], "error: --in-process: 'sleep 5' is not a Python"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    proc = redline(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(message), proc.stderr


def test_a_process_that_is_not_python_is_refused_with_a_hint() -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        proc = redline("--pid", str(sleeper.pid), "--duration", "2s")
    finally:
        sleeper.terminate()
        sleeper.wait(timeout=10)
    assert proc.returncode == 3
    assert proc.stderr.startswith(
        f"error: --pid {sleeper.pid}: process {sleeper.pid} is not a Python process"
    )
    assert "hint:" in proc.stderr


LEAKY_PROGRAM = textwrap.dedent(
    """\
    import time

    CACHE = []

    def keep_payload():
        CACHE.append(bytes(50 * 1024))

    end = time.monotonic() + 30
    while time.monotonic() < end:
        keep_payload()
        time.sleep(0.005)
    """
)


def test_memory_profile_names_the_function_that_keeps_memory(tmp_path: Path) -> None:
    script = tmp_path / "leaky.py"
    script.write_text(LEAKY_PROGRAM)
    out = tmp_path / "mem"
    proc = redline("--memory", "--duration", "3s", "--out", str(out), "--",
                   sys.executable, str(script))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "method: memray" in proc.stdout
    _, function, location, *_ = first_hotspot(proc.stdout)
    assert (function, location) == ("keep_payload", f"{script}:6")
    svg = out.with_name("mem.svg").read_text()
    assert "keep_payload" in svg and "MiB" in svg


def test_memory_profiling_refuses_a_pid() -> None:
    proc = redline("--memory", "--pid", "1")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --memory: runs a program redline starts")


def test_ctrl_c_writes_the_profile_so_far_marked_partial_and_exits_130(tmp_path: Path) -> None:
    script = program(tmp_path)
    target = subprocess.Popen([sys.executable, str(script)])
    out = tmp_path / "prof"
    try:
        time.sleep(0.3)
        profiler = subprocess.Popen(
            [sys.executable, "-m", "redline", "profile", "--pid", str(target.pid),
             "--duration", "60s", "--out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(3)
        profiler.send_signal(signal.SIGINT)
        stdout, stderr = profiler.communicate(timeout=30)
    finally:
        target.terminate()
        target.wait(timeout=10)
    assert profiler.returncode == 130, stderr
    assert "PARTIAL" in stdout and "profiling was stopped early" in stdout
    assert first_hotspot(stdout)[1] == "render_invoice"
    check_outputs(out)


BLOCKING_PROGRAM = textwrap.dedent(
    """\
    import asyncio, time

    def render_receipt():
        time.sleep(0.12)

    async def checkout():
        while True:
            render_receipt()
            await asyncio.sleep(0.3)

    async def heartbeat():
        while True:
            await asyncio.sleep(0.01)

    async def main():
        await asyncio.wait_for(asyncio.gather(checkout(), heartbeat()), 30)

    asyncio.run(main())
    """
)
THREADS_PROGRAM = textwrap.dedent(
    """\
    import threading, time

    def crunch():
        total, end = 0, time.monotonic() + 30
        while time.monotonic() < end:
            for i in range(10000):
                total += i * i

    for n in range(4):
        threading.Thread(target=crunch, name=f"worker-{n}", daemon=True).start()
    time.sleep(30)
    """
)


def test_loop_watch_names_the_function_that_blocks_the_event_loop(tmp_path: Path) -> None:
    script = tmp_path / "shop.py"
    script.write_text(BLOCKING_PROGRAM)
    proc = redline("--in-process", "--loop-watch", "50ms", "--duration", "3s",
                   "--out", str(tmp_path / "p"), "--", sys.executable, str(script))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "what blocked the event loop" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if "render_receipt" in line)
    assert f"{script}:4" in row


def test_gil_contention_reports_threads_waiting_for_the_gil(tmp_path: Path) -> None:
    script = tmp_path / "workers.py"
    script.write_text(THREADS_PROGRAM)
    target = subprocess.Popen([sys.executable, str(script)])
    try:
        time.sleep(0.3)
        proc = redline("--pid", str(target.pid), "--gil-contention", "--duration", "3s",
                       "--out", str(tmp_path / "p"))  # fmt: skip
    finally:
        target.terminate()
        target.wait(timeout=10)
    assert proc.returncode == 0, proc.stderr
    assert "GIL: 4 threads ran Python" in proc.stdout
    assert ": contended (threshold" in proc.stdout
    assert sum("worker-" in line for line in proc.stdout.splitlines()) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--loop-watch", "50ms", "--pid", "1"], "error: --loop-watch: watches the loop from"),
        (
            ["--gil-contention", "--in-process", "--", "python", "x.py"],
            "error: --gil-contention: uses py-spy",
        ),
        (
            ["--in-process", "--loop-watch", "1h", "--", "python", "x.py"],
            "error: --loop-watch: '1h' is out of range; allowed 1ms..10s",
        ),
    ],
)
def test_thread_and_loop_options_refuse_what_cannot_work(args: list[str], message: str) -> None:
    proc = redline(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(message), proc.stderr


def test_perf_profiles_a_program_that_is_not_python(tmp_path: Path) -> None:
    gcc, source = shutil.which("gcc"), Path(__file__).with_name("perf_hot.c")
    if gcc is None or shutil.which("perf") is None:
        pytest.skip("gcc or perf is not installed")
    binary = tmp_path / "hot"
    subprocess.run([gcc, "-O1", "-fno-omit-frame-pointer", "-o", str(binary), str(source)],
                   check=True)  # fmt: skip
    proc = redline("--perf", "--duration", "2s", "--out", str(tmp_path / "p"), "--",
                   str(binary), "20")  # fmt: skip
    if "perf cannot profile here" in proc.stderr:
        pytest.skip(proc.stderr.strip())
    assert proc.returncode == 0, proc.stderr
    assert "method: perf" in proc.stdout
    assert first_hotspot(proc.stdout)[1] == "redline_hot_spin"


def test_perf_is_refused_with_python_only_options() -> None:
    proc = redline("--perf", "--in-process", "--", "python", "x.py")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --perf: profiles any program; --in-process")
