"""A MySQL or MariaDB database's costliest statements, their plans and the server's health.

For ``redline db analyze mysql://...`` and ``redline run ... --db mysql://...``.
:class:`MySqlProbe` holds one connection (5 s to connect and to answer each
statement) and gives:

- :meth:`~MySqlProbe.top_digests`: the database's statements by total time,
  from ``performance_schema.events_statements_summary_by_digest``;
- :meth:`~MySqlProbe.explain`: ``EXPLAIN FORMAT=JSON`` of a statement, read by
  :func:`plan_tables`;
- :meth:`~MySqlProbe.health`: buffer pool, connections, aborted connections,
  temporary tables, lock waits and replication, as :class:`MySqlHealth`;
- :meth:`~MySqlProbe.index_candidates` and :meth:`~MySqlProbe.index_check`;
- :meth:`~MySqlProbe.digest_totals`, :meth:`~MySqlProbe.global_status`,
  :meth:`~MySqlProbe.global_variables` and :meth:`~MySqlProbe.sessions`: what
  a run's statement watch and activity probe read
  (:mod:`redline.probes._mysql_activity`).

**Telling redline's statements from the workload's.** Digests drop comments,
so the ``/* redline */`` mark on each statement shows only in the process list
and the statement history. What keeps redline out of :meth:`top_digests` is
the default schema, which digests are kept by: the probe's own queries run
with ``information_schema`` as the default schema (the connection opens with
none, so the driver's ``SET NAMES`` is not counted either, and switches with
``COM_INIT_DB``, which makes no digest), candidate indexes are built on a
connection with no default schema, and the only statements run in the
workload's schema are EXPLAINs, which ``top_digests`` leaves out.

**Digest texts have no values.** ``WHERE id = ?`` cannot be explained as it
is. When the server keeps ``events_statements_history_long`` (its consumer and
``events_statements_current``, off by default, are on), :meth:`top_digests`
attaches a real statement of the digest (``DigestStat.sample``). Otherwise
:func:`stand_in` puts neutral values in: ``LIMIT ?`` becomes ``LIMIT 10``,
``INTERVAL ?`` ``INTERVAL 1``, ``DATE ?`` a date, ``IN (...)`` ``IN ('1')``
and every other ``?`` the string ``'1'`` (MySQL compares a string with a
number column as a number, so an index on it stays usable; ``0`` against a
string column would not). The plan is then the plan for those values: a range
(``created > ?``) may look wider or narrower than the workload's, which the
rules say when they report on such a plan. Digest texts also space every
``(`` off (``COUNT ( * )``), which parses as a call only under ``IGNORE_SPACE``,
so the probe's session adds that to its ``sql_mode`` (no plan depends on it).

**Checking a candidate index.** MySQL and MariaDB have no hypothetical
indexes (HypoPG's kind) and DDL is not transactional, so there is no
rolled-back check as on SQLite. MySQL 8's invisible and MariaDB's ignored
indexes still have to be built. :meth:`index_check` therefore reports a
candidate *unverified* unless called with ``allow_changes=True``; then it
builds the index for real (``ALGORITHM=INPLACE, LOCK=NONE``: online, writers
are not blocked; ``lock_wait_timeout`` of 5 s for the metadata lock; at most
``DDL_TIMEOUT_S``, after which the build is killed), EXPLAINs the statement
again, and drops the index in a ``finally``. While it exists (the build time
plus one EXPLAIN) the workload's own queries may use it. Tables estimated at
more than ``MAX_CHECK_ROWS`` rows are not built on. Every candidate is named
``redline_..._idx``, so one left by a crash is easy to find.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

import pymysql  # type: ignore[import-untyped]

from redline.errors import ConfigError, TargetError
from redline.optimize import Change, ChangeKind
from redline.plan import Dsn
from redline.probes._index_candidates import table_aliases
from redline.probes._sqlite import IndexCandidate, index_candidates
from redline.units import one_line

__all__ = [
    "DigestStat",
    "LockWait",
    "MySqlHealth",
    "MySqlIndexCheck",
    "MySqlProbe",
    "PlanTable",
    "ReplicaStatus",
    "has_placeholders",
    "plan_tables",
    "stand_in",
]

#: Marks redline's own statements in the process list and statement history.
REDLINE_MARK: Final = "/* redline */"
#: How long connecting, sending a statement and waiting for its answer may each take.
TIMEOUT_S: Final = 5
#: How long building a candidate index may take before it is killed.
DDL_TIMEOUT_S: Final = 120
#: How long the build waits for the table's metadata lock (``lock_wait_timeout``).
DDL_LOCK_WAIT_S: Final = 5
#: Tables estimated larger than this are not built on by :meth:`MySqlProbe.index_check`.
MAX_CHECK_ROWS: Final = 5_000_000
#: More digests than performance_schema keeps (``performance_schema_digests_size``).
ALL_DIGESTS: Final = 1_000_000
#: performance_schema times are picoseconds.
PICOSECONDS_PER_MS: Final = 1e9
#: Stand-ins for a digest's ``?`` (see the module docstring).
STAND_IN_VALUE: Final = "'1'"
STAND_IN_LIMIT: Final = 10
#: How much of a statement an error message quotes.
QUOTE_CHARS: Final = 60
#: The default schema of redline's own queries (digests are kept per default schema).
_OWN_SCHEMA: Final = "information_schema"
#: Statements EXPLAIN takes.
_EXPLAINABLE: Final = ("SELECT", "WITH", "UPDATE", "DELETE", "INSERT", "REPLACE", "(")
#: Server errors that mean the statement is at fault, not the server.
_STATEMENT_FAULTS: Final = {1052, 1054, 1064, 1146, 1149, 1222, 1241, 1248, 1292, 1525}
#: Server errors for a missing privilege.
_PRIVILEGE_ERRORS: Final = {1044, 1142, 1143, 1227}
_REFUSED, _GONE = {2002, 2003}, {2006, 2013}
_ACCESS_DENIED, _UNKNOWN_DATABASE, _LOCK_WAIT_TIMEOUT = {1045, 1698}, 1049, 1205

Connect = Callable[..., Any]


@dataclass(frozen=True, kw_only=True)
class DigestStat:
    """One statement shape's totals since the server started (or the table was truncated)."""

    digest: str
    #: The normalized text: values are ``?``, lists ``(...)``.
    text: str
    calls: int
    total_ms: float
    avg_ms: float
    max_ms: float
    lock_ms: float
    rows_examined: int
    rows_sent: int
    rows_affected: int
    #: Executions that read a table through no index / through no good index.
    no_index_used: int
    no_good_index_used: int
    tmp_tables: int
    tmp_disk_tables: int
    sort_merge_passes: int
    errors: int
    #: One real statement of this digest, when the server keeps the statement history.
    sample: str | None = None

    @property
    def examined_per_sent(self) -> float | None:
        """Rows examined for each row sent; None when none was sent."""
        return self.rows_examined / self.rows_sent if self.rows_sent else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class LockWait:
    """A transaction waiting for a row lock that another one holds, now."""

    waiting_thread: int
    blocking_thread: int
    waiting_query: str | None
    #: What the blocker runs now (None when it is idle inside its transaction).
    blocking_query: str | None
    wait_s: float
    table: str | None


