"""PostgreSQL: the statements that take the time, and the server's health.

:class:`PostgresProbe` connects with psycopg 3 when entered as a context manager
and reads only statistics views; it changes nothing on the server. Every
statement it sends starts with :data:`REDLINE_MARK`, so its own statements can be told
apart in ``pg_stat_statements`` (which records no ``application_name``).

Terms used here:

- **statement**: one entry of ``pg_stat_statements`` in this database, summed over
  the roles that ran it and its top-level and nested executions, keyed by
  ``queryid``; its text is normalized (constants replaced by ``$1``, ``$2``...).
- **cache hit ratio**: buffer reads served from ``shared_buffers`` over all buffer
  reads (``pg_statio_user_tables``/``_indexes``). A "read" there came from outside
  shared buffers, which may still be the operating system's page cache.
- **estimated bloat**: the table's size beyond what its live rows need, see
  :func:`estimate_bloat_bytes`. It is an estimate, not a measurement.
- **redundant index**: an index whose key columns equal, or are a leading part of,
  another valid index's on the same table, with the same method and predicate.
- **blocker**: a session that holds a lock another session waits for
  (``pg_blocking_pids``); a root blocker waits for nobody itself.

Errors are translated here into :class:`~redline.errors.TargetError` (the server
refuses) or :class:`~redline.errors.ConfigError` (bad input) with one line and a
hint; no message ever contains the DSN's password.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, LiteralString

import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row

from redline.errors import ConfigError, RedlineError, TargetError
from redline.plan import Dsn
from redline.probes._host import parse_meminfo

__all__ = [
    "REDLINE_MARK",
    "ORDER_BY",
    "CacheHits",
    "Connections",
    "IdleTransaction",
    "LockBlocker",
    "LockWait",
    "Machine",
    "PgHealth",
    "PgSettings",
    "PostgresProbe",
    "QueryStats",
    "RedundantIndex",
    "Replica",
    "TableStats",
    "UnusedIndex",
    "connect",
    "estimate_bloat_bytes",
    "read_machine",
    "statements_delta",
]

#: The comment every statement of the probe starts with, to leave them out of its results.
REDLINE_MARK = "/* redline */"
#: Shown in place of the password, should a server message ever contain it.
REDACTED = "***"
#: How long connecting may take.
CONNECT_TIMEOUT_S = 5
#: The longest any statistics query may run, and wait for a lock (pg_relation_size takes one).
STATEMENT_TIMEOUT_MS = 30_000
LOCK_TIMEOUT_MS = 2_000
#: Characters of a session's current query kept (pg_stat_activity texts may hold values).
QUERY_TEXT_CHARS = 200
#: The largest tables and unused indexes read by :meth:`PostgresProbe.health`.
TABLE_LIMIT = 100
INDEX_LIMIT = 100
#: Statements of other roles (texts hidden without pg_read_all_stats) at this share of the
#: database's statement time make the statement list misleading: an error, not a partial list.
HIDDEN_TIME_SHARE = 0.5
#: ``top_queries(order_by=...)``: the key for each accepted value.
ORDER_BY: dict[str, str] = {
    "total": "total_ms",
    "mean": "mean_ms",
    "calls": "calls",
    "rows": "rows",
    "read": "shared_read",
    "temp": "temp_written",
}
#: Bytes a row takes beyond its data: the tuple header (23, aligned to 24) and its line pointer.
TUPLE_OVERHEAD_BYTES = 28
#: Row data is padded to a multiple of this (MAXALIGN on 64-bit machines).
ROW_ALIGN_BYTES = 8
#: The header of every heap page.
PAGE_HEADER_BYTES = 24
#: pg_settings units, in bytes.
_UNIT_BYTES = {"B": 1, "kB": 1024, "8kB": 8192, "MB": 1024**2, "GB": 1024**3}
_TIME_TYPES = "('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)"
_STATEMENTS_SOURCE = "pg_stat_statements"
_MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class QueryStats:
    """One statement's totals from ``pg_stat_statements`` (times in ms, blocks of 8 kB)."""

    queryid: int
    #: The normalized text: constants appear as ``$1``, ``$2``...
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    shared_hit: int
    shared_read: int
    temp_read: int
    temp_written: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CacheHits:
    """Buffer reads of tables or indexes: served from shared_buffers (hits) or not (reads)."""

    hits: int
    reads: int

    @property
    def ratio(self) -> float | None:
        """hits / (hits + reads); None before any read."""
        total = self.hits + self.reads
        return self.hits / total if total else None


