"""What sampling Redis during a run costs Redis: its CPU with and without the probe.

Starts a throwaway ``redis-server`` (loopback, free port, no persistence)
pinned to core 1, and drives it from core 0 with a paced Python client
(``--rate`` commands a second, GETs and SETs over 1,000 keys in pipelines of
``PIPELINE``) for ``--duration`` seconds, ``--runs`` times with
:class:`~redline.probes.RedisActivityProbe` sampled by the
:class:`~redline.metrics.ResourceSampler` at its default 1 s and ``--runs``
times without, interleaved. Redis's CPU is its own ``used_cpu_user +
used_cpu_sys`` (INFO cpu, microseconds) read before and after each run; the
figure compared is its CPU per command of the load.

That A/B difference is smaller than the machine's noise, so the probe's cost
is also measured directly: on the same Redis, idle, ``--fast-samples``
samples taken back to back, against the same time idle without sampling; the
difference over the samples is Redis's CPU per sample, and at 1 Hz that is the
share of Redis's CPU under the load that sampling takes (the bound).

    .venv/bin/python bench/cache_sampling_overhead.py --runs 5 --duration 10 --rate 5000
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from redline.clock import MonotonicClock
from redline.metrics import ResourceSampler
from redline.plan import parse_dsn
from redline.probes import RedisActivityProbe

#: Commands sent in one round trip by the load.
PIPELINE = 20
#: Keys the load reads and writes.
KEYS = 1000
READY_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def pinned(core: int, argv: list[str]) -> list[str]:
    """``argv`` on one core when taskset is there and the machine has it."""
    if shutil.which("taskset") and core < (os.cpu_count() or 1):
        return ["taskset", "-c", str(core), *argv]
    return argv


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        pinned(1, ["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                   "--dir", str(folder), "--save", "", "--appendonly", "no",
                   "--logfile", str(folder / "log")]),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            redis.Redis(port=port).ping()
            return proc, port
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.05)


def redis_cpu_s(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def load(port: int, rate: float, duration_s: float) -> None:
    """The load (run in a subprocess): ``rate`` commands a second for ``duration_s``."""
    client = redis.Redis(port=port)
    period_s = PIPELINE / rate
    start = time.monotonic()
    sent = rounds = 0
    while (now := time.monotonic()) - start < duration_s:
        pipe = client.pipeline(transaction=False)
        for n in range(PIPELINE):
            key = f"k{(sent + n) % KEYS}"
            if n % 4 == 0:
                pipe.set(key, "v" * 100)
            else:
                pipe.get(key)
        pipe.execute()
        sent += PIPELINE
        rounds += 1
        delay = start + rounds * period_s - now  # absolute schedule: no drift
        if delay > 0:
            time.sleep(delay)
    print(sent)


def one_run(port: int, args: argparse.Namespace, *, sampled: bool) -> tuple[float, int]:
    """Redis's CPU seconds and the commands of one run of the load."""
    client = redis.Redis(port=port)
    sampler = None
    if sampled:
        dsn = parse_dsn(f"redis://127.0.0.1:{port}", schemes=("redis",))
        sampler = ResourceSampler({"cache": RedisActivityProbe(dsn)}, interval_s=1.0)
    before = redis_cpu_s(client)
    proc = subprocess.Popen(
        pinned(0, [sys.executable, __file__, "--load", str(port), str(args.rate),
                   str(args.duration)]),
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    if sampler is not None:
        sampler.start(MonotonicClock().now_ns())
    out, _ = proc.communicate(timeout=args.duration + 60)
    if sampler is not None:
        samples = sampler.stop()
        assert len(samples.of("cache")) >= args.duration - 1, samples.notes
    cpu_s = redis_cpu_s(client) - before
    client.close()
    return cpu_s, int(out.strip())


def probe_cost(port: int, count: int) -> tuple[float, float, float]:
    """Redis's CPU per sample, from ``count`` samples back to back against as long idle.

    Returns (µs of Redis CPU per sample, the idle CPU over that time in s, the sampled CPU).
    """
    client = redis.Redis(port=port)
    dsn = parse_dsn(f"redis://127.0.0.1:{port}", schemes=("redis",))
    probe = RedisActivityProbe(dsn)
    probe.prime()
    before = redis_cpu_s(client)
    started = time.monotonic()
    for _ in range(count):
        probe.sample(1.0)
    spent_s = time.monotonic() - started
    sampled = redis_cpu_s(client) - before
    probe.close()
    before = redis_cpu_s(client)
    time.sleep(spent_s)
    idle = redis_cpu_s(client) - before
    client.close()
    return (sampled - idle) / count * 1e6, idle, sampled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=5000.0, help="load commands per second")
    parser.add_argument("--fast-samples", type=int, default=2000)
    parser.add_argument("--load", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load(int(args.load[0]), float(args.load[1]), float(args.load[2]))
        return
    with tempfile.TemporaryDirectory(prefix="redline-bench-redis-") as folder:
        proc, port = start_redis(Path(folder))
        try:
            report(port, args)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def report(port: int, args: argparse.Namespace) -> None:
    per_command: dict[bool, list[float]] = {False: [], True: []}
    cpu_share: dict[bool, list[float]] = {False: [], True: []}
    for run in range(args.runs):
        for sampled in (False, True) if run % 2 == 0 else (True, False):
            cpu_s, commands = one_run(port, args, sampled=sampled)
            per_command[sampled].append(cpu_s / commands * 1e6)
            cpu_share[sampled].append(cpu_s / args.duration)
            label = "sampled" if sampled else "alone  "
            print(f"run {run + 1} {label}: {commands:,} commands, Redis CPU {cpu_s:.3f} s, "
                  f"{cpu_s / commands * 1e6:.3f} µs/command", file=sys.stderr)  # fmt: skip
    cost_us, idle_s, sampled_s = probe_cost(port, args.fast_samples)
    alone = statistics.median(per_command[False])
    with_probe = statistics.median(per_command[True])
    busy_s = statistics.median(cpu_share[False])  # Redis CPU seconds per second under the load
    version = redis.Redis(port=port).info("server")["redis_version"]
    print(f"load: {args.rate:,.0f} commands/s for {args.duration:g} s, {args.runs} runs each, "
          f"interleaved; Redis {version}")  # fmt: skip
    print()
    print("| | Redis CPU per command, median (min–max) | Redis CPU, share of a core |")
    print("|---|--:|--:|")
    for sampled, name in ((False, "alone"), (True, "sampled at 1 s")):
        values = per_command[sampled]
        print(f"| {name} | {statistics.median(values):.3f} µs ({min(values):.3f}–"
              f"{max(values):.3f}) | {statistics.median(cpu_share[sampled]):.1%} |")  # fmt: skip
    print()
    print(f"- sampled ÷ alone: {with_probe / alone:.4f} ({with_probe / alone - 1:+.2%})")
    print(f"- Redis CPU per sample (INFO of 5 sections), {args.fast_samples} back to back: "
          f"{cost_us:.1f} µs ({sampled_s:.3f} s sampled, {idle_s:.3f} s idle as long)")  # fmt: skip
    bound = cost_us / 1e6 / busy_s
    print(f"- at 1 sample/s: {cost_us:.1f} µs of Redis CPU per second = {bound:.3%} of Redis's "
          f"CPU under this load ({busy_s:.1%} of a core); target < 1 %: "
          f"{'PASS' if bound < 0.01 else 'FAIL'}")  # fmt: skip
    print(f"- sampling stays under 1 % of Redis's CPU while Redis uses more than "
          f"{cost_us / 1e6 / 0.01:.2%} of a core")  # fmt: skip


if __name__ == "__main__":
    main()
