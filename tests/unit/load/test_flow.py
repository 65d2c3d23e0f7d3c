"""Steps, templates, extraction, checks and cookies, run by VUs on virtual time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from redline.clock import NS_PER_MS, NS_PER_S, FakeClock
from redline.load._action import ActionPicker, build_actions
from redline.load._closed import ClosedExecutor, ClosedSchedule
from redline.load._flow import FlowUser
from redline.load._http import Endpoint, ErrorKind, PreparedRequest, ResponseHandler
from redline.load._timeouts import TimeoutSweeper
from redline.load._vu import VirtualUser, WorkerContext
from redline.plan import plan_from_mapping
from tests.unit.load.conftest import run_executor

#: What a route answers: status, header fields, body.
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]


@dataclass
class Sent:
    """One request as the fake server saw it."""

    at_ns: int
    wire: bytes

    @property
    def path(self) -> str:
        return self.wire.split(b" ", 2)[1].decode()

    def header(self, name: str) -> str | None:
        head = self.wire.split(b"\r\n\r\n", 1)[0].decode()
        for line in head.split("\r\n")[1:]:
            key, _, value = line.partition(": ")
            if key.lower() == name.lower():
                return value
        return None

    @property
    def body(self) -> bytes:
        return self.wire.split(b"\r\n\r\n", 1)[1]


@dataclass
class RoutedServer:
    """Answers by path after ``service_ns`` of virtual time, with headers, and keeps
    every request's bytes."""

    clock: FakeClock
    routes: dict[str, Callable[[Sent], Reply]]
    service_ns: int = 10 * NS_PER_MS
    sent: list[Sent] = field(default_factory=list)
    #: Paths whose requests fail with a reset instead of an answer.
    reset_paths: set[str] = field(default_factory=set)

    async def connect(
        self, endpoint: Endpoint, *, timeout_s: float, local_addr: tuple[str, int] | None
    ) -> RoutedConnection:
        return RoutedConnection(self)

    def paths(self) -> list[str]:
        return [s.path.split("?")[0] for s in self.sent]


class RoutedConnection:
    """The slice of :class:`~redline.load._http.Connection` VUs use, with headers."""

    def __init__(self, server: RoutedServer) -> None:
        self._server = server
        self.is_open = True
        self.in_flight = False
        self.sent_at_ns = 0
        self.response_headers: list[tuple[bytes, bytes]] | None = None
        self._timer: Any = None

    def send(self, request: PreparedRequest, handler: ResponseHandler, now_ns: int) -> None:
        server = self._server
        sent = Sent(now_ns, request.wire)
        server.sent.append(sent)
        self.in_flight = True
        self.sent_at_ns = now_ns

        def answer() -> None:
            self.in_flight = False
            path = sent.path.split("?")[0]
            if path in server.reset_paths:
                handler.on_error(ErrorKind.RESET, "reset by the fake")
                return
            route = server.routes.get(path)
            status, headers, body = route(sent) if route else (404, [], b"")
            self.response_headers = headers if request.keep_headers else None
            handler.on_response(status, body if request.keep_body else None, 100)

        self._timer = server.clock.call_at_ns(now_ns + server.service_ns, answer)

    def abort(self, kind: ErrorKind, detail: str) -> None:
        self.close()

    def close(self) -> None:
        self.is_open = False
        if self._timer is not None:
            self._timer.cancel()


def login(_: Sent) -> Reply:
    body = json.dumps({"ok": True, "data": {"token": "t0k", "items": [{"id": 7}]}})
    headers = [
        (b"Content-Type", b"application/json"),
        (b"Location", b"/next"),
        (b"Set-Cookie", b"session=s3ss; Path=/; HttpOnly"),
    ]
    return 200, headers, body.encode()


def ok(_: Sent) -> Reply:
    return 200, [], b"welcome"


BASE = "http://127.0.0.1:9"


