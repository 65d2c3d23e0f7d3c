"""How long ``redline diagnose`` takes on a one-hour run at 1 s resolution.

Builds a results document shaped like one ``redline run --out`` writes for a
one-hour scalability run (6 held levels of 10 minutes, 3 endpoints, host and
server samples every second, the server's RSS growing slowly), then times:

- ``diagnose(document)``: every rule over the 3,600 seconds;
- the whole command path from the run history: ``json.loads`` of the stored
  document, then ``diagnose``.

Each is run ``--runs`` times; the median and the spread are printed, with the
CPU time (``time.process_time``) beside the wall time.

    .venv/bin/python bench/diagnose_time.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from redline.diagnose import diagnose

SECONDS = 3600
LEVELS = (10, 20, 30, 40, 50, 60)
ENDPOINTS = ("/", "/api/items", "/api/items/{id}")
#: Capacity of the synthetic service, in requests a second (a pool of 8 at 20 ms).
CAPACITY_RPS = 400


def latency(mean_us: float, count: int) -> dict[str, Any]:
    return {
        "count": count, "min": int(mean_us * 0.5), "mean": mean_us, "p50": int(mean_us),
        "p90": int(mean_us * 1.3), "p95": int(mean_us * 1.5), "p99": int(mean_us * 2),
        "p99.9": int(mean_us * 3), "p99.99": int(mean_us * 4), "max": int(mean_us * 5),
        "hdr": "HISTFAAAAA" * 30,
    }  # fmt: skip


def row(endpoint: str, second: int, count: int, mean_us: float) -> dict[str, Any]:
    return {
        "endpoint": endpoint, "second": second, "duration_s": 1, "count": count, "failures": 0,
        "error_rate": 0.0, "rate_per_s": float(count), "outcomes": {"200": count},
        "bytes_in": 40 * count, "bytes_out": 68 * count,
        "service": latency(mean_us, count), "response": latency(mean_us, count),
    }  # fmt: skip


def server_sample(second: int, noise: random.Random) -> dict[str, Any]:
    return {
        "second": second, "duration_s": 1.0, "processes": 1, "cpu_user_s": 0.1,
        "cpu_system_s": 0.05, "cpu": 0.15 + noise.random() * 0.05, "max_thread_cpu": 0.12,
        "max_thread_name": "python3", "max_thread_pid": 4242, "max_process_cpu": 0.15,
        "cores_available": 2.0, "voluntary_switches_per_s": 800.0,
        "involuntary_switches_per_s": 50.0, "read_bytes_per_s": 0.0, "write_bytes_per_s": 0.0,
        "rss_bytes": 60_000_000 + second * 2_000 + noise.randint(0, 500_000),
        "uss_bytes": 40_000_000, "threads": 4, "open_fds": 80, "max_open_fds_per_process": 80,
        "fd_soft_limit": 20000, "tcp_states": {"listen": 1, "established": 68},
        "tcp_inbound_by_local_port": {"8080": 60}, "tcp_outbound_by_remote_port": {"5432": 8},
    }  # fmt: skip


def host_sample(second: int) -> dict[str, Any]:
    return {
        "second": second, "duration_s": 1.0, "cpu_user": 0.3, "cpu_system": 0.2,
        "cpu_iowait": 0.0, "cpu_steal": 0.0, "load1": 1.2, "procs_running": 2,
        "mem_available_bytes": 20_000_000_000, "mem_used_bytes": 4_000_000_000,
        "swap_used_bytes": 0, "context_switches_per_s": 9000.0, "net_in_bytes_per_s": 1e6,
        "net_in_packets_per_s": 9000.0, "net_out_bytes_per_s": 1e6,
        "net_out_packets_per_s": 9000.0, "tcp_established": 80, "tcp_time_wait": 200,
        "listen_overflows": 0, "listen_drops": 0,
    }  # fmt: skip


def one_hour_document() -> dict[str, Any]:
    noise = random.Random(1)
    per_level = SECONDS // len(LEVELS)
    overall, intervals, generator, servers, hosts, phases = [], [], [], [], [], []
    for second in range(SECONDS):
        vus = LEVELS[second // per_level]
        rps = min(vus / 0.02, CAPACITY_RPS)
        mean_us = vus / rps * 1e6
        count = int(rps)
        overall.append(row("*", second, count, mean_us))
        intervals += [row(e, second, count // len(ENDPOINTS), mean_us) for e in ENDPOINTS]
        generator.append({"second": second, "cpu_s": 0.05, "loop_lag_max_us": 900,
                          "loop_lag_p99_us": 500, "send_lag_p99_us": 0, "active_vus": vus,
                          "dropped_iterations": 0, "iterations": count, "pacing_misses": 0,
                          "workers": 2})  # fmt: skip
        servers.append(server_sample(second, noise))
        hosts.append(host_sample(second))
    for index, vus in enumerate(LEVELS):
        rps = min(vus / 0.02, CAPACITY_RPS)
        phases.append({"name": f"step {index + 1}", "kind": "hold", "level": float(vus),
                       "unit": "VUs", "start_s": float(index * per_level),
                       "end_s": float((index + 1) * per_level), "warmup_s": 10.0,
                       "requests": [], "count": int(rps * per_level), "rps": rps,
                       "error_rate": 0.0, "p50_us": int(vus / rps * 1e6),
                       "p95_us": int(vus / rps * 1.5e6), "p99_us": int(vus / rps * 2e6),
                       "covered_end_s": float((index + 1) * per_level)})  # fmt: skip
    return {
        "schema_version": 2,
        "run": {"id": "bench-one-hour", "status": "completed"},
        "plan": {"think_time": None, "pacing": None},
        "self_check": {"generator_bound": False, "reasons": [], "cpu_share": 0.05},
        "analysis": {"unit": "VUs", "phases": phases},
        "series": {
            "endpoints": list(ENDPOINTS),
            "overall": overall,
            "intervals": intervals,
            "generator": generator,
        },  # fmt: skip
        "resources": {
            "interval_s": 1.0,
            "server_pid": 4242,
            "host": hosts,
            "server": servers,
            "notes": [],
            "host_info": {"cpus": 2, "ephemeral_ports": 28232, "somaxconn": 4096},
        },  # fmt: skip
    }


def timed(call: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def line(name: str, walls: list[float], cpus: list[float]) -> str:
    return (
        f"| {name} | {statistics.median(walls) * 1000:,.0f} ms "
        f"({min(walls) * 1000:,.0f}–{max(walls) * 1000:,.0f}) | "
        f"{statistics.median(cpus) * 1000:,.0f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    document = one_hour_document()
    stored = json.dumps(document)
    diagnosis = diagnose(document)
    print(f"document: {SECONDS} s, {len(stored) / 1e6:,.1f} MB as JSON; "
          f"findings: {[f.rule for f in diagnosis.findings]}")  # fmt: skip
    print("| step | wall, median (min–max) | CPU, median |")
    print("|---|--:|--:|")
    print(line("diagnose(document)", *timed(lambda: diagnose(document), args.runs)))
    print(line("json.loads + diagnose", *timed(lambda: diagnose(json.loads(stored)), args.runs)))


if __name__ == "__main__":
    main()
