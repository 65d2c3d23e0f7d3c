"""``redline system audit`` on this machine for real: read-only, whatever the values are."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from redline.diagnose import audit_system
from redline.probes import SYSCTLS, LiveSystem, read_system

#: The backlog the test server asks of listen(): small and unusual, so it cannot be a default.
BACKLOG = 7
#: Generous bound for the CLI's start and one audit on a busy machine.
AUDIT_TIMEOUT_S = 60


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        capture_output=True,
        text=True,
        timeout=AUDIT_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """A TCP server socket on 127.0.0.1, port 0, listening with a backlog of 7."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(BACKLOG)
        yield server
    finally:
        server.close()


def test_this_machine_is_read_without_error() -> None:
    facts = read_system(LiveSystem())
    assert set(facts.sysctls) == set(SYSCTLS)
    assert facts.cpus is None or facts.cpus >= 1
    assert facts.process is not None and facts.process.pid == os.getpid()
    audit = audit_system(facts)
    assert all(f.recommendation and f.evidence for f in audit.findings)


def test_the_audit_cli_prints_json_of_this_machine() -> None:
    proc = redline("system", "audit", "--json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert set(document) == {"facts", "peaks", "findings", "settings", "notes"}
    assert set(document["facts"]["sysctls"]) == set(SYSCTLS)
    assert document["peaks"] is None


def test_the_audit_reads_a_real_servers_listen_backlog(listening: socket.socket) -> None:
    port = listening.getsockname()[1]
    proc = redline("system", "audit", "--port", str(port), "--json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert [(s["port"], s["backlog"]) for s in document["facts"]["listeners"]] == [(port, BACKLOG)]
    backlog = [f for f in document["findings"] if f["rule"] == "listen-backlog"]
    assert backlog and backlog[0]["title"].startswith(f"Port {port} accepts a queue of 7 ")


def test_the_backlog_is_found_by_the_servers_pid(listening: socket.socket) -> None:
    port = listening.getsockname()[1]
    facts = read_system(LiveSystem(), server_pid=os.getpid())
    assert (port, BACKLOG) in [(s.port, s.backlog) for s in facts.listeners]
