"""The HTTP client against real loopback servers, on both asyncio and uvloop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvloop

from redline.clock import MonotonicClock
from redline.load._http import (
    ConnectFailed,
    Connection,
    Endpoint,
    ErrorKind,
    PreparedRequest,
    TimeoutSweeper,
    open_connection,
)
from tests.integration.conftest import LoopbackServer

T = TypeVar("T")
Runner = Callable[[Coroutine[Any, Any, T]], T]

#: The event loops every test runs on.
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}
#: How long a test waits for an outcome that should come at once.
PROMPT_S = 5.0
#: A connect timeout for servers that answer.
CONNECT_S = 5.0

CLOCK = MonotonicClock()


@pytest.fixture(params=sorted(LOOPS))
def run(request: pytest.FixtureRequest) -> Runner[Any]:
    """Run a coroutine to completion on a fresh event loop of the parametrized kind."""

    def runner(coro: Coroutine[Any, Any, T]) -> T:
        with asyncio.Runner(loop_factory=LOOPS[request.param]) as loop_runner:
            return loop_runner.run(coro)

    return runner


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes | None
    bytes_in: int


@dataclass(frozen=True)
class Failure:
    kind: ErrorKind
    detail: str


class Outcome:
    """A handler that resolves a future, so a test can await one request."""

    def __init__(self) -> None:
        self.future: asyncio.Future[Response | Failure] = asyncio.get_running_loop().create_future()

    def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
        self.future.set_result(Response(status, body, bytes_in))

    def on_error(self, kind: ErrorKind, detail: str) -> None:
        self.future.set_result(Failure(kind, detail))


def request_for(
    endpoint: Endpoint,
    path: str = "/",
    *,
    method: str = "GET",
    body: bytes | None = None,
    keep_body: bool = True,
) -> PreparedRequest:
    return PreparedRequest.build(
        name=path, method=method, url=path, headers=None, body=body, endpoint=endpoint,
        keep_body=keep_body,
    )  # fmt: skip


async def fetch(connection: Connection, request: PreparedRequest) -> Response | Failure:
    outcome = Outcome()
    connection.send(request, outcome, CLOCK.now_ns())
    return await asyncio.wait_for(outcome.future, PROMPT_S)


async def fetch_new(endpoint: Endpoint, path: str, **options: Any) -> Response | Failure:
    connection = await open_connection(endpoint, timeout_s=CONNECT_S)
    try:
        return await fetch(connection, request_for(endpoint, path, **options))
    finally:
        await close(connection)


async def close(connection: Connection) -> None:
    connection.close()
    await asyncio.wait_for(connection.wait_closed(), PROMPT_S)


def test_keep_alive_reuses_one_connection_and_counts_bytes(
    http_server: LoopbackServer, run: Runner[Any]
) -> None:
    endpoint = Endpoint.from_url(http_server.url)
    request = request_for(endpoint, keep_body=False)

    async def scenario() -> tuple[Connection, list[Response | Failure]]:
        connection = await open_connection(endpoint, timeout_s=CONNECT_S)
        outcomes = [await fetch(connection, request) for _ in range(50)]
        await close(connection)
        return connection, outcomes

    connection, outcomes = run(scenario())
    assert outcomes == [outcomes[0]] * 50
    assert outcomes[0] == Response(200, None, outcomes[0].bytes_in)
    assert (http_server.connections, len(http_server.requests)) == (1, 50)
    assert connection.requests_done == 50
    assert connection.bytes_out == 50 * len(request.wire)
    assert connection.bytes_in == sum(outcome.bytes_in for outcome in outcomes)


def test_closed_loop_of_chained_sends(http_server: LoopbackServer, run: Runner[Any]) -> None:
    endpoint = Endpoint.from_url(http_server.url)
    request = request_for(endpoint, keep_body=False)
    total = 300

    class Chain:
        def __init__(self, connection: Connection, done: asyncio.Future[int]) -> None:
            self.connection, self.done, self.count = connection, done, 0

        def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
            self.count += 1
            if self.count == total:
                self.done.set_result(self.count)
            else:
                self.connection.send(request, self, CLOCK.now_ns())

        def on_error(self, kind: ErrorKind, detail: str) -> None:
            self.done.set_exception(AssertionError(detail))

    async def scenario() -> int:
        connections = [await open_connection(endpoint, timeout_s=CONNECT_S) for _ in range(4)]
        loop = asyncio.get_running_loop()
        chains = [Chain(connection, loop.create_future()) for connection in connections]
        for chain in chains:
            chain.connection.send(request, chain, CLOCK.now_ns())
        counts = await asyncio.wait_for(asyncio.gather(*(c.done for c in chains)), PROMPT_S)
        for connection in connections:
            await close(connection)
        return sum(counts)

    assert run(scenario()) == 4 * total
    assert http_server.connections == 4


def test_request_body_and_kept_response_body(http_server: LoopbackServer, run: Runner[Any]) -> None:
    endpoint = Endpoint.from_url(http_server.url)
    outcome = run(fetch_new(endpoint, "/echo", method="POST", body=b'{"n": 1}'))
    assert outcome == Response(200, b'{"n": 1}', outcome.bytes_in)


def test_server_closing_after_each_response(http_server: LoopbackServer, run: Runner[Any]) -> None:
    endpoint = Endpoint.from_url(http_server.url)
    request = request_for(endpoint, "/close")

    async def scenario() -> list[tuple[Response | Failure, bool]]:
        results = []
        for _ in range(5):
            connection = await open_connection(endpoint, timeout_s=CONNECT_S)
            results.append((await fetch(connection, request), connection.is_open))
            await close(connection)
        return results

    results = run(scenario())
    assert [(outcome.status, outcome.body, still_open) for outcome, still_open in results] == [
        (200, b"bye", False)
    ] * 5
    assert http_server.connections == 5


def test_chunked_response_split_over_segments(
    http_server: LoopbackServer, run: Runner[Any]
) -> None:
    outcome = run(fetch_new(Endpoint.from_url(http_server.url), "/chunked"))
    assert isinstance(outcome, Response)
    assert (outcome.status, outcome.body) == (200, b"hello, chunks")


@pytest.mark.parametrize("keep_body", [True, False])
def test_big_body(
    http_server: LoopbackServer, big_body: bytes, run: Runner[Any], keep_body: bool
) -> None:
    outcome = run(fetch_new(Endpoint.from_url(http_server.url), "/big", keep_body=keep_body))
    assert isinstance(outcome, Response)
    assert outcome.body == (big_body if keep_body else None)
    assert outcome.bytes_in > len(big_body)


def test_body_read_until_close(http_server: LoopbackServer, run: Runner[Any]) -> None:
    outcome = run(fetch_new(Endpoint.from_url(http_server.url), "/until-close"))
    assert isinstance(outcome, Response)
    assert (outcome.status, outcome.body) == (200, b"no length here")


def test_head_then_get_on_the_same_connection(
    http_server: LoopbackServer, run: Runner[Any]
) -> None:
    endpoint = Endpoint.from_url(http_server.url)

    async def scenario() -> list[Response | Failure]:
        connection = await open_connection(endpoint, timeout_s=CONNECT_S)
        head = await fetch(connection, request_for(endpoint, method="HEAD"))
        get = await fetch(connection, request_for(endpoint))
        await close(connection)
        return [head, get]

    head, get = run(scenario())
    assert (head.status, head.body, get.status, get.body) == (200, b"", 200, b"hello")
    assert http_server.connections == 1


@pytest.mark.parametrize(
    ("path", "kind", "text"),
    [
        ("/truncate", ErrorKind.CLOSED, "after 50 bytes of an incomplete response"),
        ("/drop", ErrorKind.CLOSED, "closed the connection before responding"),
        ("/reset", ErrorKind.RESET, "ConnectionResetError"),
        ("/garbage", ErrorKind.PROTOCOL, "invalid HTTP response"),
    ],
)
def test_misbehaving_server(
    http_server: LoopbackServer, run: Runner[Any], path: str, kind: ErrorKind, text: str
) -> None:
    endpoint = Endpoint.from_url(http_server.url)

    async def scenario() -> tuple[Response | Failure, Response | Failure]:
        failed = await fetch_new(endpoint, path)
        # The loop is unharmed: the next request on a new connection works.
        return failed, await fetch_new(endpoint, "/")

    failed, after = run(scenario())
    assert isinstance(failed, Failure), failed
    assert failed.kind is kind
    assert text in failed.detail
    assert isinstance(after, Response) and after.status == 200


def test_slow_server_times_out(http_server: LoopbackServer, run: Runner[Any]) -> None:
    endpoint = Endpoint.from_url(http_server.url)

    async def scenario() -> tuple[Response | Failure, bool]:
        sweeper = TimeoutSweeper(CLOCK, timeout_s=0.1, period_s=0.02)
        sweeper.start()
        try:
            connection = await open_connection(endpoint, timeout_s=CONNECT_S)
            sweeper.watch(connection)
            outcome = await fetch(connection, request_for(endpoint, "/slow"))
            await connection.wait_closed()
            return outcome, connection.is_open
        finally:
            sweeper.stop()

    outcome, still_open = run(scenario())
    assert isinstance(outcome, Failure)
    assert outcome.kind is ErrorKind.TIMEOUT
    assert "timeout 100 ms" in outcome.detail
    assert not still_open


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_nobody_listening_is_refused(unused_port: int, run: Runner[Any], host: str) -> None:
    endpoint = Endpoint.from_url(f"http://{host}:{unused_port}/")
    with pytest.raises(ConnectFailed) as caught:
        run(open_connection(endpoint, timeout_s=CONNECT_S))
    assert caught.value.kind is ErrorKind.REFUSED
    assert f"{host}:{unused_port}" in caught.value.detail


def test_connect_timeout(unresponsive_port: int, run: Runner[Any]) -> None:
    endpoint = Endpoint.from_url(f"http://127.0.0.1:{unresponsive_port}/")
    with pytest.raises(ConnectFailed) as caught:
        run(open_connection(endpoint, timeout_s=0.2))
    assert caught.value.kind is ErrorKind.CONNECT_TIMEOUT
    assert caught.value.detail == f"no connection to {endpoint.origin} within 0.2 s"


def test_tls_verified_with_the_test_ca(
    https_server: LoopbackServer, ca_file: Path, run: Runner[Any]
) -> None:
    endpoint = Endpoint.from_url(https_server.url, ca_file=ca_file)

    async def scenario() -> tuple[list[Response | Failure], Connection]:
        connection = await open_connection(endpoint, timeout_s=CONNECT_S)
        outcomes = [await fetch(connection, request_for(endpoint, "/chunked")) for _ in range(3)]
        await close(connection)
        return outcomes, connection

    outcomes, connection = run(scenario())
    assert [outcome.body for outcome in outcomes] == [b"hello, chunks"] * 3
    assert https_server.connections == 1
    assert connection.bytes_in == sum(outcome.bytes_in for outcome in outcomes)


def test_tls_without_verification(https_server: LoopbackServer, run: Runner[Any]) -> None:
    endpoint = Endpoint.from_url(https_server.url, verify_tls=False)
    outcome = run(fetch_new(endpoint, "/"))
    assert isinstance(outcome, Response) and outcome.body == b"hello"


def test_tls_untrusted_certificate_is_a_tls_error(
    https_server: LoopbackServer, run: Runner[Any]
) -> None:
    endpoint = Endpoint.from_url(https_server.url)
    with pytest.raises(ConnectFailed) as caught:
        run(open_connection(endpoint, timeout_s=CONNECT_S))
    assert caught.value.kind is ErrorKind.TLS
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.detail


def test_plain_http_to_a_tls_server_is_an_error_not_a_crash(
    https_server: LoopbackServer, run: Runner[Any]
) -> None:
    endpoint = Endpoint.from_url(https_server.url.replace("https", "http"))
    outcome = run(fetch_new(endpoint, "/"))
    assert isinstance(outcome, Failure)
    assert outcome.kind in {ErrorKind.CLOSED, ErrorKind.RESET, ErrorKind.PROTOCOL}


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        # The server reads the request and closes: FIN.
        ("/drop", "the server closed a reused keep-alive connection before responding"),
        # The server closes with the request unread: RST.
        ("/", "the server reset a reused keep-alive connection before responding"),
    ],
)
def test_keep_alive_race_is_closed(
    http_server: LoopbackServer, run: Runner[Any], path: str, detail: str
) -> None:
    endpoint = Endpoint.from_url(http_server.url)
    first_path = "/" if path == "/drop" else "/idle-close"

    async def scenario() -> Response | Failure:
        connection = await open_connection(endpoint, timeout_s=CONNECT_S)
        first = await fetch(connection, request_for(endpoint, first_path))
        assert isinstance(first, Response) and connection.is_open
        second = await fetch(connection, request_for(endpoint, path))
        await connection.wait_closed()
        return second

    outcome = run(scenario())
    assert isinstance(outcome, Failure)
    assert outcome.kind is ErrorKind.CLOSED
    assert outcome.detail.startswith(detail)


def test_tls_handshake_that_never_completes_is_a_connect_timeout(
    http_server: LoopbackServer, run: Runner[Any]
) -> None:
    # The plain server waits for a request head that the ClientHello never ends.
    endpoint = Endpoint.from_url(http_server.url.replace("http", "https"), verify_tls=False)
    with pytest.raises(ConnectFailed) as caught:
        run(open_connection(endpoint, timeout_s=0.2))
    assert caught.value.kind is ErrorKind.CONNECT_TIMEOUT
