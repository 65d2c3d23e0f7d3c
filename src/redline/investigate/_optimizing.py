"""The investigation's optimize step: ``redline optimize db --apply``'s keep-or-undo, per index.

Each advised index goes through :func:`~redline.optimize.try_change`: journaled
before it runs, its statements timed before and after, kept only by
:func:`~redline.optimize.judge`'s rule, else undone. On PostgreSQL the times are
``EXPLAIN ANALYZE``'s (with the values the runs caught); on SQLite, which has
no statement timing, each statement of the queries file is run read-only and
timed whole (:func:`sqlite_measure`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

from redline.optimize import (
    ChangeTrial,
    IndexCandidate,
    Journal,
    appliers,
    index_candidates,
    try_change,
)
from redline.optimize._optimize_db import Measure, Statement
from redline.plan import Dsn

__all__ = ["sqlite_advice", "sqlite_measure", "try_indexes"]

#: Nanoseconds in a millisecond.
NS_PER_MS = 1_000_000


def try_indexes(
    dsn: Dsn, advice: Sequence[Any], samples: Any, journal: Journal, *, repetitions: int
) -> list[dict[str, Any]]:
    """Try each advised index on ``dsn``; one JSON-ready record per index.

    ``advice`` is :func:`sqlite_advice`'s on SQLite, the advisor's
    (:class:`~redline.probes.IndexAdvice`) on PostgreSQL.
    """
    if dsn.scheme == "sqlite":
        return _records(_try_sqlite(dsn, advice, journal, repetitions))
    if dsn.scheme != "postgresql":
        return [{"change": f"{len(advice)} index(es) on {dsn}", "decision": "not tried",
                 "reason": f"{dsn.scheme}: optimize supports PostgreSQL and SQLite",
                 "entry_id": None}]  # fmt: skip
    return _records(_try_postgres(dsn, index_candidates(advice, samples), journal, repetitions))


def sqlite_advice(planned: Iterable[Any]) -> list[IndexCandidate]:
    """The indexes that improve the planned statements (one candidate per index, with every
    statement it serves), from :func:`~redline.probes.analyze_sqlite`'s ``planned``."""
    served: dict[str, tuple[Any, list[str]]] = {}
    for statement in planned:
        for check in statement.checks:
            if check.improves:
                served.setdefault(check.candidate.name, (check, []))[1].append(statement.query)
    return [
        IndexCandidate(check.to_change(), tuple(queries), tuple(Statement(q, q) for q in queries))
        for check, queries in served.values()
    ]


def sqlite_measure(conn: sqlite3.Connection) -> Measure:
    """A :data:`~redline.optimize._optimize_db.Measure` over a read-only SQLite connection:
    the statement run to its last row, in milliseconds."""

    def measure(text: str, params: Sequence[Any] | None) -> float:
        start_ns = time.perf_counter_ns()
        conn.execute(text, tuple(params or ())).fetchall()
        return (time.perf_counter_ns() - start_ns) / NS_PER_MS

    return measure


def _try_sqlite(
    dsn: Dsn, candidates: Sequence[IndexCandidate], journal: Journal, repetitions: int
) -> list[ChangeTrial]:
    conn = sqlite3.connect(f"file:{dsn.path}?mode=ro", uri=True)
    try:
        measure, table = sqlite_measure(conn), appliers(dsns=[dsn])
        return [try_change(c, measure=measure, journal=journal, appliers=table,
                           repetitions=repetitions) for c in candidates]  # fmt: skip
    finally:
        conn.close()


def _try_postgres(
    dsn: Dsn, candidates: Sequence[IndexCandidate], journal: Journal, repetitions: int
) -> list[ChangeTrial]:
    from psycopg.rows import tuple_row

    from redline.optimize._optimize_db import explain_measure
    from redline.probes._postgres import connect

    conn: Any = connect(dsn)
    conn.row_factory = tuple_row  # what explain reads
    try:
        measure, table = explain_measure(conn), appliers(dsns=[dsn])
        return [try_change(c, measure=measure, journal=journal, appliers=table,
                           repetitions=repetitions) for c in candidates]  # fmt: skip
    finally:
        conn.close()


def _records(trials: Iterable[ChangeTrial]) -> list[dict[str, Any]]:
    return [
        {
            "change": t.candidate.change.summary,
            "decision": t.decision.value,
            "reason": t.reason,
            "entry_id": t.entry_id,
        }  # fmt: skip
        for t in trials
    ]
