"""Real servers on loopback for integration tests: HTTP/1.1 (and TLS) with misbehaviours.

:class:`LoopbackServer` is the shared :class:`~tests.integration.recording_server.RecordingServer`
(``127.0.0.1`` port 0, a thread and event loop of its own) with routes that misbehave on
purpose: what it does is chosen by the request path; see :data:`ROUTES`. Fixtures start
it and always stop it.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.integration.recording_server import (
    CloseConnection,
    RecordingServer,
    Request,
    Response,
)

#: How long the ``/slow`` route holds a request before answering.
SLOW_ROUTE_DELAY_S = 30.0
#: How long ``/idle-close`` keeps the connection after its response.
IDLE_CLOSE_DELAY_S = 0.05
#: The body of ``/big``.
BIG_BODY = bytes(range(256)) * 4096

Route = Callable[["Exchange"], Awaitable[None]]


@dataclass
class Exchange:
    """One request as the server read it, and the stream to answer on."""

    request: Request
    writer: asyncio.StreamWriter

    async def reply(
        self, body: bytes, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        response = Response(status, body, headers or {})
        self.writer.write(response.encode(method=self.request.method))
        await self.writer.drain()


class ResetConnection(Exception):
    """Raised by a route to make the server reset the connection (RST, not FIN)."""


async def hello(exchange: Exchange) -> None:
    await exchange.reply(b"hello")


async def echo(exchange: Exchange) -> None:
    request = exchange.request
    await exchange.reply(request.body, headers={"X-Method": request.method})


async def close_after(exchange: Exchange) -> None:
    await exchange.reply(b"bye", headers={"Connection": "close"})
    raise CloseConnection


async def chunked(exchange: Exchange) -> None:
    writer = exchange.writer
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for piece in (b"hel", b"lo, ", b"chunks"):
        await writer.drain()
        await asyncio.sleep(0.002)  # separate segments, so the client sees a split body
        writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def big(exchange: Exchange) -> None:
    await exchange.reply(BIG_BODY)


async def until_close(exchange: Exchange) -> None:
    exchange.writer.write(b"HTTP/1.0 200 OK\r\n\r\nno length here")
    await exchange.writer.drain()
    raise CloseConnection


async def slow(exchange: Exchange) -> None:
    await asyncio.sleep(SLOW_ROUTE_DELAY_S)
    await exchange.reply(b"late")


async def idle_close(exchange: Exchange) -> None:
    # A keep-alive response, then the server drops the idle connection without
    # reading what the client sent next (as servers with short idle timeouts do).
    await exchange.reply(b"see you")
    await asyncio.sleep(IDLE_CLOSE_DELAY_S)
    raise ResetConnection


async def garbage(exchange: Exchange) -> None:
    exchange.writer.write(b"SPLAT! this is not HTTP\r\n\r\n")
    await exchange.writer.drain()


async def truncate(exchange: Exchange) -> None:
    exchange.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
    await exchange.writer.drain()
    raise CloseConnection


async def drop(exchange: Exchange) -> None:
    raise CloseConnection


async def reset(exchange: Exchange) -> None:
    raise ResetConnection


async def not_found(exchange: Exchange) -> None:
    await exchange.reply(b"not found", status=404)


#: What the server does for each path; any other path gets a 404.
ROUTES: dict[str, Route] = {
    "/": hello,
    "/echo": echo,
    "/close": close_after,
    "/chunked": chunked,
    "/big": big,
    "/until-close": until_close,
    "/slow": slow,
    "/idle-close": idle_close,
    "/garbage": garbage,
    "/truncate": truncate,
    "/drop": drop,
    "/reset": reset,
}


class LoopbackServer(RecordingServer):
    """The recording server, answering by :data:`ROUTES` (misbehaviours included)."""

    async def respond(self, request: Request, writer: asyncio.StreamWriter) -> None:
        route = ROUTES.get(request.path.partition("?")[0], not_found)
        try:
            await route(Exchange(request, writer))
        except ResetConnection:
            # SO_LINGER with a zero timeout: closing sends RST instead of FIN.
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            raise CloseConnection from None


@pytest.fixture(autouse=True)
def collect_garbage_after_each_test() -> Iterator[None]:
    """Collect young garbage after each test, so a leaked socket fails the test that leaked it."""
    yield
    gc.collect(1)


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A fresh plain-HTTP :class:`LoopbackServer` (its counters start at zero)."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def big_body() -> bytes:
    """The body the ``/big`` route sends."""
    return BIG_BODY


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    """A throwaway certificate authority."""
    return trustme.CA()


@pytest.fixture
def ca_file(test_ca: trustme.CA, tmp_path: Path) -> Path:
    """The test CA's certificate as a PEM file."""
    path = tmp_path / "test-ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def https_server(test_ca: trustme.CA) -> Iterator[LoopbackServer]:
    """A :class:`LoopbackServer` speaking TLS with a certificate for 127.0.0.1 from ``test_ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with LoopbackServer(tls=context) as server:
        yield server


@pytest.fixture
def unused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def unresponsive_port() -> Iterator[int]:
    """A loopback port whose accept queue is full: new connections hang in SYN_SENT."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
