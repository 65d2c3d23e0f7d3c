"""``redline run --db mysql://...``: a run's statements on MariaDB, its activity, N+1 detection.

The demo shop (``redline.demo.shop``) serves one order per request from the
test's MariaDB database, one query per item (``nplus1``) or one query in all
(``join``); redline starts it with ``--server-cmd``. Each load is a fixed count
of requests from 2 virtual users, a few seconds at most.
"""

from __future__ import annotations

import json
import shlex
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymysql
import pytest

from redline.plan import parse_dsn
from tests.integration.db.conftest import PG_PASSWORD, MariaDbServer, free_port

RUN_TIMEOUT_S = 60
#: Orders and items per order of the shop's data.
ORDERS, ITEMS = 100, 10
#: The shop's connections to the database.
POOL = 4
#: Statements that may fall on the wrong side of a reading: the readings are not atomic,
#: and on a busy machine the first may come as the first requests run, the last while
#: the last statements are still being added to their digests.
SLACK = 2 * POOL


def shop(dsn: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "redline.demo.shop", "--dsn", dsn, *args]


def redline_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", "run", *args],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip


def run_against_shop(
    tmp_path: Path, dsn: str, mode: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    data = ("--orders", str(ORDERS), "--items", str(ITEMS))
    subprocess.run(shop(dsn, "--setup", *data), check=True, timeout=60)
    port, out = free_port(), tmp_path / "r.json"
    server = shlex.join(
        shop(dsn, "--port", str(port), "--mode", mode, "--connections", str(POOL), *data)
    )
    # --duration's floor is 10 s; --iterations ends the run sooner, bounded either way.
    proc = redline_run(
        f"http://127.0.0.1:{port}/", "--vus", "2", "--duration", "10s", "--iterations", "1500",
        "--quiet", "--out", str(out), "--history", str(tmp_path / "h.db"),
        "--server-cmd", server, "--db", dsn, "--diagnose",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(out.read_text())


def test_one_query_per_item_is_an_n_plus_one_and_the_password_never_shows(
    tmp_path: Path, mariadb_database: str
) -> None:
    proc, document = run_against_shop(tmp_path, mariadb_database, "nplus1")
    requests = document["summary"]["total"]["count"]
    statements = document["database"]["statements"]
    item = next(s for s in statements if "FROM `items`" in s["query"])
    assert abs(item["calls"] - requests * ITEMS) <= SLACK
    assert abs(item["rows"] - requests * ITEMS) <= SLACK
    assert document["database"]["dsn"].startswith("mysql://redline:***@127.0.0.1:")
    rules = [f["rule"] for f in document["diagnosis"]["findings"]]
    assert "n-plus-one" in rules
    assert "statements during the run" in proc.stdout
    stored = sqlite3.connect(tmp_path / "h.db").execute("SELECT document FROM runs").fetchone()[0]
    for text in (proc.stdout, proc.stderr, (tmp_path / "r.json").read_text(), stored):
        assert PG_PASSWORD not in text


def test_one_query_per_request_is_not(tmp_path: Path, mariadb_database: str) -> None:
    _, document = run_against_shop(tmp_path, mariadb_database, "join")
    rules = [f["rule"] for f in document["diagnosis"]["findings"]]
    assert "n-plus-one" not in rules
    requests = document["summary"]["total"]["count"]
    # Only the shop's statements: not redline's (status, process list, digests), nor setup's.
    [join] = document["database"]["statements"]
    assert "JOIN `items`" in join["query"]
    assert abs(join["calls"] - requests) <= SLACK
    assert abs(join["rows"] - requests * ITEMS) <= SLACK * ITEMS
    assert join["total_ms"] > 0 and join["mean_ms"] > 0


def test_the_database_is_sampled_each_second(tmp_path: Path, mariadb_database: str) -> None:
    _, document = run_against_shop(tmp_path, mariadb_database, "nplus1")
    samples = document["resources"]["database"]
    assert samples, "the database's activity is sampled"
    busiest = max(samples, key=lambda s: s["questions_per_s"])
    assert busiest["connections"] == POOL  # the shop's; redline's own are left out
    assert busiest["threads_connected"] >= POOL
    assert busiest["max_connections"] == 151  # MariaDB's default
    assert busiest["questions_per_s"] > 100
    assert busiest["buffer_pool_read_requests_per_s"] > 0
    for figure in ("active", "idle", "row_lock_waits", "commits_per_s", "slow_queries_per_s"):
        assert figure in busiest


def test_a_wrong_password_stops_the_run_before_any_load(
    mariadb_server: MariaDbServer, mariadb_database: str
) -> None:
    dsn = mariadb_server.dsn(mariadb_database.rsplit("/", 1)[1], password="wrong-pw-123")
    with socket.create_server(("127.0.0.1", 0)) as target:
        port = target.getsockname()[1]
        proc = redline_run(
            f"http://127.0.0.1:{port}/", "--vus", "1", "--duration", "10s", "--no-save",
            "--db", dsn.replace("mysql://", "mariadb://"),
        )  # fmt: skip
        target.settimeout(0.1)
        with pytest.raises(TimeoutError):
            target.accept()  # no load: not even a connection
    assert proc.returncode == 3, proc.stderr
    first, hint = proc.stderr.splitlines()
    assert first.startswith("error: --db mysql://redline:***@127.0.0.1:"), first
    assert "access denied for user 'redline'" in first
    assert hint.startswith("hint: check the DSN's user and password"), hint
    assert "wrong-pw-123" not in proc.stderr + proc.stdout


def test_no_statement_digests_is_named_before_any_load(mariadb_database: str) -> None:
    with switched_off("statements_digest", mariadb_database):
        proc = redline_run(
            "http://127.0.0.1:9/", "--vus", "1", "--duration", "10s", "--no-save",
            "--db", mariadb_database,
        )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    first, hint = proc.stderr.splitlines()
    assert first.startswith("error: --db mysql://redline:***@"), first
    assert "the statements_digest consumer is off" in first
    assert "setup_consumers" in hint
    assert PG_PASSWORD not in proc.stderr + proc.stdout


@contextmanager
def switched_off(consumer: str, dsn_text: str) -> Iterator[None]:
    """A performance_schema consumer off, for the server of ``dsn_text``, and on again after."""
    dsn = parse_dsn(dsn_text)
    conn = pymysql.connect(host=dsn.host, port=dsn.port, user=dsn.user, password=dsn.password(),
                           autocommit=True)  # fmt: skip
    update = "UPDATE performance_schema.setup_consumers SET ENABLED = %s WHERE NAME = %s"
    try:
        with conn.cursor() as cursor:
            cursor.execute(update, ("NO", consumer))
        yield
    finally:
        with conn.cursor() as cursor:
            cursor.execute(update, ("YES", consumer))
        conn.close()
