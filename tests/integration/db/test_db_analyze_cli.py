"""``redline db analyze``: one command per server, partial results, the password never shown."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pymysql

from redline.plan import parse_dsn
from tests.integration.db.conftest import PG_PASSWORD, free_port

TIMEOUT_S = 120


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "redline", "db", "analyze", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def pg_workload(dsn_text: str) -> None:
    dsn = parse_dsn(dsn_text)
    with psycopg.connect(host=dsn.host, port=dsn.port, dbname=dsn.database, user=dsn.user,
                         password=dsn.password(), autocommit=True) as conn:  # fmt: skip
        conn.execute("CREATE TABLE events (id serial PRIMARY KEY, customer_id int, kind text)")
        conn.execute("INSERT INTO events (customer_id, kind) SELECT n % 5000, 'view' "
                     "FROM generate_series(1, 300000) n")  # fmt: skip
        conn.execute("ANALYZE events")
        for customer in range(50):
            conn.execute("SELECT count(*) FROM events WHERE customer_id = %s", (customer,))


def test_postgres_names_the_missing_index_and_never_the_password(pg_database: str) -> None:
    pg_workload(pg_database)
    proc = redline(pg_database, "--json", "--top", "5")
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    assert any("FROM events WHERE customer_id" in s["query"] for s in report["statements"])
    [advice] = [a for a in report["advice"] if a["table"] == "events"]
    assert advice["columns"] == ["customer_id"] and advice["ddl"].startswith("CREATE INDEX CONC")
    rules = {f["rule"] for f in report["findings"]}
    assert {"missing-index", "pg-seq-scan-filter"} <= rules
    text = redline(pg_database, "--top", "5")
    assert "top statements by time" in text.stdout and "diagnosis of database" in text.stdout
    for output in (proc.stdout, proc.stderr, text.stdout, text.stderr):
        assert PG_PASSWORD not in output


def test_mariadb_plans_are_judged(mariadb_database: str) -> None:
    dsn = parse_dsn(mariadb_database)
    conn = pymysql.connect(host=dsn.host, port=dsn.port, user=dsn.user, password=dsn.password(),
                           database=dsn.database, autocommit=True)  # fmt: skip
    try:
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total INT)")
            cursor.execute("INSERT INTO orders SELECT seq, seq % 1000, seq % 97 "
                           "FROM seq_1_to_50000")  # fmt: skip
            cursor.execute("ANALYZE TABLE orders")
            for customer in range(20):
                cursor.execute("SELECT * FROM orders WHERE customer_id = %s", (customer,))
                cursor.fetchall()
    finally:
        conn.close()
    proc = redline(mariadb_database, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert any("customer_id" in s["query"] for s in report["statements"])
    assert {"mysql-no-index", "mysql-full-scan"} & {f["rule"] for f in report["findings"]}
    assert PG_PASSWORD not in proc.stdout + proc.stderr


def test_mariadb_candidates_are_tried_only_with_try_indexes_and_dropped(
    mariadb_database: str,
) -> None:
    dsn = parse_dsn(mariadb_database)
    conn = pymysql.connect(host=dsn.host, port=dsn.port, user=dsn.user, password=dsn.password(),
                           database=dsn.database, autocommit=True)  # fmt: skip
    try:
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total INT)")
            cursor.execute("INSERT INTO orders SELECT seq, seq % 1000, seq % 97 "
                           "FROM seq_1_to_50000")  # fmt: skip
            cursor.execute("ANALYZE TABLE orders")
            for customer in range(20):
                cursor.execute("SELECT * FROM orders WHERE customer_id = %s", (customer,))
                cursor.fetchall()
        guessed = json.dumps(json.loads(redline(mariadb_database, "--json").stdout)["findings"])
        assert "not verified: building a test index needs --try-indexes" in guessed
        proc = redline(mariadb_database, "--json", "--try-indexes")
        assert proc.returncode == 0, proc.stderr
        tried = json.dumps(json.loads(proc.stdout)["findings"])
        assert "not verified" not in tried and "customer_id" in tried
        with conn.cursor() as cursor:
            cursor.execute("SHOW INDEX FROM orders")
            assert {row[2] for row in cursor.fetchall()} == {"PRIMARY"}  # tried, then dropped
    finally:
        conn.close()
    refused = redline("sqlite:///x.db", "--queries", __file__, "--try-indexes")
    assert refused.returncode == 2 and "--try-indexes: for MySQL/MariaDB only" in refused.stderr


def test_sqlite_statements_from_a_file_get_verified_index_advice(tmp_path: Path) -> None:
    database, queries = tmp_path / "app.db", tmp_path / "queries.sql"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INT, total INT)")
        conn.executemany("INSERT INTO orders (customer_id, total) VALUES (?, ?)",
                         ((n % 500, n % 97) for n in range(20000)))  # fmt: skip
    queries.write_text("SELECT * FROM orders WHERE customer_id = 42;\n")
    proc = redline(f"sqlite:///{database}", "--queries", str(queries), "--json")
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert findings and "CREATE INDEX" in json.dumps(findings)
    with sqlite3.connect(database) as conn:
        assert conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
        ).fetchone() == (0,)


def test_bad_input_and_a_refusing_server_are_one_line_without_the_password() -> None:
    bad = redline("postgresql://app:hunter2@bad_host/db")
    assert bad.returncode == 2 and bad.stderr.startswith("error: DSN: host 'bad_host'")
    assert "hunter2" not in bad.stderr
    nobody = redline(f"postgresql://app:hunter2@127.0.0.1:{free_port()}/db")
    assert nobody.returncode == 3 and nobody.stderr.startswith("error: ")
    assert "hunter2" not in nobody.stderr + nobody.stdout
    sqlite_without_file = redline("sqlite:///tmp/x.db")
    assert sqlite_without_file.returncode == 2
    assert "--queries: SQLite keeps no statement statistics" in sqlite_without_file.stderr


def test_postgres_analyze_refusals_are_notes_and_the_other_plans_still_come(
    pg_database: str,
) -> None:
    pg_workload(pg_database)  # ... WHERE customer_id = $1, as pg_stat_statements keeps it
    dsn = parse_dsn(pg_database)
    with psycopg.connect(host=dsn.host, port=dsn.port, dbname=dsn.database, user=dsn.user,
                         password=dsn.password(), autocommit=True) as conn:  # fmt: skip
        conn.execute("UPDATE events SET kind = kind")  # writes: refused without --allow-writes
        conn.execute("SELECT count(*) FROM events")  # no placeholders: runs under --analyze
    proc = redline(pg_database, "--analyze", "--json", "--top", "20", "--plans", "20")
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    queryid = {s["query"]: s["queryid"] for s in report["statements"]}
    plans = {p["queryid"]: p["plan"] for p in report["plans"]}
    # The statement that only reads is run: its plan has actual rows.
    assert "Actual Rows" in plans[queryid["SELECT count(*) FROM events"]]["Plan"]
    # The two that cannot run are notes naming them, one line each; theirs are the only gaps.
    update = queryid["UPDATE events SET kind = kind"]
    by_customer = queryid["SELECT count(*) FROM events WHERE customer_id = $1"]
    assert update not in plans and by_customer not in plans
    [refused_write] = [n for n in report["notes"] if f"statement {update}:" in n]
    assert "'UPDATE events SET kind = kind' is not a SELECT" in refused_write
    assert "--allow-writes" in refused_write
    [no_values] = [n for n in report["notes"] if f"statement {by_customer}:" in n]
    assert "'SELECT count(*) FROM events WHERE customer_id = $1' has 1 parameter" in no_values
    assert "--samples" in no_values
    assert all("\n" not in n for n in report["notes"])
    # The rest of the analysis goes on: advice and findings for the missing index.
    assert [a["columns"] for a in report["advice"] if a["table"] == "events"] == [
        ["customer_id"]
    ], report["notes"]
    assert "missing-index" in {f["rule"] for f in report["findings"]}
    assert report["dsn"] == str(dsn) and PG_PASSWORD not in report["dsn"]
    text = redline(pg_database, "--analyze", "--top", "20", "--plans", "20")
    assert text.returncode == 0, text.stderr
    assert f"diagnosis of database {dsn}" in text.stdout
    assert f"note: the plan of statement {update}: --analyze:" in text.stdout
    for output in (proc.stdout, proc.stderr, text.stdout, text.stderr):
        assert PG_PASSWORD not in output
