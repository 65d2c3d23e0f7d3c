"""The resource sampler's cost: CPU seconds of the sampling thread per minute at 1 Hz.

Starts the demo capacity server, holds ``--connections`` open TCP connections
to it (so the TCP tables have rows to read), then takes 60 samples of the host
and of the server's process tree, timing each with ``time.thread_time_ns``
(CPU of the calling thread only: what the sampler's thread would spend).
Sleeping between samples changes nothing the sampler pays for, so the 60
samples are taken ``--gap-ms`` apart rather than a second apart.

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
from redline.probes import HostProbe, ProcessTreeProbe

SAMPLES_PER_MINUTE = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=50.0)
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
        conns += [socket.create_connection(("127.0.0.1", port)) for _ in range(args.connections)]
        clock = MonotonicClock()
        probes = {"host": HostProbe(), "server": ProcessTreeProbe(server.pid)}
        sampler = ResourceSampler(probes, server_pid=server.pid)
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
    tcp = result.of("server")[-1]["tcp_states"]
    print(f"server sockets seen in the last sample: {tcp}")
    print(
        f"CPU per sample: median {statistics.median(costs_ns) / 1e6:.2f} ms, "
        f"max {max(costs_ns) / 1e6:.2f} ms"
    )
    print(f"CPU per minute at 1 Hz: {per_minute_s:.3f} s ({per_minute_s / 60:.2%} of one core)")


if __name__ == "__main__":
    main()
