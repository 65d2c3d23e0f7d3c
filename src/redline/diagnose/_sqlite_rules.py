"""Rules on one SQLite query's plan (``EXPLAIN QUERY PLAN``) that turn it into Findings.

- **sqlite-full-scan**: a ``SCAN`` of a table through no index, when an index
  could serve it: the query compares the table's columns with values, or the
  scan is repeated (an inner loop of a join, or inside a correlated subquery),
  or SQLite builds an automatic index for it on every execution. A table the
  query reads whole as the outer loop of a join, with nothing to filter it, is
  not reported: every plan must read it. Severity HIGH for a repeated scan or
  a table of :data:`LARGE_TABLE_ROWS` rows or more, else MEDIUM; tables under
  :data:`SMALL_TABLE_ROWS` rows are not reported when their size is known.
- **sqlite-temp-btree**: ``USE TEMP B-TREE FOR ORDER BY / GROUP BY /
  DISTINCT``: rows sorted in a temporary B-tree on every execution, where an
  index in that order would hand them over sorted. MEDIUM when the query
  reads a table of :data:`LARGE_TABLE_ROWS` rows or more, else LOW.
- **sqlite-index**: a candidate index that the rolled-back re-plan shows the
  query would use, with fewer full scans or sorts (see
  :class:`redline.probes._sqlite.SqliteIndexCheck`). Such an index goes into
  the recommendation (a ``CREATE INDEX``) of the scan or sort it removes; this
  rule reports one that removes neither of the findings above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.errors import ConfigError
from redline.probes._sqlite import (
    PlanOperation,
    PlanRow,
    SqliteIndexCheck,
    filtered_columns,
    table_aliases,
)
from redline.units import one_line

__all__ = ["sqlite_plan_findings"]

#: A scanned table this large or larger makes the scan HIGH and a sort MEDIUM.
LARGE_TABLE_ROWS: Final = 100_000
#: Scans of tables smaller than this are not reported (when the size is known).
SMALL_TABLE_ROWS: Final = 1_000
#: How much of the query a finding's location shows.
QUERY_CHARS: Final = 120
PLAN_SOURCE: Final = "EXPLAIN QUERY PLAN"
CHECK_SOURCE: Final = "EXPLAIN QUERY PLAN with the index built in a rolled-back transaction"


def sqlite_plan_findings(
    rows: Sequence[PlanRow],
    *,
    query: str,
    checks: Sequence[SqliteIndexCheck] = (),
    table_rows: Mapping[str, int] | None = None,
) -> list[Finding]:
    """Findings on one query's plan.

    Args:
        rows: the query's ``EXPLAIN QUERY PLAN`` (:meth:`SqliteProbe.query_plan`).
        query: the query's text, to name tables behind aliases and see what it filters.
        checks: candidate indexes checked against it (:meth:`SqliteProbe.advise`).
        table_rows: each table's row count, where known, for severity.
    """
    try:
        aliases = table_aliases(query, dialect="sqlite")
        filtered = filtered_columns(query, dialect="sqlite")
    except ConfigError:  # sqlglot cannot read it: name the plan's tables as they are
        aliases, filtered = {}, {}
    sizes = dict(table_rows or {})
    improving = [c for c in checks if c.improves]
    context = _Context(query=query, rows=rows, tried=bool(checks))
    findings: list[Finding] = []
    attached: list[SqliteIndexCheck] = []
    for row in rows:
        fix: SqliteIndexCheck | None = None
        found: Finding | None = None
        name = row.name or ""
        if (row.full_scan or row.automatic_index) and (name in aliases or not aliases):
            # (A name the query does not give a table is a subquery's or a view's result.)
            table = aliases.get(name, name)
            fix = _scan_fix(row, improving)
            found = _scan(row, table, filtered.get(table, []), sizes.get(table), fix, context)
        elif row.operation is PlanOperation.TEMP_BTREE:
            fix = next((c for c in improving if c.sorts_removed > 0), None)
            found = _temp_btree(row, sizes, fix, context)
        if found is not None:
            findings.append(found)
            attached.extend([fix] if fix else [])
    findings.extend(_advice(c, query) for c in improving if c not in attached)
    return findings


@dataclass(frozen=True)
class _Context:
    query: str
    rows: Sequence[PlanRow]
    #: Candidate indexes were checked (so "none helped" can be said).
    tried: bool


def _scan_fix(row: PlanRow, improving: Sequence[SqliteIndexCheck]) -> SqliteIndexCheck | None:
    for check in improving:
        still = any(r.name == row.name and (r.full_scan or r.automatic_index) for r in check.after)
        if check.scans_removed > 0 and not still:
            return check
    return None


def _repeated(row: PlanRow, rows: Sequence[PlanRow]) -> bool:
    """The loop runs once per row of an outer loop, or inside a correlated subquery."""
    loops = [r for r in rows if r.parent == row.parent and r.operation is not PlanOperation.OTHER]
    loops = [r for r in loops if r.operation is not PlanOperation.TEMP_BTREE]
    if loops and loops[0] is not row:
        return True
    by_id = {r.id: r for r in rows}
    parent = by_id.get(row.parent)
    while parent is not None:
        if parent.detail.startswith("CORRELATED"):
            return True
        parent = by_id.get(parent.parent)
    return False


def _scan(
    row: PlanRow,
    table: str,
    columns: list[str],
    size: int | None,
    fix: SqliteIndexCheck | None,
    context: _Context,
) -> Finding | None:
    repeated = _repeated(row, context.rows)
    if not (columns or repeated or row.automatic_index):
        return None
    if size is not None and size < SMALL_TABLE_ROWS:
        return None
    large = size is not None and size >= LARGE_TABLE_ROWS
    how = "an automatic index built on every execution" if row.automatic_index else "a full scan"
    evidence = [Evidence("plan", row.detail, PLAN_SOURCE)]
    if size is not None:
        evidence.append(Evidence(f"rows in {table}", f"{size:,}", "SELECT count(*)"))
    if columns:
        evidence.append(Evidence("columns compared with values", ", ".join(columns), "the query"))
    if repeated:
        evidence.append(Evidence("repeated", "once per row of an outer loop", PLAN_SOURCE))
    evidence.extend(_fix_evidence(fix))
    wanted = f"{table} ({', '.join(columns)})" if columns else f"the columns that join {table}"
    return Finding(
        rule="sqlite-full-scan",
        category=Category.DATABASE,
        severity=Severity.HIGH if repeated or large else Severity.MEDIUM,
        confidence=0.9 if fix else 0.75,
        title=f"{table} is read by {how}" + (", once per outer row" if repeated else ""),
        evidence=tuple(evidence),
        location=_location(table, context.query),
        recommendation=_recommend(fix, f"index {wanted}, then check the plan says SEARCH", context),
        expected_effect=f"{table} searched through the index instead of read whole"
        + (f" ({size:,} rows)" if size else ""),
    )


def _temp_btree(
    row: PlanRow, sizes: Mapping[str, int], fix: SqliteIndexCheck | None, context: _Context
) -> Finding:
    purpose = row.temp_btree_for or "ORDER BY"
    largest = max(sizes.values(), default=0)
    evidence = [Evidence("plan", row.detail, PLAN_SOURCE), *_fix_evidence(fix)]
    if largest:
        evidence.append(Evidence("rows in the largest table read", f"{largest:,}", "count(*)"))
    return Finding(
        rule="sqlite-temp-btree",
        category=Category.DATABASE,
        severity=Severity.MEDIUM if largest >= LARGE_TABLE_ROWS else Severity.LOW,
        confidence=0.8 if fix else 0.6,
        title=f"Rows are sorted in a temporary B-tree for {purpose} on every execution",
        evidence=tuple(evidence),
        location=_location(None, context.query),
        recommendation=_recommend(
            fix,
            f"index the {purpose} columns in that order, after any columns compared with =",
            context,
        ),
        expected_effect="rows read in index order: no sort, and LIMIT stops early",
    )


def _advice(check: SqliteIndexCheck, query: str) -> Finding:
    candidate = check.candidate
    return Finding(
        rule="sqlite-index",
        category=Category.DATABASE,
        severity=Severity.MEDIUM,
        confidence=0.85,
        title=f"An index on {candidate.describe()} improves this query's plan",
        evidence=tuple(_fix_evidence(check)),
        location=_location(candidate.table, query),
        recommendation=_recommend(check, "", None),
        expected_effect=f"{check.scans_removed} fewer full scans and {check.sorts_removed} "
        "fewer sorts per execution",
    )


def _fix_evidence(fix: SqliteIndexCheck | None) -> list[Evidence]:
    if fix is None:
        return []
    plan = "; ".join(r.detail for r in fix.after)
    return [Evidence(f"plan with an index on {fix.candidate.describe()}", plan, CHECK_SOURCE)]


def _recommend(fix: SqliteIndexCheck | None, otherwise: str, context: _Context | None) -> str:
    if fix is not None:
        return f"{fix.candidate.create_sql()}; (verified: the query's plan uses it)"
    tried = context is not None and context.tried
    return otherwise + (" (no candidate index redline tried improved the plan)" if tried else "")


def _location(table: str | None, query: str) -> str:
    short = one_line(query, QUERY_CHARS, ellipsis="...")
    return f"{table} in: {short}" if table else f"query: {short}"
