"""Memory profiles from inside the target: run a Python program under memray and tracemalloc.

The program runs in this interpreter as ``__main__``, as in
:mod:`redline.probes._inprocess`::

    python -m redline.probes._memory_runner --out-dir DIR -- app.py --port 8000
    python -m redline.probes._memory_runner --out-dir DIR --snapshot-every-s 2 -- -m mypkg.server

While it runs:

- **memray** (the ``memory`` extra), when installed and not turned off with
  ``--no-memray``, records every allocation the C allocator sees, with its
  Python stack, into ``DIR/memray.bin`` (Python frames only; this process only,
  not its children);
- **tracemalloc** (:data:`TRACEMALLOC_FRAMES` frames; ``--no-tracemalloc``
  turns it off when memray runs) traces Python's allocations; its baseline
  snapshot is taken after the first ``--snapshot-every-s`` (the program has
  started by then) and its last one when the program ends;
- every ``--snapshot-every-s`` a point of the time series: traced memory and
  RSS (``/proc/self/statm``);
- ``gc.callbacks`` count and time every collection, per generation.

When the program ends, or on SIGTERM or SIGINT (how ``redline profile`` stops
it), what the program still holds is kept alive until memray stops, so it
counts as not freed; then memray's file is finalized, the last snapshot taken
and ``DIR/summary.json`` written:

.. code-block:: text

    schema_version   1
    method           "memray" or "tracemalloc"
    target           the program and its arguments
    ended            how the program ended (see Ending), exit_code, error
    duration_s       from the program's start to its end
    notes            what the reader should know (memray missing, ...)
    tracemalloc      null, or {frames, peak_bytes, current_bytes, own_bytes,
                     baseline_t_s (null when the program ended before it)}
    series           [{t_s, rss_bytes, heap_bytes}]; heap is tracemalloc's
                     traced memory (null without tracemalloc)
    top_growth       [{file, line, size_diff_bytes, size_bytes, count_diff,
                     app_file, app_line}]: the lines whose memory grew most from
                     the baseline to the end; app_* is the innermost frame in
                     the program's own code (not the standard library or
                     site-packages) on the heaviest stack through the line
    live_at_end      [{stack: [[file, line], ...] root first, size_bytes,
                     count}]: tracemalloc's view of what was still allocated
    gc               [{generation, collections, collected, pause_ms_total,
                     pause_ms_max}]

Both profilers hook the allocator, so memray also records tracemalloc's own
bookkeeping (tens of bytes for each live traced block), charged to the
program's stacks; ``tracemalloc.own_bytes`` says how much it was at the end.
"""

# summary.json schema history:
#   1: first version.

from __future__ import annotations

import argparse
import gc
import json
import os
import runpy
import sys
import sysconfig
import threading
import time
import traceback
import tracemalloc
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.probes._memory_files import (
    DEFAULT_SNAPSHOT_EVERY_S,
    MEMRAY_NAME,
    MS_PER_S,
    READY_NAME,
    RUNPY_FILES,
    SAMPLER_THREAD_NAME,
    SCHEMA_VERSION,
    SUMMARY_NAME,
    Ending,
)
from redline.probes._stop_signals import StopSignals
from redline.probes._stop_signals import __file__ as stop_signals_file

__all__ = [
    "Ending",
    "GcMeter",
    "HeapSampler",
    "is_app_file",
    "is_runner_work",
    "line_growth",
    "live_stacks",
    "main",
    "rss_bytes",
]