def run_plan(
    clock: FakeClock, server: RoutedServer, plan_data: dict[str, Any], *, iterations: int = 1
) -> tuple[dict[str, Any], list[VirtualUser]]:
    plan = plan_from_mapping({"base_url": BASE, **plan_data})
    actions = build_actions(plan)
    ctx = WorkerContext(
        clock=clock,
        picker=ActionPicker(actions, [r.weight for r in plan.requests], seed=1),
        sweeper=TimeoutSweeper(clock, timeout_s=60),
        connect_timeout_s=1,
        connect=server.connect,  # type: ignore[arg-type]
    )
    users: list[VirtualUser] = []
    real_new_user = ctx.new_user

    def new_user(on_done: Callable[[VirtualUser], None], *, number: int) -> VirtualUser:
        user = real_new_user(on_done, number=number)
        users.append(user)
        return user

    ctx.new_user = new_user  # type: ignore[method-assign]
    schedule = ClosedSchedule(vus_at=lambda _t: 1, duration_s=600, iterations_per_vu=iterations)
    run_executor(clock, ClosedExecutor(ctx, schedule))
    stats = {a.request.name: a.recorder.snapshot_and_reset(0) for a in actions}
    return stats, users


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start_ns=1000 * NS_PER_S)


def server_for(clock: FakeClock, **routes: Callable[[Sent], Reply]) -> RoutedServer:
    return RoutedServer(clock, {f"/{name}": route for name, route in routes.items()})


def requests(*names: str, **extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, "url": f"/{name}", **extra.get(name, {})} for name in names]


def steps(*names: str, **extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"request": name, **extra.get(name, {})} for name in names]


# -- steps -------------------------------------------------------------------


def test_steps_run_in_order_every_iteration(clock: FakeClock) -> None:
    server = server_for(clock, a=ok, b=ok, c=ok)
    plan = {"requests": requests("a", "b", "c"), "steps": steps("c", "a", "b")}
    stats, users = run_plan(clock, server, plan, iterations=2)
    assert server.paths() == ["/c", "/a", "/b", "/c", "/a", "/b"]
    assert {name: s.count for name, s in stats.items()} == {"a": 2, "b": 2, "c": 2}
    assert type(users[0]) is FlowUser and users[0].iterations == 2


def test_a_step_may_run_one_request_twice(clock: FakeClock) -> None:
    server = server_for(clock, a=ok, b=ok)
    plan = {"requests": requests("a", "b"), "steps": steps("a", "b", "a")}
    stats, _ = run_plan(clock, server, plan)
    assert server.paths() == ["/a", "/b", "/a"]
    assert stats["a"].count == 2


def test_think_time_pauses_between_steps_on_the_clock(clock: FakeClock) -> None:
    server = server_for(clock, a=ok, b=ok)
    start = clock.now_ns()
    plan = {
        "requests": requests("a", "b"),
        "steps": steps("a", "b", a={"think_time": "500ms"}),
    }
    stats, users = run_plan(clock, server, plan)
    first, second = server.sent
    assert first.at_ns == start
    # 10 ms of service, then the 500 ms pause after step a.
    assert second.at_ns == start + 510 * NS_PER_MS
    # b is timed from its own send, not from the iteration's start.
    assert stats["b"].response.max < 20_000
    assert users[0].done_ns == start + 520 * NS_PER_MS


def test_plain_plans_keep_the_plain_virtual_user(clock: FakeClock) -> None:
    server = server_for(clock, a=ok, b=ok)
    plan = {"requests": requests("a", "b", a={"checks": {"status": [200]}})}
    _, users = run_plan(clock, server, plan)
    assert type(users[0]) is VirtualUser


def test_a_failed_step_goes_on_by_default(clock: FakeClock) -> None:
    server = server_for(clock, a=ok, b=ok)
    server.reset_paths.add("/a")
    plan = {"requests": requests("a", "b"), "steps": steps("a", "b")}
    stats, _ = run_plan(clock, server, plan, iterations=2)
    assert server.paths() == ["/a", "/b", "/a", "/b"]
    assert stats["a"].outcomes == {"reset": 2} and stats["a"].failures == 2


def test_on_failure_stop_ends_the_iteration(clock: FakeClock) -> None:
    server = server_for(clock, a=ok, b=ok)
    plan = {
        "requests": requests("a", "b", a={"checks": {"body_contains": "absent"}}),
        "steps": steps("a", "b", a={"on_failure": "stop", "think_time": "1s"}),
    }
    stats, users = run_plan(clock, server, plan, iterations=3)
    assert server.paths() == ["/a", "/a", "/a"]
    assert stats["a"].outcomes == {"check_failed": 3}
    assert stats["b"] is None
    assert users[0].iterations == 3


