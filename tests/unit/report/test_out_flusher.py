"""The flusher (buffer, periodic flush, final flush, a failing output dropped) and the feed,
on a fake clock."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from redline.clock import NS_PER_S, FakeClock
from redline.errors import ReportError
from redline.load import Progress
from redline.metrics import RunSeries
from redline.plan import plan_from_mapping
from redline.report.outputs import Interval, OutputFeed, PeriodicFlusher, RunInfo, fan_out
from tests.unit.report.out_intervals import PER_SECOND, intervals, series

RUN = RunInfo(run_id="20260101-000000-abcdef", plan_name="shop")


@dataclass
class FakeOutput:
    """Records every call; fails where told to (sentinel step names)."""

    fail_on: str | None = None
    calls: list[str] = field(default_factory=list)
    batches: list[list[int]] = field(default_factory=list)
    written: threading.Event = field(default_factory=threading.Event)

    @property
    def label(self) -> str:
        return "json=fake.ndjson"

    def open(self, run: RunInfo) -> None:
        self._step(f"open {run.run_id}")

    def write(self, intervals: Sequence[Interval]) -> None:
        self._step("write")
        self.batches.append([i.second for i in intervals])
        self.written.set()

    def close(self) -> None:
        self._step("close")

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_on is not None and name.startswith(self.fail_on):
            raise ReportError(f"{self.fail_on} failed (collector down)")


def _flusher(
    output: FakeOutput, clock: FakeClock, notes: list[str], period_s: float = 2.0
) -> PeriodicFlusher:
    return PeriodicFlusher(output, period_s=period_s, note=notes.append, clock=clock)


def test_add_only_buffers_and_poll_flushes_once_a_period_has_passed() -> None:
    clock, output, notes = FakeClock(), FakeOutput(), []
    flusher = _flusher(output, clock, notes)
    flusher.start(RUN, thread=False)
    seconds = intervals(5)
    flusher.add(seconds[0])
    flusher.add(seconds[1])
    assert output.calls == [f"open {RUN.run_id}"]  # add never writes
    clock.advance(NS_PER_S)
    flusher.poll()
    assert output.batches == []  # 1 s of a 2 s period
    clock.advance(NS_PER_S)
    flusher.poll()
    assert output.batches == [[0, 1]]
    flusher.add(seconds[2])
    clock.advance(NS_PER_S)
    flusher.poll()
    assert output.batches == [[0, 1]]
    clock.advance(NS_PER_S)
    flusher.poll()
    assert output.batches == [[0, 1], [2]]
    assert notes == []


def test_flushes_keep_to_the_schedule_after_a_late_poll() -> None:
    clock, output, notes = FakeClock(), FakeOutput(), []
    flusher = _flusher(output, clock, notes)
    flusher.start(RUN, thread=False)
    clock.advance(5 * NS_PER_S)  # due at 2 s; polled at 5 s
    flusher.poll()
    clock.advance(NS_PER_S)  # 6 s: the next is due now, not at 7 s
    flusher.poll()
    assert output.calls.count("write") == 2


def test_stop_flushes_what_is_left_then_closes_once() -> None:
    clock, output, notes = FakeClock(), FakeOutput(), []
    flusher = _flusher(output, clock, notes)
    flusher.start(RUN, thread=False)
    for interval in intervals(3):
        flusher.add(interval)
    flusher.stop()
    flusher.stop()
    assert output.calls == [f"open {RUN.run_id}", "write", "close"]
    assert output.batches == [[0, 1, 2]]


@pytest.mark.parametrize(("step", "writes"), [("open", 0), ("write", 1), ("close", 2)])
def test_a_failing_output_is_noted_in_one_line_and_dropped(step: str, writes: int) -> None:
    clock, output, notes = FakeClock(), FakeOutput(fail_on=step), []
    flusher = _flusher(output, clock, notes)
    flusher.start(RUN, thread=False)
    flusher.add(intervals(1)[0])
    clock.advance(2 * NS_PER_S)
    flusher.poll()
    flusher.add(intervals(2)[1])
    flusher.stop()
    assert notes == [
        f"--out json=fake.ndjson: {step} failed (collector down); this output is dropped, "
        "the run goes on and its results are kept"
    ]
    assert flusher.dropped == f"{step} failed (collector down)"
    assert output.calls.count("write") == writes
    assert "close" not in output.calls or step == "close"


def test_a_dropped_output_buffers_nothing_more() -> None:
    clock, output, notes = FakeClock(), FakeOutput(fail_on="write"), []
    flusher = _flusher(output, clock, notes)
    flusher.start(RUN, thread=False)
    flusher.add(intervals(1)[0])
    flusher.flush()
    for interval in intervals(50):
        flusher.add(interval)
    flusher.flush()
    assert output.calls.count("write") == 1
    assert len(notes) == 1


def test_the_thread_flushes_every_period_and_stop_ends_it() -> None:
    output, notes = FakeOutput(), []
    # The real clock, a short period: the one real-time test here (well under a second).
    flusher = PeriodicFlusher(output, period_s=0.01, note=notes.append)
    flusher.start(RUN)
    flusher.add(intervals(1)[0])
    assert output.written.wait(5.0)
    flusher.stop()
    assert not any(t.name.startswith("redline-out-") for t in threading.enumerate())
    assert output.batches[0] == [0]
    assert output.calls[-1] == "close"


PLAN = {"base_url": "http://127.0.0.1:8080", "requests": [{"name": "home", "url": "/"}]}


def _progress(second: int, run_series: RunSeries) -> Progress:
    return Progress(
        plan=plan_from_mapping(PLAN),
        series=run_series,
        second=second,
        elapsed_s=second + 1.0,
        planned_s=10.0,
        workers=1,
    )


def test_the_feed_hands_each_output_its_own_copy_of_each_second() -> None:
    clock, notes = FakeClock(), []
    first, second = FakeOutput(), FakeOutput()
    feed = OutputFeed([(first, 1.0), (second, 1.0)], plan_name="shop", note=notes.append,
                      clock=clock)  # fmt: skip
    feed.bind(RUN.run_id)
    for flusher in feed.flushers:
        flusher.start(RUN, thread=False)
    run_series = series(3)
    for s in range(3):
        feed.on_second(_progress(s, run_series))
    a, b = (f._buffer for f in feed.flushers)
    assert [i.second for i in a] == [i.second for i in b] == [0, 1, 2]
    assert a[0] is not b[0] and a[0].overall is not b[0].overall
    assert a[0].overall == b[0].overall and a[0].overall.count == PER_SECOND
    feed.stop()
    assert first.batches == second.batches == [[0, 1, 2]]


def test_the_feed_starts_outputs_with_the_bound_run_id() -> None:
    output = FakeOutput()
    feed = OutputFeed([(output, 60.0)], plan_name="shop", note=lambda _: None)
    feed.bind("20260101-000000-feed00")
    feed.start(0)
    feed.stop()
    assert output.calls == ["open 20260101-000000-feed00", "write", "close"]


def test_the_feed_skips_outputs_already_dropped() -> None:
    clock, notes = FakeClock(), []
    broken = FakeOutput(fail_on="open")
    feed = OutputFeed([(broken, 1.0)], plan_name="shop", note=notes.append, clock=clock)
    feed.flushers[0].start(RUN, thread=False)
    feed.on_second(_progress(0, series(1)))
    assert feed.flushers[0]._buffer == []
    assert len(notes) == 1


class _Recorder:
    def __init__(self) -> None:
        self.seconds: list[int] = []

    def on_second(self, progress: Progress) -> None:
        self.seconds.append(progress.second)


def test_fan_out_tells_every_observer_and_leaves_none_out() -> None:
    one, two = _Recorder(), _Recorder()
    assert fan_out() is None and fan_out(None, None) is None
    assert fan_out(None, one) is one
    both = fan_out(one, None, two)
    assert both is not None
    both.on_second(_progress(3, series(1)))
    assert one.seconds == two.seconds == [3]
