"""The resource sampler's cost: CPU seconds of the sampling thread per minute at 1 Hz.

Starts the demo capacity server, leaves ``--time-wait`` TIME_WAIT sockets on
the host (as a load test does; the kernel walks them too), holds
``--connections`` open TCP connections to the server (so the socket list has
the tree's sockets and the client's), then takes 60 samples of the host and
of the server's process tree, timing each with ``time.thread_time_ns`` (CPU
of the calling thread only, kernel time included: what the sampler's thread
would spend). Sleeping between samples changes nothing the sampler pays for,
so the 60 samples are taken ``--gap-ms`` apart rather than a second apart.
TIME_WAIT sockets last 60 s: wait that long between runs to compare them.

    .venv/bin/python bench/resources_overhead.py --connections 200
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time

from redline.clock import MonotonicClock
from redline.metrics._resources import ResourceSampler
from redline.probes import HostProbe, ProcessTreeProbe, host_info

SAMPLES_PER_MINUTE = 60


def time_wait_count() -> int:
    """The host's TIME_WAIT sockets, from /proc/net/sockstat (``TCP: ... tw N``)."""
    with open("/proc/net/sockstat") as file:
        for line in file:
            if line.startswith("TCP:"):
                fields = line.split()
                return int(fields[fields.index("tw") + 1])
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def leave_time_wait(port: int, count: int) -> None:
    """Open and close ``count`` connections, client first: each leaves a TIME_WAIT socket (60 s)."""
    for _ in range(count):
        socket.create_connection(("127.0.0.1", port)).close()
    time.sleep(0.5)  # the server closes its ends, moving ours from FIN_WAIT2 to TIME_WAIT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=50.0)
    parser.add_argument(
        "--time-wait",
        type=int,
        default=1200,
        help="leave this many TIME_WAIT sockets on the host first (closed client connections)",
    )
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "redline.demo.capacity", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    conns: list[socket.socket] = []
    try:
        while True:
            try:
                conns.append(socket.create_connection(("127.0.0.1", port)))
                break
            except OSError:
                time.sleep(0.05)
        leave_time_wait(port, args.time_wait)
        time_wait = time_wait_count()  # now: closing our connections at the end adds more
        conns += [socket.create_connection(("127.0.0.1", port)) for _ in range(args.connections)]
        clock = MonotonicClock()
        probes = {"host": HostProbe(), "server": ProcessTreeProbe(server.pid)}
        sampler = ResourceSampler(probes, server_pid=server.pid, host_info=host_info)
        sampler.prime(clock.now_ns())
        costs_ns = []
        for _ in range(SAMPLES_PER_MINUTE):
            time.sleep(args.gap_ms / 1000)
            before = time.thread_time_ns()
            sampler.sample_once(clock.now_ns())
            costs_ns.append(time.thread_time_ns() - before)
        result = sampler.stop()
    finally:
        for conn in conns:
            conn.close()
        server.terminate()
        server.wait()
    per_minute_s = sum(costs_ns) / 1e9
    print(f"open connections to the server: {len(conns)}")
    print(f"TIME_WAIT sockets on the host while sampling: {time_wait}")
    tcp = result.of("server")[-1]["tcp_states"]
    print(f"server sockets seen in the last sample: {tcp}")
    print(
        f"CPU per sample: median {statistics.median(costs_ns) / 1e6:.2f} ms, "
        f"max {max(costs_ns) / 1e6:.2f} ms"
    )
    print(f"CPU per minute at 1 Hz: {per_minute_s:.3f} s ({per_minute_s / 60:.2%} of one core)")


if __name__ == "__main__":
    main()
