"""Loopback HTTP/1.1 services, each with one known bottleneck, for trying ``redline diagnose``.

    python -m redline.demo.bottlenecks cpu --port 8001             # burns CPU per request
    python -m redline.demo.bottlenecks slow --port 8002            # a slow downstream
    python -m redline.demo.bottlenecks pool --port 8003 --downstream 8002 --pool 4
    python -m redline.demo.bottlenecks leak --port 8004            # keeps every payload
    python -m redline.demo.bottlenecks shed --port 8005 --limit 8  # 503 past 8 in flight

- ``cpu``: each request burns ``--work-ms`` of CPU on the event loop's one
  thread (a single Python worker: one core at most).
- ``slow``: each request sleeps ``--work-ms``; any number at once.
- ``pool``: each request calls the downstream on ``--downstream`` through a
  pool of ``--pool`` keep-alive connections (a semaphore in front of it).
- ``leak``: each request's payload (``--keep-kib``) is kept forever.
- ``shed``: more than ``--limit`` requests in flight get 503 at once; the
  others sleep ``--work-ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from redline.demo._keepalive import answer_requests, content_length

__all__ = ["KINDS", "Service", "main"]

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"
_DOWNSTREAM_REQUEST = b"GET / HTTP/1.1\r\nHost: downstream\r\n\r\n"


class Service:
    """One bottleneck's request handler; see the module docstring."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work_s = args.work_ms / 1000
        self.kept: list[bytes] = []
        self.in_flight = 0
        self._pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] | None = None

    async def cpu(self) -> bytes:
        deadline = time.thread_time() + self.work_s
        while time.thread_time() < deadline:
            pass  # burning CPU on purpose: this is the bottleneck
        return _OK

    async def slow(self) -> bytes:
        await asyncio.sleep(self.work_s)
        return _OK

    async def open_pool(self) -> None:
        """Connect the pool before serving: a missing downstream fails at start, not later."""
        self._pool = asyncio.Queue()
        for _ in range(self.args.pool):
            self._pool.put_nowait(await asyncio.open_connection("127.0.0.1", self.args.downstream))

    async def pool(self) -> bytes:
        assert self._pool is not None, "open_pool() runs before serving"
        reader, writer = await self._pool.get()
        try:
            writer.write(_DOWNSTREAM_REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(content_length(head))
        finally:
            self._pool.put_nowait((reader, writer))
        return _OK

    async def leak(self) -> bytes:
        self.kept.append(bytes(self.args.keep_kib * 1024))
        return _OK

    async def shed(self) -> bytes:
        if self.in_flight >= self.args.limit:
            return _BUSY
        self.in_flight += 1
        try:
            await asyncio.sleep(self.work_s)
        finally:
            self.in_flight -= 1
        return _OK


#: The handler of each kind.
KINDS: dict[str, Callable[[Service], Awaitable[bytes]]] = {
    "cpu": Service.cpu,
    "slow": Service.slow,
    "pool": Service.pool,
    "leak": Service.leak,
    "shed": Service.shed,
}


async def _serve(args: argparse.Namespace) -> None:
    service = Service(args)
    if args.kind == "pool":
        await service.open_pool()
    server = await asyncio.start_server(
        lambda r, w: answer_requests(r, w, lambda _: KINDS[args.kind](service)),
        "127.0.0.1",
        args.port,
        backlog=1024,
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"{args.kind} service on http://127.0.0.1:{port}/\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("--port", type=int, default=8080, help="loopback port")
    parser.add_argument("--work-ms", type=float, default=None, help="CPU or sleep per request")
    parser.add_argument("--downstream", type=int, help="pool: the downstream's port")
    parser.add_argument("--pool", type=int, default=4, help="pool: connections to it")
    parser.add_argument("--keep-kib", type=int, default=16, help="leak: KiB kept per request")
    parser.add_argument("--limit", type=int, default=8, help="shed: requests in flight")
    return parser


#: ``--work-ms`` by kind when not given.
DEFAULT_WORK_MS = {"cpu": 2.0, "slow": 20.0, "shed": 10.0}


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.kind == "pool" and args.downstream is None:
        parser.error("pool: --downstream PORT is required (start a 'slow' service there)")
    if args.work_ms is None:
        args.work_ms = DEFAULT_WORK_MS.get(args.kind, 0.0)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # the port is taken, or the downstream is not there
        sys.exit(f"error: {args.kind} service: {exc}")


if __name__ == "__main__":
    main()
