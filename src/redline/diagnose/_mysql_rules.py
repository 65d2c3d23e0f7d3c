"""Rules on a MySQL/MariaDB statement's plan and on the server's health.

Plan rules (:func:`mysql_plan_findings`, over ``EXPLAIN FORMAT=JSON`` read by
:func:`redline.probes._mysql.plan_tables`; rows are the optimizer's estimates):

- **mysql-no-index**: a table read with a condition (``attached_condition``)
  that no index can serve (``possible_keys`` and ``key`` both empty), estimated
  at :data:`MIN_INDEX_ROWS` rows or more. HIGH at :data:`HUGE_TABLE_ROWS`.
- **mysql-full-scan**: ``access_type`` ALL on a table of
  :data:`LARGE_TABLE_ROWS` estimated rows or more that the rule above did not
  report (nothing filters it, or the optimizer passed over the indexes it has).
  HIGH at :data:`HUGE_TABLE_ROWS`, else MEDIUM.
- **mysql-filesort** (``Using filesort``) and **mysql-temporary** (``Using
  temporary``): MEDIUM when the tables under the sort or temporary table hold
  :data:`SORT_ROWS` estimated rows or more, else LOW.

A candidate index verified by :meth:`MySqlProbe.index_check` goes into the
recommendation of the finding it fixes as a ``CREATE INDEX``; an unverified one
is offered as such. Plans of digest texts are plans for stand-in values
(:func:`redline.probes._mysql.stand_in`): those findings say so and carry
:data:`STAND_IN_CONFIDENCE` times the confidence.

Health rules (:func:`mysql_health_findings`, over :class:`MySqlHealth`;
counters since the server started):

- **mysql-buffer-pool**: InnoDB buffer pool hit ratio below
  :data:`BUFFER_POOL_HIT_RATIO` (99 %) over at least
  :data:`MIN_READ_REQUESTS` page reads; HIGH below :data:`BUFFER_POOL_HIT_RATIO_HIGH`.
- **mysql-connections**: the most connections at once above
  :data:`CONNECTIONS_SHARE` (85 %) of ``max_connections`` (HIGH), or any
  connection refused for it (CRITICAL).
- **mysql-aborted-connects** / **mysql-aborted-clients**: failed connection
  attempts / connections dropped without a proper close, at least
  :data:`MIN_ABORTED` and :data:`ABORTED_SHARE` (1 %) of all connections.
- **mysql-tmp-disk**: at least :data:`TMP_DISK_SHARE` (25 %) of internal
  temporary tables went to disk, over at least :data:`MIN_TMP_TABLES`.
- **mysql-lock-waits**: transactions waiting for row locks now (HIGH when one
  has waited :data:`LOCK_WAIT_LONG_S` or more); **mysql-row-lock-time**: an
  average row-lock wait of :data:`ROW_LOCK_AVG_MS` or more over at least
  :data:`MIN_ROW_LOCK_WAITS` waits since the start.
- **mysql-replica-lag**: a replication channel stopped (HIGH), or behind by
  :data:`REPLICA_LAG_S` or more (HIGH at :data:`REPLICA_LAG_HIGH_S`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.errors import ConfigError
from redline.probes._mysql import (
    MySqlHealth,
    MySqlIndexCheck,
    PlanTable,
    ReplicaStatus,
    has_placeholders,
    plan_tables,
)
from redline.probes._sqlite import table_aliases
from redline.units import one_line

__all__ = ["mysql_health_findings", "mysql_plan_findings"]

#: A full scan of this many estimated rows or more is reported.
LARGE_TABLE_ROWS: Final = 10_000
#: This many estimated rows or more make a scan or a missing index HIGH.
HUGE_TABLE_ROWS: Final = 100_000
#: Tables smaller than this are not worth an index finding.
MIN_INDEX_ROWS: Final = 1_000
#: A filesort or temporary table over this many estimated rows is MEDIUM, else LOW.
SORT_ROWS: Final = 10_000
#: Findings on a plan made for stand-in values carry this share of their confidence.
STAND_IN_CONFIDENCE: Final = 0.8
#: Below this buffer pool hit ratio, a finding; below the second, a HIGH one.
BUFFER_POOL_HIT_RATIO: Final = 0.99
BUFFER_POOL_HIT_RATIO_HIGH: Final = 0.95
#: Page reads needed before the hit ratio means anything.
MIN_READ_REQUESTS: Final = 10_000
#: The most connections at once, as a share of max_connections, that is reported.
CONNECTIONS_SHARE: Final = 0.85
#: Aborted connections (or clients) reported from this many and this share of connections.
MIN_ABORTED: Final = 10
ABORTED_SHARE: Final = 0.01
#: Temporary tables on disk reported from this share, over at least MIN_TMP_TABLES.
TMP_DISK_SHARE: Final = 0.25
MIN_TMP_TABLES: Final = 100
#: A row-lock wait this long now is HIGH.
LOCK_WAIT_LONG_S: Final = 1.0
#: Average row-lock wait since the start reported from this, over MIN_ROW_LOCK_WAITS waits.
ROW_LOCK_AVG_MS: Final = 50.0
MIN_ROW_LOCK_WAITS: Final = 10
#: Replication lag reported from this; HIGH from the second.
REPLICA_LAG_S: Final = 30
REPLICA_LAG_HIGH_S: Final = 300
#: How much of a statement a location or evidence shows.
QUERY_CHARS: Final = 120

PLAN_SOURCE: Final = "EXPLAIN FORMAT=JSON"
STATUS_SOURCE: Final = "SHOW GLOBAL STATUS"
VARIABLES_SOURCE: Final = "SHOW GLOBAL VARIABLES"
CHECK_SOURCE: Final = "EXPLAIN FORMAT=JSON with the index built, then dropped"


# --- plans ---------------------------------------------------------------------------------


def mysql_plan_findings(
    plan_json: Mapping[str, Any], *, query: str, checks: Sequence[MySqlIndexCheck] = ()
) -> list[Finding]:
    """Findings on one statement's plan.

    Args:
        plan_json: what :meth:`MySqlProbe.explain` returned for ``query``.
        query: the statement as explained (a digest text or a real statement).
        checks: candidate indexes for it (:meth:`MySqlProbe.advise`).
    """
    tables = [t for t in plan_tables(plan_json) if not t.derived]
    findings: list[Finding] = []
    unindexed = [t for t in tables if _unindexed(t)]
    findings.extend(_no_index(t, query, checks) for t in unindexed)
    findings.extend(_full_scan(t, query, checks) for t in tables if _scanned(t, unindexed))
    sorted_ = [t for t in tables if t.sorted]
    if sorted_:
        findings.append(_sorting("mysql-filesort", sorted_, query, checks))
    temporary = [t for t in tables if t.temporary]
    if temporary:
        findings.append(_sorting("mysql-temporary", temporary, query, checks))
    if has_placeholders(query):
        findings = [_stand_in(f) for f in findings]
    return findings


def _unindexed(table: PlanTable) -> bool:
    unserved = bool(table.condition) and not table.possible_keys and not table.key
    return unserved and (table.rows or 0) >= MIN_INDEX_ROWS


def _scanned(table: PlanTable, unindexed: list[PlanTable]) -> bool:
    large = (table.rows or 0) >= LARGE_TABLE_ROWS
    return table.access_type == "ALL" and large and table not in unindexed


def _no_index(table: PlanTable, query: str, checks: Sequence[MySqlIndexCheck]) -> Finding:
    rows = table.rows or 0
    fix = _fix(table, checks, query, lambda c: (c.rows_after or 0) < rows)
    return Finding(
        rule="mysql-no-index",
        category=Category.DATABASE,
        severity=Severity.HIGH if rows >= HUGE_TABLE_ROWS else Severity.MEDIUM,
        confidence=0.9 if fix and fix.verified else 0.8,
        title=f"No index serves the condition on {table.name}: about {rows:,} rows read "
        "per execution",
        evidence=(
            Evidence("access", f"{table.access_type}, no possible keys", PLAN_SOURCE),
            Evidence("rows read (estimate)", f"{rows:,}", PLAN_SOURCE),
            Evidence("condition", _short(table.condition or ""), PLAN_SOURCE),
            *_fix_evidence(fix),
        ),
        location=_location(table.name, query),
        recommendation=_recommend(fix, f"index the columns the condition on {table.name} compares"),
        expected_effect=_effect(fix, rows),
    )


def _full_scan(table: PlanTable, query: str, checks: Sequence[MySqlIndexCheck]) -> Finding:
    rows = table.rows or 0
    fix = _fix(table, checks, query, lambda c: (c.rows_after or 0) < rows)
    why = (
        f"the optimizer passed over its indexes ({', '.join(table.possible_keys)})"
        if table.possible_keys
        else "nothing in the statement narrows it"
    )
    return Finding(
        rule="mysql-full-scan",
        category=Category.DATABASE,
        severity=Severity.HIGH if rows >= HUGE_TABLE_ROWS else Severity.MEDIUM,
        confidence=0.8,
        title=f"Full scan of {table.name}: about {rows:,} rows per execution",
        evidence=(
            Evidence("access", "ALL (full table scan)", PLAN_SOURCE),
            Evidence("rows read (estimate)", f"{rows:,}", PLAN_SOURCE),
            Evidence("why", why, PLAN_SOURCE),
            *_fix_evidence(fix),
        ),
        location=_location(table.name, query),
        recommendation=_recommend(
            fix,
            "filter or page the statement (WHERE, LIMIT on an indexed order), or keep a summary "
            "table; if an index exists, check the condition compares the column as its type",
        ),
        expected_effect=_effect(fix, rows),
    )


def _sorting(
    rule: str, tables: list[PlanTable], query: str, checks: Sequence[MySqlIndexCheck]
) -> Finding:
    rows = max(t.rows or 0 for t in tables)
    names = ", ".join(dict.fromkeys(t.name for t in tables))
    sort = rule == "mysql-filesort"
    # An unverified candidate is not offered: which one would also sort is a guess.
    fixes = (
        _fix(t, checks, query, lambda c: not _still(c, sort=sort), guess=False) for t in tables
    )
    fix = next((f for f in fixes if f is not None), None)
    what = (
        "sorts its rows (Using filesort)" if sort else "builds a temporary table (Using temporary)"
    )
    return Finding(
        rule=rule,
        category=Category.DATABASE,
        severity=Severity.MEDIUM if rows >= SORT_ROWS else Severity.LOW,
        confidence=0.85 if fix and fix.verified else 0.7,
        title=f"The statement {what} over about {rows:,} rows of {names}",
        evidence=(
            Evidence("plan", what, PLAN_SOURCE),
            Evidence("rows under it (estimate)", f"{rows:,}", PLAN_SOURCE),
            *_fix_evidence(fix),
        ),
        location=_location(names, query),
        recommendation=_recommend(
            fix,
            "index the ORDER BY / GROUP BY columns in that order, after the columns compared "
            "with =, so rows come out of the index in order",
        ),
        expected_effect="rows read in index order: no sort or temporary table, and LIMIT "
        "stops early",
    )


def _still(check: MySqlIndexCheck, *, sort: bool) -> bool:
    tables = plan_tables(check.plan_after or {})
    return any(t.sorted if sort else t.temporary for t in tables)


def _fix(
    table: PlanTable,
    checks: Sequence[MySqlIndexCheck],
    query: str,
    helps: Callable[[MySqlIndexCheck], bool],
    *,
    guess: bool = True,
) -> MySqlIndexCheck | None:
    """The verified check that fixes it; else (with ``guess``) an unverified candidate."""
    mine = [c for c in checks if table.name in _names(c, query)]
    verified = [c for c in mine if c.verified and c.used and c.plan_after is not None]
    good = [c for c in verified if helps(c)]
    if good:
        return min(good, key=lambda c: (c.rows_after or 0, len(c.candidate.columns)))
    unverified = [c for c in mine if not c.verified]
    return unverified[0] if guess and unverified and not verified else None


def _names(check: MySqlIndexCheck, query: str) -> set[str]:
    """What the candidate's table is called in the plan: its aliases in the query, and itself."""
    try:
        aliases = table_aliases(query, dialect="mysql")
    except ConfigError:  # sqlglot cannot read it: the plan names tables as they are
        aliases = {}
    table = check.candidate.table
    return {alias for alias, name in aliases.items() if name == table} | {table}


