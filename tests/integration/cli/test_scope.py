"""Scope end to end: a production environment and an off-list host are refused before any traffic.

Each refused command also names a target that *is* reachable: a recording server on
loopback. Had any request been sent before the refusal, that server would have seen a
connection; it must see none. A control run shows that the same server does record.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import LoopbackServer

#: Generous bound for a command that should stop at once.
COMMAND_TIMEOUT_S = 60
#: A host that is not loopback and that no test lists in allowed_hosts.
OFF_LIST_HOST = "api.partner.example"


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def write_plan(tmp_path: Path, server: LoopbackServer, *, extra: str = "", more: str = "") -> Path:
    """A plan that loads ``server`` (and whatever ``more`` requests), 1 VU, 10 iterations."""
    path = tmp_path / "plan.toml"
    path.write_text(
        f"""{extra}
[executor]
type = "shared-iterations"
vus = 1
iterations = 10

[[requests]]
name = "home"
url = "{server.url}/"
{more}"""
    )
    return path


def assert_refused(proc: subprocess.CompletedProcess[str], message: str) -> None:
    assert proc.returncode == 2, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("error: ") and message in first, proc.stderr
    assert "hint:" in proc.stderr


def test_the_server_records_a_run_in_scope(http_server: LoopbackServer, tmp_path: Path) -> None:
    proc = redline("run", str(write_plan(tmp_path, http_server)), "--no-save", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert http_server.connections >= 1
    assert len(http_server.requests) == 10


@pytest.mark.parametrize("environment", ["production", "prod", "live"])
def test_a_production_plan_sends_nothing(
    http_server: LoopbackServer, tmp_path: Path, environment: str
) -> None:
    plan = write_plan(tmp_path, http_server, extra=f'environment = "{environment}"')
    proc = redline("run", str(plan), "--no-save")
    assert_refused(proc, f"environment: '{environment}' is refused: redline never loads production")
    assert http_server.connections == 0


def test_a_production_yaml_plan_sends_nothing(http_server: LoopbackServer, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        f"environment: production\nrequests:\n  - name: home\n    url: {http_server.url}/\n"
    )
    assert_refused(redline("run", str(plan), "--no-save"), "environment: 'production' is refused")
    assert http_server.connections == 0


def test_an_off_list_host_beside_loopback_sends_nothing(
    http_server: LoopbackServer, tmp_path: Path
) -> None:
    more = f'\n[[requests]]\nname = "partner"\nurl = "http://{OFF_LIST_HOST}:1/"\n'
    plan = write_plan(tmp_path, http_server, extra='allowed_hosts = ["other.example"]', more=more)
    proc = redline("run", str(plan), "--no-save")
    assert_refused(proc, f"url: host '{OFF_LIST_HOST}' is out of scope; allowed loopback")
    assert "allowed_hosts ['other.example']" in proc.stderr
    assert http_server.connections == 0


def test_a_url_run_loads_loopback_only() -> None:
    # Flags have no allowed hosts: another host needs a plan that lists it.
    proc = redline("run", f"http://{OFF_LIST_HOST}:1/", "--no-save")
    assert_refused(proc, f"url: host '{OFF_LIST_HOST}' is out of scope")


@pytest.mark.parametrize(
    ("flag", "dsn", "host"),
    [
        ("--db", "postgresql://app:hunter2@db.staging.internal/app", "db.staging.internal"),
        ("--cache", "redis://:hunter2@cache.staging.internal:6379", "cache.staging.internal"),
    ],
)
def test_an_off_list_database_or_cache_stops_the_run_before_any_load(
    http_server: LoopbackServer, flag: str, dsn: str, host: str
) -> None:
    proc = redline("run", f"{http_server.url}/", "--vus", "1", "--iterations", "5", flag, dsn)
    assert_refused(proc, f"{flag}: host '{host}' is out of scope")
    assert "hunter2" not in proc.stderr
    assert http_server.connections == 0


def test_http_audit_refuses_an_off_list_url_before_auditing_any(
    http_server: LoopbackServer,
) -> None:
    proc = redline("http", "audit", f"{http_server.url}/", f"http://{OFF_LIST_HOST}/")
    assert_refused(proc, f"http audit: host '{OFF_LIST_HOST}' is out of scope")
    assert http_server.connections == 0


def test_http_audit_of_a_production_plan_sends_nothing(
    http_server: LoopbackServer, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path, http_server, extra='environment = "production"')
    assert_refused(redline("http", "audit", str(plan)), "environment: 'production' is refused")
    assert http_server.connections == 0


def test_cache_analyze_refuses_an_off_list_server() -> None:
    proc = redline("cache", "analyze", "redis://:s3cret@cache.staging.internal:6379")
    assert_refused(proc, "DSN: host 'cache.staging.internal' is out of scope")
    assert "--allow-host" in proc.stderr
    assert "s3cret" not in proc.stderr


@pytest.mark.parametrize("flag", ["--analyze", "--try-indexes"])
def test_db_analyze_that_runs_or_builds_refuses_an_off_list_server(flag: str) -> None:
    scheme = "postgresql" if flag == "--analyze" else "mysql"
    proc = redline("db", "analyze", f"{scheme}://app:s3cret@db.staging.internal/app", flag)
    assert_refused(proc, "DSN: host 'db.staging.internal' is out of scope")
    assert "s3cret" not in proc.stderr


def test_optimize_db_apply_refuses_an_off_list_server() -> None:
    proc = redline("optimize", "db", "postgresql://app:s3cret@db.staging.internal/app", "--apply")
    assert_refused(proc, "DSN: host 'db.staging.internal' is out of scope")
    assert "s3cret" not in proc.stderr
