"""Event-loop stalls: asyncio loop iterations that block past a threshold, and the code that did it.

A loop answers nothing while a callback runs: one slow callback delays every
request the loop serves. :class:`LoopWatch` finds those callbacks in a running
program and names the frame of the program's own code that was running.

Glossary:

- **iteration**: one turn of an event loop (``BaseEventLoop._run_once``): wait for
  I/O in ``select``, then run every callback that is ready.
- **busy time**: an iteration from the moment ``select`` returns to its end. The
  wait in ``select`` is idle time, not lag, so it is left out.
- **stall**: an iteration whose busy time reached the threshold. Its duration is
  measured when the iteration ends.
- **blocker**: the deepest frame of a stall's stack in the program's own code,
  not in the standard library, site-packages or redline (see :func:`is_program_file`).
  Stalls are grouped by blocker in a :class:`BlockingReport`.

How it works: :meth:`LoopWatch.install` wraps ``BaseEventLoop.run_forever``;
each run then wraps its own selector's ``select`` (an instance attribute, so
other users of :mod:`selectors` are untouched, and it is removed when the run
ends). That one wrapper, the only code on the hot path, ends one busy time as
the loop goes back to ``select`` and starts the next when ``select`` returns:
one Python call and two clock reads, about 0.35 us per iteration (measured by
``tests/integration/probes/test_loop_blocking.py``: 1.37 us for a loop turn
running one empty callback, 1.75 us watched).
A watchdog thread (:meth:`LoopWatch.start`) looks every ``poll_ms``; when a
loop has been busy for ``threshold_ms``, it takes **one** stack sample of that
loop's thread with :func:`sys._current_frames`, then leaves that iteration
alone: one stall, one record. An iteration that stalls while holding the GIL
throughout (C code that does not release it) cannot be sampled; it is still
recorded, with its duration and the blocker :data:`UNSAMPLED`.

Not hooked: **uvloop** loops, and any loop not built on
``asyncio.BaseEventLoop``: uvloop's loop is compiled (Cython) and has no Python
method to wrap. For those, sample the server from outside with py-spy
(``redline profile --pid PID --idle``) and look for the loop thread's hot frames.

Example::

    watch = LoopWatch(threshold_ms=50)
    watch.install()
    watch.start()
    try:
        asyncio.run(main())
    finally:
        watch.stop()
        watch.uninstall()
    report = watch.report()
    if report.blockers:
        top = report.blockers[0]
        print(top.frame, top.count, top.max_ms)
"""

from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
import threading
from asyncio.base_events import BaseEventLoop
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from redline.clock import NS_PER_MS, NS_PER_S, Clock, MonotonicClock
from redline.errors import ConfigError
from redline.probes._schema import readable_version
from redline.probes._stacks import Frame

__all__ = [
    "Blocker",
    "BlockingReport",
    "LoopWatch",
    "Stall",
    "UNSAMPLED",
    "blocking_report",
    "is_program_file",
    "program_paths_of",
]

#: schema_version history of :meth:`BlockingReport.to_dict`:
#:     1: first version: threshold, iterations, blockers (frame, count, total and max ms,
#:        example stack), stalls (stack, duration, start, thread), notes.
SCHEMA_VERSION = 1
#: The threshold used when none is given, milliseconds.
DEFAULT_THRESHOLD_MS = 50.0
#: Allowed thresholds, milliseconds.
MIN_THRESHOLD_MS, MAX_THRESHOLD_MS = 1.0, 60_000.0
#: The watchdog looks every threshold / POLLS_PER_THRESHOLD, within these bounds (ms).
POLLS_PER_THRESHOLD = 4
MIN_POLL_MS, MAX_POLL_MS = 1.0, 5.0
#: Stalls kept with their stacks; later ones are counted in the notes only.
MAX_STALLS = 10_000
#: The blocker of a stall the watchdog could not sample (the loop's thread held the GIL).
UNSAMPLED = Frame("<not sampled: the loop thread held the GIL>")
#: The method wrapped for every loop run, and the one wrapped on each run's selector.
_RUN_FOREVER = "run_forever"
_SELECT = "select"
#: This file: its frames (the wrappers, the watchdog) are never part of a stack.
_THIS_FILE = __file__
#: The watch currently installed (one at a time: wrappers do not nest).
_installed: list[LoopWatch] = []


