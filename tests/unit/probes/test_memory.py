"""Memory profiles: trimming stacks, reading the runner's summary, the collector's and
the heap's figures, and bad input. No program is started here."""

from __future__ import annotations

import gc
import json
import sysconfig
import textwrap
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from redline.errors import ConfigError, ProfileError
from redline.probes import _memory_runner as runner
from redline.probes._memory import (
    GcGeneration,
    GrowthPoint,
    LineGrowth,
    enclosing_function,
    memray_stacks,
    own_frames,
    profile_memory_command,
    read_memory_profile,
    thin,
    tracemalloc_stacks,
)
from redline.probes._memory_runner import (
    GcMeter,
    HeapSampler,
    is_app_file,
    is_runner_work,
    line_growth,
    live_stacks,
    rss_bytes,
)
from redline.probes._stacks import Frame

RUNNER = runner.__file__
#: A line of runpy's ``_run_code`` (its ``exec``), and one of ``run_path`` outside it.
RUN_CODE = Frame("_run_code", "<frozen runpy>", 88)
RUN_PATH = Frame("run_path", "<frozen runpy>", 280)
RUNNER_ROOT = [
    Frame("<module>", RUNNER, 500),
    Frame("main", RUNNER, 460),
    Frame("_run_target", RUNNER, 352),
]
PROGRAM = [Frame("<module>", "app.py", 15), Frame("keep", "app.py", 4)]


# --- trimming -------------------------------------------------------------------------


def test_a_stack_starts_at_the_programs_module() -> None:
    stack = [*RUNNER_ROOT, RUN_PATH, Frame("_run_module_code", "<frozen runpy>", 98), RUN_CODE]
    assert own_frames([*stack, *PROGRAM]) == PROGRAM


def test_the_runners_own_work_is_left_out() -> None:
    assert own_frames([*RUNNER_ROOT, Frame("_point", RUNNER, 267)]) == []


def test_runpys_own_work_before_the_program_is_left_out() -> None:
    importing = Frame("_find_and_load", "<frozen importlib._bootstrap>", 1176)
    assert own_frames([*RUNNER_ROOT, RUN_PATH, importing]) == []


def test_a_thread_the_program_started_is_kept_whole() -> None:
    stack = [Frame("_bootstrap", "threading.py", 1002), Frame("worker", "app.py", 30)]
    assert own_frames(stack) == stack


@dataclass
class FakeRecord:
    """Stands in for memray's AllocationRecord."""

    size: int
    frames: list[tuple[str, str, int]]  # innermost first, as memray gives them
    thread_name: str = ""

    def stack_trace(self) -> list[tuple[str, str, int]]:
        return self.frames


def _leaf_first(frames: list[Frame]) -> list[tuple[str, str, int]]:
    return [(f.function, f.file or "", f.line or 0) for f in reversed(frames)]


def test_memray_records_become_root_first_stacks_in_bytes() -> None:
    entry = [*RUNNER_ROOT, RUN_PATH, RUN_CODE]
    records = [
        FakeRecord(1000, _leaf_first([*entry, *PROGRAM])),
        FakeRecord(24, _leaf_first([*entry, *PROGRAM])),
        FakeRecord(5000, _leaf_first([*RUNNER_ROOT, Frame("_summary", RUNNER, 400)])),
        FakeRecord(700, _leaf_first([*RUNNER_ROOT]), thread_name=runner.SAMPLER_THREAD_NAME),
    ]
    samples = memray_stacks(records)
    assert samples.unit == "bytes"
    assert samples.stacks == {tuple(PROGRAM): 1024}