def _fix_evidence(fix: MySqlIndexCheck | None) -> list[Evidence]:
    if fix is None:
        return []
    if not fix.verified:
        return [Evidence("candidate index", fix.candidate.describe(), "the statement (sqlglot)")]
    before, after = fix.rows_before or 0, fix.rows_after or 0
    return [
        Evidence(
            f"with an index on {fix.candidate.describe()}",
            f"used; rows read {before:,} -> {after:,} (estimates)",
            CHECK_SOURCE,
        )
    ]


def _recommend(fix: MySqlIndexCheck | None, otherwise: str) -> str:
    if fix is None:
        return otherwise
    create = fix.to_change().apply
    if fix.verified:
        return f"{create}; (verified: EXPLAIN with it uses it)"
    return f"{create}; (not verified: {fix.reason})"


def _effect(fix: MySqlIndexCheck | None, rows: int) -> str:
    if fix is not None and fix.verified and fix.rows_after is not None:
        return f"about {fix.rows_after:,} rows read per execution instead of {rows:,}"
    return f"far fewer than {rows:,} rows read per execution"


def _stand_in(finding: Finding) -> Finding:
    note = Evidence(
        "values",
        "stand-ins for the digest's ? (the plan for real values may differ)",
        "redline.probes._mysql.stand_in",
    )
    return Finding(
        rule=finding.rule,
        category=finding.category,
        severity=finding.severity,
        confidence=finding.confidence * STAND_IN_CONFIDENCE,
        title=finding.title,
        evidence=(*finding.evidence, note),
        location=finding.location,
        recommendation=finding.recommendation,
        expected_effect=finding.expected_effect,
    )