#: Frames tracemalloc keeps per allocation (the innermost ones).
TRACEMALLOC_FRAMES = 25
#: How many lines ``top_growth`` keeps.
TOP_LINES = 50
#: How many stacks ``live_at_end`` keeps (the heaviest).
TOP_STACKS = 1000
#: Collector generations (``gc.get_count()`` has one figure per generation).
GENERATIONS = 3
#: Folders of code that is not the program's own: the standard library and site-packages.
LIBRARY_DIRS = tuple(
    sorted({sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")})
)

#: This runner's own files, which may sit outside site-packages (an editable install).
RUNNER_FILES = (__file__, stop_signals_file)


@dataclass
class _Outcome:
    ending: Ending
    exit_code: int
    #: What the program still holds: its globals, or the exception whose traceback
    #: holds its frames. Kept alive until memray stops, so it counts as not freed.
    kept: object
    error: str | None = None


class GcMeter:
    """Collections, objects collected and pause time per generation, from ``gc.callbacks``.

    ``on_gc`` is the callback; tests call it directly with a fake clock.
    """

    def __init__(self, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._started_s: float | None = None
        self.collections = [0] * GENERATIONS
        self.collected = [0] * GENERATIONS
        self.pause_s_total = [0.0] * GENERATIONS
        self.pause_s_max = [0.0] * GENERATIONS

    def start(self) -> None:
        gc.callbacks.append(self.on_gc)

    def stop(self) -> None:
        if self.on_gc in gc.callbacks:
            gc.callbacks.remove(self.on_gc)

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started_s = self._clock()
            return
        if self._started_s is None:  # the collection began before the meter was added
            return
        pause_s = self._clock() - self._started_s
        self._started_s = None
        generation = info["generation"]
        self.collections[generation] += 1
        self.collected[generation] += info.get("collected", 0)
        self.pause_s_total[generation] += pause_s
        self.pause_s_max[generation] = max(self.pause_s_max[generation], pause_s)

    def figures(self) -> list[dict[str, Any]]:
        """One entry per generation, as ``summary.json`` holds them."""
        return [
            {
                "generation": generation,
                "collections": self.collections[generation],
                "collected": self.collected[generation],
                "pause_ms_total": self.pause_s_total[generation] * MS_PER_S,
                "pause_ms_max": self.pause_s_max[generation] * MS_PER_S,
            }
            for generation in range(GENERATIONS)
        ]


def rss_bytes(statm: str, page_size: int) -> int:
    """Resident memory from ``/proc/<pid>/statm`` (its second field is in pages)."""
    return int(statm.split()[1]) * page_size


def _own_rss_bytes() -> int | None:
    try:
        statm = Path("/proc/self/statm").read_text()
    except OSError:  # no /proc (not Linux): RSS is unknown, the other figures still hold
        return None
    return rss_bytes(statm, os.sysconf("SC_PAGE_SIZE"))


def _snapshot() -> tracemalloc.Snapshot:
    """tracemalloc's traces, without those this runner and tracemalloc allocated."""
    return tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, __file__), tracemalloc.Filter(False, tracemalloc.__file__)]
    )


class HeapSampler:
    """The time series of traced memory and RSS, and tracemalloc's baseline snapshot.

    :meth:`start` records the first point and starts a thread that calls
    :meth:`step` every ``every_s`` (on absolute times, so steps do not drift);
    the first step takes the baseline. :meth:`stop` ends the thread and records
    the last point.
    """

    def __init__(
        self,
        every_s: float,
        *,
        tracing: bool,
        clock: Callable[[], float] = time.monotonic,
        read_rss: Callable[[], int | None] = _own_rss_bytes,
    ) -> None:
        self._every_s = every_s
        self._tracing = tracing
        self._clock = clock
        self._read_rss = read_rss
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_s = 0.0
        self.series: list[dict[str, Any]] = []
        self.baseline: tracemalloc.Snapshot | None = None
        self.baseline_t_s: float | None = None

    def start(self) -> None:
        self._start_s = self._clock()
        self._point()
        self._thread = threading.Thread(target=self._run, name=SAMPLER_THREAD_NAME, daemon=True)
        self._thread.start()

    def step(self) -> None:
        """Record a point; take the baseline snapshot if there is none yet."""
        self._point()
        if self._tracing and self.baseline is None:
            self.baseline = _snapshot()
            self.baseline_t_s = self._clock() - self._start_s

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self._point()

    def _run(self) -> None:
        ticks = 1
        while not self._stopping.wait(
            max(0.0, self._start_s + ticks * self._every_s - self._clock())
        ):
            self.step()
            ticks += 1

    def _point(self) -> None:
        heap = tracemalloc.get_traced_memory()[0] if self._tracing else None
        self.series.append(
            {
                "t_s": self._clock() - self._start_s,
                "rss_bytes": self._read_rss(),
                "heap_bytes": heap,
            }
        )


