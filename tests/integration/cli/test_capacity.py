"""``redline capacity`` on a real stepped run against a target of known capacity.

4 slots x 10 ms: 400 req/s at most, reached with 4 VUs' worth of concurrency.
A scalability run of 6 steps up to 24 VUs (4, 8, ... 24) is saved with
``--db``; ``redline capacity`` then reads it back from the store.
"""

from __future__ import annotations

from pathlib import Path

from redline.demo.capacity import capacity_server
from tests.integration.cli.test_run import redline


def test_capacity_fits_a_stored_scalability_run_and_answers_the_sla(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with capacity_server(slots=4, service_s=0.01) as server:
        run = redline(
            "run", server.url, "--type", "scalability", "--target", "24", "--steps", "6",
            "--duration", "36s", "--workers", "1", "--quiet", "--history", str(db),
        )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    run_id = run.stdout.split("saved as run ")[1].split()[0]
    proc = redline("capacity", run_id, "--history", str(db), "--sla", "p95<50ms")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "USL fit (6 points): σ = " in out
    assert "highest throughput with p95 ≤ 50.00 ms" in out
    assert "measured, interpolated: " in out
    # Throughput flattens at the target's capacity: what the fit predicts is near it.
    max_rps = float(out.split("max throughput ")[1].split(" req/s")[0].replace(",", ""))
    assert 300 < max_rps <= 420
    # Closed-model levels against a healthy generator: Little's law holds everywhere.
    assert "broken" not in out


def test_capacity_refuses_an_unknown_run_with_one_line(tmp_path: Path) -> None:
    proc = redline("capacity", "nope", "--history", str(tmp_path / "empty.db"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: run 'nope': no stored run has this id")