@dataclass(frozen=True)
class Connections:
    """Client connections by state (other than redline's own) and the server's limit."""

    by_state: dict[str, int]
    max_connections: int
    #: Slots kept for superusers (superuser_reserved_connections).
    reserved: int

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


@dataclass(frozen=True)
class IdleTransaction:
    """A session that opened a transaction and sits idle inside it."""

    pid: int
    user: str | None
    database: str | None
    application: str
    #: Since its last statement ended.
    idle_s: float
    #: Since its transaction began.
    transaction_s: float
    #: Its last statement, first QUERY_TEXT_CHARS characters.
    query: str


@dataclass(frozen=True)
class LockWait:
    """A session waiting for a lock, and the sessions it waits for."""

    pid: int
    user: str | None
    database: str | None
    #: Since its current statement began (the wait starts at or after that).
    waiting_s: float
    wait_event: str
    query: str
    blocked_by: tuple[int, ...]


@dataclass(frozen=True)
class LockBlocker:
    """A session holding a lock others wait for (pid 0 would be a prepared transaction)."""

    pid: int
    user: str | None
    database: str | None
    state: str
    #: Since its transaction began; None outside a transaction.
    transaction_s: float | None
    query: str
    #: It waits for a lock itself (so it is not the root of its tree).
    waiting: bool


@dataclass(frozen=True)
class UnusedIndex:
    """An index never scanned since the statistics were reset, and not unique."""

    schema: str
    table: str
    name: str
    size_bytes: int
    definition: str


@dataclass(frozen=True)
class RedundantIndex:
    """An index another index makes unnecessary."""

    schema: str
    table: str
    name: str
    size_bytes: int
    definition: str
    covered_by: str
    covered_by_definition: str
    #: The same key columns (a duplicate) rather than a leading part (a prefix).
    exact: bool


@dataclass(frozen=True)
class TableStats:
    """One table's size, rows, vacuum state and estimated bloat."""

    schema: str
    name: str
    size_bytes: int
    live_tuples: int
    dead_tuples: int
    modified_since_analyze: int
    #: Since the last VACUUM or autovacuum; None when never vacuumed.
    vacuum_age_s: float | None
    analyze_age_s: float | None
    autovacuum_enabled: bool
    #: An estimate (see :func:`estimate_bloat_bytes`); None before the table was analyzed.
    estimated_bloat_bytes: int | None
    #: date/timestamp columns that lead an index (candidates for range partitioning).
    time_columns: tuple[str, ...]
    #: A partition of a partitioned table already.
    is_partition: bool


@dataclass(frozen=True)
class Replica:
    """A standby streaming from this server (pg_stat_replication)."""

    name: str
    client_addr: str | None
    state: str
    #: WAL this server wrote that the standby has not replayed; None when unknown.
    lag_bytes: int | None
    replay_lag_s: float | None


@dataclass(frozen=True)
class PgSettings:
    """The memory and connection settings that size a server, in bytes."""

    shared_buffers_bytes: int
    effective_cache_size_bytes: int
    work_mem_bytes: int
    maintenance_work_mem_bytes: int
    max_connections: int


@dataclass(frozen=True)
class Machine:
    """The machine the server runs on (known only when it is this machine: loopback)."""

    ram_bytes: int
    cpu_count: int


