"""The investigation's optimize step: ``redline optimize db --apply``'s keep-or-undo, per index.

Each advised index goes through :func:`~redline.optimize.try_change`: journaled
before it runs, its statements timed before and after (``EXPLAIN ANALYZE``,
with the values the runs caught), kept only by :func:`~redline.optimize.judge`'s
rule, else undone. PostgreSQL only, as ``optimize db`` is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redline.optimize import Journal, appliers, index_candidates, try_change
from redline.plan import Dsn

__all__ = ["try_indexes"]


def try_indexes(
    dsn: Dsn, advice: Sequence[Any], samples: Any, journal: Journal, *, repetitions: int
) -> list[dict[str, Any]]:
    """Try each advised index on ``dsn``; one JSON-ready record per index."""
    if dsn.scheme != "postgresql":
        return [{"change": f"{len(advice)} index(es) on {dsn}", "decision": "not tried",
                 "reason": f"{dsn.scheme}: optimize supports PostgreSQL only",
                 "entry_id": None}]  # fmt: skip
    from psycopg.rows import tuple_row

    from redline.optimize._optimize_db import explain_measure
    from redline.probes._postgres import connect

    table = appliers(dsns=[dsn])
    conn: Any = connect(dsn)
    conn.row_factory = tuple_row  # what explain reads
    try:
        measure = explain_measure(conn)
        trials = [
            try_change(
                c, measure=measure, journal=journal, appliers=table, repetitions=repetitions
            )  # fmt: skip
            for c in index_candidates(advice, samples)
        ]
    finally:
        conn.close()
    return [
        {
            "change": t.candidate.change.summary,
            "decision": t.decision.value,
            "reason": t.reason,
            "entry_id": t.entry_id,
        }  # fmt: skip
        for t in trials
    ]
