"""LoopWatch on virtual time: stalls, their blockers, the report and the hooks' lifecycle.

The loop runs for real, but the watch reads a :class:`FakeClock` that only the
callbacks advance, so a "120 ms" callback takes no time and durations are exact.
The watchdog's look (:meth:`LoopWatch.check`) is called by the callbacks themselves,
at the moment a real watchdog would wake during the stall.
"""

from __future__ import annotations

import asyncio
import json
import sysconfig
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import redline
from redline.clock import NS_PER_MS, FakeClock
from redline.errors import ConfigError
from redline.probes import _loop_watch
from redline.probes._loop_watch import (
    UNSAMPLED,
    BlockingReport,
    LoopWatch,
    Stall,
    blocking_report,
    is_program_file,
    program_paths_of,
)
from redline.probes._stacks import Frame

HERE = str(Path(__file__).parent)
STDLIB = sysconfig.get_paths()["stdlib"]
SITE = sysconfig.get_paths()["purelib"]


@contextmanager
def installed(watch: LoopWatch) -> Iterator[LoopWatch]:
    watch.install()
    try:
        yield watch
    finally:
        watch.uninstall()


def run_callbacks(*callbacks: Callable[[], object]) -> None:
    """Run each callback in an iteration of its own on a fresh loop, then stop."""

    async def main() -> None:
        for callback in callbacks:
            asyncio.get_running_loop().call_soon(callback)
            await asyncio.sleep(0)
            await asyncio.sleep(0)

    asyncio.run(main())


def select_is_wrapped(loop: asyncio.AbstractEventLoop) -> bool:
    return "select" in vars(loop._selector)  # type: ignore[attr-defined]


def render_page(clock: FakeClock, watch: LoopWatch, looks_at_ms: list[int]) -> None:
    """A callback that blocks: time passes, and the watchdog looks at each given moment."""
    elapsed = 0
    for at_ms in looks_at_ms:
        clock.advance((at_ms - elapsed) * NS_PER_MS)
        elapsed = at_ms
        watch.check()
    clock.advance(120 * NS_PER_MS - elapsed * NS_PER_MS)


def test_a_busy_iteration_is_one_stall_named_by_the_frame_that_ran() -> None:
    clock = FakeClock()
    watch = LoopWatch(50, clock=clock, program_paths=[HERE])
    with installed(watch):
        run_callbacks(lambda: render_page(clock, watch, [30, 60, 90]))
    report = watch.report()
    [stall] = report.stalls
    assert stall.duration_ms == 120.0  # measured at the iteration's end, not at the look
    assert stall.thread == threading.current_thread().name
    [blocker] = report.blockers
    assert blocker.frame.function == "render_page"
    assert blocker.frame.file == __file__
    assert (blocker.count, blocker.total_ms, blocker.max_ms) == (1, 120.0, 120.0)
    assert blocker.example[-1] == blocker.frame
    assert all(f.file != _loop_watch.__file__ for f in stall.stack)
    assert report.iterations > 0 and report.stalled_ms == 120.0


def test_an_iteration_under_the_threshold_is_not_a_stall() -> None:
    clock = FakeClock()
    watch = LoopWatch(50, clock=clock)
    with installed(watch):
        run_callbacks(lambda: clock.advance(49 * NS_PER_MS), lambda: watch.check())
    report = watch.report()
    assert report.stalls == [] and report.blockers == []
    assert report.iterations >= 2


def test_a_stall_the_watchdog_could_not_sample_is_kept_with_its_duration() -> None:
    clock = FakeClock()
    watch = LoopWatch(50, clock=clock)
    with installed(watch):
        run_callbacks(lambda: clock.advance(70 * NS_PER_MS))  # no look: the GIL was never free
    [blocker] = watch.report().blockers
    assert blocker.frame == UNSAMPLED
    assert (blocker.count, blocker.max_ms, blocker.example) == (1, 70.0, ())