@dataclass(frozen=True, kw_only=True)
class ReplicaStatus:
    """One replication channel of this server (as a replica)."""

    channel: str
    io_running: bool
    sql_running: bool
    #: ``Seconds_Behind_Master``/``Source``; None when the server cannot tell.
    lag_s: int | None
    last_error: str


@dataclass(frozen=True, kw_only=True)
class MySqlHealth:
    """Server-wide figures; counters are totals since the server started (``uptime_s``)."""

    version: str
    uptime_s: int
    buffer_pool_read_requests: int
    #: Reads the buffer pool could not serve and took from disk.
    buffer_pool_reads: int
    buffer_pool_bytes: int
    threads_connected: int
    max_used_connections: int
    max_connections: int
    #: Connection attempts, successful or not.
    connections: int
    aborted_connects: int
    aborted_clients: int
    #: Connections refused because ``max_connections`` was reached.
    refused_connections: int
    created_tmp_tables: int
    created_tmp_disk_tables: int
    tmp_table_bytes: int
    row_lock_waits: int
    row_lock_time_ms: int
    lock_waits: tuple[LockWait, ...] = ()
    replicas: tuple[ReplicaStatus, ...] = ()

    @property
    def buffer_pool_hit_ratio(self) -> float | None:
        """The share of page reads the buffer pool served; None before any read."""
        if not self.buffer_pool_read_requests:
            return None
        return 1 - self.buffer_pool_reads / self.buffer_pool_read_requests

    @property
    def connections_used_share(self) -> float:
        """The most connections open at once, as a share of ``max_connections``."""
        peak = max(self.max_used_connections, self.threads_connected)
        return peak / self.max_connections if self.max_connections else 0.0

    @property
    def tmp_disk_share(self) -> float | None:
        """The share of internal temporary tables that went to disk; None before any."""
        if not self.created_tmp_tables:
            return None
        return self.created_tmp_disk_tables / self.created_tmp_tables

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlanTable:
    """One table access in an ``EXPLAIN FORMAT=JSON`` plan (MariaDB's or MySQL's form)."""

    #: The table's alias in the statement (``<derived2>`` and the like for derived tables).
    name: str
    #: ``ALL`` (full scan), ``index`` (full index scan), ``range``, ``ref``, ``eq_ref``...
    access_type: str
    #: Estimated rows read each time the table is read.
    rows: int | None
    possible_keys: tuple[str, ...]
    key: str | None
    #: The condition checked on each row read (``attached_condition``).
    condition: str | None
    #: Under a filesort / an internal temporary table.
    sorted: bool
    temporary: bool

    @property
    def derived(self) -> bool:
        """A derived table, materialized subquery or union result, not a stored table."""
        return self.name.startswith("<")


@dataclass(frozen=True, kw_only=True)
class MySqlIndexCheck:
    """A candidate index and what EXPLAIN said with it, when it was built to find out."""

    candidate: IndexCandidate
    schema: str
    #: The database, as a redacted DSN.
    target: str
    #: Built and the statement explained again; False means the candidate is a guess.
    verified: bool
    #: The new plan reads the candidate's table through it (None when not verified).
    used: bool | None = None
    #: EXPLAIN's estimated rows for each read of the candidate's table, without and with it.
    rows_before: int | None = None
    rows_after: int | None = None
    #: How many table reads sit under a filesort or a temporary table, without it.
    sorting_before: int = 0
    plan_after: dict[str, Any] | None = None
    #: Why it was not verified (not built).
    reason: str = ""

    @property
    def improves(self) -> bool:
        """Verified, used, and reading fewer rows or sorting less."""
        if not (self.verified and self.used and self.plan_after is not None):
            return False
        fewer = (self.rows_after or 0) < (self.rows_before or 0)
        return fewer or _sorting(self.plan_after) < self.sorting_before

    def to_change(self) -> Change:
        """The index as a :class:`Change`, to apply and undo through the journal."""
        return Change(
            kind=ChangeKind.INDEX,
            summary=f"index {self.candidate.describe()}",
            apply=_create_sql(self.candidate, self.schema),
            undo=self.candidate.drop_sql(quote="`", schema=self.schema),
            verify=f"{REDLINE_MARK} SELECT COUNT(*) FROM information_schema.STATISTICS WHERE "
            f"TABLE_SCHEMA = {_literal(self.schema)} AND TABLE_NAME = "
            f"{_literal(self.candidate.table)} AND INDEX_NAME = {_literal(self.candidate.name)}",
            target=self.target,
        )


