"""``redline run --db DSN``: the statements a run caused, N+1 detection, the password never shown.

The demo shop (``redline.demo.shop``) serves one order per request from the
test's PostgreSQL database, one query per item (``nplus1``) or one query in
all (``join``); redline starts it with ``--server-cmd``.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.integration.db.conftest import PG_PASSWORD, free_port

RUN_TIMEOUT_S = 120


def shop(dsn: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "redline.demo.shop", "--dsn", dsn, *args]


def run_against_shop(
    tmp_path: Path, dsn: str, mode: str, *shop_options: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    data = ("--orders", "200", "--items", "20")
    subprocess.run(shop(dsn, "--setup", *data), check=True, timeout=60)
    port, out = free_port(), tmp_path / "r.json"
    server = shlex.join(shop(dsn, "--port", str(port), "--mode", mode, *data, *shop_options))
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", f"http://127.0.0.1:{port}/", "--vus", "4",
         "--duration", "10s", "--quiet", "--out", str(out), "--history", str(tmp_path / "h.db"),
         "--server-cmd", server, "--db", dsn, "--diagnose"],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(out.read_text())


def test_one_query_per_item_is_an_n_plus_one_and_the_password_never_shows(
    tmp_path: Path, pg_database: str
) -> None:
    proc, document = run_against_shop(tmp_path, pg_database, "nplus1")
    requests = document["summary"]["total"]["count"]
    item = next(s for s in document["database"]["statements"] if "FROM items" in s["query"])
    assert item["calls"] / requests >= 19  # 20 items an order
    rules = [f["rule"] for f in document["diagnosis"]["findings"]]
    assert "n-plus-one" in rules
    activity = document["resources"]["database"]
    assert activity, "the database's activity is sampled"
    assert all(a["max_connections"] == 100 for a in activity)  # initdb's default
    assert max(a["connections"] for a in activity) >= 1  # the shop's own
    assert "statements during the run" in proc.stdout
    stored = sqlite3.connect(tmp_path / "h.db").execute("SELECT document FROM runs").fetchone()[0]
    for text in (proc.stdout, proc.stderr, (tmp_path / "r.json").read_text(), stored):
        assert PG_PASSWORD not in text


def test_one_query_per_request_is_not(tmp_path: Path, pg_database: str) -> None:
    _, document = run_against_shop(tmp_path, pg_database, "join")
    rules = [f["rule"] for f in document["diagnosis"]["findings"]]
    assert "n-plus-one" not in rules
    requests = document["summary"]["total"]["count"]
    join = next(s for s in document["database"]["statements"] if "JOIN items" in s["query"])
    assert join["calls"] == requests


def test_a_run_keeps_statements_with_their_values_for_db_analyze(
    tmp_path: Path, pg_database: str
) -> None:
    _, document = run_against_shop(tmp_path, pg_database, "join", "--inline-values")
    texts = [s["text"] for s in document["database"]["samples"]]
    assert any("JOIN items" in t and "$1" not in t for t in texts), texts
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "db", "analyze", pg_database, "--json", "--analyze",
         "--samples", str(tmp_path / "r.json"), "--no-advise"],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    plans = json.loads(proc.stdout)["plans"]
    run_planned = [p for p in plans if p["planned_for"].endswith(f"run {tmp_path / 'r.json'}")]
    assert run_planned and "Actual Rows" in run_planned[0]["plan"]["Plan"]
    assert PG_PASSWORD not in proc.stdout + proc.stderr


def test_a_database_that_refuses_stops_the_run_before_any_load(postgres_server: Any) -> None:
    dsn = postgres_server.dsn("postgres", password="wrong-pw-123")
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", "http://127.0.0.1:9/", "--vus", "1",
         "--duration", "10s", "--no-save", "--db", dsn],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.startswith("error: ")
    assert "wrong-pw-123" not in proc.stderr + proc.stdout
