"""The parent process's side: each merged second to every output's buffer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from redline.clock import Clock
from redline.load import Progress, RunObserver
from redline.report.outputs._flusher import PeriodicFlusher
from redline.report.outputs._interval import Interval
from redline.report.outputs._output import Output, RunInfo

__all__ = ["OutputFeed", "fan_out"]


class OutputFeed:
    """Feeds the streaming outputs from the run: a run observer and a run watcher at once.

    As a :class:`~redline.load.RunWatcher` it starts every output's flusher when the
    run starts (after the workers exist, so they fork from a single-threaded parent) and
    stops them, with a final flush, when it ends. As a :class:`~redline.load.RunObserver`
    it turns each second the parent has merged from every worker into an
    :class:`Interval` and appends it to each output's buffer; nothing is written on
    the caller's thread.

    Example::

        feed = OutputFeed([(JsonLinesOutput(path), 1.0)], plan_name="shop", note=print)
        runner = LoadRunner(plan, workers=2, observer=feed, watchers=(feed,))
        feed.bind(runner.run_id)
        runner.run(stop)
    """

    def __init__(
        self,
        outputs: Sequence[tuple[Output, float]],
        *,
        plan_name: str,
        note: Callable[[str], None],
        clock: Clock | None = None,
    ) -> None:
        """
        Args:
            outputs: each output with its flush period in seconds.
            plan_name: the plan's name, for the outputs to say.
            note: gets one line when an output fails and is dropped.
            clock: the flushers' clock (the real one by default).
        """
        self.flushers = [
            PeriodicFlusher(output, period_s=period_s, note=note, clock=clock)
            for output, period_s in outputs
        ]
        self._plan_name = plan_name
        self._run_id = ""

    def bind(self, run_id: str) -> None:
        """The id of the run about to start (known once its runner exists)."""
        self._run_id = run_id

    def start(self, start_ns: int) -> None:
        """The run starts: open every output and start its flusher."""
        run = RunInfo(run_id=self._run_id, plan_name=self._plan_name)
        for flusher in self.flushers:
            flusher.start(run)

    def on_second(self, progress: Progress) -> None:
        """A second is merged: hand each output a copy of it."""
        interval = Interval.from_series(progress.series, progress.second)
        live = [f for f in self.flushers if f.dropped is None]
        for index, flusher in enumerate(live):
            flusher.add(interval if index == 0 else interval.copy())

    def stop(self) -> None:
        """The run has ended: flush what is buffered and close every output."""
        for flusher in self.flushers:
            flusher.stop()


class _FanOut:
    def __init__(self, observers: tuple[RunObserver, ...]) -> None:
        self._observers = observers

    def on_second(self, progress: Progress) -> None:
        for observer in self._observers:
            observer.on_second(progress)


def fan_out(*observers: RunObserver | None) -> RunObserver | None:
    """One observer that tells each of ``observers`` in turn (None ones are left out).

    Returns the only observer when there is one, None when there is none.
    """
    present = tuple(o for o in observers if o is not None)
    if len(present) <= 1:
        return present[0] if present else None
    return _FanOut(present)
