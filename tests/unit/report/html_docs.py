"""Results documents for the HTML report's tests, built from real histograms and series.

:func:`results_document` makes a document shaped as ``redline run --out`` writes
it (schema 2): per-second series with encoded HdrHistograms, a whole-run summary,
phases, thresholds, resources; every figure follows from a fixed recipe, so the
same call gives the same document (and the same page) every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from redline.metrics import GeneratorStats, IntervalStats, LatencyHistogram, RunSeries

#: The fixed run id and start time of every built document.
RUN_ID = "20261128-120000-abc123"
STARTED_AT = "2026-11-28T12:00:00+00:00"


def _latencies(second: int, endpoint_index: int, count: int, level: float) -> np.ndarray:
    """``count`` latencies (µs): a base that grows with the level, and a slow tail."""
    base = 2_000 + 1_500 * level + 500 * endpoint_index
    steps = np.arange(count, dtype=np.float64)
    values = base * (1.0 + 0.5 * np.sin(steps * 0.7 + second)) + (steps % 50 == 0) * base * 8
    return values.astype(np.int64) + 1


def _interval(
    endpoint: str, second: int, index: int, count: int, level: float, errors: dict[str, int]
) -> IntervalStats:
    response = LatencyHistogram()
    response.record_many(_latencies(second, index, count, level))
    failures = sum(errors.values())
    outcomes: dict[int | str, int] = {200: count - failures}
    outcomes.update({(int(k) if k.isdigit() else k): n for k, n in errors.items()})
    return IntervalStats(
        endpoint=endpoint, second=second, count=count, failures=failures, outcomes=outcomes,
        bytes_in=40 * count, bytes_out=60 * count, service=response.copy(), response=response,
    )  # fmt: skip


def _server(second: int, level: float) -> dict[str, Any]:
    return {
        "second": second, "duration_s": 1.0, "processes": 1, "cpu_user_s": 0.2,
        "cpu_system_s": 0.1, "cpu": 0.2 * level, "max_thread_cpu": 0.18 * level,
        "max_thread_name": "python3", "max_thread_pid": 4242, "max_process_cpu": 0.2 * level,
        "cores_available": 2.0, "voluntary_switches_per_s": 800.0,
        "involuntary_switches_per_s": 50.0, "read_bytes_per_s": 0.0, "write_bytes_per_s": 0.0,
        "rss_bytes": 60_000_000 + second * 100_000, "uss_bytes": 40_000_000, "threads": 4,
        "open_fds": 20 + int(level), "max_open_fds_per_process": 20, "fd_soft_limit": 1024,
        "tcp_states": {"listen": 1, "established": int(level)},
        "tcp_inbound_by_local_port": {"8080": int(level)}, "tcp_outbound_by_remote_port": {},
    }  # fmt: skip


def _host(second: int, level: float) -> dict[str, Any]:
    return {
        "second": second, "duration_s": 1.0, "cpu_user": 0.1 * level, "cpu_system": 0.05 * level,
        "cpu_iowait": 0.0, "cpu_steal": 0.0, "cpu_busiest_core": 0.2 * level, "load1": 1.0,
        "procs_running": 2, "mem_available_bytes": 6_000_000_000,
        "mem_used_bytes": 2_000_000_000, "swap_used_bytes": 0,
        "context_switches_per_s": 9000.0, "net_in_bytes_per_s": 100_000.0 * level,
        "net_in_packets_per_s": 900.0, "net_out_bytes_per_s": 80_000.0 * level,
        "net_out_packets_per_s": 900.0, "tcp_established": 10, "tcp_time_wait": 50,
        "listen_overflows": 0, "listen_drops": 0,
    }  # fmt: skip


def _phases(levels: Sequence[float], per_level_s: int, series: RunSeries) -> list[dict[str, Any]]:
    phases = []
    for number, level in enumerate(levels):
        start = number * per_level_s
        window = series.window(start + 1, start + per_level_s - 1)
        response = window.response
        seconds = per_level_s - 1
        phases.append({
            "name": f"step {number + 1}", "kind": "hold", "start_s": float(start),
            "end_s": float(start + per_level_s), "level": float(level), "unit": "VUs",
            "warmup_s": 1.0, "requests": [], "count": window.count, "rps": window.count / seconds,
            "error_rate": window.error_rate, "p50_us": response.value_at_percentile(50),
            "p95_us": response.value_at_percentile(95), "p99_us": response.value_at_percentile(99),
            "bytes_in_per_s": window.bytes_in / seconds,
            "bytes_out_per_s": window.bytes_out / seconds, "steady_from_s": None,
            "covered_end_s": float(start + per_level_s),
        })  # fmt: skip
    return phases


def _summary(series: RunSeries, elapsed_s: float) -> dict[str, Any]:
    def summary(stats: IntervalStats) -> dict[str, Any]:
        data = stats.to_dict()
        data["rps"] = stats.count / elapsed_s
        return data

    return {
        "histogram_relative_error": 0.001,
        "total": summary(series.total()),
        "endpoints": {name: summary(series.total(name)) for name in series.endpoints()},
        "dropped_iterations": 0,
    }


def _plan(endpoints: Sequence[str], thresholds: Sequence[str]) -> dict[str, Any]:
    requests = [
        {"name": name, "method": "GET", "url": f"http://127.0.0.1:8080{name}"} for name in endpoints
    ]
    return {
        "name": "shop",
        "requests": requests,
        "executor": {"type": "ramping-vus", "stages": []},
        "thresholds": list(thresholds),
        "think_time": 0.0,
        "pacing": None,
    }


def results_document(
    *,
    endpoints: Sequence[str] = ("/", "/api/items"),
    levels: Sequence[float] = (2, 4, 6),
    per_level_s: int = 5,
    rate_per_vu: int = 40,
    errors_from_s: int | None = None,
    resources: bool = True,
    thresholds: Sequence[tuple[str, bool, float]] = (
        ("p95<50ms", True, 30_000.0),
        ("error_rate<1%", False, 0.02),
    ),
) -> dict[str, Any]:
    """A stepped run over ``levels`` (``per_level_s`` seconds each), as a results document.

    Args:
        endpoints: request names (any text, e.g. markup, to test escaping).
        levels: the VUs of each held step; one level makes a run without steps.
        errors_from_s: from this second on, each second has some timeouts and 503s.
        resources: include host and server samples.
        thresholds: ``(rule, passed, observed)`` of each threshold.
    """
    series = RunSeries()
    seconds = len(levels) * per_level_s
    for second in range(seconds):
        level = float(levels[second // per_level_s])
        for index, name in enumerate(endpoints):
            errors = {}
            if errors_from_s is not None and second >= errors_from_s:
                errors = {"timeout": 1 + index, "503": 2}
            count = int(rate_per_vu * level) // (index + 1)
            series.add(_interval(name, second, index, count, level, errors))
        series.add_generator(
            second, GeneratorStats(cpu_s=0.05, loop_lag_p99_us=800, active_vus=int(level))
        )
    elapsed_s = float(seconds)
    document: dict[str, Any] = {
        "schema_version": 2,
        "redline_version": "0.1.0",
        "run": {
            "id": RUN_ID,
            "name": "shop",
            "started_at": STARTED_AT,
            "elapsed_s": elapsed_s,
            "status": "completed",
            "partial": False,
            "workers": 1,
            "aborted_by": None,
            "interrupted_requests": 0,
            "lost_workers": 0,
            "script_errors": {},
        },  # fmt: skip
        "plan": _plan(endpoints, [t for t, _, _ in thresholds]),
        "summary": _summary(series, elapsed_s),
        "thresholds": [
            {
                "threshold": rule,
                "passed": passed,
                "observed": observed,
                "failed_at_s": None,
                "abort": False,
            }
            for rule, passed, observed in thresholds
        ],  # fmt: skip
        "self_check": {
            "cpu_share": 0.05,
            "loop_lag_p99_us": 800,
            "send_lag_p99_us": 0,
            "dropped_iterations": 0,
            "pacing_misses": 0,
            "generator_bound": False,
            "reasons": [],
        },  # fmt: skip
        "windows": [],
        "analysis": {
            "type": "scalability" if len(levels) > 1 else None,
            "unit": "VUs",
            "phases": _phases(levels, per_level_s, series) if len(levels) > 1 else [],
            "breaking_point": None,
            "spike": None,
            "soak": None,
            "repeat_spread": {},
            "scenarios": [],
        },  # fmt: skip
        "series": series.to_dict(),
        "resources": None,
    }
    if resources:
        document["resources"] = {
            "interval_s": 1.0, "server_pid": 4242, "host_info": {"cpus": 2},
            "host": [_host(s, float(levels[s // per_level_s])) for s in range(seconds)],
            "server": [_server(s, float(levels[s // per_level_s])) for s in range(seconds)],
            "notes": [],
        }  # fmt: skip
    return document
