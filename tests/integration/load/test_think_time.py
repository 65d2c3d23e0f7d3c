"""Think time and pacing seen from the server: ``redline run`` on a plan, against a
loopback server that notes when each request of each connection arrives.

Bounds are wide (a busy 2-core machine delays timers by milliseconds, now and then
by tens), but each would fail if the pause were missing, constant, or doubled.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: How long the server thread may take to start or stop.
READY_TIMEOUT_S = 5.0
#: Generous bound for one short run, including worker start-up on a busy machine.
RUN_TIMEOUT_S = 30.0
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class ArrivalServer:
    """HTTP/1.1 on 127.0.0.1, port 0, in its own thread: answers at once and keeps,
    per connection, the monotonic time (seconds) each request arrived."""

    def __init__(self) -> None:
        self.arrivals: list[list[float]] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="arrival-server", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT_S):
            raise RuntimeError("the arrival server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(READY_TIMEOUT_S)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        times: list[float] = []
        self.arrivals.append(times)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")  # GETs only: no body to read
                times.append(time.monotonic())
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
def arrival_server() -> Iterator[ArrivalServer]:
    server = ArrivalServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_plan(tmp_path: Path, server: ArrivalServer, keys: str) -> dict[str, object]:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f'base_url = "http://127.0.0.1:{server.port}"\n'
        "workers = 2\n"
        f"{keys}\n"
        '[[requests]]\nname = "home"\nurl = "/"\n'
    )
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", str(plan), "--quiet", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data: dict[str, object] = json.loads(out.read_text())
    return data


def gaps_ms(server: ArrivalServer) -> list[float]:
    """Time between successive requests of one connection, ms, over every connection."""
    return [
        (later - earlier) * 1000
        for times in server.arrivals
        for earlier, later in zip(times, times[1:], strict=False)
    ]


def test_uniform_think_time_spaces_each_users_requests(
    arrival_server: ArrivalServer, tmp_path: Path
) -> None:
    run_plan(
        tmp_path,
        arrival_server,
        'think_time = { dist = "uniform", min = "50ms", max = "150ms" }\n'
        '[executor]\ntype = "per-vu-iterations"\nvus = 4\niterations = 25\n',
    )
    assert [len(times) for times in arrival_server.arrivals] == [25] * 4  # keep-alive
    gaps = gaps_ms(arrival_server)
    # Uniform on 50..150 ms: mean and median 100 ms, standard deviation 28.9 ms,
    # plus a response time well under a millisecond on loopback.
    assert 92 <= statistics.fmean(gaps) <= 125
    assert 88 <= statistics.median(gaps) <= 130
    assert 18 <= statistics.stdev(gaps) <= 45
    assert min(gaps) >= 45  # a pause never ends early
    assert sum(gap < 100 for gap in gaps) >= len(gaps) // 4  # not a constant 100 ms


def test_pacing_starts_each_users_requests_on_the_period(
    arrival_server: ArrivalServer, tmp_path: Path
) -> None:
    run_plan(
        tmp_path,
        arrival_server,
        'pacing = "200ms"\n[executor]\ntype = "per-vu-iterations"\nvus = 3\niterations = 15\n',
    )
    assert [len(times) for times in arrival_server.arrivals] == [15] * 3
    for times in arrival_server.arrivals:
        # Lateness does not add up: second to last request (the first waits for the
        # connect) is 13 periods of 200 ms, give or take a late timer.
        assert 2.5 <= times[-1] - times[1] <= 2.75
    gaps = gaps_ms(arrival_server)
    assert 190 <= statistics.median(gaps) <= 215
    assert min(gaps) >= 150
