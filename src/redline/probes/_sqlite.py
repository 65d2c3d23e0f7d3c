"""A SQLite file's query plans, and the indexes that would improve them.

For ``redline db analyze sqlite:///path.db --queries FILE``:

- :func:`read_queries` splits a file of statements on ``;`` (sqlglot's
  tokenizer, so a ``;`` inside a string or comment does not split);
- :class:`SqliteProbe` opens the file **read-only** and gives each query's
  ``EXPLAIN QUERY PLAN`` as :class:`PlanRow` objects;
- :func:`index_candidates` proposes indexes from the columns a query filters,
  joins, groups and sorts on (read by :mod:`redline.probes._index_candidates`,
  with sqlglot, not regexes), and
  :meth:`SqliteProbe.index_check` verifies one by planning the query again
  with the index present, inside a transaction that is rolled back.

**The index check.** SQLite has no hypothetical indexes, so the candidate is
really built: on a second, writable connection, ``BEGIN IMMEDIATE; CREATE
INDEX ...; EXPLAIN QUERY PLAN ...; ROLLBACK``. Nothing is committed: the file
keeps its schema (``sqlite_master``) and its bytes. A crash in between leaves
a hot journal, which SQLite rolls back when the file is next opened. The cost
is building the index once (it reads the table) while holding the write lock,
so the file's writers wait meanwhile (for up to their own busy timeout).

**Candidates.** Per table of each SELECT: the columns compared with ``=``,
``IN`` or ``IS`` against values or other tables' columns (joins) come first,
then either the first range column (``<``, ``BETWEEN``, a prefix ``LIKE``) or
the ORDER BY / GROUP BY / DISTINCT columns when they all belong to that table;
at most 4 columns. Candidates an existing index already
starts with are left out. Whether one helps is decided by the re-plan, never
assumed. The MySQL probe (:mod:`redline.probes._mysql`) uses the same candidates.
"""

from __future__ import annotations

import enum
import hashlib
import re
import sqlite3
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import sqlglot
from sqlglot.tokenizer_core import TokenType

from redline.errors import ConfigError, TargetError
from redline.optimize import Change, ChangeKind
from redline.plan import Dsn
from redline.probes._index_candidates import filtered_columns, referenced_tables, table_aliases
from redline.probes._index_candidates import index_candidates as parsed_candidates
from redline.units import one_line

__all__ = [
    "IndexCandidate",
    "PlanOperation",
    "PlanRow",
    "SqliteIndexCheck",
    "SqliteProbe",
    "filtered_columns",
    "index_candidates",
    "read_queries",
    "table_aliases",
]

#: How long a statement waits for another connection's lock before giving up.
BUSY_TIMEOUT_S: Final = 5.0
#: A table's column names (empty when the table is unknown).
ColumnsOf = Callable[[str], Collection[str]]
#: Longest index name (MySQL's identifier limit; SQLite has none).
MAX_INDEX_NAME_CHARS: Final = 64
#: How much of a statement an error message quotes.
QUOTE_CHARS: Final = 60

_ACCESS = re.compile(
    r"^(?P<op>SCAN|SEARCH) (?:TABLE )?(?P<name>\S+)(?: AS (?P<alias>\S+))?"
    r"(?: USING (?P<automatic>AUTOMATIC (?:PARTIAL )?)?(?:COVERING )?INDEX"
    r"(?: (?P<index>[^\s(]+))?)?"
)
_TEMP_BTREE = re.compile(r"^USE TEMP B-TREE FOR (?P<purpose>.+)$")


class PlanOperation(enum.Enum):
    """What one line of ``EXPLAIN QUERY PLAN`` does."""

    #: Reads a whole table or index (``SCAN t``, ``SCAN t USING INDEX i``).
    SCAN = "scan"
    #: Looks rows up through an index or the rowid (``SEARCH t USING INDEX i (a=?)``).
    SEARCH = "search"
    #: Sorts or de-duplicates in a temporary B-tree (``USE TEMP B-TREE FOR ORDER BY``).
    TEMP_BTREE = "temp_btree"
    #: Anything else: subquery headers, ``SCAN CONSTANT ROW``, compound queries.
    OTHER = "other"


