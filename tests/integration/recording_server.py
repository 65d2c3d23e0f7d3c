"""One recording HTTP/1.1 server on loopback, for every integration test that needs a target.

:class:`RecordingServer` runs an asyncio server in a thread of its own, on ``127.0.0.1``
port 0, so the code under test gets a whole event loop to itself. It reads HTTP/1.1
requests (``Content-Length`` bodies, keep-alive), records each one as a :class:`Request`
(arrival time, connection, method, path, headers, body), and answers with the
:class:`Response` its handler returns: ``200 ok`` unless the test passes its own::

    def login(request: Request) -> Response:
        return Response(body=b'{"token": "t1"}', headers={"Set-Cookie": "session=s1"})

    with RecordingServer(login) as server:
        ...  # point the code under test at server.url
    assert [request.path for request in server.requests] == ["/login"]

Servers that must misbehave (stall, truncate, reset) subclass it and override
:meth:`RecordingServer.respond`, which gets the raw stream; see ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

#: How long starting or stopping the server thread may take.
SERVER_READY_TIMEOUT_S = 5.0
#: Statuses sent without a body (RFC 9110 section 6.4.1).
BODILESS_STATUSES = frozenset({204, 304})


class Headers(Mapping[str, str]):
    """Request headers as sent: names keep their spelling, lookups ignore case (RFC 9110 5.1)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._sent = dict(pairs)
        self._by_lower = {name.lower(): value for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._by_lower[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sent)

    def __len__(self) -> int:
        return len(self._sent)

    def __repr__(self) -> str:
        return f"Headers({self._sent!r})"


@dataclass(frozen=True)
class Request:
    """One request as the server read it."""

    #: When its head arrived (``time.monotonic()``, seconds).
    at_s: float
    #: Which TCP connection it came on: 0 for the first the server accepted, and so on.
    connection: int
    method: str
    #: The request target as sent, query string included.
    path: str
    headers: Headers
    body: bytes

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode()


@dataclass(frozen=True)
class Response:
    """What to answer; ``Content-Length`` is added (but not for :data:`BODILESS_STATUSES`).

    ``Connection: close`` among the headers makes the server close the connection after it.
    """

    status: int = 200
    body: bytes = b"ok"
    headers: Mapping[str, str] = field(default_factory=dict)

    def encode(self, *, method: str) -> bytes:
        """The response on the wire, as an answer to a request with ``method``."""
        lines = [f"HTTP/1.1 {self.status} {_reason(self.status)}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        bodiless = self.status in BODILESS_STATUSES
        if not bodiless:
            lines.append(f"Content-Length: {len(self.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if bodiless or method == "HEAD" else head + self.body

    @property
    def closes(self) -> bool:
        return any(
            name.lower() == "connection" and value.lower() == "close"
            for name, value in self.headers.items()
        )


Handler = Callable[[Request], Response]


def answer_ok(request: Request) -> Response:
    """The default handler: ``200 ok`` to anything."""
    return Response()


class CloseConnection(Exception):
    """Raised from :meth:`RecordingServer.respond` to close the connection after it."""


class RecordingServer:
    """An HTTP/1.1 server on 127.0.0.1 (port 0) in a thread with its own event loop.

    Records every request in :attr:`requests` (in arrival order) and counts the TCP
    connections it accepted in :attr:`connections`. The constructor starts nothing: use
    it as a context manager, or call :meth:`start` and :meth:`stop`.

    Args:
        handler: makes the answer to each request; it runs on the server's thread.
        tls: a server-side TLS context to serve HTTPS.
    """

    def __init__(self, handler: Handler = answer_ok, *, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Request] = []
        self.connections = 0
        self.port = 0
        self._handler = handler
        self._tls = tls
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="recording-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(SERVER_READY_TIMEOUT_S):
            raise RuntimeError("the recording server did not start")
        if self._failure is not None:
            raise RuntimeError("the recording server failed to start") from self._failure

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(SERVER_READY_TIMEOUT_S)
            if self._thread.is_alive():
                raise RuntimeError("the recording server did not stop")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def respond(self, request: Request, writer: asyncio.StreamWriter) -> None:
        """Answer ``request`` with what the handler returns.

        Subclasses override this to misbehave; raising :class:`CloseConnection` closes
        the connection (gracefully, so a socket set to linger 0 sends RST).
        """
        response = self._handler(request)
        writer.write(response.encode(method=request.method))
        await writer.drain()
        if response.closes:
            raise CloseConnection

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test thread by start()
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._tls is not None:
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
        connection = self.connections
        self.connections += 1
        graceful = True
        try:
            while request := await self._read(reader, connection):
                self.requests.append(request)
                await self.respond(request, writer)
        except (CloseConnection, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:  # the server is stopping
            graceful = False
        finally:
            self._tasks.discard(task)
            await _close(writer, graceful=graceful)

    @staticmethod
    async def _read(reader: asyncio.StreamReader, connection: int) -> Request | None:
        """The next request on the connection, or None when the client closed it."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        at_s = time.monotonic()
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ")
        pairs = [line.split(":", 1) for line in header_lines if line]
        headers = Headers([(name.strip(), value.strip()) for name, value in pairs])
        length = int(headers.get("Content-Length", "0"))
        body = await reader.readexactly(length) if length else b""
        return Request(at_s, connection, method, target, headers, body)


def _reason(status: int) -> str:
    with contextlib.suppress(ValueError):
        return http.HTTPStatus(status).phrase
    return "Unknown"


async def _close(writer: asyncio.StreamWriter, *, graceful: bool) -> None:
    if not graceful:
        writer.transport.abort()
        return
    writer.close()
    with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
        async with asyncio.timeout(SERVER_READY_TIMEOUT_S):
            await writer.wait_closed()