@dataclass(frozen=True)
class Stall:
    """One iteration that was busy for the threshold or longer."""

    #: The loop thread's stack when sampled, root first; empty when not sampled.
    stack: tuple[Frame, ...]
    #: The iteration's whole busy time, measured when it ended.
    duration_ms: float
    #: When the busy time began (wall clock, seconds since the epoch).
    started_at_unix_s: float
    #: The loop thread's name.
    thread: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: frames in their collapsed form, ``function (file:line)``."""
        return {
            "stack": [str(f) for f in self.stack],
            "duration_ms": self.duration_ms,
            "started_at_unix_s": self.started_at_unix_s,
            "thread": self.thread,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stall:
        """Read what :meth:`to_dict` wrote."""
        return cls(
            tuple(Frame.parse(f) for f in data.get("stack") or []),
            float(data["duration_ms"]),
            float(data["started_at_unix_s"]),
            str(data["thread"]),
        )


@dataclass(frozen=True)
class Blocker:
    """The stalls whose deepest frame of program code was one function."""

    #: That frame (its line: where the longest stall was when sampled).
    frame: Frame
    count: int
    total_ms: float
    max_ms: float
    #: The longest stall's stack, root first, from the program's first frame.
    example: tuple[Frame, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "function": self.frame.function,
            "location": self.frame.location,
            "frame": str(self.frame),
            "count": self.count,
            "total_ms": self.total_ms,
            "max_ms": self.max_ms,
            "example": [str(f) for f in self.example],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Blocker:
        """Read what :meth:`to_dict` wrote."""
        return cls(
            Frame.parse(str(data["frame"])),
            int(data["count"]),
            float(data["total_ms"]),
            float(data["max_ms"]),
            tuple(Frame.parse(f) for f in data.get("example") or []),
        )


@dataclass
class BlockingReport:
    """The stalls of a watched program, and its blockers (most total stall time first)."""

    threshold_ms: float
    #: Loop iterations watched (every loop, every thread).
    iterations: int
    blockers: list[Blocker] = field(default_factory=list)
    #: Every recorded stall, in the order they ended.
    stalls: list[Stall] = field(default_factory=list)
    #: The folders and files counted as the program's own code.
    program_paths: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def stalled_ms(self) -> float:
        """The busy time of every stall together."""
        return sum(b.total_ms for b in self.blockers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``schema_version``."""
        return {
            "schema_version": SCHEMA_VERSION,
            "threshold_ms": self.threshold_ms,
            "iterations": self.iterations,
            "stall_count": len(self.stalls),
            "stalled_ms": self.stalled_ms,
            "blockers": [b.to_dict() for b in self.blockers],
            "stalls": [s.to_dict() for s in self.stalls],
            "program_paths": list(self.program_paths),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlockingReport:
        """Read what :meth:`to_dict` wrote.

        Raises:
            ValueError: the document is of a newer schema version than this redline reads.
        """
        readable_version(data, SCHEMA_VERSION)
        return cls(
            threshold_ms=float(data["threshold_ms"]),
            iterations=int(data["iterations"]),
            blockers=[Blocker.from_dict(b) for b in data.get("blockers") or []],
            stalls=[Stall.from_dict(s) for s in data.get("stalls") or []],
            program_paths=tuple(str(p) for p in data.get("program_paths") or []),
            notes=[str(n) for n in data.get("notes") or []],
        )


def _library_dirs() -> tuple[str, ...]:
    """The standard library, site-packages and redline's own folder, each ending in a separator."""
    paths = sysconfig.get_paths()
    found = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    found.add(str(Path(__file__).parent.parent))  # redline: the runner, this watch
    found |= {os.path.realpath(d) for d in found}
    return tuple(sorted(d.rstrip(os.sep) + os.sep for d in found))


#: Where code that is not the program's lives.
LIBRARY_DIRS = _library_dirs()


def is_program_file(
    file: str | None, program_paths: Sequence[str] = (), library_dirs: Sequence[str] = LIBRARY_DIRS
) -> bool:
    """True when ``file`` is the program's own code.

    ``program_paths`` (the target's folder, or its files) win over ``library_dirs``,
    so a program installed in site-packages is still its own code. Frames with no
    file, or a pseudo-file such as ``<frozen runpy>`` or ``<string>``, are not.
    """
    if not file or file.startswith("<"):
        return False
    if any(file == p or file.startswith(p.rstrip(os.sep) + os.sep) for p in program_paths):
        return True
    return not file.startswith(tuple(library_dirs))


def program_paths_of(target: Sequence[str]) -> tuple[str, ...]:
    """The folder of a program given as ``app.py ...`` or ``-m package.module ...``.

    For ``-m``, the top-level package's folder (or the module's file), as the
    import system finds it now; ``()`` when it cannot be found.
    """
    if not target:
        return ()
    if target[0] != "-m":
        return (str(Path(target[0]).resolve().parent),)
    if len(target) < 2:
        return ()
    top = target[1].split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):  # a parent package fails to import, or a bad name
        return ()
    if spec is None:
        return ()
    if spec.submodule_search_locations:
        return tuple(str(Path(p).resolve()) for p in spec.submodule_search_locations)
    return (str(Path(spec.origin).resolve()),) if spec.origin else ()


