"""A small HTTP/1.1 target for the demo: keep-alive, a fast page and a slower one.

It exists so ``make demo`` has something to load on a fresh machine; the
full demo service with planted bottlenecks replaces it later.
"""

from __future__ import annotations

import asyncio
import socket
from typing import cast

import httptools
import uvloop

__all__ = ["serve"]

#: Response bodies by path; anything else is a 404.
PAGES = {
    b"/": b'{"status": "ok"}',
    b"/items": b'{"items": [' + b", ".join(b'{"id": %d}' % i for i in range(50)) + b"]}",
}
#: Paths that take a while (simulated work off the event loop), in seconds.
SLOW_PATHS = {b"/slow": 0.02}


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


class _Handler(asyncio.Protocol):
    def __init__(self) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.close()

    def on_url(self, url: bytes) -> None:
        self._url = url

    def on_message_complete(self) -> None:
        path = self._url.split(b"?", 1)[0]
        delay = SLOW_PATHS.get(path)
        if delay is not None:
            asyncio.get_running_loop().call_later(delay, self._reply, b"200 OK", b'{"slow": true}')
        elif path in PAGES:
            self._reply(b"200 OK", PAGES[path])
        else:
            self._reply(b"404 Not Found", b'{"error": "not found"}')

    def _reply(self, status: bytes, body: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_response(status, body))


async def _serve(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Handler, sock=sock, backlog=4096)
    async with server:
        await server.serve_forever()


def serve(sock: socket.socket) -> None:
    """Serve on an already bound loopback socket until the process is stopped."""
    uvloop.run(_serve(sock))
