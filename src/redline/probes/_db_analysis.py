"""What ``redline db analyze`` reads from MySQL/MariaDB and SQLite (PostgreSQL: ``_pg_analysis``).

Each part is read on its own; one that cannot be read leaves a note and the
others still run. Findings are made from these by ``redline.diagnose``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from redline.errors import RedlineError
from redline.plan import Dsn
from redline.probes._mysql import DigestStat, MySqlHealth, MySqlIndexCheck, MySqlProbe
from redline.probes._sqlite import (
    PlanRow,
    SqliteIndexCheck,
    SqliteProbe,
    read_queries,
    table_aliases,
)

__all__ = [
    "MySqlAnalysis",
    "PlannedStatement",
    "SqliteAnalysis",
    "analyze_mysql",
    "analyze_sqlite",
    "read_part",
]

T = TypeVar("T")


@dataclass
class PlannedStatement:
    """One statement, its plan and the index candidates checked against it."""

    query: str
    plan: Any
    checks: list[Any] = field(default_factory=list)


@dataclass
class MySqlAnalysis:
    dsn: str
    top: list[DigestStat] = field(default_factory=list)
    planned: list[PlannedStatement] = field(default_factory=list)
    health: MySqlHealth | None = None
    notes: list[str] = field(default_factory=list)

    def statements(self) -> list[dict[str, Any]]:
        """The top statements in the shape every database's table shows."""
        return [
            {"query": d.text, "calls": d.calls, "total_ms": d.total_ms, "mean_ms": d.avg_ms,
             "rows": d.rows_sent, "temp_written": d.tmp_disk_tables}
            for d in self.top
        ]  # fmt: skip


@dataclass
class SqliteAnalysis:
    dsn: str
    planned: list[PlannedStatement] = field(default_factory=list)
    #: Rows of each table the statements name.
    table_rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def analyze_mysql(
    dsn: Dsn, *, top: int = 20, plans: int = 5, try_indexes: bool = False
) -> MySqlAnalysis:
    """Top digests, the plans of the heaviest with their index candidates, health.

    The candidates are guesses unless ``try_indexes``: then each is built online,
    the statement explained again, and the index dropped (see :mod:`._mysql`).
    """
    result = MySqlAnalysis(str(dsn))
    with MySqlProbe(dsn) as probe:
        result.top = read_part(result.notes, "top statements", lambda: probe.top_digests(top)) or []
        for digest in result.top[:plans]:
            query = digest.sample or digest.text
            plan = read_part(result.notes, f"the plan of {digest.digest[:12]}",
                         lambda q=query: probe.explain(q))  # type: ignore[misc]  # fmt: skip
            if plan is not None:
                checks: list[MySqlIndexCheck] = (
                    read_part(
                        result.notes,
                        "index candidates",
                        lambda q=query: probe.advise(q, allow_changes=try_indexes),  # type: ignore[misc]
                    )
                    or []
                )
                result.planned.append(PlannedStatement(query, plan, checks))
        result.health = read_part(result.notes, "health", probe.health)
    return result


def analyze_sqlite(dsn: Dsn, queries_file: Path) -> SqliteAnalysis:
    """The plan of each statement in ``queries_file``, with index candidates re-planned."""
    result = SqliteAnalysis(str(dsn))
    queries = read_queries(queries_file)
    with SqliteProbe(dsn) as probe:
        for query in queries:
            rows: list[PlanRow] | None = read_part(result.notes, f"the plan of {query[:40]!r}",
                                               lambda q=query: probe.query_plan(q))  # type: ignore[misc]  # fmt: skip
            if rows is None:
                continue
            checks: list[SqliteIndexCheck] = probe.advise(query)
            result.planned.append(PlannedStatement(query, rows, checks))
            for table in set(table_aliases(query, dialect="sqlite").values()):
                if table not in result.table_rows:
                    result.table_rows[table] = probe.row_count(table)
    return result


def read_part(notes: list[str], what: str, read: Callable[[], T]) -> T | None:
    """Run one part of an analysis; a refusal becomes a note and the rest goes on."""
    try:
        return read()
    except RedlineError as exc:
        notes.append(f"{what}: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
    return None