@dataclass(frozen=True)
class PgHealth:
    """What :meth:`PostgresProbe.health` read, for :func:`redline.diagnose.health_findings`.

    Cache, indexes and tables are of the connected database; connections, sessions,
    locks, replicas and settings are of the whole server.
    """

    server_version: str
    database: str
    #: Since this database's statistics were reset; None when never reset.
    stats_reset_age_s: float | None
    table_cache: CacheHits
    index_cache: CacheHits
    connections: Connections
    idle_in_transaction: tuple[IdleTransaction, ...]
    lock_waits: tuple[LockWait, ...]
    blockers: tuple[LockBlocker, ...]
    unused_indexes: tuple[UnusedIndex, ...]
    redundant_indexes: tuple[RedundantIndex, ...]
    tables: tuple[TableStats, ...]
    replicas: tuple[Replica, ...]
    settings: PgSettings
    machine: Machine | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PostgresProbe:
    """Reads pg_stat_statements and the health views of one database.

    The constructor connects to nothing; entering connects (autocommit, so no
    transaction is held open) and leaving closes::

        with PostgresProbe(parse_dsn("postgresql://app@127.0.0.1/shop")) as pg:
            slowest = pg.top_queries(limit=10)
            health = pg.health()

    Raises:
        ConfigError: the DSN is not a PostgreSQL one.
        TargetError: (on entering and from every method) the server refused; the
            message says why and the hint what to do.
    """

    def __init__(self, dsn: Dsn) -> None:
        if dsn.scheme != "postgresql":
            raise ConfigError(
                f"DSN: expected a postgresql:// connection string, got {dsn.scheme!r}",
                hint="postgresql://[user[:password]@]host[:port]/database",
            )
        self._dsn = dsn
        self._conn: psycopg.Connection[dict[str, Any]] | None = None
        self._version_num = 0
        self._statements_view: sql.Composable | None = None

    def __enter__(self) -> PostgresProbe:
        self._conn = connect(self._dsn)
        try:
            version = self._one("SELECT current_setting('server_version_num')::int AS v")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._version_num = int(version["v"])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- pg_stat_statements ---------------------------------------------------------------

    def top_queries(self, limit: int = 20, order_by: str = "total") -> list[QueryStats]:
        """The ``limit`` statements of this database with the most of ``order_by``.

        Args:
            limit: how many statements, 1 or more.
            order_by: one of :data:`ORDER_BY`: ``total`` (execution time), ``mean``,
                ``calls``, ``rows``, ``read`` (blocks read outside shared_buffers),
                ``temp`` (temporary blocks written).

        Raises:
            ConfigError: ``limit`` or ``order_by`` is out of range.
            TargetError: as :meth:`statements_snapshot`.
        """
        if order_by not in ORDER_BY:
            raise ConfigError(f"order_by must be one of {', '.join(ORDER_BY)}; got {order_by!r}")
        if limit < 1:
            raise ConfigError(f"limit must be 1 or more; got {limit!r}")
        key = ORDER_BY[order_by]
        stats = self.statements_snapshot().values()
        return sorted(stats, key=lambda q: (-getattr(q, key), q.queryid))[:limit]

    def statements_snapshot(self) -> dict[int, QueryStats]:
        """Every statement of this database by queryid, redline's own left out.

        Statements of other roles whose text this user may not read (no
        ``pg_read_all_stats``) are left out while they hold under
        :data:`HIDDEN_TIME_SHARE` of the database's statement time.

        Raises:
            TargetError: pg_stat_statements is not installed or not loaded, or most of
                the execution time belongs to statements of other roles whose text this
                user may not read (the hint names ``pg_read_all_stats``).
        """
        query = sql.SQL(
            "SELECT queryid, min(query) AS query, sum(calls)::int8 AS calls, "
            "sum({time})::float8 AS total_ms, sum(rows)::int8 AS rows, "
            "sum(shared_blks_hit)::int8 AS shared_hit, sum(shared_blks_read)::int8 AS shared_read, "
            "sum(temp_blks_read)::int8 AS temp_read, sum(temp_blks_written)::int8 AS temp_written "
            "FROM {view} "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND (query IS NULL OR query NOT LIKE %s) GROUP BY queryid"
        ).format(
            time=sql.Identifier("total_exec_time" if self._version_num >= 130000 else "total_time"),
            view=self._statements(),
        )
        rows = self._rows(query, (REDLINE_MARK + "%",))
        self._check_hidden(rows)
        return {int(r["queryid"]): _query_stats(r) for r in rows if r["queryid"] is not None}

    def _statements(self) -> sql.Composable:
        if self._statements_view is None:
            found = self._rows(
                "SELECT n.nspname AS schema FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'pg_stat_statements'"
            )
            if not found:
                raise TargetError(
                    f"pg_stat_statements is not installed in database {self._dsn.database!r}: "
                    "run CREATE EXTENSION pg_stat_statements;",
                    hint="as a superuser in that database: CREATE EXTENSION pg_stat_statements; "
                    "the server also needs shared_preload_libraries = 'pg_stat_statements' in "
                    "postgresql.conf (then a restart) if it is not there yet",
                )
            self._statements_view = sql.Identifier(found[0]["schema"], "pg_stat_statements")
        return self._statements_view

    def _check_hidden(self, rows: Sequence[Mapping[str, Any]]) -> None:
        hidden = [r for r in rows if r["queryid"] is None]
        total_ms = sum(r["total_ms"] or 0.0 for r in rows)
        hidden_ms = sum(r["total_ms"] or 0.0 for r in hidden)
        if total_ms > 0 and hidden_ms / total_ms >= HIDDEN_TIME_SHARE:
            user = self._dsn.user or "this user"
            raise TargetError(
                f"{hidden_ms / total_ms:.0%} of this database's statement time ran as other roles, "
                f"whose statements user {user!r} may not read (pg_stat_statements hides them)",
                hint=f"GRANT pg_read_all_stats TO {user}; (or connect as the role that runs the "
                "queries, or a superuser)",
            )

    # -- health ---------------------------------------------------------------------------

    def health(self) -> PgHealth:
        """Cache hits, connections, idle transactions, locks, indexes, tables, replicas, settings.

        Raises:
            TargetError: a statistics view could not be read (privilege, lock or timeout).
        """
        waits = self._lock_waits()
        indexes = self._indexes()
        return PgHealth(
            server_version=str(self._one("SHOW server_version")["server_version"]),
            database=self._dsn.database,
            stats_reset_age_s=self._one(
                "SELECT extract(epoch FROM now() - stats_reset)::float8 AS age "
                "FROM pg_stat_database WHERE datname = current_database()"
            )["age"],
            table_cache=self._cache("heap_blks_hit", "heap_blks_read", "pg_statio_user_tables"),
            index_cache=self._cache("idx_blks_hit", "idx_blks_read", "pg_statio_user_indexes"),
            connections=self._connections(),
            idle_in_transaction=self._idle_in_transaction(),
            lock_waits=waits,
            blockers=self._blockers(waits),
            unused_indexes=self._unused_indexes(),
            redundant_indexes=_redundant_indexes(indexes),
            tables=self._tables(),
            replicas=self._replicas(),
            settings=self._settings(),
            machine=read_machine() if _is_loopback(self._dsn.host) else None,
        )

    def _cache(self, hit: LiteralString, read: LiteralString, view: LiteralString) -> CacheHits:
        row = self._one(
            f"SELECT coalesce(sum({hit}), 0)::int8 AS hits, "
            f"coalesce(sum({read}), 0)::int8 AS reads FROM {view}"
        )
        return CacheHits(row["hits"], row["reads"])

    def _connections(self) -> Connections:
        rows = self._rows(
            "SELECT coalesce(state, 'unknown') AS state, count(*)::int AS n FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1"
        )
        limits = self._one(
            "SELECT current_setting('max_connections')::int AS max, "
            "current_setting('superuser_reserved_connections')::int AS reserved"
        )
        return Connections({r["state"]: r["n"] for r in rows}, limits["max"], limits["reserved"])

    def _idle_in_transaction(self) -> tuple[IdleTransaction, ...]:
        rows = self._rows(
            "SELECT pid, usename AS user, datname AS database, application_name AS application, "
            "extract(epoch FROM now() - state_change)::float8 AS idle_s, "
            "extract(epoch FROM now() - xact_start)::float8 AS transaction_s, "
            "left(query, %s) AS query FROM pg_stat_activity "
            "WHERE state IN ('idle in transaction', 'idle in transaction (aborted)') "
            "ORDER BY xact_start",
            (QUERY_TEXT_CHARS,),
        )
        return tuple(IdleTransaction(**r) for r in rows)

    def _lock_waits(self) -> tuple[LockWait, ...]:
        rows = self._rows(
            "SELECT pid, usename AS user, datname AS database, "
            "extract(epoch FROM now() - query_start)::float8 AS waiting_s, "
            "coalesce(wait_event_type || ':' || wait_event, '') AS wait_event, "
            "left(query, %s) AS query, pg_blocking_pids(pid) AS blocked_by "
            "FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0 "
            "ORDER BY query_start",
            (QUERY_TEXT_CHARS,),
        )
        return tuple(LockWait(**{**r, "blocked_by": tuple(r["blocked_by"])}) for r in rows)

    def _blockers(self, waits: Iterable[LockWait]) -> tuple[LockBlocker, ...]:
        pids = sorted({pid for w in waits for pid in w.blocked_by})
        if not pids:
            return ()
        rows = self._rows(
            "SELECT pid, usename AS user, datname AS database, coalesce(state, '') AS state, "
            "extract(epoch FROM now() - xact_start)::float8 AS transaction_s, "
            "left(query, %s) AS query, cardinality(pg_blocking_pids(pid)) > 0 AS waiting "
            "FROM pg_stat_activity WHERE pid = ANY(%s) ORDER BY pid",
            (QUERY_TEXT_CHARS, pids),
        )
        return tuple(LockBlocker(**r) for r in rows)

    def _unused_indexes(self) -> tuple[UnusedIndex, ...]:
        rows = self._rows(
            "SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS name, "
            "pg_relation_size(s.indexrelid) AS size_bytes, "
            "pg_get_indexdef(s.indexrelid) AS definition "
            "FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid "
            "WHERE s.idx_scan = 0 AND i.indisvalid AND NOT i.indisunique AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = s.indexrelid) "
            "ORDER BY size_bytes DESC, name LIMIT %s",
            (INDEX_LIMIT,),
        )
        return tuple(UnusedIndex(**r) for r in rows)

    def _indexes(self) -> list[_Index]:
        rows = self._rows(
            "SELECT n.nspname AS schema, t.relname AS table, c.relname AS name, "
            "i.indrelid AS table_oid, am.amname AS method, i.indisunique AS is_unique, "
            "EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) AS constraint, "
            "i.indnkeyatts AS key_count, "
            "ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) "
            "      FROM generate_series(1, i.indnatts) AS k ORDER BY k) AS columns, "
            "i.indclass::oid[] AS opclasses, i.indoption::int2[] AS options, "
            "i.indcollation::oid[] AS collations, pg_get_expr(i.indpred, i.indrelid) AS predicate, "
            "pg_relation_size(i.indexrelid) AS size_bytes, "
            "pg_get_indexdef(i.indexrelid) AS definition "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "JOIN pg_am am ON am.oid = c.relam "
            "WHERE i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%%'"
        )
        return [_Index.from_row(r) for r in rows]

    def _tables(self) -> tuple[TableStats, ...]:
        block = int(self._one("SELECT current_setting('block_size')::int AS b")["b"])
        rows = self._rows(
            "SELECT s.schemaname AS schema, s.relname AS name, c.relispartition AS is_partition, "
            "pg_relation_size(s.relid) AS size_bytes, s.n_live_tup AS live_tuples, "
            "s.n_dead_tup AS dead_tuples, s.n_mod_since_analyze AS modified_since_analyze, "
            "extract(epoch FROM now() - greatest(s.last_vacuum, s.last_autovacuum))::float8 "
            "  AS vacuum_age_s, "
            "extract(epoch FROM now() - greatest(s.last_analyze, s.last_autoanalyze))::float8 "
            "  AS analyze_age_s, "
            "coalesce(c.reloptions, '{}') AS options, "
            "(SELECT sum(st.avg_width)::int8 FROM pg_stats st WHERE st.schemaname = s.schemaname "
            "  AND st.tablename = s.relname AND NOT st.inherited) AS row_width, "
            "ARRAY(SELECT DISTINCT a.attname::text FROM pg_index i JOIN pg_attribute a "
            "  ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
            f"  WHERE i.indrelid = s.relid AND a.atttypid IN {_TIME_TYPES}) AS time_columns "
            "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "ORDER BY size_bytes DESC, s.schemaname, s.relname LIMIT %s",
            (TABLE_LIMIT,),
        )
        return tuple(_table_stats(r, block) for r in rows)

    def _replicas(self) -> tuple[Replica, ...]:
        rows = self._rows(
            "SELECT coalesce(application_name, '') AS name, host(client_addr) AS client_addr, "
            "coalesce(state, '') AS state, "
            "CASE WHEN pg_is_in_recovery() OR replay_lsn IS NULL THEN NULL "
            "  ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::int8 END AS lag_bytes, "
            "extract(epoch FROM replay_lag)::float8 AS replay_lag_s "
            "FROM pg_stat_replication ORDER BY application_name, client_addr"
        )
        return tuple(Replica(**r) for r in rows)

    def _settings(self) -> PgSettings:
        names = (
            "shared_buffers",
            "effective_cache_size",
            "work_mem",
            "maintenance_work_mem",
            "max_connections",
        )
        rows = self._rows(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", (list(names),)
        )
        value = {r["name"]: int(r["setting"]) * _UNIT_BYTES.get(r["unit"] or "B", 1) for r in rows}
        return PgSettings(
            shared_buffers_bytes=value["shared_buffers"],
            effective_cache_size_bytes=value["effective_cache_size"],
            work_mem_bytes=value["work_mem"],
            maintenance_work_mem_bytes=value["maintenance_work_mem"],
            max_connections=value["max_connections"],
        )

    # -- plumbing -------------------------------------------------------------------------

    def _rows(
        self, query: LiteralString | sql.Composable, params: Sequence[Any] = ()
    ) -> list[dict[str, Any]]:
        if self._conn is None:
            raise RuntimeError("PostgresProbe is used outside its with-block")
        marked = sql.SQL(REDLINE_MARK + " ") + (sql.SQL(query) if isinstance(query, str) else query)
        try:
            return self._conn.execute(marked, params).fetchall()
        except psycopg.Error as exc:
            raise _query_error(exc, self._dsn) from None

    def _one(self, query: LiteralString) -> dict[str, Any]:
        return self._rows(query)[0]


