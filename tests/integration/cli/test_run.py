"""``redline run`` end to end: a real process, real workers, servers on loopback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import LoopbackServer

#: Generous bound for one short run, including worker start-up on a busy machine.
RUN_TIMEOUT_S = 60


def redline(*args: str, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def results(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_iterations_run_to_completion_on_keep_alive(
    http_server: LoopbackServer, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    proc = redline(
        "run",
        f"{http_server.url}/",
        "--vus",
        "4",
        "--iterations",
        "200",
        "--workers",
        "2",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    data = results(out)
    assert data["schema_version"] == 2
    assert len(data["run"]["id"]) == len("20261128-101500-a1b2c3")
    assert data["run"]["status"] == "completed"
    assert data["run"]["partial"] is False
    total = data["summary"]["total"]
    assert total["count"] == 200
    assert total["failures"] == 0
    assert len(http_server.requests) == 200
    assert http_server.connections == 4  # one keep-alive connection per VU
    assert data["series"], "per-second series are written"
    assert "requests" in proc.stdout


def test_failed_threshold_sets_its_exit_code(http_server: LoopbackServer, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = redline(
        "run",
        f"{http_server.url}/",
        "--vus",
        "2",
        "--iterations",
        "50",
        "--workers",
        "1",
        "--threshold",
        "p95<1us",
        "--threshold",
        "error_rate<1%",
        "--out",
        str(out),
    )
    assert proc.returncode == 99, proc.stderr
    outcomes = {t["threshold"]: t["passed"] for t in results(out)["thresholds"]}
    assert outcomes == {"p95<1us": False, "error_rate<1%": True}
    assert "FAIL" in proc.stdout


def test_abort_threshold_stops_the_run_early(http_server: LoopbackServer, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    started = time.monotonic()
    proc = redline(
        "run",
        f"{http_server.url}/missing",
        "--vus",
        "2",
        "--duration",
        "30s",
        "--workers",
        "1",
        "--threshold",
        "error_rate<1%:abort",
        "--out",
        str(out),
    )
    assert proc.returncode == 100, proc.stderr
    assert time.monotonic() - started < 20
    data = results(out)
    assert data["run"]["status"] == "aborted"
    assert data["run"]["aborted_by"] == "error_rate<1%:abort"
    assert data["summary"]["total"]["outcomes"]["404"] > 0


def test_target_down_counts_refused_connections(unused_port: int, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = redline(
        "run",
        f"http://127.0.0.1:{unused_port}/",
        "--vus",
        "2",
        "--iterations",
        "20",
        "--workers",
        "1",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    total = results(out)["summary"]["total"]
    assert total["count"] == 20
    assert total["failures"] == 20
    assert total["outcomes"] == {"refused": 20}
    assert "refused" in proc.stdout


def test_garbage_and_timeouts_are_classified(http_server: LoopbackServer, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f"""
name = "misbehaving"
base_url = "{http_server.url}"
request_timeout = "300ms"
[executor]
type = "shared-iterations"
vus = 2
iterations = 6
[[requests]]
name = "garbage"
url = "/garbage"
[[requests]]
name = "slow"
url = "/slow"
"""
    )
    out = tmp_path / "r.json"
    proc = redline("run", str(plan), "--workers", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    endpoints = results(out)["summary"]["endpoints"]
    assert set(endpoints["garbage"]["outcomes"]) == {"protocol"}
    assert set(endpoints["slow"]["outcomes"]) == {"timeout"}
    assert endpoints["garbage"]["count"] + endpoints["slow"]["count"] == 6


def test_plan_checks_and_extraction(http_server: LoopbackServer, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f"""
name = "checks"
base_url = "{http_server.url}"
[executor]
type = "per-vu-iterations"
vus = 2
iterations = 10
[[requests]]
name = "home"
url = "/"
weight = 3
expect_status = [200]
extract = {{ greeting = "(hello)" }}
[[requests]]
name = "wants-201"
url = "/"
expect_status = [201]
"""
    )
    out = tmp_path / "r.json"
    proc = redline("run", str(plan), "--workers", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    endpoints = results(out)["summary"]["endpoints"]
    assert endpoints["home"]["failures"] == 0
    assert endpoints["wants-201"]["outcomes"] == {"check_failed": endpoints["wants-201"]["count"]}
    assert endpoints["home"]["count"] + endpoints["wants-201"]["count"] == 20
    assert endpoints["home"]["count"] > endpoints["wants-201"]["count"]


def test_tls_with_a_self_signed_certificate(https_server: LoopbackServer, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = redline(
        "run",
        f"{https_server.url}/",
        "--vus",
        "2",
        "--iterations",
        "20",
        "--workers",
        "1",
        "--insecure",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert results(out)["summary"]["total"]["outcomes"] == {"200": 20}
    verified = redline(
        "run",
        f"{https_server.url}/",
        "--vus",
        "1",
        "--iterations",
        "3",
        "--workers",
        "1",
        "--out",
        str(out),
    )
    assert verified.returncode == 0, verified.stderr
    assert results(out)["summary"]["total"]["outcomes"] == {"tls": 3}


def test_open_model_sends_every_arrival(http_server: LoopbackServer, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = redline(
        "run",
        f"{http_server.url}/",
        "--rate",
        "200/s",
        "--duration",
        "10s",
        "--workers",
        "2",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    data = results(out)
    assert data["summary"]["total"]["count"] == 2000
    assert data["summary"]["dropped_iterations"] == 0
    assert len(http_server.requests) == 2000


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stop_signal_keeps_partial_results(
    http_server: LoopbackServer, tmp_path: Path, signum: signal.Signals
) -> None:
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "redline",
            "run",
            f"{http_server.url}/",
            "--vus",
            "4",
            "--duration",
            "60s",
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(4)
        proc.send_signal(signum)
        signalled = time.monotonic()
        stdout, stderr = proc.communicate(timeout=30)
        stopped_in_s = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert stopped_in_s < 2.5
    data = results(out)
    assert data["run"]["partial"] is True
    assert data["run"]["status"] == "interrupted"
    assert data["summary"]["total"]["count"] > 0
    assert "partial" in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vus", "0"], "1..50000"),
        (["--vus", "50001"], "1..50000"),
        (["--duration", "5s"], "10s..24h"),
        (["--duration", "25h"], "10s..24h"),
        (["--rate", "0.05/s"], "0.1/s..100000/s"),
        (["--rate", "100001/s"], "0.1/s..100000/s"),
        (["--timeout", "50ms"], "100ms..5m"),
        (["--vus", "5", "--rate", "10/s"], "--vus"),
        (["--threshold", "p95<<3"], "--threshold"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    proc = redline("run", "http://127.0.0.1:9/", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    first = proc.stderr.strip().splitlines()[0]
    assert first.startswith("error:") and message in first


@pytest.mark.parametrize(
    "url", ["http://example.com/", "http://10.0.0.1/", "ftp://127.0.0.1/", "127.0.0.1:80"]
)
def test_targets_out_of_scope_are_refused_before_any_request(url: str) -> None:
    proc = redline("run", url, "--vus", "1", "--duration", "10s")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error:")


def test_python_scenario(http_server: LoopbackServer, tmp_path: Path) -> None:
    scenario = tmp_path / "flow.py"
    scenario.write_text(
        f"""
