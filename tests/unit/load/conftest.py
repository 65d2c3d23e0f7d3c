"""In-memory connections on virtual time, for executor tests without sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from redline.clock import NS_PER_S, FakeClock
from redline.load._action import ActionPicker, build_actions
from redline.load._executor import Executor, StopReason
from redline.load._http import Endpoint, ErrorKind, PreparedRequest, ResponseHandler
from redline.load._timeouts import TimeoutSweeper
from redline.load._vu import WorkerContext
from redline.plan import plan_from_flags

#: The type of the ``make_ctx`` fixture.
MakeCtx = Callable[..., WorkerContext]


def run_executor(clock: FakeClock, executor: Executor) -> StopReason:
    """Start ``executor`` at the clock's now and run it to the end; why it stopped."""

    async def main() -> StopReason:
        executor.start(clock.now_ns())
        return await executor.finished

    return asyncio.run(main())


@dataclass
class FakeServer:
    """Answers every request after ``service_ns`` of virtual time (or a function of
    the send time), and counts what it saw."""

    clock: FakeClock
    service_ns: int = NS_PER_S // 100
    delay_of: Callable[[int], int] | None = None
    status: int = 200
    body: bytes = b"ok"
    connections: int = 0
    requests: list[int] = field(default_factory=list)

    async def connect(
        self, endpoint: Endpoint, *, timeout_s: float, local_addr: tuple[str, int] | None
    ) -> FakeConnection:
        self.connections += 1
        return FakeConnection(self)


class FakeConnection:
    """Implements the slice of :class:`~redline.load._http.Connection` VUs use."""

    def __init__(self, server: FakeServer) -> None:
        self._server = server
        self.is_open = True
        self.in_flight = False
        self.sent_at_ns = 0
        self._timer: object = None

    def send(self, request: PreparedRequest, handler: ResponseHandler, now_ns: int) -> None:
        server = self._server
        server.requests.append(now_ns)
        self.in_flight = True
        self.sent_at_ns = now_ns
        delay = server.delay_of(now_ns) if server.delay_of else server.service_ns

        def answer() -> None:
            self.in_flight = False
            handler.on_response(server.status, server.body, 100)

        self._timer = server.clock.call_at_ns(now_ns + delay, answer)

    def abort(self, kind: ErrorKind, detail: str) -> None:
        self.close()

    def close(self) -> None:
        self.is_open = False
        if self._timer is not None:
            self._timer.cancel()  # type: ignore[attr-defined]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start_ns=1000 * NS_PER_S)


@pytest.fixture
def server(clock: FakeClock) -> FakeServer:
    return FakeServer(clock)


@pytest.fixture
def make_ctx(clock: FakeClock, server: FakeServer) -> MakeCtx:
    def make(url: str = "http://127.0.0.1:9/", **flags: object) -> WorkerContext:
        plan = plan_from_flags(url, **flags)  # type: ignore[arg-type]
        actions = build_actions(plan)
        return WorkerContext(
            clock=clock,
            picker=ActionPicker(actions, [r.weight for r in plan.requests], seed=1),
            sweeper=TimeoutSweeper(clock, timeout_s=plan.request_timeout_s),
            connect_timeout_s=plan.connect_timeout_s,
            connect=server.connect,  # type: ignore[arg-type]
        )

    return make