def _location(table: str, query: str) -> str:
    return f"{table} in: {_short(query)}"


def _short(text: str) -> str:
    return one_line(text, QUERY_CHARS, ellipsis="...")


# --- health --------------------------------------------------------------------------------


def mysql_health_findings(health: MySqlHealth) -> list[Finding]:
    """Findings on the server's figures (thresholds in the module docstring)."""
    found = [
        _buffer_pool(health),
        _connections(health),
        _aborted_connects(health),
        _aborted_clients(health),
        _tmp_disk(health),
        _lock_waits(health),
        _row_lock_time(health),
    ]
    found.extend(_replica(r) for r in health.replicas)
    return [f for f in found if f is not None]


def _buffer_pool(health: MySqlHealth) -> Finding | None:
    ratio = health.buffer_pool_hit_ratio
    if ratio is None or health.buffer_pool_read_requests < MIN_READ_REQUESTS:
        return None
    if ratio >= BUFFER_POOL_HIT_RATIO:
        return None
    size_mib = health.buffer_pool_bytes / 2**20
    return Finding(
        rule="mysql-buffer-pool",
        category=Category.CONFIGURATION,
        severity=Severity.HIGH if ratio < BUFFER_POOL_HIT_RATIO_HIGH else Severity.MEDIUM,
        confidence=0.8,
        title=f"InnoDB buffer pool hit ratio {ratio:.2%}: {health.buffer_pool_reads:,} page "
        "reads went to disk",
        evidence=(
            Evidence(
                "hit ratio", f"{ratio:.3%} (below {BUFFER_POOL_HIT_RATIO:.0%})", STATUS_SOURCE
            ),
            Evidence(
                "reads from disk / read requests",
                f"{health.buffer_pool_reads:,} / {health.buffer_pool_read_requests:,}",
                STATUS_SOURCE + " (Innodb_buffer_pool_reads, _read_requests)",
            ),
            Evidence("innodb_buffer_pool_size", f"{size_mib:,.0f} MiB", VARIABLES_SOURCE),
        ),
        location="setting: innodb_buffer_pool_size",
        recommendation="raise innodb_buffer_pool_size toward the size of the data and indexes "
        "the workload touches (on a dedicated database server, commonly 50-75 % of RAM)",
        expected_effect=f"a hit ratio of {BUFFER_POOL_HIT_RATIO:.0%} or more: fewer disk reads "
        "on the statements' path",
    )


