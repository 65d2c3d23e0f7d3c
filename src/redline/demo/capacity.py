"""A loopback HTTP/1.1 target of known capacity, which counts arrivals.

For trying test types (stress, breakpoint, spike) against a service whose
breaking point is known in advance, and for redline's own tests::

    python -m redline.demo.capacity --slots 2 --service-ms 20 --queue-limit 8

``slots`` requests are served at once, each taking ``service_s``, so the
server completes at most ``slots / service_s`` requests a second. Requests
beyond that wait; when more than ``queue_limit`` are waiting, a request is
refused at once with 503. Every request's arrival time is recorded, so a test
can check from the server's side what load actually arrived, second by second.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redline.demo._keepalive import answer_requests

__all__ = ["CapacityServer", "capacity_server", "main"]

#: How long starting or stopping the server may take.
READY_TIMEOUT_S = 5.0

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"


class CapacityServer:
    """See the module docstring. Start with :func:`capacity_server`."""

    def __init__(
        self, *, slots: int, service_s: float, queue_limit: int | None = None, port: int = 0
    ) -> None:
        self.slots = slots
        self.service_s = service_s
        self.queue_limit = queue_limit
        self.arrivals: list[float] = []
        #: Requests by path (query string included).
        self.paths: collections.Counter[str] = collections.Counter()
        #: When each path was first and last requested (``time.monotonic()``).
        self.first_seen: dict[str, float] = {}
        self.last_seen: dict[str, float] = {}
        self.port = port
        self._waiting = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def arrivals_per_second(self, since: float) -> list[int]:
        """Arrivals counted in whole seconds from ``since`` (a ``time.monotonic()`` value)."""
        counts = collections.Counter(int(t - since) for t in list(self.arrivals) if t >= since)
        return [counts.get(s, 0) for s in range(max(counts, default=-1) + 1)]

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        slots = asyncio.Semaphore(self.slots)
        server = await asyncio.start_server(
            lambda r, w: self._connection(r, w, slots), "127.0.0.1", self.port, backlog=1024
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, slots: asyncio.Semaphore
    ) -> None:
        await answer_requests(reader, writer, lambda head: self._arrived(head, slots))

    async def _arrived(self, head: bytes, slots: asyncio.Semaphore) -> bytes:
        now = time.monotonic()
        self.arrivals.append(now)
        path = head.split(b" ", 2)[1].decode("latin-1")
        self.paths[path] += 1
        self.first_seen.setdefault(path, now)
        self.last_seen[path] = now
        return await self._answer(slots)

    async def _answer(self, slots: asyncio.Semaphore) -> bytes:
        if self.queue_limit is not None and slots.locked() and self._waiting >= self.queue_limit:
            return _BUSY
        self._waiting += 1
        try:
            async with slots:
                self._waiting -= 1
                await asyncio.sleep(self.service_s)
        except BaseException:
            self._waiting -= 1
            raise
        return _OK

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT_S):
            raise RuntimeError("the capacity server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(READY_TIMEOUT_S)


@contextmanager
def capacity_server(
    *, slots: int, service_s: float, queue_limit: int | None = None
) -> Iterator[CapacityServer]:
    """A running :class:`CapacityServer`, stopped on exit."""
    server = CapacityServer(slots=slots, service_s=service_s, queue_limit=queue_limit)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    """Serve until Ctrl-C: ``python -m redline.demo.capacity --slots 2 --service-ms 20``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="loopback port (0: any free one)")
    parser.add_argument("--slots", type=int, default=2, help="requests served at once")
    parser.add_argument("--service-ms", type=float, default=20.0, help="time per request")
    parser.add_argument("--queue-limit", type=int, default=None, help="waiting beyond: 503")
    args = parser.parse_args()
    server = CapacityServer(
        slots=args.slots,
        service_s=args.service_ms / 1000,
        queue_limit=args.queue_limit,
        port=args.port,
    )
    server.start()
    capacity = args.slots / (args.service_ms / 1000)
    sys.stdout.write(f"capacity target on {server.url}: {capacity:,.0f} req/s at most\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
