"""The SQLite probe on real files: plans, index checks that leave no trace, and the rules."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from redline.diagnose._sqlite_rules import sqlite_plan_findings
from redline.errors import ConfigError
from redline.optimize import ChangeKind
from redline.plan import parse_dsn
from redline.probes._sqlite import SqliteProbe, read_queries, table_aliases

ORDERS = 120_000


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """orders (120,000 rows, no index but the rowid) and customers (2,000, indexed on region)."""
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(f"""
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INT, status TEXT,
                                 total REAL, created TEXT);
            CREATE TABLE customers (id INTEGER PRIMARY KEY, region TEXT, name TEXT);
            CREATE INDEX customers_region ON customers (region);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ORDERS})
            INSERT INTO orders (customer_id, status, total, created)
            SELECT i % 2000, CASE WHEN i % 7 = 0 THEN 'open' ELSE 'done' END, i % 1000,
                   date('2024-01-01', '+' || (i % 365) || ' day') FROM n;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
            INSERT INTO customers SELECT i, 'r' || (i % 20), 'c' || i FROM n;
        """)
    conn.close()
    return path


def analyze(path: Path, query: str) -> list:  # type: ignore[type-arg]
    with SqliteProbe(parse_dsn(f"sqlite://{path}")) as probe:
        rows = probe.query_plan(query)
        checks = probe.advise(query)
        tables = set(table_aliases(query, dialect="sqlite").values())
        sizes = {t: probe.row_count(t) for t in tables}
    return sqlite_plan_findings(rows, query=query, checks=checks, table_rows=sizes)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def indexes(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    conn.close()
    return sorted(r[0] for r in rows)


def test_a_scan_without_an_index_gets_a_verified_index_and_the_file_is_unchanged(
    shop: Path,
) -> None:
    before = digest(shop)
    query = "SELECT * FROM orders WHERE customer_id = 42 AND status = 'open'"
    [finding] = analyze(shop, query)
    assert finding.rule == "sqlite-full-scan"
    assert finding.title == "orders is read by a full scan"
    assert finding.recommendation.startswith(
        'CREATE INDEX "redline_orders_customer_id_status_idx" ON "orders" '
        '("customer_id", "status"); (verified'
    )
    assert f"{ORDERS:,}" in {e.value for e in finding.evidence}
    assert indexes(shop) == ["customers_region"]
    assert digest(shop) == before
    assert not (shop.parent / "shop.db-journal").exists()


def test_the_check_reports_plans_before_and_after_and_its_change_applies_and_undoes(
    shop: Path,
) -> None:
    query = "SELECT * FROM orders WHERE created > '2024-06-01' ORDER BY created LIMIT 5"
    with SqliteProbe(parse_dsn(f"sqlite://{shop}")) as probe:
        [check] = probe.advise(query)
    assert [r.detail for r in check.before] == ["SCAN orders", "USE TEMP B-TREE FOR ORDER BY"]
    assert check.after[0].detail.startswith("SEARCH orders USING INDEX redline_orders_created_idx")
    assert (check.used, check.scans_removed, check.sorts_removed) == (True, 1, 1)
    change = check.to_change()
    assert change.kind is ChangeKind.INDEX and change.target == f"sqlite:///{str(shop)[1:]}"
    with sqlite3.connect(shop) as conn:
        conn.execute(change.apply)
        assert conn.execute(change.verify).fetchone() == (1,)
        conn.execute(change.undo)
        assert conn.execute(change.verify).fetchone() == (0,)
    conn.close()


def test_group_by_without_an_index_sorts_in_a_temp_btree(shop: Path) -> None:
    findings = analyze(shop, "SELECT status, count(*) FROM orders GROUP BY status")
    [finding] = findings
    assert finding.rule == "sqlite-temp-btree" and "GROUP BY" in finding.title
    assert '"redline_orders_status_idx"' in finding.recommendation


def test_order_by_an_indexed_column_uses_the_index_not_a_temp_btree(shop: Path) -> None:
    assert analyze(shop, "SELECT * FROM customers ORDER BY region LIMIT 10") == []


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM customers WHERE region = 'r3'",
        "SELECT * FROM orders WHERE id = 77",
        "SELECT o.total FROM customers c JOIN orders o ON o.id = c.id WHERE c.region = 'r1'",
    ],
)
def test_well_indexed_queries_have_no_findings(shop: Path, query: str) -> None:
    assert analyze(shop, query) == []


def test_the_probe_opens_the_file_read_only(shop: Path) -> None:
    with SqliteProbe(parse_dsn(f"sqlite://{shop}")) as probe:
        conn = probe._connection()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("CREATE TABLE x (a)")


def test_bad_files_and_statements_are_config_errors(tmp_path: Path, shop: Path) -> None:
    with pytest.raises(ConfigError, match="no SQLite file at"):
        SqliteProbe(parse_dsn(f"sqlite://{tmp_path}/missing.db")).__enter__()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConfigError, match="is not a SQLite database"):
        SqliteProbe(parse_dsn(f"sqlite://{junk}")).__enter__()
    with SqliteProbe(parse_dsn(f"sqlite://{shop}")) as probe:
        with pytest.raises(ConfigError, match="no such table: missing_table"):
            probe.query_plan("SELECT * FROM missing_table")
    with pytest.raises(ConfigError, match="expected sqlite:///"):
        SqliteProbe(parse_dsn("mysql://u@127.0.0.1/db"))


def test_read_queries_splits_on_semicolons_outside_strings_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "queries.sql"
    path.write_text(
        "-- the slow ones; from the log\n"
        "SELECT * FROM orders WHERE status = 'a;b';\n"
        ";\n"
        "SELECT 1 /* ; */\n"
    )
    assert read_queries(path) == [
        "-- the slow ones; from the log\nSELECT * FROM orders WHERE status = 'a;b'",
        "SELECT 1 /* ; */",
    ]
    empty = tmp_path / "empty.sql"
    empty.write_text("  ;\n")
    with pytest.raises(ConfigError, match="no SQL statement in"):
        read_queries(empty)
    with pytest.raises(ConfigError, match="cannot read"):
        read_queries(tmp_path / "missing.sql")
    broken = tmp_path / "broken.sql"
    broken.write_text("SELECT 'unterminated")
    with pytest.raises(ConfigError, match="is not SQL"):
        read_queries(broken)
