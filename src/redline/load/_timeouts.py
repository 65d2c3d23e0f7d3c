"""Request timeouts by periodic sweep, so no request pays for a timer of its own.

A timer per request would cost a heap push and a cancel on every request. One
sweep every ``period_s`` over the open connections costs a few microseconds per
hundred connections, and a timeout then fires between ``timeout_s`` and
``timeout_s + period_s`` after the send (the same trade wrk makes).
"""

from __future__ import annotations

from redline.clock import NS_PER_S, Clock, TimerHandle
from redline.errors import ConfigError
from redline.load._connection import Connection
from redline.load._wire import ErrorKind

__all__ = ["DEFAULT_SWEEP_PERIOD_S", "TimeoutSweeper"]

#: How often the sweep runs unless told otherwise: the worst-case lateness of a timeout.
DEFAULT_SWEEP_PERIOD_S = 0.05


class TimeoutSweeper:
    """Aborts requests that have been in flight longer than ``timeout_s``.

    The caller registers each connection with :meth:`watch`. Every ``period_s``
    the sweep fails each overdue request with :attr:`ErrorKind.TIMEOUT` (the
    connection is dropped: its stream is mid-response) and forgets connections
    that have closed. The constructor starts nothing: call :meth:`start` and
    :meth:`stop` inside a running event loop, or call :meth:`sweep` by hand.

    Example::

        sweeper = TimeoutSweeper(MonotonicClock(), timeout_s=10.0)
        sweeper.start()
        sweeper.watch(connection)
        ...
        sweeper.stop()

    Args:
        clock: the time source; the sweeper never reads time any other way.
        timeout_s: how long a request may be in flight.
        period_s: how often to sweep.

    Raises:
        ConfigError: ``timeout_s`` or ``period_s`` is not positive.
    """

    __slots__ = ("_clock", "_connections", "_next_ns", "_period_ns", "_timeout_ns", "_timer")

    def __init__(
        self, clock: Clock, *, timeout_s: float, period_s: float = DEFAULT_SWEEP_PERIOD_S
    ) -> None:
        if not timeout_s > 0:
            raise ConfigError(f"timeout_s must be > 0, got {timeout_s!r}")
        if not period_s > 0:
            raise ConfigError(f"period_s must be > 0, got {period_s!r}")
        self._clock = clock
        self._timeout_ns = round(timeout_s * NS_PER_S)
        self._period_ns = round(period_s * NS_PER_S)
        self._connections: set[Connection] = set()
        self._timer: TimerHandle | None = None
        self._next_ns = 0

    @property
    def timeout_s(self) -> float:
        """How long a request may be in flight."""
        return self._timeout_ns / NS_PER_S

    def __len__(self) -> int:
        """The number of connections watched."""
        return len(self._connections)

    def watch(self, connection: Connection) -> None:
        """Watch ``connection`` until it closes (or :meth:`forget`)."""
        self._connections.add(connection)

    def forget(self, connection: Connection) -> None:
        """Stop watching ``connection``; nothing happens if it was not watched."""
        self._connections.discard(connection)

    def sweep(self, now_ns: int) -> int:
        """Abort every request in flight since before ``now_ns - timeout``.

        Args:
            now_ns: the clock's time now.

        Returns:
            How many requests timed out.
        """
        expired = 0
        deadline_ns = now_ns - self._timeout_ns
        for connection in tuple(self._connections):
            if connection.in_flight:
                if connection.sent_at_ns <= deadline_ns:
                    waited_ms = (now_ns - connection.sent_at_ns) / 1e6
                    connection.abort(
                        ErrorKind.TIMEOUT,
                        f"no complete response after {waited_ms:.0f} ms "
                        f"(timeout {self._timeout_ns / 1e6:.0f} ms)",
                    )
                    expired += 1
            elif not connection.is_open:
                self._connections.discard(connection)
        return expired

    def start(self) -> None:
        """Sweep every ``period_s`` from now on, on the running event loop."""
        if self._timer is not None:
            return
        self._next_ns = self._clock.now_ns() + self._period_ns
        self._timer = self._clock.call_at_ns(self._next_ns, self._tick)

    def stop(self) -> None:
        """Stop sweeping; the watched connections are left as they are."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        now_ns = self._clock.now_ns()
        self.sweep(now_ns)
        # Absolute schedule; after a stall, skip the missed ticks rather than
        # sweeping several times in a row.
        self._next_ns = max(self._next_ns + self._period_ns, now_ns + 1)
        self._timer = self._clock.call_at_ns(self._next_ns, self._tick)