def test_a_stall_cut_short_by_an_exception_is_recorded_when_the_run_ends() -> None:
    clock = FakeClock()
    watch = LoopWatch(50, clock=clock)

    def interrupted() -> None:
        clock.advance(80 * NS_PER_MS)
        raise KeyboardInterrupt  # what SIGTERM raises under the in-process runner

    loop = asyncio.new_event_loop()
    try:
        with installed(watch):
            loop.call_soon(interrupted)
            with pytest.raises(KeyboardInterrupt):
                loop.run_forever()
    finally:
        loop.close()
    assert [s.duration_ms for s in watch.report().stalls] == [80.0]


def test_stalls_keep_up_to_max_stalls_and_count_the_rest() -> None:
    clock = FakeClock()
    watch = LoopWatch(50, clock=clock, max_stalls=1)
    with installed(watch):
        run_callbacks(*[lambda: clock.advance(60 * NS_PER_MS)] * 3)
    report = watch.report()
    assert len(report.stalls) == 1
    assert report.notes[0] == "2 stalls after the first 1 were not recorded"


def test_no_loop_seen_says_so_and_points_at_py_spy() -> None:
    report = LoopWatch(50).report()
    assert report.iterations == 0
    assert "uvloop loops are not hooked" in report.notes[0]
    assert "py-spy" in report.notes[0]


def test_install_wraps_run_forever_once_and_uninstall_puts_it_back() -> None:
    original = asyncio.BaseEventLoop.run_forever
    first, second = LoopWatch(50), LoopWatch(50)
    with installed(first):
        assert first.installed and asyncio.BaseEventLoop.run_forever is not original
        first.install()  # again: nothing changes
        with pytest.raises(RuntimeError, match="another LoopWatch is installed"):
            second.install()
    assert not first.installed
    assert asyncio.BaseEventLoop.run_forever is original
    loop = asyncio.new_event_loop()
    try:
        assert not select_is_wrapped(loop)
    finally:
        loop.close()


def test_a_run_wraps_its_selector_and_unwraps_it_when_it_ends() -> None:
    async def wrapped_now() -> bool:
        return select_is_wrapped(asyncio.get_running_loop())

    watch = LoopWatch(50)
    loop = asyncio.new_event_loop()
    try:
        with installed(watch):
            assert loop.run_until_complete(wrapped_now())
        assert not select_is_wrapped(loop)
    finally:
        loop.close()


def test_uvloop_loops_are_not_hooked_and_the_report_says_so() -> None:
    uvloop = pytest.importorskip("uvloop")
    watch = LoopWatch(50)
    loop = uvloop.new_event_loop()
    try:
        with installed(watch):
            loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    report = watch.report()
    assert report.iterations == 0
    assert "uvloop loops are not hooked" in report.notes[0]


def test_the_watchdog_thread_starts_and_stops() -> None:
    watch = LoopWatch(50)
    watch.start()
    try:
        assert any(t.name == "redline-loop-watch" for t in threading.enumerate())
    finally:
        watch.stop()
    assert not any(t.name == "redline-loop-watch" for t in threading.enumerate())
    watch.stop()  # stopping twice is harmless


def app(name: str, line: int) -> Frame:
    return Frame(name, "/srv/shop/handlers.py", line)


def lib(name: str, module: str, line: int) -> Frame:
    return Frame(name, f"{STDLIB}/{module}", line)


LOOP = (app("<module>", 1), lib("run", "asyncio/runners.py", 190),
        lib("Handle._run", "asyncio/events.py", 80))  # fmt: skip


def test_the_blocker_is_the_deepest_frame_of_program_code() -> None:
    stalls = [
        Stall((*LOOP, app("checkout", 20), app("price", 9), lib("dumps", "json/__init__.py", 231)),
              110.0, 1.0, "MainThread"),
        Stall((*LOOP, app("checkout", 20), app("price", 12)), 60.0, 2.0, "MainThread"),
        Stall((*LOOP, app("search", 40)), 55.0, 3.0, "MainThread"),
        Stall((*LOOP, app("search", 41)), 52.0, 4.0, "MainThread"),
    ]  # fmt: skip
    report = blocking_report(stalls, threshold_ms=50, iterations=1000)
    price, search = report.blockers
    assert price.frame == app("price", 9)  # the longest stall's line
    assert (price.count, price.total_ms, price.max_ms) == (2, 170.0, 110.0)
    assert price.example == stalls[0].stack  # from the program's first frame on
    assert (search.count, search.total_ms) == (2, 107.0)


