"""Python scenarios driven by a VU, on virtual time with an in-memory server."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from redline.clock import NS_PER_MS, FakeClock
from redline.load._action import Action, ActionPicker, build_actions
from redline.load._closed import ClosedExecutor, ClosedSchedule
from redline.load._scripted import AdhocActions, scripted_user_factory
from redline.load._timeouts import TimeoutSweeper
from redline.load._vu import WorkerContext
from redline.plan import plan_from_mapping
from redline.scenario import Iteration, Session
from tests.unit.load.conftest import FakeServer, run_executor

if TYPE_CHECKING:
    from tests.unit.load.test_flow import RoutedServer

PLAN = {
    "base_url": "http://127.0.0.1:9",
    "requests": [{"name": "login", "url": "/login"}, {"name": "home", "url": "/"}],
}


def _scripted_ctx(
    clock: FakeClock,
    server: FakeServer | RoutedServer,
    script: Iteration,
    *,
    cookies: bool = False,
    feeders: list[Any] | None = None,
) -> tuple[WorkerContext, list[Action]]:
    """A worker whose VUs run ``script`` on :data:`PLAN` against ``server``, and its actions.

    ``cookies`` turns the plan's cookie jar on, for requests by name and by path alike.
    """
    plan = plan_from_mapping({**PLAN, "cookies": True} if cookies else PLAN)
    actions = build_actions(plan, keep_bodies=True)
    by_name = {a.request.name: a for a in actions}
    adhoc = AdhocActions(actions[0], register=lambda _a: None, cookies=True) if cookies else None
    ctx = WorkerContext(
        clock=clock,
        picker=ActionPicker(actions, [1, 1], seed=1),
        sweeper=TimeoutSweeper(clock, timeout_s=60),
        connect_timeout_s=1,
        connect=server.connect,  # type: ignore[arg-type]
        user_factory=scripted_user_factory(script, by_name, adhoc),
        feeders=feeders or [],
    )
    return ctx, actions


def _run(clock: FakeClock, server: FakeServer, script: Iteration, iterations: int) -> Any:
    ctx, actions = _scripted_ctx(clock, server, script)
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=600, iterations_per_vu=iterations)
    run_executor(clock, ClosedExecutor(ctx, schedule))
    stats = {a.request.name: a.recorder.snapshot_and_reset(0) for a in actions}
    return stats, ctx


def test_each_request_is_recorded_under_its_name(clock: FakeClock, server: FakeServer) -> None:
    async def script(session: Session) -> None:
        login = await session.request("login")
        login.expect_status(200)
        session.variables["token"] = login.extract(rb"(o)k")
        await session.request("home")

    stats, _ = _run(clock, server, script, iterations=5)
    assert stats["login"].count == 5 and stats["login"].failures == 0
    assert stats["home"].count == 5
    assert server.connections == 1  # both requests share the VU's keep-alive connection


def test_failed_checks_mark_the_checked_request(clock: FakeClock, server: FakeServer) -> None:
    async def script(session: Session) -> None:
        response = await session.request("login")
        response.expect_status(201)
        home = await session.request("home")
        home.extract(rb"(absent)")

    stats, _ = _run(clock, server, script, iterations=3)
    assert stats["login"].outcomes == {"check_failed": 3}
    assert stats["home"].outcomes == {"extract_failed": 3}


def test_only_the_first_request_counts_from_the_intended_start(
    clock: FakeClock, server: FakeServer
) -> None:
    server.service_ns = 10 * NS_PER_MS

    async def script(session: Session) -> None:
        await session.request("login")
        await session.request("home")

    stats, _ = _run(clock, server, script, iterations=2)
    assert stats["home"].response.max == stats["home"].service.max  # not 20 ms


def test_an_exception_ends_the_iteration_and_is_reported(
    clock: FakeClock, server: FakeServer
) -> None:
    async def script(session: Session) -> None:
        await session.request("login")
        raise ValueError("boom")

    stats, ctx = _run(clock, server, script, iterations=4)
    assert stats["login"].outcomes == {"script_error": 4}
    assert stats["home"] is None
    assert ctx.script_errors == {"ValueError: boom": 4}


def test_an_unknown_request_name_is_a_script_error(clock: FakeClock, server: FakeServer) -> None:
    async def script(session: Session) -> None:
        await session.request("nope")

    _, ctx = _run(clock, server, script, iterations=2)
    (message,) = ctx.script_errors
    assert "no request named 'nope'" in message
    assert server.requests == []


def test_scripts_may_await_asyncio(clock: FakeClock, server: FakeServer) -> None:
    async def script(session: Session) -> None:
        await asyncio.sleep(0)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, 7)
        session.variables["n"] = await future
        await session.request("home")

    stats, _ = _run(clock, server, script, iterations=3)
    assert stats["home"].count == 3


class _Counter:
    """A feeder of one variable, ``n``, counting up; runs out after ``rows``."""

    def __init__(self, rows: int) -> None:
        self.left = rows
        self.given = 0

    def fill(self, into: dict[str, bytes]) -> bool:
        if not self.left:
            return False
        self.left -= 1
        self.given += 1
        into["n"] = str(self.given).encode()
        return True


def test_feeders_fill_the_session_before_each_iteration(
    clock: FakeClock, server: FakeServer
) -> None:
    seen: list[bytes] = []

    async def script(session: Session) -> None:
        seen.append(session.variables["n"])
        await session.request("home")

    ctx, _ = _scripted_ctx(clock, server, script, feeders=[_Counter(rows=3)])
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=600, iterations_per_vu=3)
    run_executor(clock, ClosedExecutor(ctx, schedule))
    assert seen == [b"1", b"2", b"3"]
    # Out of rows: the next iteration does not start, and the script never runs.
    vu = ctx.new_user(lambda _vu: None, number=1)
    vu.start_iteration(clock.now_ns(), clock.now_ns())
    assert not vu.busy
    assert seen == [b"1", b"2", b"3"]


def _users_ctx(clock: FakeClock, server: FakeServer, users: list[Any]) -> Any:
    from redline.scenario import users_iteration

    return _scripted_ctx(clock, server, users_iteration(users))


def test_on_stop_runs_its_requests_before_the_executor_finishes(
    clock: FakeClock, server: FakeServer
) -> None:
    from redline.scenario import User, task

    class Visitor(User):
        async def on_start(self) -> None:
            await self.request("login")

        @task()
        async def look(self) -> None:
            await self.request("home")

        async def on_stop(self) -> None:
            await self.request("login")  # stands in for a logout

    ctx, actions = _users_ctx(clock, server, [(Visitor, 1)])
    schedule = ClosedSchedule(vus_at=lambda _t: 3, duration_s=600, iterations_per_vu=4)
    run_executor(clock, ClosedExecutor(ctx, schedule))
    stats = {a.request.name: a.recorder.snapshot_and_reset(0) for a in actions}
    assert stats["home"].count == 3 * 4
    assert stats["login"].count == 3 + 3  # on_start and on_stop, once per VU


def test_on_stop_does_not_run_when_the_run_is_cut_off(clock: FakeClock, server: FakeServer) -> None:
    from redline.scenario import User, task

    stopped: list[int] = []

    class Visitor(User):
        @task()
        async def look(self) -> None:
            await self.request("home")

        async def on_stop(self) -> None:
            stopped.append(self.number)

    ctx, _ = _users_ctx(clock, server, [(Visitor, 1)])
    executor = ClosedExecutor(ctx, ClosedSchedule(vus_at=lambda _t: 2, duration_s=600))

    async def main() -> None:
        executor.start(clock.now_ns())
        clock.call_at_ns(clock.now_ns() + NS_PER_MS * 500, executor.stop)
        await executor.finished

    asyncio.run(main())
    assert stopped == []


def test_a_scenario_with_cookies_sends_set_cookies_back_and_reads_headers(
    clock: FakeClock,
) -> None:
    from tests.unit.load.test_flow import RoutedServer, Sent

    def login(_sent: Sent) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return 200, [(b"Set-Cookie", b"sid=abc; Path=/"), (b"X-Trace", b"t1")], b"ok"

    server = RoutedServer(clock, {"/login": login, "/": lambda _s: (200, [], b"home")})
    traces: list[str | None] = []

    async def script(session: Session) -> None:
        response = await session.request("login")
        traces.append(response.header("x-trace"))
        await session.request("home")
        await session.get("/cart", name="cart")

    ctx, _ = _scripted_ctx(clock, server, script, cookies=True)
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=600, iterations_per_vu=2)
    run_executor(clock, ClosedExecutor(ctx, schedule))
    assert traces == ["t1", "t1"]
    cookies = [(s.path, s.header("Cookie")) for s in server.sent]
    assert cookies == [
        ("/login", None),
        ("/", "sid=abc"),
        ("/cart", "sid=abc"),  # a request by path carries the jar's cookies too
        ("/login", "sid=abc"),
        ("/", "sid=abc"),
        ("/cart", "sid=abc"),
    ]