def test_tracemalloc_stacks_name_their_functions_from_the_source(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("def keep():\n    return [0] * 1000\n\nKEPT = keep()\n")
    entry = [[RUNNER, 460], ["<frozen runpy>", 280], ["<frozen runpy>", 88]]
    live = [{"stack": [*entry, [str(app), 4], [str(app), 2]], "size_bytes": 8056, "count": 1}]
    samples = tracemalloc_stacks(live)
    assert samples.stacks == {
        (Frame("<module>", str(app), 4), Frame("keep", str(app), 2)): 8056,
    }


# --- function names, thinning ---------------------------------------------------------

SOURCE = textwrap.dedent(
    """\
    import os

    class Cache:
        def put(self, key):
            def inner():
                return key
            return inner

    async def fetch():
        return 1
    """
)


@pytest.mark.parametrize(
    ("line", "name"), [(1, "<module>"), (3, "Cache"), (4, "put"), (6, "inner"), (10, "fetch")]
)
def test_the_innermost_definition_names_a_line(line: int, name: str) -> None:
    assert enclosing_function(SOURCE, line) == name


def test_source_that_does_not_parse_gives_an_unknown_name() -> None:
    assert enclosing_function("def broken(:\n", 1) == "?"


def test_thinning_keeps_the_ends_and_spaces_the_rest_evenly() -> None:
    points = [GrowthPoint(float(i), i, i) for i in range(101)]
    assert thin(points, 200) == points
    thinned = thin(points, 11)
    assert [p.t_s for p in thinned] == [float(i) for i in range(0, 101, 10)]


# --- the collector, RSS and the time series --------------------------------------------


class StepClock:
    """Each reading is ``step_s`` later than the one before."""

    def __init__(self, step_s: float) -> None:
        self.now_s = 0.0
        self.step_s = step_s

    def __call__(self) -> float:
        self.now_s += self.step_s
        return self.now_s


def test_gc_pauses_are_summed_and_their_maximum_kept_per_generation() -> None:
    meter = GcMeter(clock=StepClock(0.002))
    meter.on_gc("stop", {"generation": 0, "collected": 9})  # began before the meter: ignored
    for generation, collected in ((0, 3), (0, 4), (2, 10)):
        meter.on_gc("start", {"generation": generation})
        meter.on_gc("stop", {"generation": generation, "collected": collected})
    young, middle, old = meter.figures()
    assert young["collections"] == 2 and young["collected"] == 7
    assert young["pause_ms_total"] == pytest.approx(4.0)
    assert young["pause_ms_max"] == pytest.approx(2.0)
    assert middle["collections"] == 0 and middle["pause_ms_total"] == 0.0
    assert (old["collections"], old["collected"]) == (1, 10)
    assert old["pause_ms_total"] == old["pause_ms_max"] == pytest.approx(2.0)


def test_the_gc_meter_hooks_in_and_out() -> None:
    meter = GcMeter()
    meter.start()
    try:
        assert meter.on_gc in gc.callbacks
        gc.collect(0)
        assert meter.collections[0] >= 1
    finally:
        meter.stop()
    assert meter.on_gc not in gc.callbacks
    meter.stop()  # twice is harmless


def test_rss_is_the_second_field_of_statm_in_pages() -> None:
    assert rss_bytes("2048 300 100 1 0 500 0\n", 4096) == 300 * 4096


def test_the_series_without_tracemalloc_holds_rss_only() -> None:
    sampler = HeapSampler(1.0, tracing=False, clock=StepClock(0.5), read_rss=lambda: 1234)
    sampler.step()
    sampler.step()
    assert [p["rss_bytes"] for p in sampler.series] == [1234, 1234]
    assert all(p["heap_bytes"] is None for p in sampler.series)
    assert sampler.baseline is None


@pytest.fixture
def tracing() -> Iterator[None]:
    """tracemalloc on for one test, and off again whatever happens."""
    tracemalloc.start(runner.TRACEMALLOC_FRAMES)
    try:
        yield
    finally:
        tracemalloc.stop()


@pytest.mark.usefixtures("tracing")
def test_the_first_step_takes_the_baseline_once() -> None:
    sampler = HeapSampler(1.0, tracing=True, clock=StepClock(1.0), read_rss=lambda: None)
    sampler.step()
    baseline = sampler.baseline
    sampler.step()
    assert baseline is not None and sampler.baseline is baseline
    assert sampler.baseline_t_s is not None
    assert all(p["heap_bytes"] > 0 for p in sampler.series)


# --- tracemalloc's growth by line --------------------------------------------------------

HELD: list[bytes] = []


def _hold(count: int) -> None:
    HELD.extend(bytes(10_000) for _ in range(count))  # the growing line


GROWING_LINE = _hold.__code__.co_firstlineno + 1


@pytest.mark.usefixtures("tracing")
def test_growth_by_line_ranks_the_line_that_grew() -> None:
    baseline = tracemalloc.take_snapshot()
    _hold(50)
    try:
        last = tracemalloc.take_snapshot()
        grown = line_growth(baseline, last, is_app=lambda file: file == __file__)
        stacks = live_stacks(last, top=5)
    finally:
        HELD.clear()
    top = grown[0]
    assert (top["file"], top["line"]) == (__file__, GROWING_LINE)
    assert top["size_diff_bytes"] >= 50 * 10_000 and top["count_diff"] >= 50
    assert (top["app_file"], top["app_line"]) == (__file__, GROWING_LINE)
    assert all(entry["size_diff_bytes"] > 0 for entry in grown)
    assert stacks[0]["stack"][-1] == [__file__, GROWING_LINE]  # root first: innermost last


@pytest.mark.usefixtures("tracing")
def test_without_a_baseline_growth_counts_all_that_is_held() -> None:
    _hold(20)
    try:
        grown = line_growth(None, tracemalloc.take_snapshot())
    finally:
        HELD.clear()
    mine = [e for e in grown if (e["file"], e["line"]) == (__file__, GROWING_LINE)]
    assert mine and mine[0]["size_bytes"] == mine[0]["size_diff_bytes"] >= 20 * 10_000


def test_app_files_are_neither_the_library_nor_the_runner(tmp_path: Path) -> None:
    assert is_app_file(str(tmp_path / "app.py"))
    assert not is_app_file(str(Path(sysconfig.get_paths()["stdlib"]) / "json" / "encoder.py"))
    assert not is_app_file("<frozen runpy>")
    assert not is_app_file(RUNNER)


def test_the_runners_own_allocations_are_told_from_the_programs() -> None:
    def stack(*files: str) -> list[tracemalloc.Frame]:
        return [tracemalloc.Frame((file, 1)) for file in files]

    assert is_runner_work(stack("<frozen runpy>", RUNNER, RUNNER, "/usr/lib/python3/re.py"))
    assert not is_runner_work(stack("<frozen runpy>", RUNNER, "<frozen runpy>", "app.py"))
    assert not is_runner_work(stack("threading.py", "app.py"))


# --- reading the summary ----------------------------------------------------------------


def _summary(**changes: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "schema_version": runner.SCHEMA_VERSION,
        "method": "tracemalloc",
        "target": ["app.py"],
        "ended": "stopped",
        "exit_code": 0,
        "error": None,
        "duration_s": 3.5,
        "notes": ["memray is not installed"],
        "tracemalloc": {
            "frames": 25,
            "peak_bytes": 9_000_000,
            "current_bytes": 8_000_000,
            "own_bytes": 50_000,
            "baseline_t_s": 1.0,
        },  # fmt: skip
        "series": [
            {"t_s": 0.0, "rss_bytes": 20_000_000, "heap_bytes": 1000},
            {"t_s": 1.0, "rss_bytes": 25_000_000, "heap_bytes": 4_000_000},
        ],
        "top_growth": [
            {
                "file": "app.py",
                "line": 4,
                "size_diff_bytes": 7_000_000,
                "size_bytes": 8_000_000,
                "count_diff": 140,
                "app_file": "app.py",
                "app_line": 4,
            }
        ],  # fmt: skip
        "live_at_end": [
            {
                "stack": [[RUNNER, 352], ["<frozen runpy>", 88], ["app.py", 15], ["app.py", 4]],
                "size_bytes": 8_000_000,
                "count": 160,
            },
        ],  # fmt: skip
        "gc": [
            {
                "generation": g,
                "collections": 3 - g,
                "collected": 0,
                "pause_ms_total": 0.5,
                "pause_ms_max": 0.25,
            }
            for g in range(3)
        ],  # fmt: skip
    }
    summary.update(changes)
    return summary


def _write(folder: Path, summary: dict[str, Any]) -> Path:
    (folder / runner.SUMMARY_NAME).write_text(json.dumps(summary))
    return folder


def test_a_tracemalloc_summary_reads_into_a_profile(tmp_path: Path) -> None:
    profile = read_memory_profile(_write(tmp_path, _summary()))
    assert profile.method == "tracemalloc"
    assert profile.peak_bytes == 9_000_000
    assert profile.total_allocated_bytes is None and profile.allocations is None
    assert profile.at_peak.stacks == {}
    [(stack, size)] = profile.not_freed.stacks.items()
    assert [f.location for f in stack] == ["app.py:15", "app.py:4"] and size == 8_000_000
    assert profile.growth == [GrowthPoint(0.0, 20_000_000, 1000),
                              GrowthPoint(1.0, 25_000_000, 4_000_000)]  # fmt: skip
    assert profile.top_growth == [LineGrowth("app.py", 4, 7_000_000, 8_000_000, 140, "app.py", 4)]
    assert profile.top_growth[0].location == "app.py:4"
    assert profile.gc[0] == GcGeneration(0, 3, 0, 0.5, 0.25)
    assert profile.duration_s == 3.5 and not profile.partial
    assert profile.notes == ["memray is not installed"]


def test_a_failed_program_and_a_missing_baseline_are_noted(tmp_path: Path) -> None:
    traced = {**_summary()["tracemalloc"], "baseline_t_s": None}
    summary = _summary(ended="failed", exit_code=1, error="ValueError: boom", tracemalloc=traced)
    notes = read_memory_profile(_write(tmp_path, summary)).notes
    assert "the program failed: ValueError: boom" in notes
    assert any("before tracemalloc's baseline" in note for note in notes)


def test_an_exit_code_is_noted(tmp_path: Path) -> None:
    notes = read_memory_profile(_write(tmp_path, _summary(ended="exited", exit_code=3))).notes
    assert "the program exited with code 3" in notes


def test_a_missing_summary_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"summary .* cannot be read") as caught:
        read_memory_profile(tmp_path)
    assert caught.value.hint is not None


