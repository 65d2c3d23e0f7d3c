"""The loop watch under the in-process runner: a program whose loop is blocked, and one that is not.

Each program runs for real under ``python -m redline.probes._inprocess
--loop-watch-ms 50`` for about three seconds and is stopped with SIGTERM, as
``redline profile`` stops it; the report is read from the JSON file the runner
writes. The per-iteration cost of the hook is measured and printed, not asserted.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from redline.probes._loop_watch import LoopWatch

#: How long each program runs before it is stopped.
RUN_S = 3.0
#: Bound for the runner to write its files once stopped.
EXIT_TIMEOUT_S = 30
#: The line of ``crunch`` that blocks, in every variant of the program.
BLOCKING_LINE = 6

PROGRAM = textwrap.dedent(
    """\
    import asyncio, time


    def crunch():
        end = time.perf_counter() + 0.12
        {blocking}


    async def checkout():
        while True:
            await asyncio.sleep(0.3)
            {checkout}


    async def browse():
        while True:
            await asyncio.sleep(0.01)
            sum(range(200))


    async def main():
        await asyncio.gather(checkout(), *(browse() for _ in range(5)))


    asyncio.run(main())
    """
)
SLEEPING = "time.sleep(end - time.perf_counter())"
SPINNING = "while time.perf_counter() < end: pass"


def program(tmp_path: Path, *, blocking: str, checkout: str = "crunch()") -> Path:
    path = tmp_path / "shop.py"
    path.write_text(PROGRAM.format(blocking=blocking, checkout=checkout))
    return path


def watched(script: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` under the runner with the loop watch for RUN_S, then SIGTERM it."""
    argv = [sys.executable, "-m", "redline.probes._inprocess", "--out", str(out),
            "--loop-watch-ms", "50", *extra, "--", str(script)]  # fmt: skip
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            time.sleep(RUN_S)
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=EXIT_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


def loop_report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.mark.parametrize("blocking", [SLEEPING, SPINNING], ids=["sleeping", "spinning"])
def test_a_callback_that_blocks_the_loop_is_named_with_its_line(
    tmp_path: Path, blocking: str
) -> None:
    script = program(tmp_path, blocking=blocking)
    out = tmp_path / "stacks.txt"
    proc = watched(script, out)
    assert proc.returncode == 0, proc.stderr
    report = loop_report(tmp_path / "stacks.txt.loops.json")
    assert report["schema_version"] == 1 and report["threshold_ms"] == 50
    top = report["blockers"][0]
    assert (top["function"], top["location"]) == ("crunch", f"{script}:{BLOCKING_LINE}")
    assert top["max_ms"] >= 100
    assert top["count"] >= 4  # one every ~0.3 s once started
    # below crunch there may be a profiler's frame (pyinstrument samples in the same thread)
    example = top["example"]
    at = example.index(f"crunch ({script}:{BLOCKING_LINE})")
    assert example[at - 1] == f"checkout ({script}:12)"
    assert report["iterations"] > 100
    assert out.read_text()  # the CPU profile is written as before


def test_a_well_behaved_loop_has_no_stalls(tmp_path: Path) -> None:
    script = program(tmp_path, blocking="pass", checkout="await asyncio.sleep(0.12)")
    report_path = tmp_path / "loops.json"
    proc = watched(script, tmp_path / "stacks.txt", "--loop-report", str(report_path))
    assert proc.returncode == 0, proc.stderr
    report = loop_report(report_path)
    assert report["stalls"] == [] and report["blockers"] == []
    assert report["iterations"] > 100
    assert report["notes"] == []


def test_a_bad_threshold_is_refused_by_the_runner(tmp_path: Path) -> None:
    script = program(tmp_path, blocking="pass")
    proc = subprocess.run(
        [sys.executable, "-m", "redline.probes._inprocess", "--out", str(tmp_path / "s.txt"),
         "--loop-watch-ms", "0", "--", str(script)],
        capture_output=True, text=True, timeout=EXIT_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--loop-watch-ms: 0.0 is out of range; allowed 1..60000" in proc.stderr


def iteration_ns(iterations: int) -> float:
    """Nanoseconds per loop iteration that runs one trivial callback."""
    loop = asyncio.new_event_loop()
    try:
        done = loop.create_future()
        left = [iterations]

        def tick() -> None:
            left[0] -= 1
            if left[0]:
                loop.call_soon(tick)
            else:
                done.set_result(None)

        loop.call_soon(tick)
        started = time.perf_counter_ns()
        loop.run_until_complete(done)
        return (time.perf_counter_ns() - started) / iterations
    finally:
        loop.close()


def test_the_hook_cost_per_iteration_is_measured(capsys: pytest.CaptureFixture[str]) -> None:
    iterations, rounds = 100_000, 3
    plain = min(iteration_ns(iterations) for _ in range(rounds))
    watch = LoopWatch(50)
    watch.install()
    watch.start()
    try:
        hooked = min(iteration_ns(iterations) for _ in range(rounds))
    finally:
        watch.stop()
        watch.uninstall()
    assert watch.report().iterations >= iterations * rounds
    with capsys.disabled():
        print(f"\nloop watch: {plain:.0f} ns per plain iteration, {hooked:.0f} ns hooked "
              f"(+{hooked - plain:.0f} ns)")  # fmt: skip
