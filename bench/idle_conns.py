"""Reference client for benchmark 5: open many keep-alive connections and hold them idle.

Each connection sends one ``GET`` and reads its answer, then stays open and silent
for ``--hold-s`` seconds; then all close. It is the floor redline's idle-connection
mode is compared with: one uvloop process, one small Protocol object per socket.
Prints one JSON line: ``{"opened": N, "failed": N, "open_s": seconds}``.

Run: ``python bench/idle_conns.py http://127.0.0.1:8080/ --conns 1000 --hold-s 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from urllib.parse import urlsplit

from targets import require_loopback

#: How many connection attempts are in flight at once, to stay under the listen backlog.
CONNECT_CONCURRENCY = 512
#: Upper bound on one connect-and-first-answer.
CONNECT_TIMEOUT_S = 10.0


class IdleProtocol(asyncio.Protocol):
    """Sends one request, resolves ``answered`` on the first bytes back, then idles."""

    def __init__(self, request: bytes, answered: asyncio.Future[None]):
        self._request = request
        self._answered = answered

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self._request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if not self._answered.done():
            self._answered.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._answered.done():
            self._answered.set_exception(exc or ConnectionError("closed before answering"))


async def open_one(
    host: str, port: int, request: bytes, gate: asyncio.Semaphore
) -> asyncio.BaseTransport | None:
    """Open one connection and wait for its first answer; None if it failed."""
    loop = asyncio.get_running_loop()
    async with gate:
        answered: asyncio.Future[None] = loop.create_future()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                transport, _ = await loop.create_connection(
                    lambda: IdleProtocol(request, answered), host, port
                )
                await answered
        except (OSError, TimeoutError):
            return None
        return transport


async def hold(url: str, conns: int, hold_s: float) -> dict[str, float]:
    parts = urlsplit(require_loopback(url))
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    loop = asyncio.get_running_loop()
    start = loop.time()
    transports = await asyncio.gather(*(open_one(host, port, request, gate) for _ in range(conns)))
    open_s = loop.time() - start
    await asyncio.sleep(hold_s)
    for transport in transports:
        if transport is not None:
            transport.close()
    opened = sum(t is not None for t in transports)
    return {"opened": opened, "failed": conns - opened, "open_s": open_s}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--conns", type=int, required=True)
    parser.add_argument("--hold-s", type=float, required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    print(json.dumps(runner(hold(args.url, args.conns, args.hold_s))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
