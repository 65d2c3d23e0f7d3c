"""``redline run --dashboard`` as a real process against a loopback target, always stopped.

:func:`dashboard_run` starts ``python -m redline run PLAN --dashboard --dashboard-port P``
with its output in a file, and gives a :class:`DashboardRun` to talk to it. The run
is bounded by its plan (:data:`PLAN_DURATION_S`); the dashboard then stays up until
the test, or the fixture's ``finally``, sends SIGTERM to the process by its PID.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import LoopbackServer

#: How long the plan lasts: every test stops it sooner (or waits for its end) and
#: a failing test still sees it end by itself.
PLAN_DURATION_S = 20
#: The plan: two endpoints (one answers 404), a ramp then a hold, at a low arrival
#: rate so the browser and the test have CPU too.
PLAN = """
name = "dashboard"
base_url = "{url}"

[executor]
type = "ramping-arrival-rate"
start_rate = "50/s"
stages = [{{ duration = "4s", target = "100/s" }}, {{ duration = "16s", target = "100/s" }}]

[[requests]]
name = "home"
url = "/"

[[requests]]
name = "missing"
url = "/missing"
"""
#: How long the process may take to start its run and answer a first request.
START_TIMEOUT_S = 30.0
#: How long a stopped (or finished) run may take to print its summary.
END_TIMEOUT_S = 30.0
#: How long the process may take to exit after SIGTERM.
EXIT_TIMEOUT_S = 10.0
#: What the process prints once it listens.
LISTENING = "dashboard: http://"
#: What the process prints once the run has ended and the dashboard waits for Ctrl-C.
HOLDING = "dashboard still up at"
#: Where screenshots are copied too when set (read at import: tests clear REDLINE_*).
ARTIFACTS_DIR = os.environ.get("REDLINE_ARTIFACTS")


@dataclass
class DashboardRun:
    """One ``redline run --dashboard`` process and the files it writes."""

    proc: subprocess.Popen[bytes]
    port: int
    results: Path
    log: Path
    token: str | None = None

    def url(self, path: str = "/") -> str:
        query = f"?token={self.token}" if self.token else ""
        return f"http://127.0.0.1:{self.port}{path}{query}"

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        timeout_s: float = START_TIMEOUT_S,
    ) -> tuple[int, dict[str, str], str]:
        """One request; (status, headers, body)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def get(self, path: str) -> str:
        status, _, body = self.request("GET", path)
        assert status == 200, body
        return body

    def events(self, count: int, *, timeout_s: float = START_TIMEOUT_S) -> list[tuple[str, Any]]:
        """The first ``count`` server-sent events of a new stream, as (event, data)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
        found: list[tuple[str, Any]] = []
        try:
            connection.request("GET", "/events")
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Type", "").startswith("text/event-stream")
            event = ""
            while len(found) < count:
                line = response.readline().decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    found.append((event, json.loads(line.removeprefix("data: "))))
        finally:
            connection.close()
        return found

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout_s: float = END_TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            out = self.output()
            if text in out:
                return out
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never printed; output:\n{self.output()}")

    def terminate(self) -> int:
        """SIGTERM by PID (as Ctrl-C); the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(EXIT_TIMEOUT_S)

    def results_data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.results.read_text())
        return data


StartRun = Callable[..., DashboardRun]


@pytest.fixture
def dashboard_run(
    http_server: LoopbackServer, unused_port: int, tmp_path: Path
) -> Iterator[StartRun]:
    """Start a dashboard run against ``http_server``; always stopped (by PID) at the end."""
    started: list[DashboardRun] = []

    def start(*extra: str, target: str | None = None, token: str | None = None) -> DashboardRun:
        """Run :data:`PLAN`, or ``target`` (a path on the server) with the ``extra`` flags."""
        plan = tmp_path / "plan.toml"
        plan.write_text(PLAN.format(url=http_server.url))
        what = str(plan) if target is None else f"{http_server.url}{target}"
        results, log = tmp_path / "results.json", tmp_path / "redline.log"
        command = [
            sys.executable, "-m", "redline", "run", what, "--workers", "1", "--no-save",
            "--out", str(results), "--dashboard", "--dashboard-port", str(unused_port), *extra,
        ]  # fmt: skip
        if token is not None:
            command += ["--dashboard-token", token]
        with log.open("wb") as sink:
            proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        run = DashboardRun(proc, unused_port, results, log, token)
        started.append(run)
        run.wait_for_output(LISTENING, START_TIMEOUT_S)  # printed once the port is bound
        return run

    try:
        yield start
    finally:
        for run in started:
            if run.proc.poll() is None:
                run.proc.send_signal(signal.SIGTERM)
                try:
                    run.proc.wait(EXIT_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    run.proc.kill()
                    run.proc.wait()