@dataclass(frozen=True)
class PlanRow:
    """One line of ``EXPLAIN QUERY PLAN``: its id, its parent's id and its text.

    The properties read the text (SQLite 3.36+ and the older ``SCAN TABLE t``
    form). ``name`` is the table's alias when the query gives it one.
    """

    id: int
    parent: int
    detail: str

    @property
    def operation(self) -> PlanOperation:
        """SCAN, SEARCH, TEMP_BTREE or OTHER."""
        access = self._access()
        if access:
            return PlanOperation(access["op"].lower())
        return PlanOperation.TEMP_BTREE if _TEMP_BTREE.match(self.detail) else PlanOperation.OTHER

    @property
    def name(self) -> str | None:
        """The table (or its alias) a SCAN or SEARCH reads; None for other lines."""
        access = self._access()
        return (access["alias"] or access["name"]) if access else None

    @property
    def index(self) -> str | None:
        """The named index a SCAN or SEARCH reads through, if any."""
        access = self._access()
        return access["index"] if access else None

    @property
    def full_scan(self) -> bool:
        """A SCAN of the table itself, through no index (nor a virtual table's own)."""
        return self.operation is PlanOperation.SCAN and not any(
            word in self.detail for word in (" USING ", " VIRTUAL TABLE")
        )

    @property
    def automatic_index(self) -> bool:
        """SQLite builds a throwaway index for this loop on every execution."""
        access = self._access()
        return bool(access and access["automatic"])

    @property
    def temp_btree_for(self) -> str | None:
        """``ORDER BY``, ``GROUP BY``, ``DISTINCT`` or ``RIGHT PART OF ORDER BY``."""
        temp = _TEMP_BTREE.match(self.detail)
        return temp["purpose"] if temp else None

    def to_dict(self) -> dict[str, int | str]:
        return {"id": self.id, "parent": self.parent, "detail": self.detail}

    def _access(self) -> re.Match[str] | None:
        return None if self.detail.startswith("SCAN CONSTANT ROW") else _ACCESS.match(self.detail)


@dataclass(frozen=True)
class IndexCandidate:
    """An index redline may suggest: a table and its columns, in order."""

    table: str
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        """``redline_<table>_<columns>_idx``, shortened with a hash past 64 characters."""
        plain = re.sub(r"[^A-Za-z0-9_]", "_", "_".join((self.table, *self.columns)))
        name = f"redline_{plain}_idx".lower()
        if len(name) <= MAX_INDEX_NAME_CHARS:
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        return f"{name[: MAX_INDEX_NAME_CHARS - 13]}_{digest}_idx"

    def create_sql(self, *, quote: str = '"', schema: str | None = None) -> str:
        """``CREATE INDEX`` for it; ``quote`` is ``"`` for SQLite, a backtick for MySQL."""
        columns = ", ".join(_quoted(c, quote) for c in self.columns)
        target = self._table(quote, schema)
        return f"CREATE INDEX {_quoted(self.name, quote)} ON {target} ({columns})"

    def drop_sql(self, *, quote: str = '"', schema: str | None = None) -> str:
        """The statement that removes it (SQLite's form; with a backtick, MySQL's)."""
        if quote == "`":
            return f"DROP INDEX {_quoted(self.name, quote)} ON {self._table(quote, schema)}"
        return f"DROP INDEX IF EXISTS {_quoted(self.name, quote)}"

    def describe(self) -> str:
        """``orders (customer_id, status)``."""
        return f"{self.table} ({', '.join(self.columns)})"

    def _table(self, quote: str, schema: str | None) -> str:
        table = _quoted(self.table, quote)
        return f"{_quoted(schema, quote)}.{table}" if schema else table


@dataclass(frozen=True, kw_only=True)
class SqliteIndexCheck:
    """A candidate index and the query's plan without it and with it (built, rolled back)."""

    candidate: IndexCandidate
    before: tuple[PlanRow, ...]
    after: tuple[PlanRow, ...]
    #: The file, as a DSN (``sqlite:///path``).
    target: str

    @property
    def used(self) -> bool:
        """The plan with the index reads through it."""
        return any(row.index == self.candidate.name for row in self.after)

    @property
    def scans_removed(self) -> int:
        """How many fewer full scans (and automatic indexes) the plan has with it."""
        return _costly(self.before) - _costly(self.after)

    @property
    def sorts_removed(self) -> int:
        """How many fewer temporary B-trees the plan has with it."""
        return _sorts(self.before) - _sorts(self.after)

    @property
    def improves(self) -> bool:
        """Used, with fewer full scans or sorts, and more of neither."""
        removed = (self.scans_removed, self.sorts_removed)
        return self.used and max(removed) > 0 and min(removed) >= 0

    def to_change(self) -> Change:
        """The index as a :class:`Change`, to apply and undo through the journal."""
        name = self.candidate.name.replace("'", "''")
        return Change(
            kind=ChangeKind.INDEX,
            summary=f"index {self.candidate.describe()}",
            apply=self.candidate.create_sql(),
            undo=self.candidate.drop_sql(),
            verify=f"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '{name}'",
            target=self.target,
        )