from redline.scenario import Scenario

scenario = Scenario(
    name="flow",
    base_url="{http_server.url}",
    requests=[{{"name": "home", "url": "/"}}, {{"name": "echo", "method": "POST", "url": "/echo",
               "body": "token=abc"}}],
    executor={{"type": "per-vu-iterations", "vus": 2, "iterations": 5}},
)

@scenario.iteration
async def iteration(session):
    home = await session.request("home")
    home.expect_status(200)
    echo = await session.request("echo")
    session.variables["token"] = echo.extract(rb"token=(\\w+)")
    if session.variables["token"] != b"abc":
        raise RuntimeError("extraction broke")
"""
    )
    out = tmp_path / "r.json"
    proc = redline("run", str(scenario), "--workers", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    data = results(out)
    endpoints = data["summary"]["endpoints"]
    assert endpoints["home"]["outcomes"] == {"200": 10}
    assert endpoints["echo"]["outcomes"] == {"200": 10}
    assert data["run"]["script_errors"] == {}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n", "'scenario' is NoneType"),
        ("raise ValueError('oops')\n", "importing it raised ValueError: oops"),
        (
            "from redline.scenario import Scenario\nscenario = Scenario(requests=[])\n",
            "no iteration function",
        ),
    ],
)
def test_bad_scenario_files_are_one_line_errors(tmp_path: Path, source: str, message: str) -> None:
    scenario = tmp_path / "bad.py"
    scenario.write_text(source)
    proc = redline("run", str(scenario))
    assert proc.returncode == 2
    assert message in proc.stderr.splitlines()[0]


def test_more_workers_than_vus_is_fine(http_server: LoopbackServer, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    started = time.monotonic()
    proc = redline(
        "run", f"{http_server.url}/", "--vus", "1", "--iterations", "5", "--workers", "4",
        "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 30
    data = results(out)
    assert data["summary"]["total"]["count"] == 5
    assert data["run"]["workers"] == 1


def _can_raise_hard_open_files_limit() -> bool:
    probe = (
        "import resource; s, h = resource.getrlimit(resource.RLIMIT_NOFILE);"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (s, h + 1))"
    )
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def test_an_open_files_limit_too_low_is_bad_input() -> None:
    if _can_raise_hard_open_files_limit():
        pytest.skip("this process may raise its hard open-files limit (CAP_SYS_RESOURCE)")
    code = (
        "import resource, sys, runpy;"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (1000, 1000));"
        "sys.argv=['redline','run','http://127.0.0.1:9/','--vus','5000','--duration','10s',"
        "'--workers','1'];"
        "runpy.run_module('redline', run_name='__main__')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "open files: 5064 descriptors are needed" in proc.stderr.splitlines()[0]