def plan_tables(plan: Mapping[str, Any]) -> list[PlanTable]:
    """Every table access in an ``EXPLAIN FORMAT=JSON`` document, in plan order."""
    found: list[PlanTable] = []
    _walk(plan, found, sorted_=False, temporary=False)
    return found


def _walk(node: Any, found: list[PlanTable], *, sorted_: bool, temporary: bool) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, found, sorted_=sorted_, temporary=temporary)
        return
    if not isinstance(node, Mapping):
        return
    # MySQL marks the node that sorts; MariaDB nests the plan under "filesort".
    sorted_ = sorted_ or node.get("using_filesort") is True
    temporary = temporary or node.get("using_temporary_table") is True
    for key, value in node.items():
        in_sort = sorted_ or key in ("filesort", "read_sorted_file")
        in_temp = temporary or key == "temporary_table"
        if key == "table" and isinstance(value, Mapping):
            found.append(_table(value, sorted_=sorted_, temporary=temporary))
        _walk(value, found, sorted_=in_sort, temporary=in_temp)


def _table(node: Mapping[str, Any], *, sorted_: bool, temporary: bool) -> PlanTable:
    rows = node.get("rows", node.get("rows_examined_per_scan"))
    return PlanTable(
        name=str(node.get("table_name", "?")),
        access_type=str(node.get("access_type", "")),
        rows=int(rows) if rows is not None else None,
        possible_keys=tuple(node.get("possible_keys") or ()),
        key=node.get("key"),
        condition=node.get("attached_condition"),
        sorted=sorted_ or node.get("using_filesort") is True,
        temporary=temporary or node.get("using_temporary_table") is True,
    )


