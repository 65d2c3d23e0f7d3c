"""Memory profiles of real programs, written by each test into its folder and run
under the memory runner for a few seconds: a leak, churn that frees what it takes,
cycles for the collector, a program that ends early, and one that leaves nothing."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from redline.errors import ProfileError
from redline.probes._memory import EXIT_GRACE_S, MemoryProfile, profile_memory_command
from redline.report import flamegraph_svg, speedscope_json

#: How long the long-running programs are profiled.
PROFILE_S = 3.0
#: 50 KiB a call, about 200 calls a second: some 30 MiB kept in PROFILE_S.
LEAKING_PROGRAM = textwrap.dedent(
    """\
    import time

    KEPT = []

    def keep_payload():
        KEPT.append(b"x" * 50 * 1024)

    def serve():
        while True:
            keep_payload()
            time.sleep(0.005)

    serve()
    """
)
#: The line of ``KEPT.append`` above.
LEAKING_LINE = 6
#: 256 KiB taken and freed in a loop, and reference cycles for the collector to find.
CHURNING_PROGRAM = textwrap.dedent(
    """\
    import time

    class Node:
        def __init__(self):
            self.peer = self

    def churn():
        block = bytearray(256 * 1024)
        ring = [Node() for _ in range(200)]
        del block, ring

    while True:
        churn()
        time.sleep(0.002)
    """
)
#: The most a program that frees what it takes may still hold when it is stopped: the
#: block it was using then, and the allocator's arenas (1 MiB each), which it keeps.
SMALL_BYTES = 4 * 1024 * 1024


def _program(tmp_path: Path, text: str, name: str = "app.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _profile(path: Path, duration_s: float = PROFILE_S, **options: Any) -> MemoryProfile:
    return profile_memory_command(["python", str(path)], duration_s, **options)


def test_a_leak_tops_what_was_not_freed_with_its_line(tmp_path: Path) -> None:
    pytest.importorskip("memray")
    path = _program(tmp_path, LEAKING_PROGRAM)
    profile = _profile(path, out_dir=tmp_path / "out")
    assert profile.method == "memray" and not profile.partial
    top = profile.not_freed.hotspots(1)[0]
    assert (top.frame.function, top.frame.location) == ("keep_payload", f"{path}:{LEAKING_LINE}")
    assert top.self_weight > 10 * 1024 * 1024 and top.self_share > 0.9
    stack = max(profile.not_freed.stacks, key=profile.not_freed.stacks.__getitem__)
    assert [f.function for f in stack] == ["<module>", "serve", "keep_payload"]
    assert profile.at_peak.hotspots(1)[0].frame.function == "keep_payload"
    assert profile.peak_bytes > 10 * 1024 * 1024
    assert profile.total_allocated_bytes is not None and profile.allocations
    growth = profile.top_growth[0]
    assert (growth.file, growth.line) == (str(path), LEAKING_LINE)
    assert (growth.app_file, growth.app_line) == (str(path), LEAKING_LINE)
    assert growth.size_diff_bytes > 5 * 1024 * 1024
    first, last = profile.growth[0], profile.growth[-1]
    assert last.t_s > first.t_s
    assert (last.heap_bytes or 0) - (first.heap_bytes or 0) > 10 * 1024 * 1024
    assert (last.rss_bytes or 0) > (first.rss_bytes or 0)
    assert {"summary.json", "memray.bin"} <= {p.name for p in (tmp_path / "out").iterdir()}
    svg = flamegraph_svg(profile.not_freed, title="not freed")
    assert "keep_payload" in svg and "MiB" in svg
    assert '"unit":"bytes"' in speedscope_json(profile.not_freed, name="not freed")


def test_tracemalloc_alone_finds_the_leak_too(tmp_path: Path) -> None:
    path = _program(tmp_path, LEAKING_PROGRAM)
    profile = _profile(path, use_memray=False)
    assert profile.method == "tracemalloc"
    top = profile.not_freed.hotspots(1)[0]
    assert (top.frame.function, top.frame.location) == ("keep_payload", f"{path}:{LEAKING_LINE}")
    assert profile.at_peak.stacks == {} and profile.allocations is None
    assert profile.peak_bytes > 10 * 1024 * 1024
    assert (profile.top_growth[0].file, profile.top_growth[0].line) == (str(path), LEAKING_LINE)
    assert (profile.growth[-1].heap_bytes or 0) > (profile.growth[0].heap_bytes or 0)


def test_memory_that_is_freed_is_not_reported_and_the_collector_is_timed(tmp_path: Path) -> None:
    pytest.importorskip("memray")
    profile = _profile(_program(tmp_path, CHURNING_PROGRAM), duration_s=2.0)
    assert profile.not_freed.total < SMALL_BYTES
    assert profile.peak_bytes >= 256 * 1024
    assert profile.total_allocated_bytes is not None
    assert profile.total_allocated_bytes > 10 * SMALL_BYTES  # churn: far more taken than kept
    assert not any(g.file.endswith("app.py") and g.size_diff_bytes > SMALL_BYTES
                   for g in profile.top_growth)  # fmt: skip
    young = profile.gc[0]
    assert young.generation == 0 and young.collections > 0
    assert young.collected > 0 and young.pause_ms_total > 0
    assert young.pause_ms_max <= young.pause_ms_total


def test_a_program_that_exits_early_gives_a_partial_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _program(tmp_path, "import time\nDATA = [bytes(4096) for _ in range(100)]\ntime.sleep(0.2)\n",
             name="quick.py")  # fmt: skip
    monkeypatch.chdir(tmp_path)  # ``-m quick`` imports it from here
    profile = profile_memory_command(["python", "-m", "quick"], 10.0)
    assert profile.partial
    assert "the program exited during profiling" in profile.notes
    assert profile.duration_s < 5.0
    assert profile.gc and len(profile.growth) >= 2


def test_stopping_early_gives_a_partial_profile(tmp_path: Path) -> None:
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    profile = _profile(_program(tmp_path, LEAKING_PROGRAM), duration_s=30.0, stop=stop)
    assert profile.partial and "profiling was stopped early" in profile.notes
    assert profile.duration_s < 10.0


def test_a_thread_that_never_ends_does_not_hold_the_profile_back(tmp_path: Path) -> None:
    program = (
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,)).start()  # not a daemon\n"
        "while True:\n"
        "    time.sleep(0.01)\n"
    )
    started_s = time.monotonic()
    profile = _profile(_program(tmp_path, program), duration_s=1.0)
    assert not profile.partial and profile.gc
    assert time.monotonic() - started_s < 1.0 + EXIT_GRACE_S + 3.0


def test_a_program_that_fails_is_profiled_up_to_its_error(tmp_path: Path) -> None:
    profile = _profile(_program(tmp_path, "raise ValueError('no config')\n"), duration_s=5.0)
    assert profile.partial
    assert "the program failed: ValueError: no config" in profile.notes


def test_a_program_that_leaves_no_profile_is_a_profile_error(tmp_path: Path) -> None:
    path = _program(tmp_path, "import os\nos._exit(3)\n")
    with pytest.raises(ProfileError, match=r"was not written \(exit code 3\)") as caught:
        _profile(path, duration_s=5.0)
    assert caught.value.hint is not None and "os._exit" in caught.value.hint
