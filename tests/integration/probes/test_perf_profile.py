"""perf attached to a running native program: its hot function, an early stop, an early exit.

``perf_hot.c`` spends nearly all of its time in ``redline_hot_spin``, which
must top the hotspots. The tests are skipped, saying why, where perf cannot
profile (not installed, not permitted) or gcc is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from redline.probes._perf import perf_available, profile_perf
from redline.probes._stacks import Frame

#: The program's source, beside this file.
SOURCE = Path(__file__).with_name("perf_hot.c")
#: The function the program spends its time in, in the binary ``perf_hot``.
HOT = Frame("redline_hot_spin", "perf_hot")
#: Bound for compiling the program.
COMPILE_TIMEOUT_S = 60
#: Bound for the program to stop once killed.
STOP_TIMEOUT_S = 10


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``perf_hot.c`` compiled with frame pointers, so perf can walk its stacks."""
    reason = perf_available()
    if reason is not None:
        pytest.skip(f"perf cannot profile here: {reason}")
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed: the native test program cannot be built")
    out = tmp_path_factory.mktemp("perf") / "perf_hot"
    subprocess.run(
        [gcc, "-O1", "-fno-omit-frame-pointer", "-g", "-o", str(out), str(SOURCE)],
        check=True, timeout=COMPILE_TIMEOUT_S,
    )  # fmt: skip
    return out


@contextmanager
def running(binary: Path, seconds: float) -> Iterator[subprocess.Popen[bytes]]:
    """The program, running for ``seconds`` at most; always stopped by its PID."""
    proc = subprocess.Popen([str(binary), str(seconds)])
    try:
        time.sleep(0.2)  # past the dynamic loader, into its loop
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture
def program(binary: Path) -> Iterator[subprocess.Popen[bytes]]:
    with running(binary, 10) as proc:
        yield proc


def test_the_hot_native_function_tops_the_hotspots(program: subprocess.Popen[bytes]) -> None:
    started = time.monotonic()
    profile = profile_perf(program.pid, 2.0)
    assert time.monotonic() - started < 10
    assert (profile.method, profile.partial) == ("perf", False), profile.notes
    assert profile.duration_s == 2.0
    assert profile.samples.total > 20  # 99 a second for 2 s, on a CPU shared with others
    top = profile.samples.hotspots(1)[0]
    assert top.frame == HOT and top.self_share > 0.8
    assert all(stack[0] == Frame("perf_hot") for stack in profile.samples.stacks)


def test_stop_ends_the_recording_early_with_what_it_has(
    program: subprocess.Popen[bytes],
) -> None:
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    try:
        started = time.monotonic()
        profile = profile_perf(program.pid, 30.0, stop=stop)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 10
    assert profile.partial and "profiling was stopped early" in profile.notes
    assert profile.samples.hotspots(1)[0].frame == HOT


def test_a_program_that_exits_during_recording_gives_a_partial_profile(binary: Path) -> None:
    with running(binary, 1.0) as proc:
        started = time.monotonic()
        profile = profile_perf(proc.pid, 30.0)
        assert time.monotonic() - started < 10
        assert profile.partial
        assert f"process {proc.pid} exited during profiling" in profile.notes
        assert profile.samples.hotspots(1)[0].frame == HOT