class MySqlProbe:
    """Digests, plans and health of one MySQL or MariaDB database.

    Example::

        with MySqlProbe(parse_dsn("mysql://app:pw@127.0.0.1:3306/shop")) as probe:
            for digest in probe.top_digests(limit=10):
                plan = probe.explain(digest.sample or digest.text)
            health = probe.health()

    Entering connects (5 s at most) and raises :class:`TargetError`, in one line
    with what to do and never the password, when the server refuses, the user
    or password is wrong, or the database does not exist.

    Args:
        dsn: a ``mysql://`` DSN (``mariadb://`` is the same).
        connect: opens a connection with PyMySQL's arguments (tests pass a fake).
    """

    def __init__(self, dsn: Dsn, *, connect: Connect | None = None) -> None:
        if dsn.scheme != "mysql":
            raise ConfigError(
                f"DSN: expected mysql://[user[:password]@]host[:port]/database, got {str(dsn)!r}"
            )
        self._dsn = dsn
        self._connect = connect or pymysql.connect
        self._conn: Any = None

    def __enter__(self) -> MySqlProbe:
        # Connected with no default schema, so the driver's own SET NAMES is no digest of
        # the database's; then the database is checked (unknown, or no access) by entering it.
        self._conn = self._open(database=None, read_timeout=TIMEOUT_S)
        try:
            self._conn.select_db(self._dsn.database)
            self._conn.select_db(_OWN_SCHEMA)
        except pymysql.err.MySQLError as exc:
            self.close()
            raise _translated(exc, self._dsn, doing="connecting") from None
        try:
            # Digest texts put a space before every '(' ("COUNT ( * )"), which parses as
            # a function call only under IGNORE_SPACE; it changes no plan.
            self._rows(_IGNORE_SPACE, None, doing="setting sql_mode")
        except TargetError:
            self.close()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (entering again reconnects)."""
        if self._conn is not None:
            with contextlib.suppress(pymysql.err.Error):
                self._conn.close()
            self._conn = None

    def top_digests(self, limit: int = 20) -> list[DigestStat]:
        """This database's statements by total time, costliest first, without redline's.

        Raises:
            ConfigError: ``limit`` is not 1 or more.
            TargetError: performance_schema is off, its digest consumer is off, or
                the user may not read it.
        """
        if limit < 1:
            raise ConfigError(f"limit: expected 1 or more, got {limit!r}")
        rows = self._digest_rows(limit)
        samples = self._samples([str(r[0]) for r in rows])
        return [_digest(r, samples.get(str(r[0]))) for r in rows]

    def digest_totals(self) -> dict[str, DigestStat]:
        """Every statement digest of this database by digest, without samples, redline's left out.

        Two readings, before and after a run, give what the run did (see
        :class:`redline.probes.MySqlStatementWatch`).

        Raises:
            TargetError: as :meth:`top_digests`.
        """
        return {str(r[0]): _digest(r, None) for r in self._digest_rows(ALL_DIGESTS)}

    def global_status(self, names: Sequence[str]) -> dict[str, int]:
        """The ``SHOW GLOBAL STATUS`` variables named, as numbers (0 for one the server lacks)."""
        return self._numbers("STATUS", names)

    def global_variables(self, names: Sequence[str]) -> dict[str, int]:
        """The ``SHOW GLOBAL VARIABLES`` named, as numbers (0 for one the server lacks)."""
        return self._numbers("VARIABLES", names)

    def sessions(self) -> dict[str, int]:
        """Other sessions in this database now: ``connections``, ``active`` (command
        ``Query`` or ``Execute``), ``idle`` (``Sleep``) and ``waiting_on_locks`` (a state
        ``Waiting for ... lock``: table and metadata locks; row locks are in the status).

        Raises:
            TargetError: the user may not read ``performance_schema.threads``.
        """
        rows = self._rows(
            _SESSIONS, (self._dsn.database,), doing="reading sessions",
            grant=f"GRANT SELECT ON performance_schema.* TO {self._grantee()}",
        )  # fmt: skip
        return {name: int(v or 0) for name, v in zip(_SESSION_FIGURES, rows[0], strict=True)}

    def explain(self, sql: str) -> dict[str, Any]:
        """``EXPLAIN FORMAT=JSON`` of one statement, in the database (planned, not run).

        A digest text's ``?`` are replaced by :func:`stand_in` first. Only one
        statement is sent: the connection does not allow several in one call.

        Raises:
            ConfigError: not a SELECT, UPDATE, DELETE, INSERT or REPLACE, or the server
                rejects it (syntax, unknown table or column).
            TargetError: the server failed otherwise.
        """
        text = _explainable(sql)
        with self._in_database():
            rows = self._rows(f"{REDLINE_MARK} EXPLAIN FORMAT=JSON {text}", None, doing="EXPLAIN")
        plan: dict[str, Any] = json.loads(rows[0][0])
        return plan

    def health(self) -> MySqlHealth:
        """Server-wide figures (see :class:`MySqlHealth`).

        Raises:
            TargetError: the user lacks PROCESS (lock waits) or SLAVE MONITOR /
                REPLICATION CLIENT (replication status).
        """
        status = self._pairs("SHOW GLOBAL STATUS", "reading status")
        variables = self._pairs("SHOW GLOBAL VARIABLES", "reading variables")
        return MySqlHealth(
            version=variables.get("version", ""),
            uptime_s=_int(status, "Uptime"),
            buffer_pool_read_requests=_int(status, "Innodb_buffer_pool_read_requests"),
            buffer_pool_reads=_int(status, "Innodb_buffer_pool_reads"),
            buffer_pool_bytes=_int(variables, "innodb_buffer_pool_size"),
            threads_connected=_int(status, "Threads_connected"),
            max_used_connections=_int(status, "Max_used_connections"),
            max_connections=_int(variables, "max_connections"),
            connections=_int(status, "Connections"),
            aborted_connects=_int(status, "Aborted_connects"),
            aborted_clients=_int(status, "Aborted_clients"),
            refused_connections=_int(status, "Connection_errors_max_connections"),
            created_tmp_tables=_int(status, "Created_tmp_tables"),
            created_tmp_disk_tables=_int(status, "Created_tmp_disk_tables"),
            tmp_table_bytes=min(
                _int(variables, "tmp_table_size"), _int(variables, "max_heap_table_size")
            ),
            row_lock_waits=_int(status, "Innodb_row_lock_waits"),
            row_lock_time_ms=_int(status, "Innodb_row_lock_time"),
            lock_waits=self._lock_waits(variables.get("version", "")),
            replicas=self._replicas(variables.get("version", "")),
        )

    def index_candidates(self, sql: str) -> list[IndexCandidate]:
        """Candidates for the statement (see :mod:`redline.probes._index_candidates`), less
        existing ones.

        Raises:
            ConfigError: sqlglot cannot parse the statement as MySQL.
        """
        text = _explainable(sql)
        columns = self._schema_columns()
        found = index_candidates(text, dialect="mysql", columns_of=lambda t: columns.get(t, []))
        existing = self._schema_indexes()
        return [c for c in found if not _covered(c, existing.get(c.table, []))]

    def index_check(
        self, sql: str, candidate: IndexCandidate, *, allow_changes: bool = False
    ) -> MySqlIndexCheck:
        """Whether ``candidate`` would serve ``sql``: built, EXPLAINed, dropped (module docstring).

        Without ``allow_changes`` nothing is built and the candidate comes back unverified.

        Raises:
            ConfigError: the statement cannot be explained.
            TargetError: the build timed out (it is killed and the index removed), the
                user lacks the INDEX privilege, or the index could not be dropped.
        """
        text = _explainable(sql)
        names = _names_of(text, candidate.table)
        before = self.explain(text)
        unverified = MySqlIndexCheck(
            candidate=candidate, schema=self._dsn.database, target=str(self._dsn), verified=False,
            rows_before=_rows_read(before, names), sorting_before=_sorting(before),
            reason="building a test index needs --try-indexes",
        )  # fmt: skip
        if not allow_changes:
            return unverified
        refusal = self._build(candidate)
        if refusal:
            return replace(unverified, reason=refusal)
        try:
            after = self.explain(text)
        finally:
            self._drop(candidate)
        used = any(t.key == candidate.name for t in plan_tables(after) if t.name in names)
        rows_after = _rows_read(after, names)
        return replace(
            unverified, verified=True, used=used, rows_after=rows_after, plan_after=after, reason=""
        )

    def advise(self, sql: str, *, allow_changes: bool = False) -> list[MySqlIndexCheck]:
        """Every candidate for ``sql``, each through :meth:`index_check`."""
        return [
            self.index_check(sql, c, allow_changes=allow_changes)
            for c in self.index_candidates(sql)
        ]

    # --- connections and statements ----------------------------------------------------------

    def _open(self, *, database: str | None, read_timeout: int) -> Any:
        dsn = self._dsn
        try:
            return self._connect(
                host=dsn.host, port=dsn.port, user=dsn.user or "", password=dsn.password() or "",
                database=database, connect_timeout=TIMEOUT_S, read_timeout=read_timeout,
                write_timeout=TIMEOUT_S, autocommit=True, charset="utf8mb4",
                program_name="redline",
            )  # fmt: skip
        except pymysql.err.MySQLError as exc:
            raise _translated(exc, dsn, doing="connecting") from None

    def _connection(self) -> Any:
        if self._conn is None:
            raise ConfigError("MySqlProbe: use it inside 'with MySqlProbe(dsn) as probe:'")
        return self._conn

    def _rows(
        self, sql: str, args: Sequence[Any] | None, *, doing: str, grant: str | None = None
    ) -> list[tuple[Any, ...]]:
        try:
            with self._connection().cursor() as cursor:
                cursor.execute(sql, args)
                return list(cursor.fetchall())
        except pymysql.err.MySQLError as exc:
            code = _code(exc)
            if doing == "EXPLAIN" and code in _STATEMENT_FAULTS:
                raise ConfigError(
                    f"EXPLAIN {_quote(sql.removeprefix(REDLINE_MARK + ' EXPLAIN FORMAT=JSON '))}: "
                    f"{_message(exc, self._dsn)}",
                    hint=f"check that the statement runs as written in {self._dsn.database!r}",
                ) from None
            raise _translated(exc, self._dsn, doing=doing, grant=grant) from None

    def _numbers(self, kind: str, names: Sequence[str]) -> dict[str, int]:
        marks = ", ".join(["%s"] * len(names))
        rows = self._rows(
            f"{REDLINE_MARK} SHOW GLOBAL {kind} WHERE Variable_name IN ({marks})",
            tuple(names), doing=f"reading {kind.lower()}",
        )  # fmt: skip
        found = {str(name): str(value) for name, value in rows}
        return {name: _int(found, name) for name in names}

    def _pairs(self, statement: str, doing: str) -> dict[str, str]:
        rows = self._rows(f"{REDLINE_MARK} {statement}", None, doing=doing)
        return {str(name): str(value) for name, value in rows}

    @contextlib.contextmanager
    def _in_database(self) -> Iterator[None]:
        self._use(self._dsn.database)
        try:
            yield
        finally:
            self._use(_OWN_SCHEMA)

    def _use(self, schema: str) -> None:
        try:
            self._connection().select_db(schema)
        except pymysql.err.MySQLError as exc:
            raise _translated(exc, self._dsn, doing=f"entering {schema!r}") from None

    # --- digests ----------------------------------------------------------------------------

    def _digest_rows(self, limit: int) -> list[tuple[Any, ...]]:
        self._require_digests()
        return self._rows(_DIGESTS, (self._dsn.database, limit), doing="reading digests")

    def _require_digests(self) -> None:
        (enabled,) = self._rows(f"{REDLINE_MARK} SELECT @@performance_schema", None, doing="")[0]
        where = f"{self._dsn.host}:{self._dsn.port}"
        if not int(enabled):
            raise TargetError(
                f"performance_schema is OFF on {where}: no statement digests are collected",
                hint="set performance_schema=ON in the [mysqld] section of my.cnf and restart "
                "the server (it cannot be switched on while it runs)",
            )
        if not self._consumer_enabled("statements_digest"):
            raise TargetError(
                f"the statements_digest consumer is off on {where}: no digests are collected",
                hint="UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE "
                "NAME = 'statements_digest' (or performance-schema-consumer-statements-digest=ON "
                "in my.cnf)",
            )

    def _consumer_enabled(self, name: str) -> bool:
        rows = self._rows(
            f"{REDLINE_MARK} SELECT ENABLED FROM performance_schema.setup_consumers "
            "WHERE NAME = %s",
            (name,), doing="reading performance_schema",
            grant=f"GRANT SELECT ON performance_schema.* TO {self._grantee()}",
        )  # fmt: skip
        return bool(rows) and str(rows[0][0]).upper() == "YES"

    def _samples(self, digests: list[str]) -> dict[str, str]:
        # The history is kept only with both consumers on (the long one hangs off current).
        kept = ("events_statements_current", "events_statements_history_long")
        if not digests or not all(self._consumer_enabled(name) for name in kept):
            return {}
        marks = ", ".join(["%s"] * len(digests))
        rows = self._rows(_SAMPLES.format(marks=marks), (self._dsn.database, *digests), doing="")
        samples: dict[str, str] = {}
        for digest, text in rows:
            samples.setdefault(str(digest), str(text))
        return samples

    # --- health -----------------------------------------------------------------------------

    def _lock_waits(self, version: str) -> tuple[LockWait, ...]:
        query = _LOCK_WAITS_MYSQL8 if _mysql8(version) else _LOCK_WAITS_INNODB
        rows = self._rows(
            query,
            None,
            doing="reading lock waits",
            grant=f"GRANT PROCESS ON *.* TO {self._grantee()}",
        )
        return tuple(
            LockWait(
                waiting_thread=int(r[0]),
                blocking_thread=int(r[1]),
                waiting_query=r[2],
                blocking_query=r[3],
                wait_s=float(r[4] or 0),
                table=r[5],
            )  # fmt: skip
            for r in rows
        )

    def _replicas(self, version: str) -> tuple[ReplicaStatus, ...]:
        mariadb = "mariadb" in version.lower()
        grant = "SLAVE MONITOR" if mariadb else "REPLICATION CLIENT"
        statements = (
            ["SHOW ALL SLAVES STATUS"] if mariadb else ["SHOW REPLICA STATUS", "SHOW SLAVE STATUS"]
        )
        for statement in statements:
            try:
                with self._connection().cursor(pymysql.cursors.DictCursor) as cursor:
                    cursor.execute(f"{REDLINE_MARK} {statement}")
                    return tuple(_replica(row) for row in cursor.fetchall())
            except pymysql.err.MySQLError as exc:
                if _code(exc) != 1064 or statement == statements[-1]:
                    raise _translated(
                        exc, self._dsn, doing="reading replication status",
                        grant=f"GRANT {grant} ON *.* TO {self._grantee()}",
                    ) from None  # fmt: skip
        return ()  # pragma: no cover - the loop returns or raises

    # --- index checks -----------------------------------------------------------------------

    def _schema_columns(self) -> dict[str, list[str]]:
        rows = self._rows(_COLUMNS, (self._dsn.database,), doing="reading columns")
        columns: dict[str, list[str]] = {}
        for table, column in rows:
            columns.setdefault(str(table), []).append(str(column))
        return columns

    def _schema_indexes(self) -> dict[str, list[list[str]]]:
        rows = self._rows(_INDEXES, (self._dsn.database,), doing="reading indexes")
        indexes: dict[tuple[str, str], list[str]] = {}
        for table, name, column in rows:
            indexes.setdefault((str(table), str(name)), []).append(str(column))
        by_table: dict[str, list[list[str]]] = {}
        for (table, _), columns in indexes.items():
            by_table.setdefault(table, []).append(columns)
        return by_table

    def _build(self, candidate: IndexCandidate) -> str:
        """Build the candidate; '' when built, else why not (nothing is left behind)."""
        rows = self._rows(_TABLE_ROWS, (self._dsn.database, candidate.table), doing="")
        estimate = int(rows[0][0] or 0) if rows else 0
        if estimate > MAX_CHECK_ROWS:
            return (
                f"{candidate.table} holds about {estimate:,} rows, too many to build "
                f"a test index on (over {MAX_CHECK_ROWS:,})"
            )
        ddl = self._open(database=None, read_timeout=DDL_TIMEOUT_S)
        try:
            with ddl.cursor() as cursor:
                cursor.execute(f"{REDLINE_MARK} SET SESSION lock_wait_timeout = {DDL_LOCK_WAIT_S}")
                cursor.execute(f"{REDLINE_MARK} {_create_sql(candidate, self._dsn.database)}")
            return ""
        except pymysql.err.MySQLError as exc:
            return self._build_failed(candidate, exc, ddl)
        finally:
            with contextlib.suppress(pymysql.err.Error):
                ddl.close()

    def _build_failed(self, candidate: IndexCandidate, exc: Exception, ddl: Any) -> str:
        code = _code(exc)
        if code in _GONE:
            self._rows(f"{REDLINE_MARK} KILL QUERY {int(ddl.thread_id())}", None, doing="")
            if self._index_exists(candidate):
                self._drop(candidate)
            raise TargetError(
                f"building index {candidate.describe()} took over {DDL_TIMEOUT_S} s: stopped it",
                hint="check this candidate on a smaller copy of the table",
            )
        if code in _PRIVILEGE_ERRORS:
            raise _translated(
                exc, self._dsn, doing=f"building index {candidate.describe()}",
                grant=f"GRANT INDEX ON `{self._dsn.database}`.* TO {self._grantee()}",
            )  # fmt: skip
        if code == _LOCK_WAIT_TIMEOUT:
            return f"another session held {candidate.table} for over {DDL_LOCK_WAIT_S} s"
        return f"the server would not build it: {_message(exc, self._dsn)}"

    def _drop(self, candidate: IndexCandidate) -> None:
        drop = candidate.drop_sql(quote="`", schema=self._dsn.database)
        ddl = self._open(database=None, read_timeout=DDL_TIMEOUT_S)
        try:
            with ddl.cursor() as cursor:
                cursor.execute(f"{REDLINE_MARK} SET SESSION lock_wait_timeout = {DDL_LOCK_WAIT_S}")
                cursor.execute(f"{REDLINE_MARK} {drop}")
        except pymysql.err.MySQLError as exc:
            raise TargetError(
                f"could not drop the test index {candidate.name}: {_message(exc, self._dsn)}",
                hint=f"drop it by hand: {drop}",
            ) from None
        finally:
            with contextlib.suppress(pymysql.err.Error):
                ddl.close()

    def _index_exists(self, candidate: IndexCandidate) -> bool:
        args = (self._dsn.database, candidate.table, candidate.name)
        return bool(self._rows(_INDEX_EXISTS, args, doing="reading indexes"))

    def _grantee(self) -> str:
        return f"'{self._dsn.user or ''}'@'%'"


# --- statements redline sends --------------------------------------------------------------

_DIGESTS = f"""{REDLINE_MARK}
SELECT DIGEST, DIGEST_TEXT, COUNT_STAR, SUM_TIMER_WAIT, AVG_TIMER_WAIT, MAX_TIMER_WAIT,
       SUM_LOCK_TIME, SUM_ROWS_EXAMINED, SUM_ROWS_SENT, SUM_ROWS_AFFECTED, SUM_NO_INDEX_USED,
       SUM_NO_GOOD_INDEX_USED, SUM_CREATED_TMP_TABLES, SUM_CREATED_TMP_DISK_TABLES,
       SUM_SORT_MERGE_PASSES, SUM_ERRORS
