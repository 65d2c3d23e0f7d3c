"""How the in-process runners are stopped: SIGTERM or SIGINT unwinds the program.

A runner (:mod:`redline.probes._inprocess`, :mod:`redline.probes._memory_runner`)
runs the profiled program in its own interpreter and must write its files when
``redline profile`` stops it. The signal handler raises ``KeyboardInterrupt`` in
the main thread so the program's ``finally`` blocks run and the runner's own
``finally`` writes the profile.

An exception raised by a signal handler is not always delivered: when it lands
in a ``gc`` callback, a ``__del__`` or a weakref callback, Python reports it as
"ignored" and the program runs on (a program that makes reference cycles runs
the collector, and so its callbacks, many times a second). So an interrupt
that Python ignores this way (``sys.unraisablehook``) is sent again at once,
and, for one swallowed by the program itself (``except BaseException``), the
signal is sent again to the main thread every :data:`REPEAT_S` until the
program has unwound (:meth:`StopSignals.run` returns or raises).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

__all__ = ["REPEAT_S", "StopSignals"]

T = TypeVar("T")

#: How long an interrupt may go unnoticed before it is sent again.
REPEAT_S = 1.0
#: The signals that stop a runner.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """SIGTERM/SIGINT handlers that unwind the program, repeated until it has unwound.

    :meth:`arm` installs the handlers (in the main thread, before the program
    runs); :meth:`run` runs the program. The handler raises only while the
    program runs (a frame of :func:`_call_program` is on the stack), so the
    runner's own code after it, which writes the profile, is never interrupted.
    """

    def __init__(self, *, repeat_s: float = REPEAT_S) -> None:
        self.repeat_s = repeat_s
        self._unwound = threading.Event()
        self._kick = threading.Event()  # send again now, not at the next period
        self._repeater: threading.Thread | None = None
        self._main_ident = threading.main_thread().ident
        self._previous_hook: Callable[[Any], object] | None = None

    def arm(self) -> None:
        """Install the handlers: from here a stop signal unwinds the program."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._on_unraisable

    @property
    def stopped(self) -> bool:
        """True once a stop signal has arrived."""
        return self._repeater is not None

    def run(self, program: Callable[[], T]) -> T:
        """``program()``; a stop signal while it runs raises ``KeyboardInterrupt`` here.

        A stop that came before the program started raises at once. Afterwards
        stop signals are ignored: the runner writes its files undisturbed.
        """
        try:
            if self.stopped:
                raise KeyboardInterrupt
            return _call_program(program)
        finally:
            self._disarm()

    def _disarm(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        self._unwound.set()
        self._kick.set()
        if self._previous_hook is not None:
            sys.unraisablehook = self._previous_hook
            self._previous_hook = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._repeater is None:
            self._repeater = threading.Thread(target=self._repeat, args=(signum,),
                                              name="redline-stop", daemon=True)  # fmt: skip
            self._repeater.start()
        if _in_program(frame):
            raise KeyboardInterrupt

    def _repeat(self, signum: int) -> None:
        """In its own thread: a signal sent from the main thread is handled there at once."""
        while True:
            self._kick.wait(self.repeat_s)
            self._kick.clear()
            if self._unwound.is_set() or self._main_ident is None:
                return
            signal.pthread_kill(self._main_ident, signum)

    def _on_unraisable(self, unraisable: Any) -> None:
        """Our interrupt, ignored in a ``__del__`` or ``gc`` callback: send it again."""
        ours = isinstance(unraisable.exc_value, KeyboardInterrupt) and self.stopped
        if ours and not self._unwound.is_set():
            self._kick.set()
        elif self._previous_hook is not None:
            self._previous_hook(unraisable)


def _call_program(program: Callable[[], T]) -> T:
    """The frame that marks "the program is running" for the handler."""
    return program()


def _in_program(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code is _call_program.__code__:
            return True
        frame = frame.f_back
    return False
