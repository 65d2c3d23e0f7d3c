"""EXPLAIN on a real PostgreSQL 15, and each plan rule on a plan the server really makes.

Each rule's test plants the problem (a 300,000-row table, correlated columns,
a tiny work_mem, planner switches where the planner would rather not show the
problem), checks the finding, and where the finding recommends a setting or a
statistic, applies it and checks the problem is gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from redline.diagnose._finding import Finding
from redline.diagnose._plan_rules import plan_findings
from redline.errors import ConfigError
from redline.plan import parse_dsn
from redline.probes._explain import explain

ROWS = 300_000


@pytest.fixture
def conn(pg_database: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection with parallel plans off, so plans are the same each run."""
    dsn = parse_dsn(pg_database)
    with psycopg.connect(
        host=dsn.host,
        port=dsn.port,
        dbname=dsn.database,
        user=dsn.user,
        password=dsn.password(),
        autocommit=True,
    ) as connection:
        connection.execute("SET max_parallel_workers_per_gather = 0")
        yield connection


def load_orders(conn: psycopg.Connection[Any]) -> None:
    """orders: 300,000 rows, 10,000 customers, 4 statuses, created_at unrelated to the row order."""
    conn.execute(
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, status text, "
        "created_at timestamptz, amount int)"
    )
    conn.execute(
        "INSERT INTO orders SELECT i, (i * 7919) % 10000, "
        "(ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + i % 4], "
        "timestamptz '2024-01-01' + ((i * 104729) % 300000) * interval '1 minute', i % 1000 "
        f"FROM generate_series(1::bigint, {ROWS}) i"
    )
    conn.execute("ANALYZE orders")


def findings(conn: psycopg.Connection[Any], sql: str, **options: Any) -> list[Finding]:
    analyze = options.pop("analyze", True)
    return plan_findings(explain(conn, sql, analyze=analyze), query=sql, **options)


def only(found: list[Finding], rule: str) -> Finding:
    [finding] = [f for f in found if f.rule == rule]
    return finding


def work_mem_of(finding: Finding) -> str:
    """The work_mem a finding recommends ('... raise work_mem to 33MB ...')."""
    return finding.recommendation.split("work_mem to ", 1)[1].split()[0]


# -- explain ---------------------------------------------------------------------------------


def test_placeholders_get_the_generic_plan_and_nothing_is_left_behind(
    conn: psycopg.Connection[Any],
) -> None:
    load_orders(conn)
    plan = explain(conn, "SELECT * FROM orders WHERE customer_id = $1 AND created_at > $2")
    scan = plan["Plan"]
    assert scan["Node Type"] == "Seq Scan"
    # The generic plan: the parameters stay parameters (a custom plan for NULLs would
    # fold the filter to false).
    assert scan["Filter"] == "((created_at > $2) AND (customer_id = $1))"
    assert "Actual Rows" not in scan
    assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    # A % in the text is SQL, not a driver placeholder.
    like = explain(conn, "SELECT * FROM orders WHERE status LIKE 'p%' AND amount % 2 = $1")
    assert like["Plan"]["Filter"] == "((status ~~ 'p%'::text) AND ((amount % 2) = $1))"


def test_parameter_values_are_planned_bound(conn: psycopg.Connection[Any]) -> None:
    load_orders(conn)
    conn.execute("CREATE INDEX ON orders (status)")
    conn.execute("ANALYZE orders")
    plan = explain(
        conn,
        "SELECT count(*) FROM orders WHERE customer_id = $1 AND status = $2",
        params=[42, "paid"],
        analyze=True,
    )
    text = str(plan["Plan"])
    assert "42" in text and "'paid'::text" in text
    assert plan["Plan"]["Actual Rows"] == 1
    assert "Execution Time" in plan


def test_analyze_counts_rows_and_buffers(conn: psycopg.Connection[Any]) -> None:
    load_orders(conn)
    plan = explain(
        conn,
        "WITH c AS (SELECT * FROM orders WHERE amount < 10) SELECT count(*) FROM c",
        analyze=True,
    )
    assert plan["Plan"]["Actual Rows"] == 1
    assert plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"] > 0


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM orders WHERE amount < 10",
        "WITH gone AS (DELETE FROM orders WHERE amount < 10 RETURNING *) SELECT count(*) FROM gone",
        "SELECT * FROM orders WHERE id = 1 FOR UPDATE",
        "SELECT * INTO orders_copy FROM orders",
    ],
)
def test_analyze_refuses_statements_that_write(
    conn: psycopg.Connection[Any], statement: str
) -> None:
    load_orders(conn)
    with pytest.raises(ConfigError, match=r"--analyze: .* is not a SELECT; pass --allow-writes"):
        explain(conn, statement, analyze=True)
    explain(conn, statement)  # without --analyze nothing runs: the plan is fine


