"""CPU profiles from inside the target: run a Python program under pyinstrument.

For when attaching from outside is not permitted (no ptrace in a container).
The program runs in this interpreter as ``__main__``; when it ends, or on
SIGTERM or SIGINT (how ``redline profile`` stops it after the duration), the
profile is written as collapsed stacks weighted in microseconds::

    python -m redline.probes._inprocess --out stacks.txt -- app.py --port 8000
    python -m redline.probes._inprocess --out stacks.txt -- -m mypackage.server

pyinstrument samples the main thread (where the program runs), every
``--interval-ms`` of wall time by default 1 ms.

``--loop-watch-ms N`` (opt-in) also watches the program's asyncio loops for
iterations busy N ms or more (:mod:`redline.probes._loop_watch`) and writes
their report as JSON to ``--loop-report`` (by default ``OUT.loops.json``).
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from collections.abc import Iterable
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame_info import frame_info_get_identifier

from redline.errors import ConfigError
from redline.probes._loop_watch import LoopWatch, program_paths_of
from redline.probes._stacks import Frame, StackSamples
from redline.probes._stop_signals import StopSignals

__all__ = ["main", "stacks_of_records"]

#: Microseconds in a second (pyinstrument records seconds).
US_PER_S = 1_000_000
#: Where runpy's frames come from (frozen in 3.11+, else the stdlib's file).
RUNPY_FILES = ("<frozen runpy>", runpy.__file__ or "<frozen runpy>")


def stacks_of_records(records: Iterable[tuple[list[str], float]]) -> StackSamples:
    """pyinstrument's frame records (stack of frame infos, seconds) as collapsed stacks.

    The frames of this runner (the thread's root, runpy, :func:`main`) are left out,
    so stacks start at the program's own ``<module>``, as py-spy's do.
    """
    samples = StackSamples(unit="us")
    for stack, seconds in records:
        frames = _own_frames([_frame(info) for info in stack])
        if frames:
            samples.add(frames, seconds * US_PER_S)
    return samples


def _own_frames(frames: list[Frame]) -> list[Frame]:
    """The program's frames: those after this runner's and runpy's."""
    ours = [i for i, f in enumerate(frames) if f.file == __file__]
    start = ours[-1] + 1 if ours else 0
    while start < len(frames) and (frames[start].file or "").startswith(RUNPY_FILES):
        start += 1
    return frames[start:]


def _frame(info: str) -> Frame:
    function, _, rest = frame_info_get_identifier(info).partition("\x00")
    file, _, line = rest.partition("\x00")
    return Frame(function, file or None, int(line) if line.isdigit() else None)


def _run_target(target: list[str]) -> None:
    if target[0] == "-m":
        sys.argv = [target[1], *target[2:]]
        runpy.run_module(target[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(target)
        sys.path.insert(0, str(Path(target[0]).resolve().parent))
        runpy.run_path(target[0], run_name="__main__")


def ready_path(out: Path) -> Path:
    """The file the runner creates once a SIGTERM would leave a profile behind."""
    return out.with_name(out.name + ".ready")


def main(argv: list[str] | None = None) -> int:
    """Profile the program after ``--``; write its stacks to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--interval-ms", type=float, default=1.0)
    parser.add_argument("--loop-watch-ms", type=float, default=None)
    parser.add_argument("--loop-report", type=Path, default=None)
    parser.add_argument("target", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    target = args.target[1:] if args.target[:1] == ["--"] else args.target
    if not target:
        parser.error("give the program to run after --")
    stops = StopSignals()
    stops.arm()
    try:
        watch = _start_loop_watch(args.loop_watch_ms, target)
    except ConfigError as exc:
        parser.error(str(exc))
    profiler = Profiler(interval=args.interval_ms / 1000, async_mode="disabled")
    profiler.start()
    ready_path(args.out).touch()  # from here a SIGTERM leaves a profile: the caller may stop us
    code = 0
    try:
        stops.run(lambda: _run_target(target))
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        try:
            session = profiler.stop()
            args.out.write_text(stacks_of_records(session.frame_records).to_collapsed())
        finally:
            if watch is not None:
                _write_loop_report(watch, args.loop_report or _loop_report_path(args.out))
    return code


# -- loop watch (opt-in: --loop-watch-ms) -----------------------------------------


def _start_loop_watch(threshold_ms: float | None, target: list[str]) -> LoopWatch | None:
    """Install and start a :class:`LoopWatch` before the program runs (None when not asked)."""
    if threshold_ms is None:
        return None
    watch = LoopWatch(threshold_ms, program_paths=program_paths_of(target))
    watch.install()
    watch.start()
    return watch


def _loop_report_path(out: Path) -> Path:
    return out.with_name(out.name + ".loops.json")


def _write_loop_report(watch: LoopWatch, path: Path) -> None:
    watch.stop()
    watch.uninstall()
    path.write_text(json.dumps(watch.report().to_dict(), indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
