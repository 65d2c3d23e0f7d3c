"""One real short run for the report's integration tests, shared by the module that asks.

:func:`report_run` starts a loopback server, runs ``python -m redline run PLAN``
(three endpoints, one answering 404, about 4 s) with ``--out``, ``--report`` and
a history of its own, and gives the files. The server is always stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import LoopbackServer

#: Three endpoints (one 404s, one has markup in its name), 4 VUs pacing themselves
#: with a 12 ms think time for 300 iterations each: about 4 s at ~300 requests/s.
PLAN = """
name = "report-e2e"
base_url = "{url}"
think_time = 0.012
thresholds = ["p95<500ms", "error_rate<5%"]

[executor]
type = "per-vu-iterations"
vus = 4
iterations = 300

[[requests]]
name = "home"
url = "/"
weight = 4

[[requests]]
name = "echo <b>post</b>"
url = "/echo"
method = "POST"
body = "hello"
weight = 2

[[requests]]
name = "missing"
url = "/missing"
weight = 1
"""
#: A generous bound for the run and for rendering, on a busy 2-core machine.
RUN_TIMEOUT_S = 90
#: Where screenshots are copied too when set (read at import: the tests clear REDLINE_*).
ARTIFACTS = os.environ.get("REDLINE_ARTIFACTS")


def artifacts_dir() -> Path | None:
    """``$REDLINE_ARTIFACTS`` as a directory (``1``/``true``: ``test-artifacts/``); None unset."""
    if not ARTIFACTS:
        return None
    return Path("test-artifacts" if ARTIFACTS.lower() in {"1", "true", "yes"} else ARTIFACTS)


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


@dataclass
class ReportRun:
    """The files of one real run: its history, results file and the report ``--report`` wrote."""

    history: Path
    results: Path
    report: Path
    stdout: str
    returncode: int

    @property
    def document(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.results.read_text())
        return data


@pytest.fixture(scope="module")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportRun]:
    directory = tmp_path_factory.mktemp("report-run")
    with LoopbackServer() as server:
        plan = directory / "plan.toml"
        plan.write_text(PLAN.format(url=server.url))
        proc = redline(
            "run", str(plan), "--workers", "1", "--quiet", "--history", str(directory / "h.db"),
            "--out", str(directory / "run.json"), "--report", str(directory / "run.html"),
        )  # fmt: skip
    yield ReportRun(
        history=directory / "h.db",
        results=directory / "run.json",
        report=directory / "run.html",
        stdout=proc.stdout + proc.stderr,
        returncode=proc.returncode,
    )