FROM performance_schema.events_statements_summary_by_digest
WHERE SCHEMA_NAME = %s AND DIGEST_TEXT IS NOT NULL AND DIGEST_TEXT NOT LIKE 'EXPLAIN %%'
ORDER BY SUM_TIMER_WAIT DESC
LIMIT %s"""
#: ``_SESSIONS``' columns, in order.
_SESSION_FIGURES: Final = ("connections", "active", "idle", "waiting_on_locks")
# performance_schema.threads, not information_schema.PROCESSLIST: that one is built as a
# temporary table on disk at each read, which would count in Created_tmp_disk_tables.
_SESSIONS = f"""{REDLINE_MARK}
SELECT COUNT(*), SUM(PROCESSLIST_COMMAND IN ('Query', 'Execute')),
       SUM(PROCESSLIST_COMMAND = 'Sleep'), SUM(PROCESSLIST_STATE LIKE '%%Waiting for%%lock%%')
FROM performance_schema.threads
WHERE PROCESSLIST_DB = %s AND PROCESSLIST_ID <> CONNECTION_ID()"""
# A sample cut at the history's text limit would not parse: those are left out.
_SAMPLES = f"""{REDLINE_MARK}
SELECT DIGEST, SQL_TEXT FROM performance_schema.events_statements_history_long
WHERE CURRENT_SCHEMA = %s AND DIGEST IN ({{marks}}) AND SQL_TEXT IS NOT NULL
  AND CHAR_LENGTH(SQL_TEXT) < @@performance_schema_max_sql_text_length
