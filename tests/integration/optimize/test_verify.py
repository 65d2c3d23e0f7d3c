"""``redline verify`` end to end: each check passing and failing on real processes, a real
HTTP server on loopback, a real SQLite journal and a real short run against a stored baseline."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from redline.demo.capacity import capacity_server
from redline.optimize import Change, ChangeKind, JournalStatus, SqliteJournal, default_journal_path
from redline.optimize._pids import PidRegistry, pid_registry_path
from redline.plan import parse_dsn

TIMEOUT_S = 120
CHECK_FAILED = 99


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redline", *args], capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)  # fmt: skip


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.send_response(200 if self.path == "/ok" else 500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return tmp_path / ".redline" / "redline.db"


def row(stdout: str, name: str) -> str:
    """The table's line whose check (first column) starts with ``name``."""
    return next(line for line in stdout.splitlines() if line.startswith(f"│ {name}"))


def test_a_clean_system_passes_every_check(health_url: str, history: Path) -> None:
    proc = redline("verify", "--health", f"{health_url}/ok", "--history", str(history))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(proc.stdout)
    assert "pass" in row(proc.stdout, "health") and "HTTP 200" in row(proc.stdout, "health")
    assert "none left running" in row(proc.stdout, "processes")
    assert "0 entries, none half-applied" in row(proc.stdout, "journal")
    assert "4 of 4 checks passed" in proc.stdout


def test_a_health_endpoint_answering_500_fails(health_url: str, history: Path) -> None:
    proc = redline("verify", "--health", f"{health_url}/ok", "--health", f"{health_url}/bad",
                   "--history", str(history))  # fmt: skip
    assert proc.returncode == CHECK_FAILED, proc.stdout + proc.stderr
    bad = row(proc.stdout, f"health {health_url}/bad")
    assert "FAIL" in bad and "HTTP 500" in bad
    assert "4 of 5 checks passed" in proc.stdout


def test_a_health_url_off_loopback_is_refused_before_any_request(history: Path) -> None:
    proc = redline("verify", "--health", "http://example.com/health", "--history", str(history))
    assert proc.returncode == 2
    assert "--health: host 'example.com' is out of scope" in proc.stderr


def test_a_half_applied_journal_entry_fails(history: Path) -> None:
    journal = SqliteJournal(default_journal_path(history))
    change = Change(kind=ChangeKind.SETTING, summary="work_mem 64MB", apply="ALTER SYSTEM ...",
                    undo="ALTER SYSTEM RESET work_mem", verify="SHOW work_mem",
                    target="postgresql://app@127.0.0.1:5432/shop")  # fmt: skip
    entry = journal.intent(change, {"before": "4MB"})  # and then a crash: no result
    proc = redline("verify", "--history", str(history))
    assert proc.returncode == CHECK_FAILED
    assert f"1 half-applied: {entry} intent: work_mem 64MB" in row(proc.stdout, "journal")
    journal.result(entry, JournalStatus.APPLIED, "reads back 64MB")
    assert redline("verify", "--history", str(history)).returncode == 0


def test_test_data_left_in_place_fails(history: Path) -> None:
    journal = SqliteJournal(default_journal_path(history))
    database = history.parent.parent / "app.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE orders (item TEXT, redline_run TEXT)")
    change = Change(kind=ChangeKind.TEST_DATA, summary="1,000 orders", apply="INSERT ...",
                    undo="DELETE ...", verify="SELECT count(*) ...",
                    target=str(parse_dsn(f"sqlite:///{database}")))  # fmt: skip
    state = {"table": "orders", "column": "redline_run", "tag": "run-1", "rows_before": "0"}
    entry = journal.intent(change, state)
    journal.result(entry, JournalStatus.APPLIED, "1,000 rows tagged")
    proc = redline("verify", "--history", str(history))
    assert proc.returncode == CHECK_FAILED
    assert f"1 of 1 not undone or not back: {entry} (applied)" in row(proc.stdout, "test data")
    journal.result(entry, JournalStatus.UNDONE, "rows back to 0")
    done = redline("verify", "--history", str(history))
    assert done.returncode == 0, done.stdout
    assert "1 test-data change(s), all undone; 1 row count(s)" in row(done.stdout, "test data")


def test_a_registered_process_still_running_fails_and_a_dead_one_does_not(history: Path) -> None:
    registry = PidRegistry(pid_registry_path(history))
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        registry.register(proc.pid, "server")  # as if redline crashed without stopping it
        live = redline("verify", "--history", str(history))
        assert live.returncode == CHECK_FAILED
        assert f"1 still running: server pid {proc.pid}" in row(live.stdout, "processes")
    finally:
        proc.kill()
        proc.wait()
    dead = redline("verify", "--history", str(history))
    assert dead.returncode == 0 and "none left running" in row(dead.stdout, "processes")


#: The demo server's time per request in the baseline (and the run that matches it).
BASELINE_SERVICE_S = 0.05


def short_run_against_baseline(tmp_path: Path, history: Path, service_s: float) -> str:
    """A baseline run at 50 ms a request, stored as 'shop'; then verify's short run of the same
    plan against a server taking ``service_s``. verify's table line for the baseline.

    50 ms, not less: a loaded machine's scheduling delays (a millisecond or so) are then
    about 2 % of a request, inside verify's ±5 %; at 5 ms they moved p95 by 11 %."""
    plan = tmp_path / "shop.toml"
    with capacity_server(slots=8, service_s=BASELINE_SERVICE_S) as server:
        plan.write_text(
            f'name = "shop"\nbase_url = "{server.url}"\nworkers = 1\n'
            '[[requests]]\nname = "home"\nurl = "/"\n'
            '[executor]\ntype = "constant-vus"\nvus = 4\nduration = "10s"\n'
        )
        first = redline("run", str(plan), "--quiet", "--history", str(history))
        assert first.returncode == 0, first.stdout + first.stderr
        run_id = first.stdout.rsplit("saved as run ", 1)[1].split()[0]
    named = redline("baseline", "set", run_id, "--name", "shop", "--history", str(history))
    assert named.returncode == 0, named.stderr
    text = plan.read_text()
    with capacity_server(slots=8, service_s=service_s) as server:
        plan.write_text(text.replace(text.split('"')[3], server.url))
        proc = redline("verify", "--plan", str(plan), "--baseline", "shop",
                       "--history", str(history))  # fmt: skip
    print(proc.stdout)
    line = row(proc.stdout, "baseline shop")
    if "generator was saturated" in line:
        pytest.skip("this machine is too busy for a fair run: the load generator saturated")
    assert proc.returncode == (0 if "pass" in line else CHECK_FAILED), proc.stdout + proc.stderr
    return line


def test_a_short_run_matches_the_stored_baseline(tmp_path: Path, history: Path) -> None:
    line = short_run_against_baseline(tmp_path, history, service_s=BASELINE_SERVICE_S)
    assert "pass" in line and "(allowed ±5%)" in line, line


def test_a_short_run_slower_than_the_baseline_fails(tmp_path: Path, history: Path) -> None:
    line = short_run_against_baseline(tmp_path, history, service_s=0.065)  # 30 % slower
    assert "FAIL" in line and "p95 +" in line, line


def test_plan_and_baseline_go_together(history: Path) -> None:
    proc = redline("verify", "--baseline", "shop", "--history", str(history))
    assert proc.returncode == 2 and "--plan and --baseline: give both" in proc.stderr