# -- templates ---------------------------------------------------------------


def test_templates_fill_url_header_and_body_from_extracted_values(clock: FakeClock) -> None:
    server = server_for(clock, login=login, order=ok)
    plan = {
        "requests": [
            {
                "name": "login",
                "url": "/login",
                "extract": {
                    "token": {"json": "$.data.token"},
                    "item": {"json": "$.data.items[0].id"},
                },
            },
            {
                "name": "order",
                "method": "POST",
                "url": "/order?item=${item}&note=a b",
                "headers": {"Authorization": "Bearer ${token}"},
                "body": '{"item": ${item}, "by": "${token}"}',
            },
        ],
        "steps": steps("login", "order"),
    }
    stats, _ = run_plan(clock, server, plan)
    order = server.sent[1]
    assert order.path == "/order?item=7&note=a%20b"
    assert order.header("Authorization") == "Bearer t0k"
    assert order.body == b'{"item": 7, "by": "t0k"}'
    assert order.header("Content-Length") == str(len(order.body))
    assert stats["order"].bytes_out == len(order.wire)


def test_values_are_percent_encoded_in_the_url(clock: FakeClock) -> None:
    server = server_for(clock, find=ok)
    plan = {"requests": requests("find", find={"url": "/find?q=${q}&x=1"})}
    run_once(clock, server, plan, {"q": "caf\u00e9 au lait".encode()})
    assert server.sent[0].path == "/find?q=caf%C3%A9%20au%20lait&x=1"


def test_a_line_break_in_a_header_value_is_refused(clock: FakeClock) -> None:
    server = server_for(clock, a=ok)
    plan = {"requests": requests("a", a={"headers": {"X-Id": "${id}"}})}
    stats = run_once(clock, server, plan, {"id": b"1\r\nX-Evil: 1"})
    assert stats["a"].outcomes == {"template_failed": 1} and not server.sent


def test_a_missing_variable_records_template_failed_and_goes_on(clock: FakeClock) -> None:
    server = server_for(clock, a=ok, b=ok)
    plan = {
        "requests": requests("a", "b", a={"headers": {"X-Token": "${never_set}"}}),
        "steps": steps("a", "b"),
    }
    stats, users = run_plan(clock, server, plan, iterations=3)
    assert server.paths() == ["/b", "/b", "/b"]  # a was never sent
    assert stats["a"].outcomes == {"template_failed": 3} and stats["a"].failures == 3
    assert stats["b"].failures == 0
    assert users[0].iterations == 3


def test_a_weighted_mix_with_templates_does_not_recurse(clock: FakeClock) -> None:
    server = server_for(clock, a=ok)
    plan = {"requests": requests("a", a={"url": "/a?id=${id}"})}
    stats, users = run_plan(clock, server, plan, iterations=2000)
    assert stats["a"].outcomes == {"template_failed": 2000}
    assert users[0].iterations == 2000 and not server.sent


def run_once(
    clock: FakeClock, server: RoutedServer, plan_data: dict[str, Any], variables: dict[str, bytes]
) -> dict[str, Any]:
    """One iteration of one VU whose variables are set beforehand (as a feeder does)."""
    plan = plan_from_mapping({"base_url": BASE, **plan_data})
    actions = build_actions(plan)
    ctx = WorkerContext(
        clock=clock,
        picker=ActionPicker(actions, [r.weight for r in plan.requests], seed=1),
        sweeper=TimeoutSweeper(clock, timeout_s=60),
        connect_timeout_s=1,
        connect=server.connect,  # type: ignore[arg-type]
    )
    done: list[VirtualUser] = []
    user = ctx.new_user(done.append, number=0)
    user.variables.update(variables)

    async def main() -> None:
        user.start_iteration(clock.now_ns(), clock.now_ns())
        while not done:
            await clock.sleep_until_ns(clock.now_ns() + NS_PER_MS)

    asyncio.run(main())
    user.close()
    return {a.request.name: a.recorder.snapshot_and_reset(0) for a in actions}


