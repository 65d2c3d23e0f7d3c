"""Test types end to end: the shape happened at the server, and the verdicts are right.

Each test starts a :class:`CapacityServer` whose capacity it sets, runs
``redline run --type ...`` against it and reads the results file.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from redline.demo.capacity import capacity_server
from tests.integration.cli.test_run import redline, results


def test_stress_stops_at_the_first_step_that_breaks_and_names_the_breaking_point(
    tmp_path: Path,
) -> None:
    # 2 slots x 20 ms: 100 req/s; more than 8 waiting get a 503 at once. Steps
    # of 4, 8, 12, 16, 20 VUs: 8 VUs fill the queue exactly, 12 overflow it.
    out = tmp_path / "stress.json"
    with capacity_server(slots=2, service_s=0.02, queue_limit=8) as server:
        proc = redline(
            "run", server.url, "--type", "stress", "--target", "8", "--duration", "25s",
            "--workers", "1", "--quiet", "--out", str(out),
        )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = results(out)
    assert data["run"]["status"] == "broke"
    point = data["analysis"]["breaking_point"]
    assert point["last_good"]["name"] == "step 2"
    assert point["last_good"]["level"] == 8
    assert point["first_bad"]["name"] == "step 3"
    assert point["first_bad"]["level"] == 12
    assert point["first_bad"]["error_rate"] > 0.05
    # Stopped during step 3 (15 s..), not at the planned 25 s.
    assert data["run"]["elapsed_s"] < 20
    assert "breaking point: 8 VUs" in proc.stdout


def test_breakpoint_ramps_the_rate_until_errors_pass_the_limit(tmp_path: Path) -> None:
    # Capacity 100 req/s, a queue of 10; the rate ramps 20/s -> 400/s over 40 s.
    out = tmp_path / "breakpoint.json"
    with capacity_server(slots=2, service_s=0.02, queue_limit=10) as server:
        proc = redline(
            "run", server.url, "--type", "breakpoint", "--target", "400/s",
            "--duration", "40s", "--workers", "1", "--quiet", "--out", str(out),
        )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = results(out)
    assert data["run"]["status"] == "broke"
    point = data["analysis"]["breaking_point"]
    # Windows of 5 s: the first (mean 44/s) holds; the breach comes once the
    # rate passes the capacity (at about 8 s), so within the first three windows.
    assert point["last_good"] is not None
    assert point["last_good"]["level"] < 100
    assert 100 < point["first_bad"]["level"] < 200
    assert data["run"]["elapsed_s"] < 25


def test_spike_shape_arrives_at_the_server_and_recovery_is_reported(tmp_path: Path) -> None:
    # 40/s, then 200/s for 4 s, then 40/s; 8 slots x 5 ms: far below capacity.
    out = tmp_path / "spike.json"
    with capacity_server(slots=8, service_s=0.005) as server:
        proc = redline(
            "run", server.url, "--type", "spike", "--target", "40/s", "--spike-factor", "5",
            "--duration", "20s", "--workers", "2", "--quiet", "--out", str(out),
        )  # fmt: skip
        per_second = server.arrivals_per_second(since=server.arrivals[0])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # before: 0..6 s at 40/s; rise 6..7 s; spike 7..10 s at 200/s; recovery 10..20 s at 40/s.
    before, spike, after = per_second[1:5], per_second[7:10], per_second[11:19]
    assert abs(statistics.median(before) - 40) <= 4, per_second
    assert abs(statistics.median(spike) - 200) <= 20, per_second
    assert abs(statistics.median(after) - 40) <= 4, per_second
    verdict = results(out)["analysis"]["spike"]
    assert verdict["spike_errors"] == 0
    assert verdict["recovery_s"] is not None
    assert verdict["recovery_s"] <= 5
    assert "recovered (p95 within 10% of before)" in proc.stdout


def test_volume_spreads_requests_over_its_rows_and_sizes_bodies(tmp_path: Path) -> None:
    out = tmp_path / "volume.json"
    with capacity_server(slots=8, service_s=0.001) as server:
        proc = redline(
            "run", f"{server.url}items/${{row}}", "--type", "volume", "--target", "4",
            "--rows", "50", "--duration", "10s", "--method", "POST", "--body-size", "4KiB",
            "--quiet", "--out", str(out),
        )  # fmt: skip
        paths = dict(server.paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {int(p.rsplit("/", 1)[1]) for p in paths}
    assert rows <= set(range(50))
    assert len(rows) == 50  # thousands of requests over 50 records: every one was hit
    steady = next(p for p in results(out)["analysis"]["phases"] if p["name"] == "steady")
    assert steady["bytes_out_per_s"] > 4096 * steady["rps"]  # the 4 KiB bodies were sent