def blocking_report(
    stalls: Sequence[Stall],
    *,
    threshold_ms: float,
    iterations: int,
    program_paths: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> BlockingReport:
    """Group ``stalls`` by blocker, the one with the most stall time first."""
    groups: dict[tuple[str, str | None], list[tuple[Frame, Stall]]] = {}
    for stall in stalls:
        frame = _blocker(stall.stack, program_paths)
        groups.setdefault((frame.function, frame.file), []).append((frame, stall))
    blockers = [_group(members, program_paths) for members in groups.values()]
    blockers.sort(key=lambda b: (-b.total_ms, -b.count, b.frame))
    return BlockingReport(threshold_ms, iterations, blockers, list(stalls),
                          tuple(program_paths), list(notes))  # fmt: skip


def _blocker(stack: Sequence[Frame], program_paths: Sequence[str]) -> Frame:
    """The deepest frame of program code; else the deepest frame; else :data:`UNSAMPLED`."""
    for frame in reversed(stack):
        if is_program_file(frame.file, program_paths):
            return frame
    return stack[-1] if stack else UNSAMPLED


def _group(members: list[tuple[Frame, Stall]], program_paths: Sequence[str]) -> Blocker:
    frame, longest = max(members, key=lambda m: m[1].duration_ms)
    durations = [stall.duration_ms for _, stall in members]
    return Blocker(frame, len(members), round(sum(durations), 3), longest.duration_ms,
                   _from_program(longest.stack, program_paths))  # fmt: skip


def _from_program(stack: tuple[Frame, ...], program_paths: Sequence[str]) -> tuple[Frame, ...]:
    """``stack`` from its first frame of program code (the runner's frames left out)."""
    for i, frame in enumerate(stack):
        if is_program_file(frame.file, program_paths):
            return stack[i:]
    return stack


def _stack_of(frame: FrameType | None) -> tuple[Frame, ...]:
    """A live frame's stack, root first, without this module's frames (the wrappers)."""
    frames = []
    while frame is not None:
        code = frame.f_code
        if code.co_filename != _THIS_FILE:
            frames.append(Frame(code.co_qualname, code.co_filename, frame.f_lineno))
        frame = frame.f_back
    frames.reverse()
    return tuple(frames)


def _wall_s() -> float:
    """Seconds since the epoch: stalls are stamped to line up with other evidence."""
    return datetime.now(UTC).timestamp()


@dataclass(frozen=True)
class _Sample:
    """The watchdog's stack sample of one iteration (``seq``), for the loop thread to record."""

    seq: int
    stack: tuple[Frame, ...]
    started_at_unix_s: float


class _LoopState:
    """One run of an event loop, as its ``select`` wrapper and the watchdog share it.

    Each field is replaced whole (never mutated in place), so the other thread
    reads either the old or the new value under the GIL.
    """

    __slots__ = ("busy", "iterations", "sample", "sampled_seq", "thread_id", "thread_name")

    def __init__(self) -> None:
        thread = threading.current_thread()
        self.thread_id = threading.get_ident()
        self.thread_name = thread.name
        #: Iterations whose busy time began (also the current iteration's number).
        self.iterations = 0
        #: (iteration number, start of its busy time in ns) while busy, else None.
        self.busy: tuple[int, int] | None = None
        #: The last iteration the watchdog sampled (sampled at most once).
        self.sampled_seq = 0
        self.sample: _Sample | None = None


class LoopWatch:
    """Finds asyncio loop iterations busy for ``threshold_ms`` or more; see the module docstring.

    The constructor starts nothing. :meth:`install`/:meth:`uninstall` add and remove
    the hooks; :meth:`start`/:meth:`stop` run the watchdog thread; :meth:`check` is
    its manual step (one look at every loop). :meth:`report` may be called at any time.

    Args:
        threshold_ms: busy time from which an iteration is a stall.
        poll_ms: how often the watchdog looks; by default a quarter of the threshold,
            within 1..5 ms.
        program_paths: folders or files of the program's own code (see
            :func:`is_program_file`, :func:`program_paths_of`).
        max_stalls: stalls kept with their stacks; later ones are only counted.
        clock: the monotonic clock (tests pass a :class:`~redline.clock.FakeClock`).

    Raises:
        ConfigError: a threshold, poll interval or limit out of range.
    """

    def __init__(
        self,
        threshold_ms: float = DEFAULT_THRESHOLD_MS,
        *,
        poll_ms: float | None = None,
        program_paths: Sequence[str] = (),
        max_stalls: int = MAX_STALLS,
        clock: Clock | None = None,
    ) -> None:
        if not MIN_THRESHOLD_MS <= threshold_ms <= MAX_THRESHOLD_MS:
            raise ConfigError(
                f"--loop-watch-ms: {threshold_ms!r} is out of range; "
                f"allowed {MIN_THRESHOLD_MS:g}..{MAX_THRESHOLD_MS:g}"
            )
        if poll_ms is None:
            poll_ms = min(max(threshold_ms / POLLS_PER_THRESHOLD, MIN_POLL_MS), MAX_POLL_MS)
        if not 0 < poll_ms <= threshold_ms:
            raise ConfigError(f"poll_ms: {poll_ms!r} is out of range; allowed 0 < poll_ms <= "
                              f"threshold_ms ({threshold_ms:g})")  # fmt: skip
        if max_stalls < 0:
            raise ConfigError(f"max_stalls: {max_stalls!r} is out of range; allowed 0 or more")
        self.threshold_ms = float(threshold_ms)
        self.poll_ms = float(poll_ms)
        self.program_paths = tuple(program_paths)
        self._threshold_ns = int(threshold_ms * NS_PER_MS)
        self._max_stalls = max_stalls
        self._now_ns: Callable[[], int] = (clock or MonotonicClock()).now_ns
        self._states: dict[int, _LoopState] = {}
        self._stalls: list[Stall] = []
        self._dropped = 0
        self._finished_iterations = 0
        self._original_run_forever: Callable[[Any], None] | None = None
        self._watchdog: threading.Thread | None = None
        self._stopping = threading.Event()
        #: uvloop was loaded before the program ran (by the runner, not by the program).
        self._uvloop_before = False

    # -- hooks ------------------------------------------------------------------

    @property
    def installed(self) -> bool:
        """True between :meth:`install` and :meth:`uninstall`."""
        return self._original_run_forever is not None

    def install(self) -> None:
        """Wrap ``BaseEventLoop.run_forever``: every loop run from now on is watched.

        Loops already running are not (their run began unwrapped): install before
        the program starts its loops.

        Raises:
            RuntimeError: another LoopWatch is installed (hooks do not nest).
        """
        if self.installed:
            return
        if _installed:
            raise RuntimeError("another LoopWatch is installed; uninstall it first")
        original = vars(BaseEventLoop)[_RUN_FOREVER]
        self._uvloop_before = "uvloop" in sys.modules
        self._original_run_forever = original
        setattr(BaseEventLoop, _RUN_FOREVER, self._run_forever_wrapper(original))
        _installed.append(self)

    def uninstall(self) -> None:
        """Put ``run_forever`` back; runs under way stay watched until they end."""
        if self._original_run_forever is not None:
            setattr(BaseEventLoop, _RUN_FOREVER, self._original_run_forever)
            self._original_run_forever = None
        if self in _installed:
            _installed.remove(self)

    def _run_forever_wrapper(self, original: Callable[[Any], None]) -> Callable[[Any], None]:
        """``run_forever`` that watches the run through its selector's ``select``."""
        watch = self

        def run_forever(loop: Any) -> None:
            selector = getattr(loop, "_selector", None)
            if selector is None or _SELECT in vars(selector):
                # Not a selector or proactor loop, or a run already watched (a nested
                # call, which the original refuses): leave it as it is.
                original(loop)
                return
            state = _LoopState()
            selector.select = watch._select_wrapper(selector.select, state)
            watch._states[id(state)] = state
            try:
                original(loop)
            finally:
                del selector.select
                watch._end_busy(state)
                watch._finished_iterations += state.iterations
                del watch._states[id(state)]

        return run_forever

    def _select_wrapper(
        self, select: Callable[[float | None], Any], state: _LoopState
    ) -> Callable[[float | None], Any]:
        """One loop's ``select``: it ends one busy time and starts the next (the hot path)."""
        now_ns = self._now_ns
        threshold_ns = self._threshold_ns
        record = self._record

        def watched_select(timeout: float | None = None) -> Any:
            busy = state.busy
            if busy is not None:
                state.busy = None
                busy_ns = now_ns() - busy[1]
                if busy_ns >= threshold_ns:
                    record(state, busy[0], busy_ns)
            events = select(timeout)
            seq = state.iterations = state.iterations + 1
            state.busy = (seq, now_ns())
            return events

        return watched_select

    def _end_busy(self, state: _LoopState) -> None:
        """The run ended (stopped, or an exception escaped): its last busy time ends too."""
        busy, state.busy = state.busy, None
        if busy is not None:
            busy_ns = self._now_ns() - busy[1]
            if busy_ns >= self._threshold_ns:
                self._record(state, busy[0], busy_ns)

    def _record(self, state: _LoopState, seq: int, busy_ns: int) -> None:
        """In the loop's thread, when a stall ends: keep it with the watchdog's sample, if any."""
        sample, state.sample = state.sample, None
        if sample is not None and sample.seq == seq:
            stack, started = sample.stack, sample.started_at_unix_s
        else:
            stack, started = (), _wall_s() - busy_ns / NS_PER_S
        if len(self._stalls) >= self._max_stalls:
            self._dropped += 1
            return
        self._stalls.append(Stall(stack, round(busy_ns / NS_PER_MS, 3), started,
                                  state.thread_name))  # fmt: skip

    # -- watchdog -----------------------------------------------------------------

    def check(self) -> int:
        """One look at every loop: sample each busy for the threshold, once per iteration.

        Returns:
            How many loops were sampled.
        """
        now = self._now_ns()
        due = []
        for state in list(self._states.values()):
            busy = state.busy
            if busy is not None and busy[0] != state.sampled_seq:
                if now - busy[1] >= self._threshold_ns:
                    due.append((state, busy))
        if not due:
            return 0
        frames = sys._current_frames()
        sampled = 0
        for state, busy in due:
            frame = frames.get(state.thread_id)
            if frame is None or state.busy is not busy:
                continue  # the iteration ended meanwhile: it was not a stall after all
            state.sampled_seq = busy[0]
            started = _wall_s() - (now - busy[1]) / NS_PER_S
            state.sample = _Sample(busy[0], _stack_of(frame), started)
            sampled += 1
        return sampled

    def start(self) -> None:
        """Start the watchdog thread (a daemon: it never keeps the program alive)."""
        if self._watchdog is not None:
            return
        self._stopping.clear()
        self._watchdog = threading.Thread(target=self._watch, name="redline-loop-watch",
                                          daemon=True)  # fmt: skip
        self._watchdog.start()

    def stop(self) -> None:
        """Stop the watchdog thread and wait for it."""
        if self._watchdog is None:
            return
        self._stopping.set()
        self._watchdog.join()
        self._watchdog = None

    def _watch(self) -> None:
        poll_s = self.poll_ms / 1000
        while not self._stopping.wait(poll_s):
            self.check()

    # -- results --------------------------------------------------------------------

    def report(self) -> BlockingReport:
        """The stalls so far, grouped by blocker."""
        running = list(self._states.values())
        iterations = self._finished_iterations + sum(s.iterations for s in running)
        return blocking_report(self._stalls[:], threshold_ms=self.threshold_ms,
                               iterations=iterations, program_paths=self.program_paths,
                               notes=self._notes(iterations))  # fmt: skip

    def _notes(self, iterations: int) -> list[str]:
        notes = []
        if self._dropped:
            notes.append(f"{self._dropped} stalls after the first {self._max_stalls} "
                         "were not recorded")  # fmt: skip
        if iterations == 0:
            notes.append(
                "no asyncio loop iteration was seen: the program ran no stdlib event loop "
                "(uvloop loops are not hooked; sample them with py-spy: "
                "redline profile --pid PID --idle)"
            )
        elif "uvloop" in sys.modules and not self._uvloop_before:
            notes.append("uvloop is imported: its loops are not watched, only stdlib ones")
        return notes
