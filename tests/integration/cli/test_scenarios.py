"""Several scenarios in one plan, end to end: each starts when its plan says, at its own load."""

from __future__ import annotations

from pathlib import Path

from redline.demo.capacity import capacity_server
from tests.integration.cli.test_run import redline, results

PLAN = """
name = "shop"
base_url = "{url}"
workers = 2

[[requests]]
name = "browse"
url = "/browse"

[[requests]]
name = "pay"
url = "/pay"

[scenarios.browsers]
requests = ["browse"]
executor = {{ type = "constant-vus", vus = 4, duration = "12s" }}

[scenarios.buyers]
requests = ["pay"]
start_time = "4s"
executor = {{ type = "constant-arrival-rate", rate = "20/s", duration = "10s" }}
"""


def test_scenarios_run_side_by_side_from_their_start_times(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    plan = tmp_path / "shop.toml"
    with capacity_server(slots=8, service_s=0.005) as server:
        plan.write_text(PLAN.format(url=server.url.rstrip("/")))
        proc = redline("run", str(plan), "--quiet", "--out", str(out))
        paths, first, last = dict(server.paths), server.first_seen, server.last_seen
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Buyers start 4 s after browsers (within the scheduler's and the machine's slack).
    assert 3.8 <= first["/pay"] - first["/browse"] <= 4.5
    assert 9.5 <= last["/pay"] - first["/pay"] <= 10.2
    assert paths["/pay"] == 200  # 20/s for 10 s, exactly, across 2 workers
    data = results(out)
    by_name = {s["name"]: s for s in data["analysis"]["scenarios"]}
    assert by_name["buyers"]["count"] == 200
    assert by_name["buyers"]["requests"] == ["pay"]
    assert abs(by_name["buyers"]["rps"] - 20) < 1
    assert by_name["browsers"]["count"] == paths["/browse"]
    assert data["run"]["elapsed_s"] >= 13.9  # the last arrival is due at 4 s + 9.95 s
    assert "scenarios" in proc.stdout


STEPS_PLAN = """
base_url = "{url}"
workers = 2

[[requests]]
name = "browse"
url = "/browse"

[[requests]]
name = "cart"
url = "/cart"

[[requests]]
name = "pay"
url = "/pay"

[scenarios.browsers]
requests = ["browse"]
executor = {{ type = "constant-vus", vus = 2, duration = "10s" }}

[scenarios.buyers]
executor = {{ type = "constant-arrival-rate", rate = "10/s", duration = "10s" }}
steps = [{{ request = "cart", think_time = "50ms" }}, {{ request = "pay" }}]
"""


def test_a_scenario_runs_its_own_steps_in_every_iteration(tmp_path: Path) -> None:
    plan = tmp_path / "steps.toml"
    with capacity_server(slots=8, service_s=0.002) as server:
        plan.write_text(STEPS_PLAN.format(url=server.url.rstrip("/")))
        proc = redline("run", str(plan), "--quiet")
        paths = dict(server.paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # 100 iterations of the buyers, each sending both steps; browsers never do.
    assert paths["/cart"] == paths["/pay"] == 100
    assert paths["/browse"] > 100
