"""The virtual user: one connection per endpoint, one iteration at a time.

The hot path is callbacks, not coroutines: a response arrives in
``on_response``, is judged and recorded, and the executor's ``on_done`` starts
the next iteration straight away. Only (re)connecting runs as a task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from redline.clock import NS_PER_US, Clock
from redline.load._action import Action, ActionPicker
from redline.load._feeder import Feeder
from redline.load._http import (
    ConnectFailed,
    Connection,
    Endpoint,
    ErrorKind,
    TimeoutSweeper,
    open_connection,
)

__all__ = ["Connector", "UserFactory", "VirtualUser", "WorkerContext"]

#: Connects one worker has in progress at once, at most.
CONNECTS_IN_PROGRESS = 256


class Connector(Protocol):
    """Opens a connection: :func:`~redline.load._http.open_connection`, or a fake in tests."""

    def __call__(
        self, endpoint: Endpoint, *, timeout_s: float, local_addr: tuple[str, int] | None
    ) -> Awaitable[Connection]: ...


class UserFactory(Protocol):
    """Makes a virtual user (the class itself, or a scripted user's)."""

    def __call__(
        self, ctx: WorkerContext, on_done: Callable[[VirtualUser], None], *, number: int
    ) -> VirtualUser: ...


@dataclass
class WorkerContext:
    """What every virtual user of one worker shares."""

    clock: Clock
    picker: ActionPicker
    sweeper: TimeoutSweeper
    connect_timeout_s: float
    #: Source addresses to spread connections over (loopback only), or empty.
    source_addresses: tuple[str, ...] = ()
    connect: Connector = open_connection
    #: Makes the VUs: plain ones, or ones that run a Python scenario.
    user_factory: UserFactory | None = None
    #: Errors raised by a Python scenario, by message, with how often.
    script_errors: dict[str, int] = field(default_factory=dict)
    #: Set variables before each iteration (test data, generators, the run id), or empty.
    feeders: list[Feeder] = field(default_factory=list)
    #: Ends the run with a message (a shape function that failed...); the parent keeps
    #: what was measured. Set by the worker; the default only records the message.
    report_failure: Callable[[str], None] | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _connect_slots: asyncio.Semaphore | None = None

    def connect_slots(self) -> asyncio.Semaphore:
        """The semaphore that bounds connects in progress (made on the running loop)."""
        if self._connect_slots is None:
            self._connect_slots = asyncio.Semaphore(CONNECTS_IN_PROGRESS)
        return self._connect_slots

    def new_user(self, on_done: Callable[[VirtualUser], None], *, number: int) -> VirtualUser:
        """A new virtual user of the kind this worker runs."""
        factory = self.user_factory
        if factory is None:
            factory = _flow_user() if self.picker.flow else VirtualUser
        return factory(self, on_done, number=number)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a connect task, keeping a reference so it is not collected."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def _flow_user() -> UserFactory:
    """The VU class for plans with steps, templates or cookies (imported late: it
    subclasses :class:`VirtualUser`, below)."""
    from redline.load._flow import FlowUser

    return FlowUser


class VirtualUser:
    """One simulated user. The executor calls :meth:`start_iteration`; when the
    iteration ends, the VU calls ``on_done(self)`` and waits to be told again."""

    __slots__ = (
        "_ctx",
        "_on_done",
        "_conns",
        "_action",
        "_sent_ns",
        "_intended_ns",
        "_local_addr",
        "_now",
        "_only",
        "busy",
        "done_ns",
        "iterations",
        "variables",
    )

    def __init__(
        self, ctx: WorkerContext, on_done: Callable[[VirtualUser], None], *, number: int
    ) -> None:
        self._ctx = ctx
        self._on_done = on_done
        # Keyed by the action's endpoint slot: an int hashes far faster than
        # the Endpoint dataclass, and this lookup runs on every request.
        self._conns: dict[int, Connection] = {}
        self._action: Action | None = None
        self._sent_ns = 0
        self._intended_ns = 0
        self._now = ctx.clock.now_ns
        self._only = ctx.picker.only
        #: When the last iteration ended (the closed model starts the next then).
        self.done_ns = 0
        sources = ctx.source_addresses
        self._local_addr = (sources[number % len(sources)], 0) if sources else None
        #: True while an iteration is in flight.
        self.busy = False
        #: Iterations this VU has finished.
        self.iterations = 0
        #: Values extracted from responses, by name.
        self.variables: dict[str, bytes] = {}

    def start_iteration(self, intended_ns: int, now_ns: int) -> None:
        """Send the next request.

        Args:
            intended_ns: when the iteration was meant to start (the open model's
                schedule; in the closed model, when the last one ended).
            now_ns: the clock's time now, as the caller just read it.
        """
        self._intended_ns = intended_ns
        feeders = self._ctx.feeders
        if feeders and not all(feeder.fill(self.variables) for feeder in feeders):
            return  # out of data: stay idle, never call back (see redline.load._feeder)
        self.busy = True
        self._send(self._only or self._ctx.picker.pick(), now_ns)

    def _send(self, action: Action, now_ns: int) -> None:
        self._action = action
        conn = self._conns.get(action.slot)
        if conn is not None and conn.is_open:
            self._sent_ns = now_ns
            conn.send(action.request, self, now_ns)
        else:
            self._ctx.spawn(self._connect_then_send(action))

    async def _connect_then_send(self, action: Action) -> None:
        started_ns = self._ctx.clock.now_ns()
        try:
            # A bounded number of connects at once: thousands of VUs starting
            # together would otherwise stall the loop for seconds, and the
            # connect timeouts would measure the stall, not the target.
            async with self._ctx.connect_slots():
                conn = await self._ctx.connect(
                    action.endpoint,
                    timeout_s=self._ctx.connect_timeout_s,
                    local_addr=self._local_addr,
                )
        except ConnectFailed as exc:
            self._sent_ns = started_ns
            self.on_error(exc.kind, exc.detail)
            return
        self._conns[action.slot] = conn
        self._ctx.sweeper.watch(conn)
        if not self.busy:  # stopped while connecting
            conn.close()
            return
        if not conn.is_open:
            self.on_error(
                ErrorKind.CLOSED, "the server closed the connection right after accepting it"
            )
            return
        # Service time starts at the send; the connect shows in response time.
        now = self._ctx.clock.now_ns()
        self._sent_ns = now
        conn.send(action.request, self, now)

    def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
        """Called by the connection when a whole response has arrived."""
        if not self.busy:  # aborted: the answer no longer counts
            return
        now = self._now()
        self.done_ns = now
        action = self._action
        assert action is not None  # only ever called while an iteration is in flight
        if action.plain:  # the common case, without a call: no checks to run
            failure: int | str | None = status if status >= 400 else None
        else:
            failure = action.judge(status, body, self.variables)
        action.recorder.record(
            (now - self._sent_ns) // NS_PER_US,
            (now - self._intended_ns) // NS_PER_US,
            status if failure is None else failure,
            failure is not None,
            bytes_in,
            action.bytes_out,
        )
        self._finish()

    def on_error(self, kind: ErrorKind, detail: str) -> None:
        """Called when the request failed before a whole response arrived."""
        if not self.busy:  # aborted: closing our own connection is not an error
            return
        now = self._now()
        self.done_ns = now
        self._record_error(kind, now)
        self._finish()

    def _record_error(self, kind: ErrorKind, now_ns: int) -> None:
        """Record the request in flight as failed with ``kind`` (no response, no bytes in)."""
        action = self._action
        assert action is not None  # only ever called while an iteration is in flight
        action.recorder.record(
            (now_ns - self._sent_ns) // NS_PER_US,
            (now_ns - self._intended_ns) // NS_PER_US,
            kind.value,
            True,
            0,
            action.bytes_out,
        )

    def _finish(self) -> None:
        self.busy = False
        self.iterations += 1
        self._on_done(self)

    def abort(self) -> bool:
        """Stop now: close every connection. Returns True if a request was cut off."""
        was_busy = self.busy
        self.busy = False
        for conn in self._conns.values():
            self._ctx.sweeper.forget(conn)
            conn.close()
        self._conns.clear()
        return was_busy

    def close(self) -> None:
        """Release the connections of an idle VU."""
        self.abort()

    def leave(self, on_gone: Callable[[], None]) -> None:
        """Leave the run: close at once and call ``on_gone`` (a scripted user may run
        its ``on_stop`` first)."""
        self.close()
        on_gone()
