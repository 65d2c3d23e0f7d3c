"""A tiny HTTP/1.1 server that answers ``200 ok`` at once, except for one stall.

Benchmark 4 points an open-model load at it. From ``--stall-after-s`` seconds after
the first request it receives, and for ``--stall-for-s`` seconds, it stops reading
and answering on every connection; requests that arrived meanwhile are answered, in
order, when the stall ends. A generator that measures from each request's intended
start shows the stall in its response times; one that measures from the moment it
sent (coordinated omission) mostly hides it.

It binds 127.0.0.1 only, prints ``READY <port>`` once listening, and exits by itself
after ``--max-life-s`` seconds. Run: ``python bench/stall_server.py --port 0``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import cast

#: The only address this server binds: benchmarks never leave loopback.
HOST = "127.0.0.1"
#: One complete response: status line, length header, 3-byte body.
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n"
#: End of an HTTP/1.1 request head; the benchmarks send GETs without a body.
HEAD_END = b"\r\n\r\n"


class StallClock:
    """Knows when the stall window is, counted from the first request seen."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stall_after_s: float, stall_for_s: float):
        self._loop = loop
        self._stall_after_s = stall_after_s
        self._stall_for_s = stall_for_s
        self._stall_start: float | None = None

    def stall_end(self) -> float | None:
        """Return when the current stall ends, or None if now is outside the window."""
        now = self._loop.time()
        if self._stall_start is None:
            self._stall_start = now + self._stall_after_s
        end = self._stall_start + self._stall_for_s
        return end if self._stall_start <= now < end else None


class StallProtocol(asyncio.Protocol):
    """Answers each request head with RESPONSE, holding answers during the stall."""

    def __init__(self, clock: StallClock):
        self._clock = clock
        self._buffer = b""
        self._held = 0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        complete = self._buffer.count(HEAD_END)
        if not complete:
            return
        self._buffer = self._buffer[self._buffer.rfind(HEAD_END) + len(HEAD_END) :]
        end = self._clock.stall_end()
        if end is None and not self._held:
            self._transport.write(RESPONSE * complete)
            return
        if not self._held:
            self._transport.pause_reading()
            asyncio.get_running_loop().call_at(end, self._release)
        self._held += complete

    def _release(self) -> None:
        if self._transport.is_closing():
            return
        self._transport.write(RESPONSE * self._held)
        self._held = 0
        self._transport.resume_reading()


async def serve(port: int, stall_after_s: float, stall_for_s: float, max_life_s: float) -> None:
    """Serve until max_life_s passes or SIGTERM/SIGINT arrives."""
    loop = asyncio.get_running_loop()
    clock = StallClock(loop, stall_after_s, stall_for_s)
    server = await loop.create_server(lambda: StallProtocol(clock), HOST, port, backlog=4096)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), timeout=max_life_s)
    except TimeoutError:
        pass
    finally:
        server.close()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--stall-after-s", type=float, default=4.0)
    parser.add_argument("--stall-for-s", type=float, default=1.0)
    parser.add_argument("--max-life-s", type=float, default=120.0)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    try:
        import uvloop
    except ImportError:  # plain asyncio is fast enough for 1,000 req/s
        runner = asyncio.run
    else:
        runner = uvloop.run
    runner(serve(args.port, args.stall_after_s, args.stall_for_s, args.max_life_s))


if __name__ == "__main__":
    main(sys.argv[1:])
