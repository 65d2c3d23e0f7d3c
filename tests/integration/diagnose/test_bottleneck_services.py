"""``redline run --diagnose`` against services with one known bottleneck each.

Each service (``redline.demo.bottlenecks``) is started by the run itself with
``--server-cmd``, so its process tree is sampled. The right finding must rank
first with the right category, and the CPU and waiting rules must not fire on
each other's service.
"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: Generous bound for one run, including worker start-up on a busy machine.
RUN_TIMEOUT_S = 120
#: A stepped closed-model run: 4, 8, 12 and 16 VUs, 3 s each.
STEPPED = ("--type", "scalability", "--target", "16", "--steps", "4", "--duration", "12s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def service(kind: str, port: int, *flags: str) -> str:
    command = [sys.executable, "-m", "redline.demo.bottlenecks", kind, "--port", str(port)]
    return shlex.join([*command, *flags])


def diagnosed(tmp_path: Path, port: int, command: str, *load: str) -> dict[str, Any]:
    """Run ``load`` against the service ``command`` starts; the findings written to --out."""
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", f"http://127.0.0.1:{port}/", *load,
         "--quiet", "--no-save", "--out", str(out), "--server-cmd", command, "--diagnose"],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "diagnosis of run" in proc.stdout
    document: dict[str, Any] = json.loads(out.read_text())
    return document["diagnosis"]


def rules(diagnosis: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in diagnosis["findings"]]


@pytest.fixture
def slow_downstream() -> Iterator[int]:
    """A downstream that answers after 20 ms, any number at once (started and stopped here)."""
    port = free_port()
    proc = subprocess.Popen(shlex.split(service("slow", port)), stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert b"slow service on" in proc.stdout.readline()
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_cpu_burning_service_is_cpu_bound_first_and_not_waiting(tmp_path: Path) -> None:
    port = free_port()
    diagnosis = diagnosed(tmp_path, port, service("cpu", port), *STEPPED)
    assert diagnosis["findings"], diagnosis
    first = diagnosis["findings"][0]
    assert (first["rule"], first["category"]) == ("cpu-bound", "cpu")
    assert "one thread" in first["title"]
    assert "waiting" not in rules(diagnosis)
    assert "pool-exhaustion" not in rules(diagnosis)


def test_a_small_pool_before_a_slow_downstream_is_exhausted_and_not_cpu(
    tmp_path: Path, slow_downstream: int
) -> None:
    port = free_port()
    command = service("pool", port, "--downstream", str(slow_downstream), "--pool", "4")
    diagnosis = diagnosed(tmp_path, port, command, *STEPPED)
    assert diagnosis["findings"], diagnosis
    first = diagnosis["findings"][0]
    assert (first["rule"], first["category"]) == ("pool-exhaustion", "concurrency")
    assert f"port {slow_downstream} stay at 4" in first["title"]
    assert "cpu-bound" not in rules(diagnosis)


def test_a_service_keeping_every_payload_grows_memory_first(tmp_path: Path) -> None:
    port = free_port()
    command = service("leak", port, "--keep-kib", "32")
    diagnosis = diagnosed(tmp_path, port, command, "--rate", "300/s", "--duration", "12s")
    assert diagnosis["findings"], diagnosis
    first = diagnosis["findings"][0]
    assert (first["rule"], first["category"]) == ("memory-growth", "memory")
    assert "keeps growing: a leak" in first["title"]
    assert not {"cpu-bound", "waiting"} & set(rules(diagnosis))


def test_a_service_shedding_load_shows_its_error_onset_first_also_when_stored(
    tmp_path: Path,
) -> None:
    port = free_port()
    db = tmp_path / "runs.db"
    run = subprocess.run(
        [sys.executable, "-m", "redline", "run", f"http://127.0.0.1:{port}/", *STEPPED,
         "--quiet", "--history", str(db), "--server-cmd", service("shed", port, "--limit", "6")],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    run_id = run.stdout.rsplit("saved as run ", 1)[1].split()[0]
    again = subprocess.run(
        [sys.executable, "-m", "redline", "diagnose", run_id, "--history", str(db), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    first = json.loads(again.stdout)["findings"][0]
    assert (first["rule"], first["category"]) == ("error-onset", "capacity")
    assert first["title"].startswith("Errors begin at 8 VUs")
    assert "503" in first["title"]


def test_a_server_that_exits_mid_run_is_the_first_finding_and_the_run_is_kept(
    tmp_path: Path,
) -> None:
    port = free_port()
    server = subprocess.Popen(shlex.split(service("slow", port, "--work-ms", "1")),
                              stdout=subprocess.PIPE)  # fmt: skip
    db = tmp_path / "runs.db"
    try:
        assert server.stdout is not None and b"slow service" in server.stdout.readline()
        killer = threading.Timer(4.0, server.terminate)
        killer.start()
        run = subprocess.run(
            [sys.executable, "-m", "redline", "run", f"http://127.0.0.1:{port}/", "--vus", "2",
             "--duration", "10s", "--quiet", "--history", str(db), "--server-pid", str(server.pid),
             "--diagnose"],
            capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
        )  # fmt: skip
        killer.join()
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    assert "saved as run" in run.stdout, run.stderr
    assert f"The server (process {server.pid}) exited during the run" in run.stdout
    run_id = run.stdout.rsplit("saved as run ", 1)[1].split()[0]
    again = subprocess.run(
        [sys.executable, "-m", "redline", "diagnose", run_id, "--history", str(db), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    findings = json.loads(again.stdout)["findings"]
    assert findings[0]["rule"] == "server-exited"
    assert "error-onset" in [f["rule"] for f in findings]


def test_profiling_under_load_names_the_hot_function_per_step(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", f"http://127.0.0.1:{port}/", *STEPPED,
         "--quiet", "--no-save", "--out", str(out), "--server-cmd", service("cpu", port),
         "--profile", "--diagnose"],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document = json.loads(out.read_text())
    profiles = document["profiles"]
    assert [p["name"] for p in profiles] == ["step 1", "step 2", "step 3", "step 4"]
    assert all("Service.cpu" in p["stacks"].splitlines()[0] for p in profiles)
    assert all(p["profiler_cpu_s"] > 0 for p in profiles)
    spot = next(f for f in document["diagnosis"]["findings"] if f["rule"] == "hotspot")
    assert "in Service.cpu at redline/demo/bottlenecks.py:" in spot["title"]
    assert "profile of step 4 (16 VUs" in proc.stdout
