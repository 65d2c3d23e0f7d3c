"""SQLite plan rules over built plans: scans, temporary B-trees and verified index advice."""

from __future__ import annotations

from redline.diagnose._finding import Severity
from redline.diagnose._sqlite_rules import LARGE_TABLE_ROWS, sqlite_plan_findings
from redline.probes._sqlite import IndexCandidate, PlanOperation, PlanRow, SqliteIndexCheck


def plan(*details: str, parents: tuple[int, ...] = ()) -> tuple[PlanRow, ...]:
    return tuple(
        PlanRow(i + 2, parents[i] if i < len(parents) else 0, d) for i, d in enumerate(details)
    )


def check(
    table: str, columns: tuple[str, ...], before: tuple[PlanRow, ...], *after: str
) -> SqliteIndexCheck:
    candidate = IndexCandidate(table, columns)
    rows = plan(*(a.replace("{name}", candidate.name) for a in after))
    return SqliteIndexCheck(candidate=candidate, before=before, after=rows, target="sqlite:///x.db")


def rules(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [f.rule for f in findings]


def test_plan_rows_read_both_detail_forms() -> None:
    new, old, auto, temp = plan(
        "SEARCH o USING INDEX idx_c (customer_id=?)",
        "SCAN TABLE orders AS o",
        "SEARCH t USING AUTOMATIC COVERING INDEX (a=?)",
        "USE TEMP B-TREE FOR GROUP BY",
    )
    assert (new.operation, new.name, new.index, new.full_scan) == (
        PlanOperation.SEARCH, "o", "idx_c", False,
    )  # fmt: skip
    assert (old.operation, old.name, old.full_scan) == (PlanOperation.SCAN, "o", True)
    assert auto.automatic_index and auto.index is None
    assert temp.operation is PlanOperation.TEMP_BTREE and temp.temp_btree_for == "GROUP BY"
    assert plan("SCAN CONSTANT ROW")[0].operation is PlanOperation.OTHER


def test_a_filtered_scan_names_the_table_and_carries_the_verified_index() -> None:
    query = "SELECT * FROM orders WHERE customer_id = 3"
    before = plan("SCAN orders")
    fix = check(
        "orders", ("customer_id",), before, "SEARCH orders USING INDEX {name} (customer_id=?)"
    )
    [finding] = sqlite_plan_findings(
        before, query=query, checks=[fix], table_rows={"orders": LARGE_TABLE_ROWS}
    )
    assert finding.rule == "sqlite-full-scan" and "orders" in finding.title
    assert finding.severity is Severity.HIGH
    assert finding.recommendation.startswith(
        'CREATE INDEX "redline_orders_customer_id_idx" ON "orders" ("customer_id")'
    )
    assert "verified" in finding.recommendation
    assert fix.to_change().undo == 'DROP INDEX IF EXISTS "redline_orders_customer_id_idx"'


def test_a_scan_without_a_candidate_that_helps_says_so() -> None:
    before = plan("SCAN orders")
    useless = check("orders", ("status",), before, "SCAN orders")
    [finding] = sqlite_plan_findings(
        before, query="SELECT * FROM orders WHERE status = 'x'", checks=[useless]
    )
    assert finding.severity is Severity.MEDIUM
    assert "orders (status)" in finding.recommendation
    assert "no candidate index redline tried improved the plan" in finding.recommendation


def test_an_unfiltered_outer_scan_and_small_tables_are_not_reported() -> None:
    assert sqlite_plan_findings(plan("SCAN orders"), query="SELECT count(*) FROM orders") == []
    join = plan("SCAN o", "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)")
    query = "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id"
    assert sqlite_plan_findings(join, query=query) == []
    small = sqlite_plan_findings(
        plan("SCAN t"), query="SELECT * FROM t WHERE a = 1", table_rows={"t": 10}
    )
    assert small == []


def test_an_inner_loop_scan_is_high_and_names_the_table_behind_its_alias() -> None:
    rows = plan("SEARCH c USING INDEX ix_region (region=?)", "SCAN o")
    query = "SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.region = 'x'"
    [finding] = sqlite_plan_findings(rows, query=query, table_rows={"orders": 5_000})
    assert finding.severity is Severity.HIGH
    assert finding.title.startswith("orders is read by a full scan, once per outer row")


def test_a_scan_inside_a_correlated_subquery_is_repeated() -> None:
    rows = (
        PlanRow(2, 0, "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)"),
        PlanRow(3, 0, "CORRELATED SCALAR SUBQUERY 1"),
        PlanRow(4, 3, "SCAN o"),
    )
    query = (
        "SELECT (SELECT max(total) FROM orders o WHERE o.customer_id = c.id) "
        "FROM customers c WHERE c.id = 5"
    )
    [finding] = sqlite_plan_findings(rows, query=query)
    assert finding.severity is Severity.HIGH and "orders" in finding.title


def test_an_automatic_index_is_reported() -> None:
    rows = plan("SCAN a", "SEARCH b USING AUTOMATIC COVERING INDEX (k=?)")
    [finding] = sqlite_plan_findings(rows, query="SELECT * FROM a JOIN b ON b.k = a.k")
    assert "automatic index" in finding.title and finding.title.startswith("b ")


def test_a_temp_btree_is_reported_with_the_index_that_removes_it() -> None:
    query = "SELECT status, count(*) FROM orders GROUP BY status"
    before = plan("SCAN orders", "USE TEMP B-TREE FOR GROUP BY")
    fix = check("orders", ("status",), before, "SCAN orders USING COVERING INDEX {name}")
    findings = sqlite_plan_findings(before, query=query, checks=[fix], table_rows={"orders": 10})
    [finding] = findings
    assert finding.rule == "sqlite-temp-btree" and "GROUP BY" in finding.title
    assert finding.severity is Severity.LOW
    assert "redline_orders_status_idx" in finding.recommendation
    large = sqlite_plan_findings(before, query=query, table_rows={"orders": LARGE_TABLE_ROWS})
    assert large[0].severity is Severity.MEDIUM


def test_an_improving_index_for_no_reported_problem_is_advice_of_its_own() -> None:
    query = "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region = 'x'"
    before = plan("SCAN o", "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)")
    fix = check(
        "orders", ("customer_id",), before,
        "SEARCH c USING INDEX ix_region (region=?)", "SEARCH o USING INDEX {name} (customer_id=?)",
    )  # fmt: skip
    [finding] = sqlite_plan_findings(before, query=query, checks=[fix])
    assert finding.rule == "sqlite-index"
    assert finding.recommendation.startswith('CREATE INDEX "redline_orders_customer_id_idx"')


def test_a_candidate_that_is_used_but_removes_nothing_is_not_advice() -> None:
    before = plan("SCAN o", "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)")
    moved = check(
        "orders", ("customer_id",), before, "SCAN c", "SEARCH o USING INDEX {name} (customer_id=?)"
    )
    assert moved.used and not moved.improves
    query = "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id"
    assert sqlite_plan_findings(before, query=query, checks=[moved]) == []


def test_a_query_sqlglot_cannot_read_still_gets_plan_findings() -> None:
    rows = plan("SCAN orders", "USE TEMP B-TREE FOR ORDER BY")
    findings = sqlite_plan_findings(rows, query="SELECT * FROM orders ORDER BY (((")
    assert rules(findings) == ["sqlite-temp-btree"]
