"""A buffer per output, drained on a thread every few seconds and once more on stop.

The model is k6's ``output/helpers.go`` ``PeriodicFlusher``: the caller only appends;
writing (to a disk, to a collector) happens on the flusher's thread, so a slow output
never slows whoever feeds it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from redline.clock import NS_PER_S, Clock, MonotonicClock
from redline.errors import ReportError
from redline.report.outputs._interval import Interval
from redline.report.outputs._output import Output, RunInfo

__all__ = ["PeriodicFlusher"]

#: How long :meth:`PeriodicFlusher.stop` waits for a flush under way on the thread.
JOIN_TIMEOUT_S = 30.0


class PeriodicFlusher:
    """Feeds one :class:`Output` from a buffer, every ``period_s`` and once more on stop.

    :meth:`add` only appends (under a lock); :meth:`start` opens the output and starts
    the thread; :meth:`stop` stops it, flushes what is left and closes the output. An
    output that raises :class:`~redline.errors.ReportError` is dropped: ``note`` gets
    one line, and the buffer is discarded from then on. Without :meth:`start`'s
    thread (``thread=False``), :meth:`poll` is the manual step: it flushes when the
    period has passed on ``clock``.

    Example::

        flusher = PeriodicFlusher(output, period_s=1.0, note=print)
        flusher.start(RunInfo("20260101-000000-abcdef", "shop"))
        flusher.add(interval)  # from the parent's merge, each second
        flusher.stop()  # flushes and closes
    """

    def __init__(
        self,
        output: Output,
        *,
        period_s: float,
        note: Callable[[str], None],
        clock: Clock | None = None,
    ) -> None:
        self.output = output
        self._period_ns = max(1, int(period_s * NS_PER_S))
        self._note = note
        self._clock = clock or MonotonicClock()
        self._lock = threading.Lock()
        self._buffer: list[Interval] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_ns = 0
        self._opened = False
        #: Why the output was dropped, once it was.
        self.dropped: str | None = None

    def add(self, interval: Interval) -> None:
        """Append ``interval`` to the buffer; never writes, never blocks on the output."""
        with self._lock:
            if self.dropped is None:
                self._buffer.append(interval)

    def start(self, run: RunInfo, *, thread: bool = True) -> None:
        """Open the output and (unless ``thread`` is false) start flushing every period."""
        self._next_ns = self._clock.now_ns() + self._period_ns
        self._guarded(lambda: self.output.open(run))
        self._opened = self.dropped is None
        if thread and self._opened:
            self._thread = threading.Thread(
                target=self._loop, name=f"redline-out-{self.output.label}", daemon=True
            )
            self._thread.start()

    def poll(self) -> None:
        """Flush if a period has passed since the last flush (the thread's step)."""
        now = self._clock.now_ns()
        if now >= self._next_ns:
            # Scheduled by absolute time: a slow flush does not push later ones back.
            periods = (now - self._next_ns) // self._period_ns + 1
            self._next_ns += periods * self._period_ns
            self.flush()

    def flush(self) -> None:
        """Write everything buffered now."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if self.dropped is None and self._opened:
            self._guarded(lambda: self.output.write(batch))

    def stop(self) -> None:
        """Stop the thread, flush what is left and close the output (once; safe to repeat)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)
            self._thread = None
        if not self._opened:
            return
        self.flush()
        self._opened = False
        if self.dropped is None:
            self._guarded(self.output.close)

    def _loop(self) -> None:
        while not self._stopping.wait(self._seconds_to_next()):
            self.poll()

    def _seconds_to_next(self) -> float:
        return max(0.0, (self._next_ns - self._clock.now_ns()) / NS_PER_S)

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except ReportError as error:
            with self._lock:
                self.dropped = error.message
                self._buffer.clear()
            self._note(
                f"--out {self.output.label}: {error.message}; this output is dropped, "
                "the run goes on and its results are kept"
            )