def test_variables_set_before_the_iteration_are_used(clock: FakeClock) -> None:
    server = server_for(clock, a=ok)
    plan = {"requests": requests("a", a={"url": "/a?u=${users.email}"})}
    run_once(clock, server, plan, {"users.email": b"a@example.test"})
    assert server.sent[0].path == "/a?u=a@example.test"


# -- extraction --------------------------------------------------------------


@pytest.mark.parametrize(
    ("extraction", "value"),
    [
        ('"token": "([^"]+)"', b"t0k"),
        ({"regex": '"id": (\\d+)'}, b"7"),
        ({"json": "$.data.token"}, b"t0k"),
        ({"json": "$.ok"}, b"true"),
        ({"json": "$.data.items[0]"}, b'{"id":7}'),
        ({"header": "location"}, b"/next"),
        ({"cookie": "session"}, b"s3ss"),
    ],
)
def test_each_extraction_kind(clock: FakeClock, extraction: object, value: bytes) -> None:
    server = server_for(clock, login=login)
    plan = {"requests": requests("login", login={"extract": {"v": extraction}})}
    stats, users = run_plan(clock, server, plan)
    assert stats["login"].failures == 0
    assert users[0].variables["v"] == value


@pytest.mark.parametrize(
    "extraction",
    ["(absent)", {"json": "$.data.nothing"}, {"header": "X-None"}, {"cookie": "other"}],
)
def test_extraction_that_finds_nothing_fails_the_request(
    clock: FakeClock, extraction: object
) -> None:
    server = server_for(clock, login=login)
    plan = {"requests": requests("login", login={"extract": {"v": extraction}})}
    stats, users = run_plan(clock, server, plan)
    assert stats["login"].outcomes == {"extract_failed": 1}
    assert "v" not in users[0].variables


# -- checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checks", "passes"),
    [
        ({"status": [200, 201]}, True),
        ({"status": [201]}, False),
        ({"body_contains": '"token"'}, True),
        ({"body_contains": "nope"}, False),
        ({"json": {"$.ok": True}}, True),
        ({"json": {"$.ok": 1}}, False),  # true is not 1
        ({"json": {"$.data.items[0].id": 7, "$.data.token": "t0k"}}, True),
        ({"json": {"$.data.missing": None}}, False),
    ],
)
def test_each_check_kind(clock: FakeClock, checks: dict[str, Any], passes: bool) -> None:
    server = server_for(clock, login=login)
    plan = {"requests": requests("login", login={"checks": checks})}
    stats, _ = run_plan(clock, server, plan, iterations=2)
    expected = {200: 2} if passes else {"check_failed": 2}
    assert stats["login"].outcomes == expected
    assert stats["login"].failures == (0 if passes else 2)


def test_a_check_on_a_body_that_is_not_json_fails(clock: FakeClock) -> None:
    server = server_for(clock, a=ok)
    plan = {"requests": requests("a", a={"checks": {"json": {"$": "welcome"}}})}
    stats, _ = run_plan(clock, server, plan)
    assert stats["a"].outcomes == {"check_failed": 1}


# -- cookies -----------------------------------------------------------------


def test_the_cookie_jar_sends_set_cookies_back(clock: FakeClock) -> None:
    def rotate(sent: Sent) -> Reply:
        return 200, [(b"Set-Cookie", b"seen=1"), (b"Set-Cookie", b"session=x; Max-Age=0")], b""

    server = server_for(clock, login=login, a=ok, rotate=rotate)
    plan = {
        "cookies": True,
        "requests": requests("login", "a", "rotate"),
        "steps": steps("a", "login", "a", "rotate", "a"),
    }
    run_plan(clock, server, plan, iterations=2)
    cookies = [s.header("Cookie") for s in server.sent]
    assert cookies[:5] == [None, None, "session=s3ss", "session=s3ss", "seen=1"]
    assert cookies[5] == "seen=1"  # the jar lives as long as the VU


def test_without_cookies_nothing_is_sent_back(clock: FakeClock) -> None:
    server = server_for(clock, login=login, a=ok)
    plan = {"requests": requests("login", "a"), "steps": steps("login", "a")}
    run_plan(clock, server, plan)
    assert server.sent[1].header("Cookie") is None
