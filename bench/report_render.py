"""How long the HTML report takes to render for a one-hour run, and to open in a browser.

Builds a results document shaped like one ``redline run --out`` writes for a
one-hour stepped run at 1 s resolution (3,600 seconds, 6 held levels of 10
minutes, 4 endpoints, host and server samples every second, a few errors, the
whole run's and each endpoint's HdrHistogram), then times:

- ``render_html_report(document)``: the page, from the document (diagnosis included);
- opening the written file in headless chromium (Debian's, through Playwright):
  the navigation's ``loadEventEnd``, in a fresh page each time.

Each is run ``--runs`` times; the median and the spread are printed.

    .venv/bin/python bench/report_render.py --runs 7
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from redline.metrics import LatencyHistogram
from redline.report.html import render_html_report

SECONDS = 3600
LEVELS = (10, 20, 30, 40, 50, 60)
ENDPOINTS = ("/", "/api/items", "/api/items/{id}", "/api/cart")
CHROMIUM = "/usr/bin/chromium"


def latency(mean_us: float, count: int) -> dict[str, Any]:
    return {
        "count": count, "min": int(mean_us * 0.5), "mean": mean_us, "p50": int(mean_us),
        "p90": int(mean_us * 1.3), "p95": int(mean_us * 1.5), "p99": int(mean_us * 2),
        "p99.9": int(mean_us * 3), "p99.99": int(mean_us * 4), "max": int(mean_us * 5),
    }  # fmt: skip


def row(endpoint: str, second: int, count: int, mean_us: float, errors: int) -> dict[str, Any]:
    outcomes = {"200": count - errors, **({"timeout": errors} if errors else {})}
    return {
        "endpoint": endpoint, "second": second, "duration_s": 1, "count": count,
        "failures": errors, "error_rate": errors / count, "rate_per_s": float(count),
        "outcomes": outcomes, "bytes_in": 40 * count, "bytes_out": 68 * count,
        "service": latency(mean_us, count), "response": latency(mean_us, count),
    }  # fmt: skip


def host(second: int, level: float) -> dict[str, Any]:
    return {
        "second": second, "duration_s": 1.0, "cpu_user": level / 200, "cpu_system": level / 400,
        "cpu_iowait": 0.0, "cpu_steal": 0.0, "cpu_busiest_core": level / 100, "load1": 1.2,
        "procs_running": 2, "mem_available_bytes": 20_000_000_000,
        "mem_used_bytes": 4_000_000_000, "swap_used_bytes": 0, "context_switches_per_s": 9000.0,
        "net_in_bytes_per_s": 1e4 * level, "net_in_packets_per_s": 9000.0,
        "net_out_bytes_per_s": 2e4 * level, "net_out_packets_per_s": 9000.0,
        "tcp_established": 80, "tcp_time_wait": 200, "listen_overflows": 0, "listen_drops": 0,
    }  # fmt: skip


def server(second: int, level: float, noise: np.random.Generator) -> dict[str, Any]:
    return {
        "second": second, "duration_s": 1.0, "processes": 1, "cpu": level / 40,
        "max_thread_cpu": min(1.0, level / 60), "max_thread_name": "python3",
        "max_thread_pid": 4242, "cores_available": 2.0,
        "rss_bytes": 60_000_000 + second * 2_000 + int(noise.integers(0, 500_000)),
        "uss_bytes": 40_000_000, "threads": 4, "open_fds": 20 + int(level),
        "tcp_inbound_by_local_port": {"8080": int(level)},
        "tcp_outbound_by_remote_port": {"5432": 8},
    }  # fmt: skip


def summary(rps_total: float, noise: np.random.Generator) -> dict[str, Any]:
    """The whole run's and each endpoint's statistics, with real encoded histograms."""
    histogram = LatencyHistogram()
    histogram.record_many(noise.lognormal(mean=9.5, sigma=0.6, size=400_000).astype(np.int64))
    encoded = histogram.encode()
    total = {**row("*", 0, 1_000_000, 15_000.0, 2_000), "rps": rps_total}
    total["response"] = {**total["response"], "hdr": encoded}
    endpoints = {
        name: {**row(name, 0, 250_000, 15_000.0, 500), "rps": rps_total / len(ENDPOINTS)}
        for name in ENDPOINTS
    }
    for stats in endpoints.values():
        stats["response"] = {**stats["response"], "hdr": encoded}
    return {"histogram_relative_error": 0.001, "total": total, "endpoints": endpoints}


def one_hour_document() -> dict[str, Any]:
    noise = np.random.default_rng(7)
    per_level = SECONDS // len(LEVELS)
    intervals, overall, generator, hosts, servers = [], [], [], [], []
    for second in range(SECONDS):
        level = float(LEVELS[second // per_level])
        mean_us = 5_000 + 300 * level + float(noise.normal(0, 200))
        errors = 1 if second % 97 == 0 else 0
        rows = [row(name, second, int(level * 5), mean_us, errors) for name in ENDPOINTS]
        intervals += rows
        overall.append(row("*", second, sum(r["count"] for r in rows), mean_us, errors * 4))
        generator.append({"second": second, "cpu_s": 0.1, "loop_lag_p99_us": 900,
                          "send_lag_p99_us": 0, "active_vus": int(level)})  # fmt: skip
        hosts.append(host(second, level))
        servers.append(server(second, level, noise))
    phases = [
        {
            "name": f"step {i + 1}", "kind": "hold", "start_s": float(i * per_level),
            "end_s": float((i + 1) * per_level), "level": float(level), "unit": "VUs",
            "warmup_s": 10.0, "requests": [], "count": level * 20 * per_level,
            "rps": level * 20.0, "error_rate": 0.001, "p50_us": 5_000 + 300 * level,
            "p95_us": int(7_000 + 500 * level), "p99_us": int(9_000 + 700 * level),
            "covered_end_s": float((i + 1) * per_level),
        }
        for i, level in enumerate(LEVELS)
    ]  # fmt: skip
    return {
        "schema_version": 2,
        "redline_version": "bench",
        "run": {
            "id": "20261128-000000-bench0",
            "name": "one-hour",
            "elapsed_s": SECONDS,
            "started_at": "2026-11-28T00:00:00+00:00",
            "status": "completed",
            "partial": False,
            "workers": 2,
            "aborted_by": None,
        },  # fmt: skip
        "plan": {
            "name": "one-hour",
            "think_time": 0.0,
            "pacing": None,
            "executor": {"type": "ramping-vus"},
            "requests": [{"name": n, "url": f"http://127.0.0.1:8080{n}"} for n in ENDPOINTS],
        },
        "summary": summary(700.0, noise),
        "thresholds": [
            {
                "threshold": "p95<50ms",
                "passed": True,
                "observed": 37_000.0,
                "failed_at_s": None,
                "abort": False,
            }
        ],  # fmt: skip
        "self_check": {
            "cpu_share": 0.1,
            "generator_bound": False,
            "reasons": [],
            "dropped_iterations": 0,
        },  # fmt: skip
        "analysis": {"type": "scalability", "unit": "VUs", "phases": phases},
        "series": {
            "endpoints": list(ENDPOINTS),
            "intervals": intervals,
            "overall": overall,
            "generator": generator,
        },  # fmt: skip
        "resources": {
            "interval_s": 1.0,
            "server_pid": 4242,
            "host_info": {"cpus": 2},
            "host": hosts,
            "server": servers,
            "notes": [],
        },  # fmt: skip
    }


def spread(values: list[float]) -> str:
    return (
        f"{statistics.median(values) * 1000:,.0f} ms "
        f"({min(values) * 1000:,.0f}–{max(values) * 1000:,.0f})"
    )


def time_render(document: dict[str, Any], runs: int) -> tuple[list[float], str]:
    walls, page = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        page = render_html_report(document)
        walls.append(time.perf_counter() - start)
    return walls, page


def time_open(path: Path, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    loads = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(path.as_uri(), wait_until="load")
                load_ms = page.evaluate(
                    "performance.getEntriesByType('navigation')[0].loadEventEnd"
                )
                loads.append(float(load_ms) / 1000)
                page.close()
        finally:
            browser.close()
    return loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    document = one_hour_document()
    walls, page = time_render(document, args.runs)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "report.html"
        path.write_text(page, encoding="ascii")
        loads = time_open(path, args.runs)
    print(f"document: {SECONDS:,} s x {len(ENDPOINTS)} endpoints; page {len(page) / 1e6:.2f} MB")
    print(f"render_html_report: {spread(walls)}  median (min–max) of {args.runs}")
    print(f"chromium load event: {spread(loads)}  median (min–max) of {args.runs}")


if __name__ == "__main__":
    main()
