"""Memory profiles of a Python program redline starts: ``redline profile --memory``.

The program runs under :mod:`redline.probes._memory_runner` (memray when the
``memory`` extra is installed, tracemalloc, and ``gc.callbacks``), which
writes its files when the program is stopped; :func:`read_memory_profile`
turns them into a :class:`MemoryProfile`.

Glossary:
    peak: the most memory the program held at once (memray: every allocation
        the C allocator saw; tracemalloc: Python's allocations only).
    at the peak: what was allocated at the high-water mark, by stack.
    not freed: what was still allocated when the program was stopped, by
        stack: for a server stopped after the duration, what it held then; a
        stack that keeps growing here over longer runs is a leak.
    growth: RSS and heap over time (memray's heap: all it tracked;
        tracemalloc's: Python's traced memory).
    top growth: the lines whose memory grew most between tracemalloc's
        baseline (after the first snapshot interval) and the end.

Stacks are root first and start at the program's own ``<module>``: this
runner's, runpy's and memray's frames are left out, as in
:mod:`redline.probes._inprocess`.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import dis
import importlib.util
import json
import linecache
import os
import runpy
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from redline.errors import ConfigError, ProfileError
from redline.probes import _memory_files as runner
from redline.probes._profile_command import (
    python_target,
    start_program,
    wait_program,
    wait_ready,
)
from redline.probes._stacks import Frame, StackSamples

__all__ = [
    "GcGeneration",
    "GrowthPoint",
    "LineGrowth",
    "MemoryProfile",
    "enclosing_function",
    "own_frames",
    "profile_memory_command",
    "read_memory_profile",
]

#: The unit of memory stacks' weights.
BYTES_UNIT = "bytes"
#: The most points :attr:`MemoryProfile.growth` holds (memray records one every 10 ms).
MAX_GROWTH_POINTS = 1000
#: How long the runner may take after SIGTERM to finish memray's file and the summary
#: before it is killed (memray compresses its capture as it closes it).
RUNNER_GRACE_S = 60.0
#: How long the runner may take to exit once its summary is written.
EXIT_GRACE_S = 3.0
#: How often the stop looks at the runner.
POLL_S = 0.05
#: tracemalloc's own memory, as a share of the peak, above which a note says
#: memray's figures include it.
TRACEMALLOC_NOTE_SHARE = 0.05
#: The name given to a frame whose function cannot be found (tracemalloc records none).
UNKNOWN_FUNCTION = "?"
#: The lines of runpy's ``_run_code``, whose ``exec`` runs the program: a stack enters
#: the program there. Found from the code, as tracemalloc's frames have no function name.
_RUN_CODE_LINES = frozenset(
    line
    for _, line in dis.findlinestarts(runpy._run_code.__code__)  # type: ignore[attr-defined]
    if line is not None
)
#: memray's package folder (None when not installed): its frames are left out of stacks.
_MEMRAY_SPEC = importlib.util.find_spec("memray")
_MEMRAY_DIR = (
    os.path.join(next(iter(_MEMRAY_SPEC.submodule_search_locations or [""])), "")
    if _MEMRAY_SPEC is not None
    else None
)


@dataclass(frozen=True)
class GrowthPoint:
    """Memory at one moment, seconds from the start (None when unknown)."""

    t_s: float
    rss_bytes: int | None
    heap_bytes: int | None


@dataclass(frozen=True)
class LineGrowth:
    """A line whose memory grew between tracemalloc's baseline and the end.

    ``app_file``/``app_line`` is the innermost frame in the program's own code
    on the heaviest stack through the line (the same line when it is the
    program's; the caller when the line is in the standard library or a package).
    """

    file: str
    line: int
    size_diff_bytes: int
    size_bytes: int
    count_diff: int
    app_file: str | None = None
    app_line: int | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class GcGeneration:
    """The garbage collector's work on one generation while the program ran."""

    generation: int
    collections: int
    collected: int
    pause_ms_total: float
    pause_ms_max: float


@dataclass
class MemoryProfile:
    """A program's memory: see the module docstring for the terms.

    ``total_allocated_bytes`` and ``allocations`` count every allocation memray
    saw, freed or not (None with tracemalloc, which keeps no such count).
    ``at_peak`` is empty with tracemalloc, which records no stacks at the peak.
    """

    peak_bytes: int
    total_allocated_bytes: int | None
    allocations: int | None
    at_peak: StackSamples
    not_freed: StackSamples
    growth: list[GrowthPoint]
    top_growth: list[LineGrowth]
    gc: list[GcGeneration]
    #: ``memray`` or ``tracemalloc``.
    method: str
    duration_s: float
    partial: bool = False
    notes: list[str] = field(default_factory=list)


class _Record(Protocol):
    """What stacks are read from: memray's ``AllocationRecord``."""

    @property
    def size(self) -> int: ...

    @property
    def thread_name(self) -> str: ...

    def stack_trace(self) -> list[tuple[str, str, int]]: ...


def own_frames(frames: Sequence[Frame]) -> list[Frame]:
    """The program's frames of a root-first stack.

    Frames up to the runner's last and runpy's after it are left out, so the
    stack starts at the program's ``<module>``. A stack through the runner that
    does not enter the program through runpy's ``_run_code`` (the runner's or
    runpy's own work) gives no frames; a thread the program started has no
    runner frames and is kept whole. memray's frames go.
    """
    kept = [f for f in frames if not _is_memray(f.file)]
    ours = [i for i, f in enumerate(kept) if f.file == runner.runner_file()]
    if not ours:
        return kept
    start = ours[-1] + 1
    while start < len(kept) and _is_runpy(kept[start]):
        start += 1
    entered = start > ours[-1] + 1 and kept[start - 1].line in _RUN_CODE_LINES
    return kept[start:] if entered else []


def _is_runpy(frame: Frame) -> bool:
    return (frame.file or "").startswith(runner.RUNPY_FILES)


def _is_memray(file: str | None) -> bool:
    return _MEMRAY_DIR is not None and file is not None and file.startswith(_MEMRAY_DIR)


def memray_stacks(records: Iterable[_Record]) -> StackSamples:
    """Bytes by stack from memray's records (whose stacks are innermost first), the
    runner's sampler thread left out; threads are merged here."""
    samples = StackSamples(unit=BYTES_UNIT)
    for record in records:
        if record.thread_name == runner.SAMPLER_THREAD_NAME:
            continue
        stack = [Frame(function, file, line) for function, file, line in record.stack_trace()]
        frames = own_frames(stack[::-1])
        if frames:
            samples.add(frames, record.size)
    return samples


def enclosing_function(source: str, line: int) -> str:
    """The name of the innermost function or class around ``line`` of ``source``;
    ``<module>`` at the top level, ``?`` when the source does not parse."""
    return _function_at(_definitions(source), line)


def _definitions(source: str) -> tuple[tuple[int, int, str], ...]:
    """(first line, last line, name) of every function and class in ``source``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ((0, sys.maxsize, UNKNOWN_FUNCTION),)
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return tuple(
        (node.lineno, node.end_lineno or node.lineno, node.name)
        for node in ast.walk(tree)
        if isinstance(node, kinds)
    )


def _function_at(definitions: tuple[tuple[int, int, str], ...], line: int) -> str:
    around = [d for d in definitions if d[0] <= line <= d[1]]
    return min(around, key=lambda d: d[1] - d[0])[2] if around else "<module>"


@lru_cache(maxsize=256)
def _file_definitions(file: str) -> tuple[tuple[int, int, str], ...]:
    lines = linecache.getlines(file)
    if not lines:
        return ((0, sys.maxsize, UNKNOWN_FUNCTION),)
    return _definitions("".join(lines))


def _traced_frame(file: str, line: int) -> Frame:
    """A tracemalloc frame (a file and line) with its function found in the source."""
    return Frame(_function_at(_file_definitions(file), line), file, line)


def tracemalloc_stacks(live: Iterable[dict[str, Any]]) -> StackSamples:
    """Bytes by stack from the summary's ``live_at_end`` (stacks root first)."""
    samples = StackSamples(unit=BYTES_UNIT)
    for entry in live:
        frames = own_frames([_traced_frame(file, line) for file, line in entry["stack"]])
        if frames:
            samples.add(frames, entry["size_bytes"])
    return samples


def thin(points: Sequence[GrowthPoint], most: int = MAX_GROWTH_POINTS) -> list[GrowthPoint]:
    """At most ``most`` of ``points``, evenly spaced, the first and last kept."""
    if len(points) <= most:
        return list(points)
    step = (len(points) - 1) / (most - 1)
    return [points[round(i * step)] for i in range(most)]


def _summary_profile(summary: dict[str, Any], *, stacks: bool) -> MemoryProfile:
    """The figures of the summary alone (tracemalloc's and the collector's); its
    stacks only when ``stacks`` (memray's replace them)."""
    traced = summary["tracemalloc"] or {}
    growth = [GrowthPoint(p["t_s"], p["rss_bytes"], p["heap_bytes"]) for p in summary["series"]]
    return MemoryProfile(
        peak_bytes=traced.get("peak_bytes", 0),
        total_allocated_bytes=None,
        allocations=None,
        at_peak=StackSamples(unit=BYTES_UNIT),
        not_freed=tracemalloc_stacks(summary["live_at_end"] if stacks else []),
        growth=thin(growth),
        top_growth=[LineGrowth(**entry) for entry in summary["top_growth"]],
        gc=[GcGeneration(**entry) for entry in summary["gc"]],
        method="tracemalloc",
        duration_s=summary["duration_s"],
        notes=[*summary["notes"], *_summary_notes(summary)],
    )


def _summary_notes(summary: dict[str, Any]) -> list[str]:
    notes = []
    if summary["ended"] == runner.Ending.FAILED.value:
        notes.append(f"the program failed: {summary['error']}")
    elif summary["exit_code"]:
        notes.append(f"the program exited with code {summary['exit_code']}")
    traced = summary["tracemalloc"]
    if traced is not None and traced["baseline_t_s"] is None:
        notes.append(
            "the program ended before tracemalloc's baseline was taken: "
            "growth by line counts all it still held"
        )
    return notes


def _with_memray(profile: MemoryProfile, capture: Path, own_bytes: int | None) -> MemoryProfile:
    """``profile`` with memray's figures in place of tracemalloc's where memray has them.

    Raises:
        ProfileError: memray's capture cannot be read.
    """
    import memray
    from memray._memray import compute_statistics  # what ``memray stats`` reads totals with

    try:
        with memray.FileReader(capture) as reader:
            metadata = reader.metadata
            at_peak = memray_stacks(
                reader.get_high_watermark_allocation_records(merge_threads=False)
            )
            not_freed = memray_stacks(reader.get_leaked_allocation_records(merge_threads=False))
            snapshots = list(reader.get_memory_snapshots())
        statistics = compute_statistics(str(capture))  # it takes a str, not a Path
    except OSError as exc:
        raise ProfileError(
            f"memray's capture {str(capture)!r} cannot be read: {exc}",
            hint="the program may have been killed before memray finished writing",
        ) from None
    first_ms = snapshots[0].time if snapshots else 0
    growth = [GrowthPoint((s.time - first_ms) / runner.MS_PER_S, s.rss, s.heap) for s in snapshots]
    notes = list(profile.notes)
    if own_bytes and own_bytes >= TRACEMALLOC_NOTE_SHARE * max(metadata.peak_memory, 1):
        notes.append(
            f"memray's figures include tracemalloc's own bookkeeping ({own_bytes:,} bytes "
            "at the end); profile without tracemalloc for memray's alone"
        )
    return dataclasses.replace(
        profile,
        peak_bytes=metadata.peak_memory,
        total_allocated_bytes=statistics.total_memory_allocated,
        allocations=metadata.total_allocations,
        at_peak=at_peak,
        not_freed=not_freed,
        growth=thin(growth) or profile.growth,
        method="memray",
        notes=notes,
    )


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        summary: dict[str, Any] = json.loads(path.read_text())
    except OSError as exc:
        raise ProfileError(
            f"the memory profile's summary {str(path)!r} cannot be read: {exc.strerror}",
            hint="the program may have been killed before the profile was written",
        ) from None
    except ValueError:
        raise ProfileError(f"the memory profile's summary {str(path)!r} is not JSON") from None
    version = summary.get("schema_version") if isinstance(summary, dict) else None
    if version != runner.SCHEMA_VERSION:
        raise ProfileError(
            f"the memory profile's summary {str(path)!r} has schema_version {version!r}; "
            f"this redline reads {runner.SCHEMA_VERSION}",
            hint="profile again with this version of redline",
        )
    return summary


def read_memory_profile(out_dir: Path) -> MemoryProfile:
    """The profile the memory runner wrote to ``out_dir`` (``summary.json``, and
    ``memray.bin`` when memray ran). Not partial: the caller knows whether it stopped early.

    Raises:
        ProfileError: the summary is missing or unreadable, or memray's capture is.
    """
    summary = _read_summary(out_dir / runner.SUMMARY_NAME)
    with_memray = summary["method"] == "memray"
    profile = _summary_profile(summary, stacks=not with_memray)
    if not with_memray:
        return profile
    own_bytes = (summary["tracemalloc"] or {}).get("own_bytes")
    return _with_memray(profile, out_dir / runner.MEMRAY_NAME, own_bytes)


@contextlib.contextmanager
def _folder(out_dir: Path | None) -> Iterator[Path]:
    """``out_dir`` (kept), or a scratch folder removed afterwards."""
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        yield out_dir
        return
    with tempfile.TemporaryDirectory(prefix="redline-memory-") as scratch:
        yield Path(scratch)


def _runner_command(
    folder: Path,
    target: list[str],
    snapshot_every_s: float,
    use_memray: bool,
    use_tracemalloc: bool,
) -> list[str]:
    flags = [*([] if use_memray else ["--no-memray"]),
             *([] if use_tracemalloc else ["--no-tracemalloc"])]  # fmt: skip
    return [sys.executable, "-m", runner.RUNNER_MODULE, "--out-dir", str(folder),
            "--snapshot-every-s", f"{snapshot_every_s:g}", *flags, "--", *target]  # fmt: skip


def _stop_runner(proc: subprocess.Popen[bytes], summary: Path) -> None:
    """SIGTERM, then SIGKILL once the runner has had :data:`EXIT_GRACE_S` to exit after
    writing ``summary`` (the program's non-daemon threads can keep it alive), or
    :data:`RUNNER_GRACE_S` in all; by PID, the runner only."""
    wait_ready(proc, summary.with_name(runner.READY_NAME))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    deadline_s = time.monotonic() + RUNNER_GRACE_S
    while proc.poll() is None and time.monotonic() < deadline_s:
        if summary.exists():
            deadline_s = min(deadline_s, time.monotonic() + EXIT_GRACE_S)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(POLL_S)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def _check(
    duration_s: float, snapshot_every_s: float, use_memray: bool, use_tracemalloc: bool
) -> None:
    if not duration_s > 0:
        raise ConfigError(f"duration_s: {duration_s!r} must be above 0")
    if not snapshot_every_s > 0:
        raise ConfigError(f"snapshot_every_s: {snapshot_every_s!r} must be above 0")
    if not (use_memray or use_tracemalloc):
        raise ConfigError(
            "use_memray and use_tracemalloc are both off: nothing would be measured",
            hint="leave one of them on",
        )


def profile_memory_command(
    command: list[str],
    duration_s: float,
    *,
    stop: threading.Event | None = None,
    out_dir: Path | None = None,
    snapshot_every_s: float = runner.DEFAULT_SNAPSHOT_EVERY_S,
    use_memray: bool = True,
    use_tracemalloc: bool = True,
) -> MemoryProfile:
    """Start ``python app.py ...`` under the memory runner, profile it for
    ``duration_s`` (or until it exits or ``stop`` is set), stop it, read the profile.

    Args:
        command: the Python command (``python app.py ...`` or ``python -m module ...``).
        duration_s: how long to profile.
        stop: set it to end early (Ctrl-C); the profile is then partial.
        out_dir: where the runner writes (``summary.json``, ``memray.bin``, kept for
            ``memray flamegraph`` and the like); a scratch folder when None.
        snapshot_every_s: the time series' interval and when tracemalloc's baseline is taken.
        use_memray: memray when installed (off: tracemalloc only).
        use_tracemalloc: tracemalloc beside memray (off: no growth by line, and memray's
            figures without tracemalloc's bookkeeping).

    Raises:
        ConfigError: the command is not a Python command, or an argument is out of range.
        ProfileError: the runner wrote no profile (the program failed to start, or
            ended with ``os._exit``, or was killed).

    Example::

        profile = profile_memory_command(["python", "app.py"], 30.0)
        profile.not_freed.hotspots(10)
    """
    _check(duration_s, snapshot_every_s, use_memray, use_tracemalloc)
    target = python_target(command, flag="--memory")
    with _folder(out_dir) as folder:
        runner_command = _runner_command(
            folder, target, snapshot_every_s, use_memray, use_tracemalloc
        )
        summary = folder / runner.SUMMARY_NAME
        summary.unlink(missing_ok=True)  # a summary of an earlier run in out_dir is not this one
        (folder / runner.READY_NAME).unlink(missing_ok=True)
        proc = start_program(runner_command)
        try:
            exited = wait_program(proc, duration_s, stop)
        finally:  # also on Ctrl-C: the runner is in a session of its own and never sees it
            _stop_runner(proc, summary)
        if not summary.exists():
            raise ProfileError(
                f"the memory profile of {' '.join(target)!r} was not written "
                f"(exit code {proc.returncode})",
                hint="run the program alone to see why it fails; a program that ends "
                "with os._exit() or is killed leaves no profile",
            )
        profile = read_memory_profile(folder)
    notes = ["the program exited during profiling"] if exited else []
    interrupted = stop is not None and stop.is_set()
    notes += ["profiling was stopped early"] if interrupted else []
    return dataclasses.replace(
        profile, partial=exited or interrupted, notes=[*profile.notes, *notes]
    )