def test_allowed_writes_run_and_are_rolled_back(conn: psycopg.Connection[Any]) -> None:
    load_orders(conn)
    plan = explain(conn, "DELETE FROM orders WHERE amount < 10", analyze=True, allow_writes=True)
    assert plan["Plan"]["Node Type"] == "ModifyTable"
    assert plan["Plan"]["Plans"][0]["Actual Rows"] == 3_000
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (ROWS,)


def test_a_connection_outside_autocommit_is_left_as_it_was(pg_database: str) -> None:
    dsn = parse_dsn(pg_database)
    with psycopg.connect(
        host=dsn.host, port=dsn.port, dbname=dsn.database, user=dsn.user, password=dsn.password()
    ) as connection:
        explain(connection, "SELECT $1::int + 1")
        assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_bad_statements_and_parameters_are_refused_clearly(conn: psycopg.Connection[Any]) -> None:
    load_orders(conn)
    with pytest.raises(ConfigError, match=r"EXPLAIN 'SELECT \* FROM nope': relation \"nope\""):
        explain(conn, "SELECT * FROM nope")
    with pytest.raises(ConfigError, match=r"has 1 parameter\(s\) \(\$1...\) and no values"):
        explain(conn, "SELECT * FROM orders WHERE id = $1", analyze=True)
    with pytest.raises(ConfigError, match=r"takes 1 parameter\(s\), got 2 value\(s\): \[1, 2\]"):
        explain(conn, "SELECT * FROM orders WHERE id = $1", params=[1, 2])
    with pytest.raises(ConfigError, match=r"division by zero"):
        explain(conn, "SELECT 1 / (amount - amount) FROM orders", analyze=True)
    # Failures leave no prepared statement behind either.
    assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
    assert explain(conn, "SELECT 1")["Plan"]["Node Type"] == "Result"


# -- the rules, for real -----------------------------------------------------------------------


def test_a_selective_filter_on_300k_rows(conn: psycopg.Connection[Any]) -> None:
    load_orders(conn)
    sql = "SELECT * FROM orders WHERE customer_id = 42"
    finding = only(findings(conn, sql, fingerprint="123"), "pg-seq-scan-filter")
    assert finding.location == "query 123: Seq Scan on orders"
    assert "reads 300,000 rows to keep 30" in finding.title
    # From estimates and the table's reltuples, without running the query.
    reltuples = conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'orders'").fetchone()
    assert reltuples is not None
    by_estimate = findings(conn, sql, analyze=False, table_rows={"orders": reltuples[0]})
    assert only(by_estimate, "pg-seq-scan-filter").confidence == 0.6
    conn.execute("CREATE INDEX ON orders (customer_id)")
    assert findings(conn, sql) == []


def test_a_parallel_scan_is_counted_whole(conn: psycopg.Connection[Any]) -> None:
    load_orders(conn)
    for setting in (
        "max_parallel_workers_per_gather = 2",
        "parallel_setup_cost = 0",
        "parallel_tuple_cost = 0",
    ):
        conn.execute(f"SET {setting}")
    finding = only(
        findings(conn, "SELECT * FROM orders WHERE customer_id = 42"), "pg-seq-scan-filter"
    )
    assert finding.location is not None and finding.location.startswith("Parallel Seq Scan")
    assert "reads 300,000 rows" in finding.title