def is_app_file(file: str) -> bool:
    """Whether ``file`` is the program's own code: not frozen, the standard library,
    site-packages or this runner (its stop handling included)."""
    if file.startswith("<") or file in RUNNER_FILES:
        return False
    return not file.startswith(LIBRARY_DIRS)


def is_runner_work(stack: Sequence[tracemalloc.Frame]) -> bool:
    """Whether a root-first traceback is this runner's own work (its sampler, its
    snapshots): it passes through the runner and does not go on into runpy (the program)."""
    files = [frame.filename for frame in stack]
    ours = [i for i, file in enumerate(files) if file == __file__]
    return bool(ours) and not any(f.startswith(RUNPY_FILES) for f in files[ours[-1] + 1 :])


@dataclass
class _LineTally:
    size_diff_bytes: int = 0
    size_bytes: int = 0
    count_diff: int = 0
    heaviest_bytes: int | None = None
    app: tracemalloc.Frame | None = None


def line_growth(
    baseline: tracemalloc.Snapshot | None,
    last: tracemalloc.Snapshot,
    *,
    top: int = TOP_LINES,
    is_app: Callable[[str], bool] = is_app_file,
) -> list[dict[str, Any]]:
    """The lines whose memory grew most from ``baseline`` to ``last`` (all of it
    when there is no baseline), heaviest first, growth only."""
    base = baseline or tracemalloc.Snapshot((), last.traceback_limit)
    tallies: dict[tuple[str, int], _LineTally] = {}
    for diff in last.compare_to(base, "traceback"):
        if is_runner_work(diff.traceback):
            continue
        frame = diff.traceback[-1]  # iteration is root first: the last frame is the innermost
        tally = tallies.setdefault((frame.filename, frame.lineno), _LineTally())
        tally.size_diff_bytes += diff.size_diff
        tally.size_bytes += diff.size
        tally.count_diff += diff.count_diff
        if tally.heaviest_bytes is None or diff.size_diff > tally.heaviest_bytes:
            tally.heaviest_bytes = diff.size_diff
            tally.app = next((f for f in reversed(diff.traceback) if is_app(f.filename)), None)
    ranked = sorted(tallies.items(), key=lambda item: -item[1].size_diff_bytes)
    return [
        {
            "file": file,
            "line": line,
            "size_diff_bytes": tally.size_diff_bytes,
            "size_bytes": tally.size_bytes,
            "count_diff": tally.count_diff,
            "app_file": tally.app.filename if tally.app is not None else None,
            "app_line": tally.app.lineno if tally.app is not None else None,
        }
        for (file, line), tally in ranked[:top]
        if tally.size_diff_bytes > 0
    ]


def live_stacks(last: tracemalloc.Snapshot, *, top: int = TOP_STACKS) -> list[dict[str, Any]]:
    """What ``last`` still holds, by stack (root first), the heaviest ``top`` stacks."""
    return [
        {
            "stack": [[frame.filename, frame.lineno] for frame in stat.traceback],
            "size_bytes": stat.size,
            "count": stat.count,
        }
        for stat in last.statistics("traceback")[:top]
    ]


def _run_target(target: list[str]) -> dict[str, Any]:
    """Run the program as ``__main__``; its globals when it returns."""
    if target[0] == "-m":
        sys.argv = [target[1], *target[2:]]
        return runpy.run_module(target[1], run_name="__main__", alter_sys=True)
    sys.argv = list(target)
    sys.path.insert(0, str(Path(target[0]).resolve().parent))
    return runpy.run_path(target[0], run_name="__main__")


