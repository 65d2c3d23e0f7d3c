"""Everything ``redline db analyze postgresql://...`` reads from a PostgreSQL database.

One pass, each part on its own: the top statements (pg_stat_statements), the
plan of each of the heaviest, index advice (HypoPG), and the health views. A
part that cannot be read (a missing privilege or extension) leaves a note and
the others still run, so a partial analysis is still shown. Turning it into
findings is :func:`redline.diagnose.database_findings`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from redline.plan import Dsn
from redline.probes._db_analysis import read_part
from redline.probes._explain import explain
from redline.probes._hypopg import IndexAdvice, advise_indexes
from redline.probes._postgres import PgHealth, PostgresProbe, QueryStats, connect
from redline.probes._query_samples import QuerySample, QuerySamples

__all__ = ["PostgresAnalysis", "analyze_postgres"]


@dataclass
class PostgresAnalysis:
    """What was read, and notes on what could not be."""

    dsn: str
    top: list[QueryStats] = field(default_factory=list)
    #: The plan (EXPLAIN JSON) of each of the heaviest statements, by queryid.
    plans: dict[int, dict[str, Any]] = field(default_factory=dict)
    advice: list[IndexAdvice] = field(default_factory=list)
    health: PgHealth | None = None
    #: What each plan was made for: the values of a sample, or none (a generic plan).
    plan_sources: dict[int, str] = field(default_factory=dict)
    #: Rows of each table (reltuples), for the plan rules without ANALYZE figures.
    table_rows: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "dsn": self.dsn,
            "top": [q.to_dict() for q in self.top],
            "plans": {str(k): v for k, v in self.plans.items()},
            "plan_sources": {str(k): v for k, v in self.plan_sources.items()},
            "advice": [a.to_dict() for a in self.advice],
            "health": self.health.to_dict() if self.health is not None else None,
            "notes": list(self.notes),
        }


def analyze_postgres(
    dsn: Dsn,
    *,
    top: int = 20,
    plans: int = 5,
    analyze: bool = False,
    allow_writes: bool = False,
    advise: bool = True,
    samples: QuerySamples | None = None,
) -> PostgresAnalysis:
    """Read the database behind ``dsn``.

    A statement with a sample in ``samples`` is planned (and with ``analyze``
    run) for the sample's values; the others get a generic plan.

    Raises:
        TargetError: the database cannot be reached at all (nothing to show).
    """
    result = PostgresAnalysis(str(dsn))
    with PostgresProbe(dsn) as probe:
        result.top = (
            read_part(result.notes, "top statements", lambda: probe.top_queries(limit=top)) or []
        )
        result.health = read_part(result.notes, "health", probe.health)
    conn: Any = connect(dsn)
    conn.row_factory = tuple_row  # what explain and the advisor read
    try:
        result.table_rows = read_part(result.notes, "table sizes", lambda: _table_rows(conn)) or {}
        for stats in result.top[:plans]:
            sample = samples.for_statement(stats.query) if samples is not None else None
            planner = _planner(conn, stats.query, sample, analyze, allow_writes)
            plan = read_part(result.notes, f"the plan of statement {stats.queryid}", planner)
            if plan is not None:
                result.plans[stats.queryid] = plan
                result.plan_sources[stats.queryid] = planned_for(sample)
        if advise and result.top:
            heaviest = result.top[:plans]
            advice = read_part(result.notes, "index advice",
                               lambda: _advise(conn, heaviest, result.notes))  # fmt: skip
            result.advice = advice or []
    finally:
        conn.close()
    return result


def _planner(
    conn: Any, query: str, sample: QuerySample | None, analyze: bool, allow_writes: bool
) -> Callable[[], dict[str, Any]]:
    if sample is None:
        return lambda: explain(conn, query, analyze=analyze, allow_writes=allow_writes)
    return lambda: explain(conn, sample.text, analyze=analyze, allow_writes=allow_writes,
                           params=sample.params)  # fmt: skip


def planned_for(sample: QuerySample | None) -> str:
    """What a plan was made for, as a finding's evidence says it."""
    if sample is None:
        return "generic plan (no values: give --samples)"
    return f"planned for the values seen in {sample.source}"


def _advise(conn: Any, heaviest: list[QueryStats], notes: list[str]) -> list[IndexAdvice]:
    """Index advice, weighed against each table's write rate where the statistics allow."""
    writes, calls, upper_bound = _rates(conn, heaviest)
    if not writes:
        notes.append("index advice: write rates unknown (no statistics reset time), not weighed")
    return advise_indexes(conn, [q.query for q in heaviest], writes_per_s=writes,
                          calls_per_s=calls, writes_upper_bound=upper_bound)  # fmt: skip


def _rates(
    conn: Any, heaviest: list[QueryStats]
) -> tuple[dict[str, float], dict[str, float], bool]:
    """Average rates since the statistics were reset: rows written per table, calls per
    statement (pg_stat_statements_info, PostgreSQL 14+), and whether the write rates are
    only an upper bound.

    A database whose statistics were never reset (every new one: its
    ``pg_stat_database.stats_reset`` is NULL) counts table writes since it was
    created, its first load included; they are then averaged over the span
    pg_stat_statements counts over, which may be shorter: an upper bound.
    """
    tables_since_s = _seconds_since(conn, "pg_stat_database WHERE datname = current_database()")
    try:
        calls_since_s = _seconds_since(conn, "pg_stat_statements_info")
    except psycopg.Error:  # PostgreSQL 13 and older: no reset time of its own
        calls_since_s = 0.0
    since_s = tables_since_s or calls_since_s
    if since_s <= 0:
        return {}, {}, False
    tables = conn.execute(
        "/* redline */ SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
    ).fetchall()
    writes = {str(name): float(rows) / since_s for name, rows in tables}
    calls = {q.query: q.calls / (calls_since_s or since_s) for q in heaviest}
    return writes, calls, not tables_since_s


def _seconds_since(conn: Any, view: str) -> float:
    """Seconds since ``view``'s ``stats_reset``; 0 when it has none."""
    row = conn.execute(
        f"/* redline */ SELECT extract(epoch FROM now() - stats_reset) FROM {view}"
    ).fetchone()
    return float(row[0]) if row and row[0] else 0.0


def _table_rows(conn: Any) -> dict[str, float]:
    rows = conn.execute(
        "/* redline */ SELECT relname, reltuples FROM pg_class "
        "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
    ).fetchall()
    return {str(name): float(count) for name, count in rows}
