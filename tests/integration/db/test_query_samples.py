"""Plans for real values: samples from the server's log and from a load run's sessions.

A generic plan for ``total > $1`` assumes a third of the rows match (the
planner's default for an inequality it has no value for); planned for a
sample's value near the top of the range it expects a few hundred, with the
value in its conditions: the two plans tell which values the planner saw.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from redline.plan import parse_dsn
from redline.probes import PostgresActivityProbe, analyze_postgres, samples_from_log
from tests.integration.db.conftest import PG_PASSWORD, PgServer

TIMEOUT_S = 120
#: The statement the workload runs with its value bound on the server ($1).
TOP_ORDERS = "SELECT id, total FROM orders WHERE total > %s"


def connect(dsn_text: str, **options: Any) -> psycopg.Connection[Any]:
    dsn = parse_dsn(dsn_text)
    return psycopg.connect(host=dsn.host, port=dsn.port, dbname=dsn.database, user=dsn.user,
                           password=dsn.password(), autocommit=True, **options)  # fmt: skip


@pytest.fixture
def skewed(pg_database: str) -> Iterator[str]:
    with connect(pg_database) as conn:
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, status text, total int)")
        conn.execute("INSERT INTO orders (status, total) SELECT 'paid', (random() * 100000)::int "
                     "FROM generate_series(1, 200000)")  # fmt: skip
        conn.execute("CREATE INDEX orders_total ON orders (total)")
        conn.execute("ANALYZE orders")
        conn.execute("SELECT pg_stat_statements_reset()")  # the workload's statements on top
    yield pg_database


def logged_workload(dsn_text: str) -> None:
    """The workload, with every statement it runs written to the server's log."""
    with connect(dsn_text) as conn:
        conn.execute("SET log_min_duration_statement = 0")
        for _ in range(3):
            conn.execute(TOP_ORDERS, (99_950,))  # extended protocol: the value is a parameter
        conn.execute("SELECT count(*) FROM orders WHERE total = 7")  # simple: the value is inline


def plan_of(analysis: Any, needle: str) -> tuple[dict[str, Any], str]:
    [queryid] = [q.queryid for q in analysis.top if needle in q.query]
    return analysis.plans[queryid]["Plan"], analysis.plan_sources[queryid]


def conditions(node: dict[str, Any]) -> str:
    """Every index condition and filter in the plan tree, as one text."""
    own = " ".join(str(node[k]) for k in ("Index Cond", "Recheck Cond", "Filter") if k in node)
    return " ".join([own, *(conditions(child) for child in node.get("Plans", []))])


def test_the_log_gives_each_statement_its_values(skewed: str, postgres_server: PgServer) -> None:
    logged_workload(skewed)
    samples = samples_from_log(postgres_server.log)
    sample = samples.for_statement("SELECT id, total FROM orders WHERE total > $1")
    assert sample is not None and sample.params == ("99950",)
    assert sample.source.startswith(f"{postgres_server.log}:")
    literal = samples.for_statement("SELECT count(*) FROM orders WHERE total = $1")
    assert literal is not None and literal.params is None and "total = 7" in literal.text

    generic = analyze_postgres(parse_dsn(skewed), plans=10, advise=False)
    plan, source = plan_of(generic, "WHERE total >")
    assert "$1" in conditions(plan) and source.startswith("generic plan")
    assert plan["Plan Rows"] > 10_000  # a third of the table: the planner saw no value

    sampled = analyze_postgres(parse_dsn(skewed), plans=10, advise=False, samples=samples,
                               analyze=True)  # fmt: skip
    plan, source = plan_of(sampled, "WHERE total >")
    assert "99950" in conditions(plan) and plan["Plan Rows"] < 1_000, plan
    assert source == f"planned for the values seen in {sample.source}"
    assert plan["Actual Loops"] == 1  # --analyze ran it: the values made that possible
    assert not any("WHERE total >" in note for note in sampled.notes)


def test_db_analyze_takes_samples_from_a_log_and_says_so(
    skewed: str, postgres_server: PgServer
) -> None:
    logged_workload(skewed)
    command = [sys.executable, "-m", "redline", "db", "analyze", skewed, "--json",
               "--samples", str(postgres_server.log)]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    sources = {p["planned_for"] for p in report["plans"]}
    assert any(s.startswith("planned for the values seen in") for s in sources), sources
    assert PG_PASSWORD not in proc.stdout + proc.stderr


def test_a_missing_samples_source_is_one_line(skewed: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "redline", "db", "analyze", skewed,
               "--samples", "no-such-run", "--history", str(tmp_path / "runs.db")]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "no-such-run" in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2


def test_the_activity_probe_keeps_literal_statements_running_under_load(skewed: str) -> None:
    probe = PostgresActivityProbe(parse_dsn(skewed))
    probe.prime()
    started = threading.Event()

    def slow_literal() -> None:
        with connect(skewed) as conn:
            started.set()
            conn.execute("SELECT pg_sleep(1.5), count(*) FROM orders WHERE status = 'refunded'")

    worker = threading.Thread(target=slow_literal)
    worker.start()
    try:
        started.wait(10)
        for _ in range(10):  # the statement runs for 1.5 s: some sample sees it
            probe.sample(0.2)
            if len(probe.samples):
                break
            threading.Event().wait(0.2)
    finally:
        worker.join()
        probe.close()
    sample = probe.samples.for_statement(
        "SELECT pg_sleep($1), count(*) FROM orders WHERE status = $2"
    )
    assert sample is not None and "'refunded'" in sample.text and sample.params is None