def _run(target: list[str], ready: Path) -> _Outcome:
    stops = StopSignals()
    stops.arm()
    ready.touch()  # from here a stop is a clean one: the reader may send SIGTERM
    try:
        return _Outcome(Ending.RETURNED, 0, stops.run(lambda: _run_target(target)))
    except KeyboardInterrupt as exc:
        return _Outcome(Ending.STOPPED, 0, exc)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        return _Outcome(Ending.EXITED, code, exc)
    except Exception as exc:  # the program's own error: reported as Python would, then summed up
        traceback.print_exception(exc)
        return _Outcome(Ending.FAILED, 1, exc, f"{type(exc).__name__}: {exc}")


def _tracker(out_dir: Path, wanted: bool) -> tuple[AbstractContextManager[Any] | None, list[str]]:
    """memray's tracker writing to ``out_dir``, or None with the reason."""
    if not wanted:
        return None, []
    try:
        import memray
    except ImportError:
        return None, [
            "memray is not installed (the 'memory' extra): tracemalloc only, "
            "with no stacks at the peak"
        ]
    path = out_dir / MEMRAY_NAME
    path.unlink(missing_ok=True)  # memray refuses to overwrite a capture
    return memray.Tracker(path, native_traces=False, follow_fork=False), []


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--snapshot-every-s", type=float, default=DEFAULT_SNAPSHOT_EVERY_S)
    parser.add_argument("--no-memray", dest="memray", action="store_false")
    parser.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false")
    parser.add_argument("target", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    args.target = args.target[1:] if args.target[:1] == ["--"] else args.target
    if not args.target or args.target == ["-m"]:
        parser.error("give the program to run after --")
    if not args.snapshot_every_s > 0:
        parser.error(f"--snapshot-every-s: {args.snapshot_every_s!r} must be above 0")
    if not (args.memray or args.tracemalloc):
        parser.error("--no-memray and --no-tracemalloc together leave nothing to measure")
    return args


def _summary(
    args: argparse.Namespace,
    outcome: _Outcome,
    duration_s: float,
    sampler: HeapSampler,
    meter: GcMeter,
    method: str,
    notes: list[str],
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "method": method,
        "target": args.target,
        "ended": outcome.ending.value,
        "exit_code": outcome.exit_code,
        "error": outcome.error,
        "duration_s": duration_s,
        "notes": notes,
        "tracemalloc": None,
        "series": sampler.series,
        "top_growth": [],
        "live_at_end": [],
        "gc": meter.figures(),
    }
    if tracemalloc.is_tracing():
        last = _snapshot()
        current_bytes, peak_bytes = tracemalloc.get_traced_memory()
        summary["tracemalloc"] = {
            "frames": TRACEMALLOC_FRAMES,
            "peak_bytes": peak_bytes,
            "current_bytes": current_bytes,
            "own_bytes": tracemalloc.get_tracemalloc_memory(),
            "baseline_t_s": sampler.baseline_t_s,
        }
        summary["top_growth"] = line_growth(sampler.baseline, last)
        summary["live_at_end"] = live_stacks(last)
    return summary


def main(argv: list[str] | None = None) -> int:
    """Run the program after ``--``; write its summary (and memray's capture) to ``--out-dir``."""
    args = _parse(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    tracker, notes = _tracker(args.out_dir, args.memray)
    tracing = tracker is None or args.tracemalloc
    if tracing:
        tracemalloc.start(TRACEMALLOC_FRAMES)
    meter = GcMeter()
    sampler = HeapSampler(args.snapshot_every_s, tracing=tracing)
    meter.start()
    started_s = time.monotonic()
    with tracker or nullcontext():
        sampler.start()  # in the tracker, so memray knows its thread by name
        outcome = _run(args.target, args.out_dir / READY_NAME)
        duration_s = time.monotonic() - started_s
        sampler.stop()
        meter.stop()
    method = "tracemalloc" if tracker is None else "memray"
    summary = _summary(args, outcome, duration_s, sampler, meter, method, notes)
    tracemalloc.stop()
    # Written whole, then renamed: a reader never sees half a summary.
    part = args.out_dir / (SUMMARY_NAME + ".part")
    part.write_text(json.dumps(summary))
    part.replace(args.out_dir / SUMMARY_NAME)
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