def statements_delta(
    before: Mapping[int, QueryStats], after: Mapping[int, QueryStats]
) -> list[QueryStats]:
    """What ran between two :meth:`PostgresProbe.statements_snapshot` calls, most time first.

    A statement absent from ``before`` counts whole; so does one with fewer calls in
    ``after`` than in ``before`` (its entry was reset or evicted and recreated in between).
    Statements that did not run in between are left out.
    """
    delta = []
    for queryid, now in after.items():
        then = before.get(queryid)
        ran = now if then is None or now.calls < then.calls else _minus(now, then)
        if ran.calls > 0:
            delta.append(ran)
    return sorted(delta, key=lambda q: (-q.total_ms, q.queryid))


def _minus(now: QueryStats, then: QueryStats) -> QueryStats:
    calls = now.calls - then.calls
    total_ms = max(0.0, now.total_ms - then.total_ms)
    return replace(
        now,
        calls=calls,
        total_ms=total_ms,
        mean_ms=total_ms / calls if calls else 0.0,
        rows=now.rows - then.rows,
        shared_hit=now.shared_hit - then.shared_hit,
        shared_read=now.shared_read - then.shared_read,
        temp_read=now.temp_read - then.temp_read,
        temp_written=now.temp_written - then.temp_written,
    )


def _query_stats(row: Mapping[str, Any]) -> QueryStats:
    calls, total_ms = int(row["calls"]), float(row["total_ms"])
    return QueryStats(
        queryid=int(row["queryid"]),
        query=str(row["query"]),
        calls=calls,
        total_ms=total_ms,
        mean_ms=total_ms / calls if calls else 0.0,
        rows=int(row["rows"]),
        shared_hit=int(row["shared_hit"]),
        shared_read=int(row["shared_read"]),
        temp_read=int(row["temp_read"]),
        temp_written=int(row["temp_written"]),
    )