def _connections(health: MySqlHealth) -> Finding | None:
    share = health.connections_used_share
    refused = health.refused_connections
    if share <= CONNECTIONS_SHARE and not refused:
        return None
    peak = max(health.max_used_connections, health.threads_connected)
    return Finding(
        rule="mysql-connections",
        category=Category.CONFIGURATION,
        severity=Severity.CRITICAL if refused else Severity.HIGH,
        confidence=0.9,
        title=f"Connections near the limit: {peak:,} of max_connections {health.max_connections:,}"
        + (f"; {refused:,} refused" if refused else ""),
        evidence=(
            Evidence("most connections at once", f"{peak:,} ({share:.0%})", STATUS_SOURCE),
            Evidence("connected now", f"{health.threads_connected:,}", STATUS_SOURCE),
            Evidence("max_connections", f"{health.max_connections:,}", VARIABLES_SOURCE),
            Evidence(
                "refused at the limit",
                f"{refused:,}",
                STATUS_SOURCE + " (Connection_errors_max_connections)",
            ),
        ),
        location="setting: max_connections",
        recommendation="pool connections in the application (fewer, reused), close idle ones "
        "(wait_timeout), or raise max_connections if the server has memory for them",
        expected_effect=f"peak below {CONNECTIONS_SHARE:.0%} of the limit: no 'Too many "
        "connections' errors",
    )


