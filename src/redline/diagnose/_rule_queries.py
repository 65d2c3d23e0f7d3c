"""What the database did for the run's requests (``redline run ... --db DSN``).

The statements' statistics are taken before and after the run, so their
difference is the run's: calls and time per request for each statement.

- **N+1 queries**: one statement called many times per request (the ORM
  pattern that reads each row with a query of its own). Reported at
  ``N_PLUS_ONE_CALLS`` calls per request or more, with the endpoint when the
  run had one, as Sentry's detector counts five or more identical queries in
  a request.
- **database time**: the share of the requests' latency spent executing
  statements, when it is large.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._timeline import Timeline
from redline.units import one_line

__all__ = ["database_time", "n_plus_one"]

#: A statement called this many times per request or more is an N+1 suspect.
N_PLUS_ONE_CALLS = 5.0
#: Database time at this share of the mean response time or more is reported.
DB_TIME_SHARE = 0.5
#: Where the statements come from, when the results do not say (older runs: PostgreSQL).
SOURCE = "pg_stat_statements, before and after the run"
#: How to read many rows by id in one statement, by the DSN's scheme.
IN_ONE_QUERY = {"postgresql": "WHERE id = ANY($1)", "mysql": "WHERE id IN (...)"}
#: Shown of a statement's text.
QUERY_CHARS = 160


def n_plus_one(timeline: Timeline) -> list[Finding]:
    """Statements called many times per request, worst first."""
    database, requests = _database(timeline)
    if database is None or requests == 0:
        return []
    findings = []
    for statement in database.get("statements") or []:
        per_request = statement["calls"] / requests
        if per_request >= N_PLUS_ONE_CALLS:
            findings.append(_n_plus_one(timeline, database, statement, per_request, requests))
    return findings


def database_time(timeline: Timeline) -> list[Finding]:
    """The database's share of the requests' latency, when it is most of it."""
    database, requests = _database(timeline)
    if database is None or requests == 0:
        return []
    total = (timeline.document.get("summary") or {}).get("total") or {}
    mean_us = float((total.get("response") or {}).get("mean") or 0.0)
    statements = database.get("statements") or []
    source = database.get("source") or SOURCE
    db_ms = sum(float(s["total_ms"]) for s in statements) / requests
    if mean_us <= 0 or db_ms * 1000 < DB_TIME_SHARE * mean_us:
        return []
    top = max(statements, key=lambda s: float(s["total_ms"]))
    share = db_ms * 1000 / mean_us
    return [
        Finding(
            rule="database-time",
            category=Category.DATABASE,
            severity=Severity.HIGH,
            confidence=0.8,
            title=f"The database takes {share:.0%} of each request's time "
            f"({db_ms:.2f} ms of {mean_us / 1000:.2f} ms)",
            evidence=(
                Evidence("statement time per request", f"{db_ms:.2f} ms", source),
                Evidence("mean response time", f"{mean_us / 1000:.2f} ms", "the run's summary"),
                Evidence("the heaviest statement", one_line(top["query"], QUERY_CHARS), source),
            ),
            location=f"query: {one_line(top['query'], QUERY_CHARS)}",
            recommendation="make the heaviest statements cheaper: redline db analyze DSN shows "
            "their plans and the indexes that would help",
            expected_effect="latency falls with the statement time saved",
        )
    ]


def _n_plus_one(
    timeline: Timeline,
    database: Mapping[str, Any],
    statement: Mapping[str, Any],
    per_request: float,
    requests: int,
) -> Finding:
    source = database.get("source") or SOURCE
    scheme = str(database.get("dsn") or "postgresql").partition(":")[0]
    in_one = IN_ONE_QUERY.get(scheme, IN_ONE_QUERY["postgresql"])
    endpoints = (timeline.document.get("series") or {}).get("endpoints") or []
    where = f"endpoint {endpoints[0]}" if len(endpoints) == 1 else f"{len(endpoints)} endpoints"
    ms_per_request = float(statement["total_ms"]) / requests
    query = one_line(statement["query"], QUERY_CHARS)
    return Finding(
        rule="n-plus-one",
        category=Category.DATABASE,
        severity=Severity.HIGH if per_request >= 2 * N_PLUS_ONE_CALLS else Severity.MEDIUM,
        confidence=0.85 if len(endpoints) == 1 else 0.6,
        title=f"N+1 queries: {per_request:.1f} calls of one statement per request ({where})",
        evidence=(
            Evidence(
                "calls per request",
                f"{per_request:.1f} ({statement['calls']:,} calls, {requests:,} requests)",
                source,
            ),
            Evidence(
                "its time per request",
                f"{ms_per_request:.3f} ms executing, plus a round trip per call",
                source,
            ),
            Evidence("the statement", query, source),
        ),
        location=f"query: {query}" + (f" (from {where})" if len(endpoints) == 1 else ""),
        recommendation=f"read the rows in one query (a JOIN, or {in_one}), or "
        "have the ORM load them eagerly (select_related / prefetch_related / joinedload)",
        expected_effect=f"{per_request:.0f} round trips per request become one",
    )


def _database(timeline: Timeline) -> tuple[Mapping[str, Any] | None, int]:
    database = timeline.document.get("database")
    total = (timeline.document.get("summary") or {}).get("total") or {}
    return database, int(total.get("count") or 0)