def _costly(rows: Iterable[PlanRow]) -> int:
    return sum(1 for r in rows if r.full_scan or r.automatic_index)


def _sorts(rows: Iterable[PlanRow]) -> int:
    return sum(1 for r in rows if r.operation is PlanOperation.TEMP_BTREE)


class SqliteProbe:
    """Query plans and index checks on one SQLite file, opened read-only.

    Example::

        with SqliteProbe(parse_dsn("sqlite:///data/shop.db")) as probe:
            for query in read_queries(Path("queries.sql")):
                rows = probe.query_plan(query)
                checks = probe.advise(query)

    Entering raises :class:`ConfigError` when the file is missing or not a database.
    """

    def __init__(self, dsn: Dsn) -> None:
        if dsn.scheme != "sqlite":
            raise ConfigError(f"DSN: expected sqlite:///path/to/file.db, got {str(dsn)!r}")
        self._dsn = dsn
        self._path = Path(dsn.path)
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> SqliteProbe:
        if not self._path.is_file():
            raise ConfigError(
                f"DSN: no SQLite file at {str(self._path)!r}",
                hint="give the path of an existing database file: sqlite:///path/to/file.db",
            )
        self._conn = self._open("ro")
        try:
            self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise ConfigError(f"DSN: {str(self._path)!r} is not a SQLite database: {exc}") from None
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (entering again reopens it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def query_plan(self, sql: str) -> list[PlanRow]:
        """``EXPLAIN QUERY PLAN`` of one statement (planned, never run).

        Raises:
            ConfigError: the statement does not compile here (syntax, unknown table), or
                is more than one statement.
        """
        return _plan(self._connection(), sql)

    def columns(self, table: str) -> list[str]:
        """The table's column names, in order; empty for a table that does not exist."""
        rows = self._connection().execute("SELECT name FROM pragma_table_info(?)", (table,))
        return [str(r[0]) for r in rows]

    def indexes(self, table: str) -> list[tuple[str, ...]]:
        """Each index's columns, in order; an INTEGER PRIMARY KEY (the rowid) counts as one."""
        conn = self._connection()
        names = [str(r[0]) for r in conn.execute("SELECT name FROM pragma_index_list(?)", (table,))]
        found = [
            tuple(str(r[0]) for r in conn.execute("SELECT name FROM pragma_index_info(?)", (n,)))
            for n in names
        ]
        keys = [
            r for r in conn.execute("SELECT name, type, pk FROM pragma_table_info(?)", (table,))
        ]
        keys = [r for r in keys if r[2]]
        if len(keys) == 1 and str(keys[0][1]).upper() == "INTEGER":
            found.append((str(keys[0][0]),))
        return found

    def row_count(self, table: str) -> int:
        """How many rows the table holds (``count(*)``, which reads its smallest index)."""
        quoted = _quoted(table, '"')
        row = self._connection().execute(f"SELECT count(*) FROM {quoted}").fetchone()
        return int(row[0]) if row else 0

    def index_candidates(self, sql: str) -> list[IndexCandidate]:
        """Candidates for ``sql`` (see the module docstring), less those an index starts with.

        Raises:
            ConfigError: sqlglot cannot parse the statement as SQLite.
        """
        candidates = index_candidates(sql, dialect="sqlite", columns_of=self.columns)
        return [c for c in candidates if not _covered(c, self.indexes(c.table))]

    def index_check(self, sql: str, candidate: IndexCandidate) -> SqliteIndexCheck:
        """Plan ``sql`` with ``candidate`` built inside a transaction that is rolled back.

        Raises:
            ConfigError: the statement does not compile, or the index cannot be built.
            TargetError: the file is not writable, or another connection holds its
                write lock for longer than ``BUSY_TIMEOUT_S``.
        """
        before = tuple(self.query_plan(sql))
        try:
            conn = self._open("rw")
        except sqlite3.OperationalError as exc:
            raise _unwritable(candidate, exc) from None
        try:
            after = tuple(_plan_with(conn, sql, candidate))
        finally:
            conn.close()
        target = str(self._dsn)
        return SqliteIndexCheck(candidate=candidate, before=before, after=after, target=target)

    def advise(self, sql: str) -> list[SqliteIndexCheck]:
        """Every candidate for ``sql``, each checked with :meth:`index_check`."""
        return [self.index_check(sql, c) for c in self.index_candidates(sql)]

    def _open(self, mode: str) -> sqlite3.Connection:
        uri = f"{self._path.resolve().as_uri()}?mode={mode}"
        # isolation_level=None: no implicit transactions; index_check opens its own.
        return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ConfigError("SqliteProbe: use it inside 'with SqliteProbe(dsn) as probe:'")
        return self._conn


def _plan(conn: sqlite3.Connection, sql: str) -> list[PlanRow]:
    text = sql.strip().rstrip(";").strip()
    try:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {text}").fetchall()
    except (sqlite3.OperationalError, sqlite3.ProgrammingError) as exc:
        raise ConfigError(
            f"EXPLAIN QUERY PLAN {_quote(text)}: {exc}",
            hint="check that the statement runs as written on this database",
        ) from None
    return [PlanRow(int(r[0]), int(r[1]), str(r[3])) for r in rows]


def _plan_with(conn: sqlite3.Connection, sql: str, candidate: IndexCandidate) -> list[PlanRow]:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise _unwritable(candidate, exc) from None
    try:
        try:
            conn.execute(candidate.create_sql())
        except sqlite3.OperationalError as exc:
            raise ConfigError(f"cannot build index {candidate.describe()}: {exc}") from None
        return _plan(conn, sql)
    finally:
        conn.execute("ROLLBACK")


def _unwritable(candidate: IndexCandidate, exc: sqlite3.Error) -> TargetError:
    return TargetError(
        f"cannot check index {candidate.describe()}: {exc}",
        hint="the check needs the file (and its folder, for the journal) writable and "
        "not locked by a long write transaction; nothing is committed",
    )


def _covered(candidate: IndexCandidate, existing: Iterable[Sequence[str]]) -> bool:
    wanted = tuple(c.lower() for c in candidate.columns)
    return any(tuple(c.lower() for c in cols[: len(wanted)]) == wanted for cols in existing)


def read_queries(path: Path) -> list[str]:
    """The statements of a file, split on ``;`` outside strings and comments, in order.

    Raises:
        ConfigError: the file cannot be read, has an unterminated string, or holds no
            statement.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--queries: cannot read {str(path)!r}: {exc}") from None
    try:
        tokens = sqlglot.Dialect.get_or_raise("sqlite").tokenize(text)
    except sqlglot.errors.TokenError as exc:
        raise ConfigError(f"--queries: {str(path)!r} is not SQL: {exc}") from None
    statements: list[str] = []
    start, seen = 0, False
    for token in tokens:
        if token.token_type is TokenType.SEMICOLON:
            if seen:
                statements.append(text[start : token.start].strip())
            start, seen = token.end + 1, False
        else:
            seen = True
    if seen:
        statements.append(text[start:].strip())
    if not statements:
        raise ConfigError(f"--queries: no SQL statement in {str(path)!r}")
    return statements


def _quoted(name: str, quote: str) -> str:
    return quote + name.replace(quote, quote * 2) + quote


def _quote(text: str) -> str:
    return repr(one_line(text, QUOTE_CHARS, ellipsis="..."))


def index_candidates(sql: str, *, dialect: str, columns_of: ColumnsOf) -> list[IndexCandidate]:
    """Indexes that could serve ``sql``'s filters, joins and sorts, to build and check.

    The SQL is read by :func:`redline.probes._index_candidates.index_candidates`
    (see the module docstring for the shapes); schema names are dropped.

    Args:
        sql: one statement.
        dialect: sqlglot's name for its SQL dialect (``sqlite``, ``mysql``).
        columns_of: a table's column names (empty when the table is unknown).

    Raises:
        ConfigError: sqlglot cannot parse the statement.
    """
    tables = referenced_tables(sql, dialect=dialect)
    known = {str(t): columns_of(t.name) for t in tables}
    found = parsed_candidates(sql, dialect=dialect, columns_of=known)
    return list(dict.fromkeys(IndexCandidate(c.table.name, c.columns) for c in found))