def _aborted_connects(health: MySqlHealth) -> Finding | None:
    count = health.aborted_connects
    if not _many_aborted(count, health.connections):
        return None
    return Finding(
        rule="mysql-aborted-connects",
        category=Category.DATABASE,
        severity=Severity.MEDIUM,
        confidence=0.7,
        title=f"{count:,} connection attempts failed ({_share(count, health.connections)} of "
        f"{health.connections:,})",
        evidence=(
            Evidence("Aborted_connects", f"{count:,}", STATUS_SOURCE),
            Evidence("connection attempts", f"{health.connections:,}", STATUS_SOURCE),
        ),
        location="setting: connect_timeout; the clients' credentials and network",
        recommendation="find the failing clients in the error log (log_warnings >= 2): wrong "
        "user or password, databases they may not use, or handshakes slower than "
        "connect_timeout",
        expected_effect="no failed handshakes: no retries, and no host blocked by "
        "max_connect_errors",
    )


def _aborted_clients(health: MySqlHealth) -> Finding | None:
    count = health.aborted_clients
    if not _many_aborted(count, health.connections):
        return None
    return Finding(
        rule="mysql-aborted-clients",
        category=Category.DATABASE,
        severity=Severity.LOW,
        confidence=0.6,
        title=f"{count:,} connections ended without a proper close "
        f"({_share(count, health.connections)} of {health.connections:,})",
        evidence=(
            Evidence("Aborted_clients", f"{count:,}", STATUS_SOURCE),
            Evidence("connection attempts", f"{health.connections:,}", STATUS_SOURCE),
        ),
        location="setting: wait_timeout, max_allowed_packet; the clients' connection handling",
        recommendation="close connections in the application (or the pool) before exiting; "
        "check that idle pooled connections live shorter than wait_timeout and that no "
        "packet exceeds max_allowed_packet",
        expected_effect="no connections cut off mid-use: fewer errors on the client side",
    )


def _many_aborted(count: int, connections: int) -> bool:
    return count >= MIN_ABORTED and connections > 0 and count / connections >= ABORTED_SHARE


def _tmp_disk(health: MySqlHealth) -> Finding | None:
    share = health.tmp_disk_share
    if share is None or health.created_tmp_tables < MIN_TMP_TABLES or share < TMP_DISK_SHARE:
        return None
    size_mib = health.tmp_table_bytes / 2**20
    return Finding(
        rule="mysql-tmp-disk",
        category=Category.CONFIGURATION,
        severity=Severity.MEDIUM,
        confidence=0.7,
        title=f"{share:.0%} of internal temporary tables went to disk",
        evidence=(
            Evidence(
                "on disk / all",
                f"{health.created_tmp_disk_tables:,} / {health.created_tmp_tables:,}",
                STATUS_SOURCE + " (Created_tmp_disk_tables, Created_tmp_tables)",
            ),
            Evidence(
                "in-memory limit",
                f"{size_mib:,.0f} MiB (the smaller of tmp_table_size, max_heap_table_size)",
                VARIABLES_SOURCE,
            ),
        ),
        location="setting: tmp_table_size, max_heap_table_size",
        recommendation="find the statements with tmp_disk_tables in the digests; index their "
        "GROUP BY / ORDER BY columns, select fewer or shorter columns (TEXT and BLOB columns "
        "can force disk), or raise tmp_table_size and max_heap_table_size together",
        expected_effect=f"under {TMP_DISK_SHARE:.0%} of temporary tables on disk: "
        "fewer disk writes on GROUP BY, DISTINCT and UNION",
    )


