"""Findings from a database's analysis (``redline db analyze``), whichever the server.

Plan rules on each planned statement, index advice (verified where the server
allows), and the health rules; ranked like a run's findings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redline.diagnose._db_health import health_findings
from redline.diagnose._finding import Category, Evidence, Finding, Severity, ranked
from redline.diagnose._mysql_rules import mysql_health_findings, mysql_plan_findings
from redline.diagnose._plan_rules import plan_findings
from redline.diagnose._sqlite_rules import sqlite_plan_findings
from redline.probes._db_analysis import MySqlAnalysis, SqliteAnalysis
from redline.probes._hypopg import IndexAdvice
from redline.probes._pg_analysis import PostgresAnalysis

__all__ = ["database_findings"]

Analysis = PostgresAnalysis | MySqlAnalysis | SqliteAnalysis


def database_findings(analysis: Analysis) -> list[Finding]:
    """Every finding of the analysis, worst first."""
    return ranked(FINDERS[type(analysis)](analysis))


def _postgres(analysis: Any) -> list[Finding]:
    found: list[Finding] = []
    for stats in analysis.top:
        plan = analysis.plans.get(stats.queryid)
        if plan is not None:
            found += plan_findings(
                plan,
                query=stats.query,
                table_rows=analysis.table_rows,
                planned_for=analysis.plan_sources.get(stats.queryid, ""),
            )
    found += [_advice(a) for a in analysis.advice]
    if analysis.health is not None:
        found += health_findings(analysis.health)
    return found


def _mysql(analysis: Any) -> list[Finding]:
    found: list[Finding] = []
    for planned in analysis.planned:
        found += mysql_plan_findings(planned.plan, query=planned.query, checks=planned.checks)
    if analysis.health is not None:
        found += mysql_health_findings(analysis.health)
    return found


def _sqlite(analysis: Any) -> list[Finding]:
    found: list[Finding] = []
    for planned in analysis.planned:
        found += sqlite_plan_findings(planned.plan, query=planned.query, checks=planned.checks,
                                      table_rows=analysis.table_rows)  # fmt: skip
    return found


def _advice(advice: IndexAdvice) -> Finding:
    return Finding(
        rule="missing-index",
        category=Category.DATABASE,
        severity=Severity.HIGH if advice.gain >= 0.9 else Severity.MEDIUM,
        confidence=0.85,
        title=f"An index on {advice.table}({', '.join(advice.columns)}) cuts the cost of "
        f"{len(advice.queries)} statement(s) by {advice.gain:.0%}",
        evidence=(
            Evidence(
                "estimated cost, before → after",
                f"{advice.cost_before:,.0f} → {advice.cost_after:,.0f}",
                "EXPLAIN with a HypoPG hypothetical index",
            ),
            *(Evidence("serves", q, "pg_stat_statements") for q in advice.queries[:3]),
        ),
        location=f"table {advice.schema}.{advice.table}",
        recommendation=advice.ddl + (f" ({advice.write_note})" if advice.write_note else ""),
        expected_effect=f"the planner's cost of those statements down {advice.gain:.0%}",
    )


#: The findings of each kind of analysis.
FINDERS: dict[type, Callable[[Any], list[Finding]]] = {
    PostgresAnalysis: _postgres,
    MySqlAnalysis: _mysql,
    SqliteAnalysis: _sqlite,
}