ORDER BY TIMER_WAIT DESC"""
_LOCK_WAITS_INNODB = f"""{REDLINE_MARK}
SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id, r.trx_query, b.trx_query,
       TIMESTAMPDIFF(MICROSECOND, r.trx_wait_started, NOW(6)) / 1e6, l.lock_table
FROM information_schema.INNODB_LOCK_WAITS w
JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
LEFT JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id"""
_LOCK_WAITS_MYSQL8 = f"""{REDLINE_MARK}
SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id, r.trx_query, b.trx_query,
       TIMESTAMPDIFF(MICROSECOND, r.trx_wait_started, NOW(6)) / 1e6,
       CONCAT(l.OBJECT_SCHEMA, '.', l.OBJECT_NAME)
FROM performance_schema.data_lock_waits w
JOIN information_schema.INNODB_TRX r ON r.trx_id = w.REQUESTING_ENGINE_TRANSACTION_ID
JOIN information_schema.INNODB_TRX b ON b.trx_id = w.BLOCKING_ENGINE_TRANSACTION_ID
LEFT JOIN performance_schema.data_locks l ON l.ENGINE_LOCK_ID = w.REQUESTING_ENGINE_LOCK_ID"""
_IGNORE_SPACE = f"""{REDLINE_MARK}
SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'IGNORE_SPACE')"""
_COLUMNS = f"""{REDLINE_MARK} SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION"""
_INDEXES = f"""{REDLINE_MARK} SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"""
_INDEX_EXISTS = f"""{REDLINE_MARK} SELECT 1 FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND INDEX_NAME = %s"""
_TABLE_ROWS = f"""{REDLINE_MARK} SELECT TABLE_ROWS FROM information_schema.TABLES
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"""


def _digest(row: Sequence[Any], sample: str | None) -> DigestStat:
    whole = [int(v or 0) for v in row[2:]]
    ms = [v / PICOSECONDS_PER_MS for v in whole]
    return DigestStat(
        digest=str(row[0]), text=str(row[1]).strip(), calls=whole[0], total_ms=ms[1],
        avg_ms=ms[2], max_ms=ms[3], lock_ms=ms[4], rows_examined=whole[5],
        rows_sent=whole[6], rows_affected=whole[7], no_index_used=whole[8],
        no_good_index_used=whole[9], tmp_tables=whole[10], tmp_disk_tables=whole[11],
        sort_merge_passes=whole[12], errors=whole[13], sample=sample,
    )  # fmt: skip


def _replica(row: Mapping[str, Any]) -> ReplicaStatus:
    def pick(*keys: str) -> Any:
        return next((row[k] for k in keys if k in row), None)

    lag = pick("Seconds_Behind_Master", "Seconds_Behind_Source")
    return ReplicaStatus(
        channel=str(pick("Connection_name", "Channel_Name", "Channel_name") or ""),
        io_running=pick("Slave_IO_Running", "Replica_IO_Running") == "Yes",
        sql_running=pick("Slave_SQL_Running", "Replica_SQL_Running") == "Yes",
        lag_s=int(lag) if lag is not None else None,
        last_error=str(pick("Last_Error", "Last_SQL_Error", "Last_IO_Error") or ""),
    )


def _int(values: Mapping[str, str], name: str) -> int:
    return int(values.get(name) or 0)


def _mysql8(version: str) -> bool:
    if "mariadb" in version.lower():
        return False
    major = re.match(r"(\d+)", version)
    return bool(major) and int(major[1] if major else 0) >= 8


# --- statement text ------------------------------------------------------------------------

_QUOTED = re.compile(r"('(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`(?:[^`]|``)*`)")
_STAND_INS: Final = (
    (re.compile(r"\bLIMIT\s+\?\s*,\s*\?", re.I), f"LIMIT 0, {STAND_IN_LIMIT}"),
    (re.compile(r"\bLIMIT\s+\?", re.I), f"LIMIT {STAND_IN_LIMIT}"),
    (re.compile(r"\bOFFSET\s+\?", re.I), "OFFSET 0"),
    (re.compile(r"\bINTERVAL\s+\?", re.I), "INTERVAL 1"),
    (re.compile(r"\bDATE\s+\?", re.I), "DATE '2000-01-01'"),
    (re.compile(r"\bTIMESTAMP\s+\?", re.I), "TIMESTAMP '2000-01-01 00:00:00'"),
    (re.compile(r"\bTIME\s+\?", re.I), "TIME '00:00:00'"),
    (re.compile(r"\(\s*\.\.\.\s*\)"), f"({STAND_IN_VALUE})"),
    (re.compile(r"\?"), STAND_IN_VALUE),
)


def stand_in(sql: str) -> str:
    """``sql`` with a digest's ``?`` and ``(...)`` replaced by neutral values (module docstring).

    Text inside quotes and backticks is left alone.
    """
    parts = _QUOTED.split(sql)
    for i in range(0, len(parts), 2):
        for pattern, value in _STAND_INS:
            parts[i] = pattern.sub(value, parts[i])
    return "".join(parts)


def has_placeholders(sql: str) -> bool:
    """Whether ``sql`` is a digest text (``?`` or ``(...)`` outside quotes)."""
    return stand_in(sql) != sql


def _explainable(sql: str) -> str:
    text = stand_in(sql.strip().rstrip(";").strip())
    first = text.split(None, 1)[0].upper() if text else ""
    if not first.startswith(_EXPLAINABLE):
        raise ConfigError(
            f"EXPLAIN {_quote(text)}: only SELECT, UPDATE, DELETE, INSERT and REPLACE "
            "statements can be explained"
        )
    if text.endswith("...") and not text.endswith("(...)"):
        raise ConfigError(
            f"EXPLAIN {_quote(text)}: the digest text was cut short (performance_schema_max_"
            "digest_length)",
            hint="raise performance_schema_max_digest_length, or explain a full statement",
        )
    return text


def _names_of(sql: str, table: str) -> set[str]:
    aliases = table_aliases(sql, dialect="mysql")
    return {alias for alias, name in aliases.items() if name == table} | {table}


def _rows_read(plan: Mapping[str, Any], names: set[str]) -> int | None:
    rows = [t.rows for t in plan_tables(plan) if t.name in names and t.rows is not None]
    return sum(rows) if rows else None


def _sorting(plan: Mapping[str, Any]) -> int:
    tables = plan_tables(plan)
    return sum(t.sorted for t in tables) + sum(t.temporary for t in tables)


def _covered(candidate: IndexCandidate, existing: Sequence[Sequence[str]]) -> bool:
    wanted = tuple(c.lower() for c in candidate.columns)
    return any(tuple(c.lower() for c in cols[: len(wanted)]) == wanted for cols in existing)


def _create_sql(candidate: IndexCandidate, schema: str) -> str:
    # INPLACE + LOCK=NONE: built online, the table stays writable; the server refuses
    # (ER_ALTER_OPERATION_NOT_SUPPORTED) rather than block writers when it cannot.
    return candidate.create_sql(quote="`", schema=schema) + " ALGORITHM=INPLACE LOCK=NONE"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


# --- errors --------------------------------------------------------------------------------


def _code(exc: BaseException) -> int:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    return int(args[0]) if args and isinstance(args[0], int) else 0


def _message(exc: BaseException, dsn: Dsn) -> str:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    message = str(args[1]) if len(args) > 1 else str(exc)
    password = dsn.password()
    return message.replace(password, "***") if password else message


def _translated(
    exc: BaseException, dsn: Dsn, *, doing: str, grant: str | None = None
) -> TargetError:
    """One line for a server error, with what to do; never the password."""
    code, where = _code(exc), f"{dsn.host}:{dsn.port}"
    prefix = f"{doing}: " if doing else ""
    if code in _REFUSED:
        return TargetError(
            f"{prefix}cannot connect to {where}: refused or unreachable",
            hint=f"check that MySQL/MariaDB runs and listens on {where} (the DSN's host and port)",
        )
    if code in _ACCESS_DENIED:
        return TargetError(
            f"{prefix}access denied for user {dsn.user!r} at {where}",
            hint="check the DSN's user and password, and that the user may connect from here",
        )
    if code == _UNKNOWN_DATABASE:
        return TargetError(
            f"{prefix}no database {dsn.database!r} on {where}",
            hint=f"correct the DSN's database name, or CREATE DATABASE `{dsn.database}`",
        )
    if code in _GONE:
        return TargetError(
            f"{prefix}the server at {where} did not answer within {TIMEOUT_S} s or hung up",
            hint="check the server is up and not overloaded, then try again",
        )
    if code in _PRIVILEGE_ERRORS:
        return TargetError(
            f"{prefix}user {dsn.user!r} lacks a privilege: {_message(exc, dsn)}",
            hint=grant or "grant the privilege the message names",
        )
    return TargetError(f"{prefix}MySQL error {code}: {_message(exc, dsn)}")


def _quote(text: str) -> str:
    return repr(one_line(text, QUOTE_CHARS, ellipsis="..."))