def estimate_bloat_bytes(
    *, size_bytes: int, live_tuples: int, row_width: int, fillfactor: int = 100, block: int = 8192
) -> int:
    """Bytes of a table beyond what its live rows need: an estimate, not a measurement.

    Each live row needs its data, ``row_width`` rounded up to 8 bytes, plus 28 (the
    tuple header and its line pointer); the rows fill pages of ``block − 24`` usable
    bytes to ``fillfactor`` percent. The estimate is the table's size less those
    pages, never below 0. ``row_width`` is the sum of the columns' average widths in
    ``pg_stats``, so it is as fresh as the last ANALYZE, and ``live_tuples`` is
    ``n_live_tup``, itself an estimate. Padding between columns, null bitmaps, rows
    that do not fill a page exactly and TOAST are ignored: read the result to within
    ten or twenty percent of the table.
    """
    per_page = (block - PAGE_HEADER_BYTES) * fillfactor / 100
    row_bytes = math.ceil(row_width / ROW_ALIGN_BYTES) * ROW_ALIGN_BYTES + TUPLE_OVERHEAD_BYTES
    needed_pages = math.ceil(live_tuples * row_bytes / per_page)
    return max(0, size_bytes - needed_pages * block)


def _table_stats(row: Mapping[str, Any], block: int) -> TableStats:
    options = dict(o.partition("=")[::2] for o in row["options"])
    width = row["row_width"]
    bloat = None
    if width is not None:
        bloat = estimate_bloat_bytes(
            size_bytes=row["size_bytes"],
            live_tuples=row["live_tuples"],
            row_width=width,
            fillfactor=int(options.get("fillfactor", 100)),
            block=block,
        )
    enabled = options.get("autovacuum_enabled", "true").lower() not in ("false", "off", "0", "no")
    return TableStats(
        schema=row["schema"],
        name=row["name"],
        size_bytes=row["size_bytes"],
        live_tuples=row["live_tuples"],
        dead_tuples=row["dead_tuples"],
        modified_since_analyze=row["modified_since_analyze"],
        vacuum_age_s=row["vacuum_age_s"],
        analyze_age_s=row["analyze_age_s"],
        autovacuum_enabled=enabled,
        estimated_bloat_bytes=bloat,
        time_columns=tuple(sorted(row["time_columns"])),
        is_partition=row["is_partition"],
    )


