"""Micro-benchmark of the HTTP/1.1 client hot path: requests/s and CPU µs per request.

A closed loop: each of ``--connections`` keep-alive connections sends the next
GET as soon as the previous response is complete, for ``--seconds``. The CPU
figure is this process's user + system time (``resource.getrusage``) divided
by the responses, so it measures the client alone, whatever the server costs.

``--variant bare`` runs the floor to compare against: a bare
``asyncio.Protocol`` + ``httptools`` loop with no error handling, counters or
timeouts; the default runs redline's client and then the bare loop.

    uv run python bench/micro_http.py --nginx --seconds 5
    uv run python bench/micro_http.py --nginx --variant redline
    uv run python bench/micro_http.py http://127.0.0.1:8080/ --loop asyncio

Only loopback URLs are accepted. ``--nginx`` starts a private nginx (one
worker, ``return 200``) on a free loopback port and stops it, by PID, at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httptools
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

#: The nginx configuration for ``--nginx``: one worker, a fixed small body.
NGINX_CONF = """
worker_processes 1;
daemon off;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "hello, redline\\n"; }}
    }}
}}
"""
#: How long nginx may take to accept connections.
NGINX_READY_S = 5.0


@dataclass
class Result:
    """What one run measured."""

    responses: int
    errors: int
    wall_s: float
    cpu_s: float

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_s / max(self.responses, 1) * 1e6

    def report(self, label: str) -> str:
        rps = self.responses / self.wall_s
        return (
            f"{label}: {self.responses} responses, {self.errors} errors in {self.wall_s:.2f} s: "
            f"{rps:,.0f} req/s, {self.cpu_us_per_request:.2f} CPU µs/request "
            f"({self.cpu_s / self.wall_s:.0%} CPU)"
        )


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class LoopUser:
    """One connection's closed loop through redline's Connection."""

    __slots__ = ("clock", "conn", "counts", "request")

    def __init__(self, conn: Connection, request: PreparedRequest, counts: list[int]) -> None:
        self.clock = MonotonicClock()
        self.conn = conn
        self.request = request
        self.counts = counts

    def go(self) -> None:
        self.conn.send(self.request, self, self.clock.now_ns())

    def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
        self.counts[0] += 1
        if self.counts[2] and self.conn.is_open:
            self.go()

    def on_error(self, kind: ErrorKind, detail: str) -> None:
        self.counts[1] += 1


async def run_redline(url: str, connections: int, seconds: float) -> Result:
    endpoint = Endpoint.from_url(url, verify_tls=False)
    request = PreparedRequest.build(
        name="bench", method="GET", url=url, headers=None, body=None, endpoint=endpoint
    )
    counts = [0, 0, 1]  # responses, errors, running
    try:
        conns = [await open_connection(endpoint, timeout_s=5.0) for _ in range(connections)]
    except ConnectFailed as exc:
        raise SystemExit(f"cannot connect to {url}: {exc}") from None
    sweeper = TimeoutSweeper(MonotonicClock(), timeout_s=10.0)
    for conn in conns:
        sweeper.watch(conn)
    users = [LoopUser(conn, request, counts) for conn in conns]
    sweeper.start()
    started_cpu, started = cpu_s(), time.perf_counter()
    for user in users:
        user.go()
    await asyncio.sleep(seconds)
    counts[2] = 0
    wall, used = time.perf_counter() - started, cpu_s() - started_cpu
    sweeper.stop()
    for conn in conns:
        conn.close()
    return Result(counts[0], counts[1], wall, used)


class BareProtocol(asyncio.Protocol):
    """The floor: parse with httptools, send again on completion, nothing else."""

    def __init__(self, wire: bytes, counts: list[int]) -> None:
        self.wire = wire
        self.counts = counts
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.counts[0] += 1
        if self.counts[2] and self.transport is not None:
            self.transport.write(self.wire)


async def run_bare(url: str, connections: int, seconds: float) -> Result:
    endpoint = Endpoint.from_url(url, verify_tls=False)
    wire = PreparedRequest.build(
        name="bench", method="GET", url=url, headers=None, body=None, endpoint=endpoint
    ).wire
    counts = [0, 0, 1]
    loop = asyncio.get_running_loop()
    protocols = []
    for _ in range(connections):
        _, protocol = await loop.create_connection(
            lambda: BareProtocol(wire, counts), endpoint.host, endpoint.port, ssl=endpoint.ssl
        )
        protocols.append(protocol)
    started_cpu, started = cpu_s(), time.perf_counter()
    for protocol in protocols:
        assert protocol.transport is not None
        protocol.transport.write(wire)
    await asyncio.sleep(seconds)
    counts[2] = 0
    wall, used = time.perf_counter() - started, cpu_s() - started_cpu
    for protocol in protocols:
        assert protocol.transport is not None
        protocol.transport.close()
    return Result(counts[0], counts[1], wall, used)


#: The clients ``--variant`` chooses from, in the order ``both`` runs them.
VARIANTS = (("redline", run_redline), ("bare", run_bare))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def private_nginx() -> Iterator[str]:
    """Start nginx on a free loopback port; yield its URL; stop it by PID."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="redline-nginx-") as directory:
        conf = Path(directory, "nginx.conf")
        conf.write_text(NGINX_CONF.format(dir=directory, port=port))
        process = subprocess.Popen([binary, "-c", str(conf), "-p", directory, "-e", "stderr"])
        try:
            wait_ready(port)
            yield f"http://127.0.0.1:{port}/"
        finally:
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + NGINX_READY_S
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"only loopback targets are allowed, got {url!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="loopback URL to load (or --nginx)")
    parser.add_argument("--nginx", action="store_true", help="start a private nginx target")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument(
        "--variant",
        choices=["redline", "bare", "both"],
        default="both",
        help="redline's Connection, the bare httptools loop, or both (default)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the variants alternately this many times and report the best of each "
        "(the least disturbed by other processes)",
    )
    args = parser.parse_args()
    if args.nginx == bool(args.url):
        parser.error("give a URL or --nginx (not both)")
    factory = uvloop.new_event_loop if args.loop == "uvloop" else asyncio.new_event_loop

    def bench(url: str) -> None:
        require_loopback(url)
        runs = [(name, run) for name, run in VARIANTS if args.variant in (name, "both")]
        best: dict[str, Result] = {}
        for _ in range(args.repeat):
            for label, run in runs:
                with asyncio.Runner(loop_factory=factory) as runner:
                    result = runner.run(run(url, args.connections, args.seconds))
                print(result.report(f"{label:8} {args.loop}"), flush=True)
                if label not in best or result.cpu_us_per_request < best[label].cpu_us_per_request:
                    best[label] = result
        if args.repeat > 1:
            for label, result in best.items():
                print(result.report(f"best of {args.repeat}: {label:8} {args.loop}"), flush=True)

    if args.nginx:
        with private_nginx() as url:
            bench(url)
    else:
        bench(args.url)


if __name__ == "__main__":
    main()