def test_the_example_stack_starts_at_the_program() -> None:
    runner = (Frame("main", f"{Path(redline.__file__).parent}/probes/_inprocess.py", 110),
              Frame("run_path", "<frozen runpy>", 291))  # fmt: skip
    stall = Stall((*runner, *LOOP, app("price", 9)), 60.0, 1.0, "MainThread")
    [blocker] = blocking_report([stall], threshold_ms=50, iterations=10).blockers
    assert blocker.example == (*LOOP, app("price", 9))


def test_a_stall_all_in_library_code_is_named_by_its_deepest_frame() -> None:
    stack = (lib("run", "asyncio/runners.py", 190), lib("select", "selectors.py", 469))
    stall = Stall(stack, 60.0, 1.0, "MainThread")
    [blocker] = blocking_report([stall], threshold_ms=50, iterations=10).blockers
    assert blocker.frame == stack[-1]


def test_program_paths_win_over_site_packages() -> None:
    installed_app = f"{SITE}/shop/handlers.py"
    assert not is_program_file(installed_app)
    assert is_program_file(installed_app, [f"{SITE}/shop"])
    assert is_program_file(installed_app, [installed_app])
    assert not is_program_file(f"{SITE}/shopping/x.py", [f"{SITE}/shop"])
    assert not is_program_file(f"{STDLIB}/asyncio/events.py")
    assert not is_program_file(redline.__file__)
    assert not is_program_file("<frozen runpy>") and not is_program_file(None)
    assert is_program_file("/srv/shop/handlers.py") and is_program_file("app.py")


def test_program_paths_of_a_script_and_of_a_module(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    assert program_paths_of([str(script), "--port", "1"]) == (str(tmp_path.resolve()),)
    assert program_paths_of(["-m", "redline.demo"]) == (str(Path(redline.__file__).parent),)
    assert program_paths_of(["-m", "no_such_module_here"]) == ()
    assert program_paths_of(["-m"]) == () and program_paths_of([]) == ()


def test_the_report_round_trips_through_json() -> None:
    stalls = [Stall((*LOOP, app("price", 9)), 110.5, 1795866115.25, "MainThread"),
              Stall((), 70.0, 1795866116.5, "worker")]  # fmt: skip
    report = blocking_report(stalls, threshold_ms=50, iterations=1000,
                             program_paths=["/srv/shop"], notes=["a note"])  # fmt: skip
    document = json.loads(json.dumps(report.to_dict()))
    assert document["schema_version"] == 1
    assert document["blockers"][0]["location"] == "/srv/shop/handlers.py:9"
    assert document["stall_count"] == 2 and document["stalled_ms"] == 180.5
    assert BlockingReport.from_dict(document) == report


def test_a_newer_report_is_refused() -> None:
    with pytest.raises(ValueError, match="schema_version 2 is newer than this redline reads"):
        BlockingReport.from_dict({"schema_version": 2, "threshold_ms": 50, "iterations": 0})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold_ms": 0}, r"--loop-watch-ms: 0 is out of range; allowed 1\.\.60000"),
        ({"threshold_ms": 120_000}, r"--loop-watch-ms: 120000 is out of range"),
        ({"threshold_ms": 50, "poll_ms": 80}, r"poll_ms: 80 is out of range"),
        ({"threshold_ms": 50, "poll_ms": 0}, r"poll_ms: 0 is out of range"),
        ({"threshold_ms": 50, "max_stalls": -1}, r"max_stalls: -1 is out of range"),
    ],
)
def test_bad_settings_are_refused_naming_them(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LoopWatch(**kwargs)  # type: ignore[arg-type]


def test_the_poll_interval_follows_the_threshold_within_bounds() -> None:
    assert LoopWatch(50).poll_ms == 5.0
    assert LoopWatch(8).poll_ms == 2.0
    assert LoopWatch(2).poll_ms == 1.0