@dataclass(frozen=True)
class _Index:
    """What :func:`_redundant_indexes` compares: one valid index and its columns."""

    schema: str
    table: str
    name: str
    table_oid: int
    method: str
    is_unique: bool
    constraint: bool
    #: (column or expression, operator class, sort option, collation) per key column.
    keys: tuple[tuple[str, int, int, int], ...]
    #: Columns carried by INCLUDE, beyond the keys.
    included: frozenset[str]
    predicate: str | None
    size_bytes: int
    definition: str

    @classmethod
    def from_row(cls, r: Mapping[str, Any]) -> _Index:
        n = r["key_count"]
        keys = tuple(
            zip(r["columns"][:n], r["opclasses"], r["options"], r["collations"], strict=False)
        )
        return cls(
            schema=r["schema"],
            table=r["table"],
            name=r["name"],
            table_oid=r["table_oid"],
            method=r["method"],
            is_unique=r["is_unique"],
            constraint=r["constraint"],
            keys=keys,
            included=frozenset(r["columns"][n:]),
            predicate=r["predicate"],
            size_bytes=r["size_bytes"],
            definition=r["definition"],
        )

    def columns(self) -> frozenset[str]:
        return frozenset(k[0] for k in self.keys) | self.included


def _redundant_indexes(indexes: Sequence[_Index]) -> tuple[RedundantIndex, ...]:
    """Indexes another index on the same table makes unnecessary.

    ``a`` is covered by ``b`` when both have the same method and predicate, ``a``'s
    keys (with operator class, order and collation) equal ``b``'s or, for btree, lead
    them, and ``b`` holds every INCLUDE column of ``a``. Indexes behind a constraint are
    never reported; a unique index only when an identical unique one exists. Of two
    identical indexes the one kept is the constraint's, else the unique one, else the
    first by name. The widest covering index is named.
    """
    found = []
    for a in indexes:
        covering = [b for b in indexes if b is not a and _covers(b, a)]
        if covering:
            b = min(covering, key=lambda i: (-len(i.keys), *_keep_order(i)))
            found.append(
                RedundantIndex(
                    schema=a.schema,
                    table=a.table,
                    name=a.name,
                    size_bytes=a.size_bytes,
                    definition=a.definition,
                    covered_by=b.name,
                    covered_by_definition=b.definition,
                    exact=a.keys == b.keys,
                )
            )
    return tuple(sorted(found, key=lambda r: (-r.size_bytes, r.schema, r.name)))


