"""A precise one-shot alarm on the event loop, from a Linux timerfd.

uvloop's timers (libuv's) count whole milliseconds, so an open-model send due
0.2 ms from now would leave up to a millisecond late, and that lateness would
show in every response time. A timerfd armed at an absolute CLOCK_MONOTONIC
instant wakes the loop within microseconds. Where timerfd is not available
(not Linux), :func:`open_alarm` returns None and callers use the loop's timers.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
from collections.abc import Callable

__all__ = ["TimerfdAlarm", "open_alarm"]

#: From <sys/timerfd.h> and <time.h> on Linux.
CLOCK_MONOTONIC = 1
TFD_NONBLOCK = 0o4000
TFD_CLOEXEC = 0o2000000
TFD_TIMER_ABSTIME = 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    return libc if hasattr(libc, "timerfd_create") else None


_LIBC = _libc()


class TimerfdAlarm:
    """Runs ``callback`` on the loop at the instant it was last armed for.

    Arming again replaces the previous instant (one alarm, one deadline).
    """

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]):
        self._fd = fd
        self._loop = loop
        self._callback = callback
        self._spec = _Itimerspec()
        self._armed = False
        loop.add_reader(fd, self._fire)

    def arm(self, deadline_ns: int) -> None:
        """Fire at ``deadline_ns`` (time.monotonic_ns scale); a past instant fires at once."""
        spec = self._spec
        # 0 would disarm the timer: an instant in the past must still fire.
        deadline_ns = max(deadline_ns, 1)
        spec.it_value.tv_sec, spec.it_value.tv_nsec = divmod(deadline_ns, 1_000_000_000)
        assert _LIBC is not None  # only built when timerfd exists
        if _LIBC.timerfd_settime(self._fd, TFD_TIMER_ABSTIME, ctypes.byref(spec), None) != 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")
        self._armed = True

    def _fire(self) -> None:
        self._armed = False
        self._callback()
        if not self._armed:
            # Not re-armed: read the expiry count, or the fd stays readable
            # and the loop would call us again at once. (Re-arming resets the
            # count, which saves this read on the busy path.)
            try:
                os.read(self._fd, 8)
            except BlockingIOError:
                pass

    def close(self) -> None:
        """Stop watching the timer and release it."""
        self._loop.remove_reader(self._fd)
        os.close(self._fd)


def open_alarm(callback: Callable[[], None]) -> TimerfdAlarm | None:
    """A timerfd alarm on the running loop, or None where timerfd is missing."""
    if _LIBC is None:
        return None
    fd = _LIBC.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
    if fd < 0:
        return None
    return TimerfdAlarm(fd, asyncio.get_running_loop(), callback)
