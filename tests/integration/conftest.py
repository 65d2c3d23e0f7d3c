"""Real servers on loopback for integration tests: HTTP/1.1 (and TLS) with misbehaviours.

:class:`LoopbackServer` runs an asyncio server in a thread of its own, on
``127.0.0.1`` port 0, so the code under test gets a whole event loop to itself
(asyncio or uvloop). What the server does is chosen by the request path; see
:data:`ROUTES`. Fixtures start it and always stop it in ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import ssl
import struct
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

#: How long a fixture waits for its server thread to start or stop.
SERVER_READY_TIMEOUT_S = 5.0
#: How long the ``/slow`` route holds a request before answering.
SLOW_ROUTE_DELAY_S = 30.0
#: How long ``/idle-close`` keeps the connection after its response.
IDLE_CLOSE_DELAY_S = 0.05
#: The body of ``/big``.
BIG_BODY = bytes(range(256)) * 4096

Route = Callable[["Exchange"], Awaitable[None]]


@dataclass
class Exchange:
    """One request as the server saw it, and the stream to answer on."""

    method: str
    path: str
    body: bytes
    writer: asyncio.StreamWriter

    async def reply(
        self,
        body: bytes,
        *,
        status: str = "200 OK",
        headers: tuple[str, ...] = (),
        version: str = "HTTP/1.1",
        length: bool = True,
    ) -> None:
        lines = [f"{version} {status}", *headers]
        if length:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.writer.write(head if self.method == "HEAD" else head + body)
        await self.writer.drain()


class CloseConnection(Exception):
    """Raised by a route to make the server close the connection after it."""


class ResetConnection(Exception):
    """Raised by a route to make the server reset the connection (RST, not FIN)."""


async def hello(exchange: Exchange) -> None:
    await exchange.reply(b"hello")


async def echo(exchange: Exchange) -> None:
    await exchange.reply(exchange.body, headers=(f"X-Method: {exchange.method}",))


async def close_after(exchange: Exchange) -> None:
    await exchange.reply(b"bye", headers=("Connection: close",))
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
    await exchange.reply(b"no length here", version="HTTP/1.0", length=False)
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


class LoopbackServer:
    """An HTTP/1.1 server on 127.0.0.1 (port 0) in a thread with its own event loop.

    Counts the TCP connections it accepted and the requests it read. The
    constructor starts nothing; use :meth:`start` and :meth:`stop` (or the
    fixtures below).

    Args:
        tls: a server-side TLS context to serve HTTPS.
    """

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None
        self.port = 0
        self.connections = 0
        self.requests = 0

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="loopback-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(SERVER_READY_TIMEOUT_S):
            raise RuntimeError("the loopback server did not start")
        if self._failure is not None:
            raise RuntimeError("the loopback server failed to start") from self._failure

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(SERVER_READY_TIMEOUT_S)
            if self._thread.is_alive():
                raise RuntimeError("the loopback server did not stop")

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test thread by start()
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(lambda loop, context: None)  # failed handshakes
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self._tls)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        graceful = True
        try:
            while await self._one_request(reader, writer):
                pass
        except ResetConnection:
            # SO_LINGER with a zero timeout: closing sends RST instead of FIN.
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            graceful = False
        except (CloseConnection, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:  # the server is stopping
            graceful = False
        finally:
            self._tasks.discard(task)
            await _close(writer, graceful=graceful)

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ")
        headers = dict(line.split(": ", 1) for line in header_lines if line)
        length = int(headers.get("Content-Length", "0"))
        body = await reader.readexactly(length) if length else b""
        self.requests += 1
        route = ROUTES.get(target.partition("?")[0])
        exchange = Exchange(method, target, body, writer)
        if route is None:
            await exchange.reply(b"not found", status="404 Not Found")
        else:
            await route(exchange)
        return True


async def _close(writer: asyncio.StreamWriter, *, graceful: bool) -> None:
    if not graceful:
        writer.transport.abort()
        return
    writer.close()
    with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
        async with asyncio.timeout(SERVER_READY_TIMEOUT_S):
            await writer.wait_closed()


@contextlib.contextmanager
def running(server: LoopbackServer) -> Iterator[LoopbackServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def collect_garbage_after_each_test() -> Iterator[None]:
    """Collect young garbage after each test, so a leaked socket fails the test that leaked it."""
    yield
    gc.collect(1)


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A fresh plain-HTTP :class:`LoopbackServer` (its counters start at zero)."""
    with running(LoopbackServer()) as server:
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
    with running(LoopbackServer(tls=context)) as server:
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