def _keep_order(index: _Index) -> tuple[bool, bool, str]:
    """Sorts first the index kept among identical ones: a constraint's, a unique one, by name."""
    return (not index.constraint, not index.is_unique, index.name)


def _covers(b: _Index, a: _Index) -> bool:
    if a.constraint or (a.table_oid, a.method, a.predicate) != (b.table_oid, b.method, b.predicate):
        return False
    if not a.included <= b.columns():
        return False
    exact = a.keys == b.keys
    if exact:
        if a.is_unique and not b.is_unique:
            return False
        return a.included != b.included or _keep_order(b) < _keep_order(a)
    is_prefix = a.method == "btree" and b.keys[: len(a.keys)] == a.keys
    return is_prefix and not a.is_unique


def read_machine(meminfo: Path = _MEMINFO) -> Machine | None:
    """This machine's RAM (``/proc/meminfo`` MemTotal) and CPU count; None when unreadable."""
    try:
        ram = parse_meminfo(meminfo.read_text()).get("MemTotal")
    except OSError:
        return None
    return Machine(ram, os.cpu_count() or 1) if ram else None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- errors -------------------------------------------------------------------------------

#: libpq's words for the connection failures a user can fix: redline's message and hint.
_CONNECT_FAILURES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"connection refused", re.I),
        "PostgreSQL refused the connection at {where}",
        "is PostgreSQL listening on {where}? Check that it runs, and port and "
        "listen_addresses in postgresql.conf",
    ),
    (
        re.compile(r"timeout expired", re.I),
        "PostgreSQL at {where} did not answer within {timeout} s",
        "check the host and port in the DSN, and any firewall on the way",
    ),
    (
        re.compile(r"could not translate host name|name or service not known", re.I),
        "the host {host!r} is unknown",
        "check the host in the DSN",
    ),
    (
        re.compile(r"no password supplied", re.I),
        "PostgreSQL at {where} wants a password for user {user!r} and the DSN has none",
        "give it in the DSN: postgresql://user:password@host:port/database",
    ),
    (
        re.compile(r"authentication failed", re.I),
        "PostgreSQL at {where} rejected the login of user {user!r}",
        "check the user and password in the DSN (the password is not shown)",
    ),
    (
        re.compile(r'role "[^"]*" does not exist', re.I),
        "user {user!r} does not exist on PostgreSQL at {where}",
        "check the user in the DSN, or create it: CREATE ROLE {user} LOGIN PASSWORD '...';",
    ),
    (
        re.compile(r'database "[^"]*" does not exist', re.I),
        "database {database!r} does not exist on PostgreSQL at {where}",
        "check the database in the DSN (psql -l lists them), or CREATE DATABASE {database};",
    ),
    (
        re.compile(r"no pg_hba\.conf entry", re.I),
        "pg_hba.conf on {where} lets user {user!r} not connect to {database!r} from here",
        "add a host line for this user, database and address to pg_hba.conf, then reload",
    ),
    (
        re.compile(r"permission denied for database", re.I),
        "user {user!r} may not connect to database {database!r}",
        "as its owner or a superuser: GRANT CONNECT ON DATABASE {database} TO {user};",
    ),
    (
        re.compile(r"too many clients|remaining connection slots", re.I),
        "PostgreSQL at {where} has no connection slots left (max_connections reached)",
        "close idle connections, or put a pooler (PgBouncer) in front of the server",
    ),
    (
        re.compile(r"starting up|shutting down|in recovery mode|not yet accepting", re.I),
        "PostgreSQL at {where} is starting or stopping and takes no connections",
        "wait until it has started, then run again",
    ),
)