def test_a_summary_that_is_not_json_is_a_profile_error(tmp_path: Path) -> None:
    (tmp_path / runner.SUMMARY_NAME).write_text('{"schema_version": 1, "meth')
    with pytest.raises(ProfileError, match="is not JSON"):
        read_memory_profile(tmp_path)


def test_a_summary_of_another_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="has schema_version 99; this redline reads 1"):
        read_memory_profile(_write(tmp_path, _summary(schema_version=99)))


def test_an_unreadable_memray_capture_is_a_profile_error(tmp_path: Path) -> None:
    pytest.importorskip("memray")
    _write(tmp_path, _summary(method="memray"))
    (tmp_path / runner.MEMRAY_NAME).write_bytes(b"not a capture")
    with pytest.raises(ProfileError, match="memray's capture .* cannot be read"):
        read_memory_profile(tmp_path)


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "duration_s", "options", "message"),
    [
        (["node", "app.js"], 1.0, {}, "'node app.js' is not a Python command"),
        (["python"], 1.0, {}, "names no program to run"),
        (["python", "app.py"], 0.0, {}, "duration_s: 0.0 must be above 0"),
        (["python", "app.py"], 1.0, {"snapshot_every_s": -1.0},
         "snapshot_every_s: -1.0 must be above 0"),
        (["python", "app.py"], 1.0, {"use_memray": False, "use_tracemalloc": False},
         "nothing would be measured"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_anything_starts(
    command: list[str], duration_s: float, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        profile_memory_command(command, duration_s, **options)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out-dir", "x"], "give the program to run after --"),
        (["--out-dir", "x", "--snapshot-every-s", "0", "--", "a.py"], "must be above 0"),
        (["--out-dir", "x", "--no-memray", "--no-tracemalloc", "--", "a.py"], "nothing to measure"),
    ],
)
def test_the_runner_refuses_bad_arguments(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        runner.main(argv)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