def test_correlated_columns_misestimate_until_their_statistics_exist(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute(
        "CREATE TABLE addr AS SELECT i AS id, i % 100 AS city, i % 100 AS zip "
        f"FROM generate_series(1, {ROWS}) i"
    )
    conn.execute("ANALYZE addr")
    sql = "SELECT * FROM addr WHERE city = 5 AND zip = 5"
    finding = only(findings(conn, sql), "pg-row-misestimate")
    # About 30 estimated (1/100 x 1/100 of the rows); ANALYZE samples, so not exactly.
    assert "x more rows than planned (3,000 actual" in finding.title
    fix = finding.recommendation.split(": ", 1)[1]
    assert fix.startswith("CREATE STATISTICS redline_addr_city_zip_stats (dependencies)")
    for statement in fix.split("; "):
        conn.execute(statement)  # type: ignore[arg-type]
    assert "pg-row-misestimate" not in [f.rule for f in findings(conn, sql)]


def test_a_sort_that_spills_runs_in_memory_with_the_advised_work_mem(
    conn: psycopg.Connection[Any],
) -> None:
    load_orders(conn)
    sql = "SELECT * FROM orders ORDER BY created_at, amount"
    conn.execute("SET work_mem = '64kB'")
    finding = only(findings(conn, sql), "pg-disk-spill")
    assert finding.location == "Sort"
    conn.execute(f"SET work_mem = '{work_mem_of(finding)}'")
    sort = explain(conn, sql, analyze=True)["Plan"]
    assert sort["Sort Space Type"] == "Memory"


def test_a_hash_in_batches_fits_with_the_advised_work_mem(conn: psycopg.Connection[Any]) -> None:
    load_orders(conn)
    sql = "SELECT * FROM orders o JOIN orders p ON p.customer_id = o.id"
    conn.execute("SET work_mem = '64kB'")
    finding = only(findings(conn, sql), "pg-disk-spill")
    assert finding.location == "Hash (plan: Hash Join > Hash)"
    conn.execute(f"SET work_mem = '{work_mem_of(finding)}'")
    conn.execute("SET enable_nestloop = off")  # keep the hash join to compare
    assert "pg-disk-spill" not in [f.rule for f in findings(conn, sql)]


def test_a_nested_loop_over_a_seq_scan(conn: psycopg.Connection[Any]) -> None:
    load_orders(conn)
    conn.execute(
        "CREATE TABLE customers AS SELECT i AS id, i % 50 AS region FROM generate_series(1, 2000) i"
    )
    conn.execute("ANALYZE customers")
    conn.execute("CREATE INDEX ON orders (amount)")
    # The planner avoids this plan when it can; switching the others off shows the rule.
    for switch in ("enable_hashjoin", "enable_mergejoin", "enable_material"):
        conn.execute(f"SET {switch} = off")
    sql = "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.amount < 5"
    finding = only(findings(conn, sql), "pg-nested-loop-scan")
    assert "runs Seq Scan on customers c 1,500 times" in finding.title


def test_a_lossy_bitmap_is_exact_with_the_advised_work_mem(conn: psycopg.Connection[Any]) -> None:
    load_orders(conn)
    conn.execute("CREATE INDEX ON orders (amount)")
    for setting in (
        "work_mem = '64kB'",
        "enable_seqscan = off",
        "enable_indexscan = off",
        "enable_indexonlyscan = off",
    ):
        conn.execute(f"SET {setting}")
    sql = "SELECT count(*) FROM orders WHERE amount < 300"
    finding = only(findings(conn, sql), "pg-lossy-bitmap")
    conn.execute(f"SET work_mem = '{work_mem_of(finding)}'")
    assert "pg-lossy-bitmap" not in [f.rule for f in findings(conn, sql)]


def test_heap_fetches_after_updates_until_vacuum(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE hf (id int, v int) WITH (autovacuum_enabled = off)")
    conn.execute(f"INSERT INTO hf SELECT i, i FROM generate_series(1, {ROWS}) i")
    conn.execute("CREATE INDEX hf_id ON hf (id)")
    conn.execute("VACUUM ANALYZE hf")
    conn.execute("UPDATE hf SET v = v + 1 WHERE id % 2 = 0")
    sql = "SELECT id FROM hf WHERE id < 50000"
    finding = only(findings(conn, sql), "pg-heap-fetches")
    assert finding.location == "Index Only Scan using hf_id on hf"
    conn.execute("VACUUM hf")
    assert "pg-heap-fetches" not in [f.rule for f in findings(conn, sql)]


def test_shared_reads_of_a_table_larger_than_a_quarter_of_shared_buffers(
    conn: psycopg.Connection[Any],
) -> None:
    # A cold cache cannot be had without restarting the server; instead, a sequential
    # scan of a table over a quarter of shared_buffers reads through a small ring of
    # buffers, so most of its blocks come from outside shared buffers on every run.
    row = conn.execute(
        "SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'"
    ).fetchone()
    assert row is not None
    rows = int(row[0] / 4 * 1.5 / 250)  # about 250 bytes a row
    conn.execute(
        "CREATE TABLE big AS SELECT i AS id, i % 1000 AS k, repeat('x', 200) AS pad "
        f"FROM generate_series(1, {rows}) i"
    )
    conn.execute("ANALYZE big")
    finding = only(findings(conn, "SELECT count(*) FROM big WHERE k = 3"), "pg-shared-reads")
    assert finding.location == "Seq Scan on big (plan: Aggregate > Seq Scan on big)"