def _lock_waits(health: MySqlHealth) -> Finding | None:
    waits = health.lock_waits
    if not waits:
        return None
    worst = max(waits, key=lambda w: w.wait_s)
    blocked = worst.waiting_query or "(unknown statement)"
    blocker = worst.blocking_query or "nothing now: its transaction is open and idle"
    return Finding(
        rule="mysql-lock-waits",
        category=Category.DATABASE,
        severity=Severity.HIGH if worst.wait_s >= LOCK_WAIT_LONG_S else Severity.MEDIUM,
        confidence=0.9,
        title=f"{len(waits)} transaction(s) waiting for row locks; the longest for "
        f"{worst.wait_s:.1f} s",
        evidence=(
            Evidence("waiting", f"thread {worst.waiting_thread}: {_short(blocked)}", "INNODB_TRX"),
            Evidence(
                "blocking", f"thread {worst.blocking_thread}: {_short(blocker)}", "INNODB_TRX"
            ),
            Evidence("table", worst.table or "unknown", "lock waits"),
        ),
        location=f"table {worst.table}" if worst.table else None,
        recommendation="keep transactions short (no user or network waits inside them), "
        "touch rows in the same order everywhere, and index the columns UPDATE and DELETE "
        "filter on so they lock fewer rows",
        expected_effect="statements no longer queue behind the blocking transaction",
    )


def _row_lock_time(health: MySqlHealth) -> Finding | None:
    waits = health.row_lock_waits
    if waits < MIN_ROW_LOCK_WAITS:
        return None
    average_ms = health.row_lock_time_ms / waits
    if average_ms < ROW_LOCK_AVG_MS:
        return None
    return Finding(
        rule="mysql-row-lock-time",
        category=Category.DATABASE,
        severity=Severity.MEDIUM,
        confidence=0.7,
        title=f"{waits:,} row-lock waits since the start, {average_ms:,.0f} ms each on average",
        evidence=(
            Evidence("Innodb_row_lock_waits", f"{waits:,}", STATUS_SOURCE),
            Evidence("Innodb_row_lock_time", f"{health.row_lock_time_ms:,} ms", STATUS_SOURCE),
            Evidence("uptime", f"{health.uptime_s:,} s", STATUS_SOURCE),
        ),
        location=None,
        recommendation="find the contended rows (SHOW ENGINE INNODB STATUS, lock waits during "
        "load); keep transactions short and index the columns UPDATE and DELETE filter on",
        expected_effect=f"row-lock waits under {ROW_LOCK_AVG_MS:.0f} ms on average",
    )


def _replica(replica: ReplicaStatus) -> Finding | None:
    channel = f"replication channel {replica.channel!r}" if replica.channel else "replication"
    source = "SHOW REPLICA STATUS"
    if not (replica.io_running and replica.sql_running):
        return Finding(
            rule="mysql-replica-lag",
            category=Category.DATABASE,
            severity=Severity.HIGH,
            confidence=0.9,
            title=f"{channel.capitalize()} is stopped",
            evidence=(
                Evidence("IO thread", "running" if replica.io_running else "stopped", source),
                Evidence("SQL thread", "running" if replica.sql_running else "stopped", source),
                Evidence("last error", replica.last_error or "none", source),
            ),
            location=channel,
            recommendation="fix the error shown and START REPLICA (START SLAVE on MariaDB)",
            expected_effect="the replica catches up and serves current data",
        )
    lag = replica.lag_s
    if lag is None or lag < REPLICA_LAG_S:
        return None
    return Finding(
        rule="mysql-replica-lag",
        category=Category.DATABASE,
        severity=Severity.HIGH if lag >= REPLICA_LAG_HIGH_S else Severity.MEDIUM,
        confidence=0.8,
        title=f"{channel.capitalize()} is {lag:,} s behind its source",
        evidence=(Evidence("seconds behind the source", f"{lag:,}", source),),
        location=channel,
        recommendation="enable parallel replication (slave_parallel_threads / "
        "replica_parallel_workers), give the replica the source's hardware, and split large "
        "transactions on the source",
        expected_effect=f"lag under {REPLICA_LAG_S} s: reads from the replica see recent writes",
    )


def _share(count: int, total: int) -> str:
    return f"{count / total:.1%}" if total else "n/a"