def connect(dsn: Dsn) -> psycopg.Connection[dict[str, Any]]:
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
    try:
        conn = psycopg.connect(
            host=dsn.host,
            port=dsn.port,
            dbname=dsn.database,
            user=dsn.user,
            password=dsn.password(),
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="redline",
            options=options,
            autocommit=True,
            row_factory=dict_row,
        )
    except psycopg.Error as exc:
        raise _connect_error(exc, dsn) from None
    # psycopg prepares a statement run 5 times and may then answer a rollback with
    # DEALLOCATE ALL, which would also drop explain's own PREPAREd statement.
    conn.prepare_threshold = None
    return conn


def _connect_error(exc: psycopg.Error, dsn: Dsn) -> TargetError:
    text = str(exc)
    names = {
        "where": f"{dsn.host}:{dsn.port}",
        "host": dsn.host,
        "user": dsn.user or "(the login name)",
        "database": dsn.database,
        "timeout": CONNECT_TIMEOUT_S,
    }
    for pattern, message, hint in _CONNECT_FAILURES:
        if pattern.search(text):
            return TargetError(
                _scrub(message.format(**names), dsn), hint=_scrub(hint.format(**names), dsn)
            )
    return TargetError(
        _scrub(f"could not connect to PostgreSQL at {names['where']}: {_server_line(text)}", dsn),
        hint="check the DSN and that the server accepts connections",
    )


def _query_error(exc: psycopg.Error, dsn: Dsn) -> RedlineError:
    line, user = _server_line(str(exc)), dsn.user or "this user"
    if isinstance(exc, errors.ObjectNotInPrerequisiteState) and _STATEMENTS_SOURCE in line:
        return TargetError(
            "pg_stat_statements is installed but not loaded: the server was started without "
            "shared_preload_libraries = 'pg_stat_statements'",
            hint="set shared_preload_libraries = 'pg_stat_statements' in postgresql.conf (keep "
            "any libraries already listed), restart PostgreSQL, then run "
            "CREATE EXTENSION pg_stat_statements; if it is not created yet",
        )
    if isinstance(exc, errors.InsufficientPrivilege):
        return TargetError(
            _scrub(f"user {user!r} may not read a statistic redline needs: {line}", dsn),
            hint=f"GRANT pg_monitor TO {user}; (it includes pg_read_all_stats and "
            "pg_read_all_settings), or connect as a superuser",
        )
    if isinstance(exc, errors.LockNotAvailable):
        return TargetError(
            f"a statistics query waited more than {LOCK_TIMEOUT_MS} ms for a table lock",
            hint="another session holds an exclusive lock (ALTER TABLE, VACUUM FULL, ...); "
            "run again when it has finished",
        )
    if isinstance(exc, errors.QueryCanceled):
        return TargetError(
            f"a statistics query ran past {STATEMENT_TIMEOUT_MS // 1000} s and was cancelled",
            hint="the server is overloaded or its catalogs are very large; run again later",
        )
    where = f"{dsn.host}:{dsn.port}"
    if isinstance(exc, psycopg.OperationalError):
        return TargetError(
            _scrub(f"lost the connection to PostgreSQL at {where}: {line}", dsn),
            hint="check that the server is still running",
        )
    return TargetError(
        _scrub(f"PostgreSQL at {where} refused a statistics query: {line}", dsn),
        hint="redline needs PostgreSQL 13 or newer and read access to the statistics views",
    )


def _server_line(text: str) -> str:
    """The first line of a psycopg message, without libpq's prefixes."""
    line = (text.strip().splitlines() or [""])[0]
    return re.sub(r"^(connection failed: |connection to server .*? failed: )+|FATAL:\s+", "", line)


def _scrub(text: str, dsn: Dsn) -> str:
    password = dsn.password()
    return text.replace(password, REDACTED) if password else text
