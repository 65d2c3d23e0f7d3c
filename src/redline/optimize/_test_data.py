"""Test data as Changes: rows tagged with the run id, removed by a time-bounded, batched DELETE.

:func:`tagged_rows_change` describes rows an experiment adds to a table: the
``INSERT`` (``Change.apply``, run as given) must write the run id into a tag
column. :class:`TestDataApplier`:

- ``prepare`` counts the table's rows (what the undo must come back to);
- ``apply`` runs the ``INSERT`` in a transaction and checks rows carry the tag;
- ``undo`` deletes the tagged rows in batches (``DELETE ... WHERE rowid/ctid IN
  (SELECT ... WHERE tag = run LIMIT n)``, one transaction each, so no lock is
  held long) until none is left or the time bound passes, then checks the
  table's row count is back to what ``prepare`` recorded. A rollback cut short
  by the bound, or by a crash, deletes the rest when run again.

It works on SQLite (``sqlite:///path``) and PostgreSQL (the DSN's password
comes from ``dsns``, since the journal keeps only the redacted target).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from typing import Any, Protocol

from redline.errors import ConfigError, RedlineError
from redline.optimize._applier import ChangeError
from redline.optimize._change import Change, ChangeKind
from redline.plan._dsn import REDACTED, Dsn, parse_dsn

__all__ = ["TestDataApplier", "matching_dsn", "tagged_rows_change"]

#: How long one undo may delete before it stops (and leaves the rest to the next rollback).
DELETE_TIMEOUT_S = 120.0
#: Rows deleted per transaction.
DELETE_BATCH_ROWS = 5_000
#: A table (optionally schema-qualified) or column name redline will quote into SQL.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
#: A run id as a tag value.
_TAG = re.compile(r"^[A-Za-z0-9_.:-]+$")
#: The verify statement :func:`tagged_rows_change` writes, read back by ``prepare``.
_VERIFY = re.compile(r"^SELECT count\(\*\) FROM (\S+) WHERE \"(\w+)\" = '([A-Za-z0-9_.:-]+)'$")


def tagged_rows_change(
    *, target: Dsn, table: str, column: str, run_id: str, insert: str, summary: str
) -> Change:
    """The Change that adds rows to ``table`` tagged ``column = run_id`` with ``insert``.

    Example::

        tagged_rows_change(target=parse_dsn("sqlite:///tmp/shop.db"), table="orders",
                         column="redline_run", run_id=run,
                         insert=f"INSERT INTO orders (item, redline_run) SELECT 'x', '{run}' ...",
                         summary="10,000 orders for the volume test")

    Raises:
        ConfigError: the table or column is not a plain name, or the run id has other
            characters than letters, digits and ``_.:-``.
    """
    for name, value in (("table", table), ("column", column)):
        if not _IDENTIFIER.match(value) or (name == "column" and "." in value):
            raise ConfigError(f"test data {name}: {value!r} is not a plain SQL name")
    if not _TAG.match(run_id):
        raise ConfigError(f"test data run id: {run_id!r} must be letters, digits and _.:-")
    where = f"FROM {_quoted(table)} WHERE \"{column}\" = '{run_id}'"
    return Change(
        kind=ChangeKind.TEST_DATA,
        summary=summary,
        apply=insert,
        undo=f"DELETE {where}  -- in batches of {DELETE_BATCH_ROWS:,}",
        verify=f"SELECT count(*) {where}",
        target=str(target),
    )


def matching_dsn(target: str, dsns: Iterable[Dsn]) -> Dsn | None:
    """The DSN in ``dsns`` whose printed form is ``target`` (a journal entry's), if any.

    The password is not compared: ``postgresql://app:***@h:5432/db`` matches
    ``postgresql://app@h:5432/db`` printed without one too.
    """
    wanted = target.replace(f":{REDACTED}@", "@")
    for dsn in dsns:
        if str(dsn).replace(f":{REDACTED}@", "@") == wanted:
            return dsn
    return None


class _Database(Protocol):
    #: The driver's parameter marker (``?`` or ``%s``).
    param: str
    #: The column that names a row for a batched delete (``rowid``, ``ctid``).
    row_key: str

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run one statement in its own transaction; return the rows it touched."""
        ...

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """The first column of the first row."""
        ...


class TestDataApplier:
    """Makes and unmakes :data:`ChangeKind.TEST_DATA` changes (module docstring).

    Args:
        dsns: connection strings with their passwords, matched to the entries' targets.
        timeout_s: how long one undo deletes before it gives up for now.
        batch_rows: rows per DELETE transaction.
        now_ns: a monotonic clock in nanoseconds (tests pass a fake one).
    """

    __test__ = False  # not a pytest class, despite its name

    def __init__(
        self,
        dsns: Iterable[Dsn] = (),
        *,
        timeout_s: float = DELETE_TIMEOUT_S,
        batch_rows: int = DELETE_BATCH_ROWS,
        now_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.dsns = tuple(dsns)
        self.timeout_s = timeout_s
        self.batch_rows = batch_rows
        self._now_ns = now_ns

    def prepare(self, change: Change) -> dict[str, str]:
        table, column, tag = _where(change)
        with self._connect(change.target) as db:
            rows = db.scalar(f"SELECT count(*) FROM {_quoted(table)}")
        return {"table": table, "column": column, "tag": tag, "rows_before": str(rows)}

    def apply(self, change: Change, state: Mapping[str, str]) -> str:
        table, column, tag = state["table"], state["column"], state["tag"]
        with self._connect(change.target) as db:
            db.execute(change.apply)
            tagged = db.scalar(
                f'SELECT count(*) FROM {_quoted(table)} WHERE "{column}" = {db.param}', (tag,)
            )
        if tagged == 0:
            raise ChangeError(f"{table}: the insert added no row tagged {column} = {tag!r}")
        return f"{tagged:,} rows tagged {tag} in {table}"

    def undo(self, change: Change, state: Mapping[str, str]) -> str:
        table, column, tag = state["table"], state["column"], state["tag"]
        deadline_ns = self._now_ns() + int(self.timeout_s * 1e9)
        with self._connect(change.target) as db:
            deleted = self._delete_tagged(db, table, column, tag, deadline_ns)
            left = db.scalar(
                f'SELECT count(*) FROM {_quoted(table)} WHERE "{column}" = {db.param}', (tag,)
            )
            rows = db.scalar(f"SELECT count(*) FROM {_quoted(table)}")
        if left:
            raise ChangeError(
                f"{table}: {left:,} rows tagged {tag} left after {self.timeout_s:g} s "
                f"({deleted:,} deleted); run the rollback again to delete the rest"
            )
        if rows != int(state["rows_before"]):
            raise ChangeError(
                f"{table}: {rows:,} rows after deleting the test data, "
                f"{int(state['rows_before']):,} before it"
            )
        return f"{deleted:,} rows deleted; {table} back to {rows:,} rows"

    def rows_now(self, change: Change, state: Mapping[str, str]) -> tuple[int, int]:
        """(rows still tagged, rows in the table) now, for ``redline verify`` to compare
        with what ``prepare`` recorded.

        Raises:
            ChangeError: the database cannot be reached, or needs its DSN (``--db``).
        """
        if not {"table", "column", "tag"} <= state.keys():
            raise ChangeError(f"{change.summary}: the journal entry names no table to count")
        table, column, tag = state["table"], state["column"], state["tag"]
        with self._connect(change.target) as db:
            left = db.scalar(
                f'SELECT count(*) FROM {_quoted(table)} WHERE "{column}" = {db.param}', (tag,)
            )
            rows = db.scalar(f"SELECT count(*) FROM {_quoted(table)}")
        return left, rows

    def _delete_tagged(
        self, db: _Database, table: str, column: str, tag: str, deadline_ns: int
    ) -> int:
        name, key = _quoted(table), db.row_key
        sql = (
            f"DELETE FROM {name} WHERE {key} IN "
            f'(SELECT {key} FROM {name} WHERE "{column}" = {db.param} LIMIT {db.param})'
        )
        deleted = 0
        while self._now_ns() < deadline_ns:
            count = db.execute(sql, (tag, self.batch_rows))
            deleted += count
            if count < self.batch_rows:
                break
        return deleted

    @contextmanager
    def _connect(self, target: str) -> Iterator[_Database]:
        """A connection to ``target`` (a redacted DSN), its password from :attr:`dsns`."""
        dsn = matching_dsn(target, self.dsns)
        if dsn is None and f":{REDACTED}@" in target:
            raise ChangeError(
                f"{target}: needs the DSN with its password (--db); the journal keeps none",
                hint=f"pass --db with the full connection string of {target}",
            )
        if dsn is None:
            try:
                dsn = parse_dsn(target, field="change target")
            except ConfigError as exc:
                raise ChangeError(exc.message) from None
        if dsn.scheme == "sqlite":
            with _sqlite(dsn.path) as db:
                yield db
        elif dsn.scheme == "postgresql":
            with _postgres(dsn) as pg:
                yield pg
        else:
            raise ChangeError(f"{target}: test data is supported on SQLite and PostgreSQL")


class _Sqlite:
    param = "?"
    row_key = "rowid"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        try:
            with self._conn:
                return self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise ChangeError(f"SQLite: {exc}") from None

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        try:
            return int(self._conn.execute(sql, params).fetchone()[0])
        except sqlite3.Error as exc:
            raise ChangeError(f"SQLite: {exc}") from None


@contextmanager
def _sqlite(path: str) -> Iterator[_Sqlite]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=10.0)
    except sqlite3.Error as exc:
        raise ChangeError(f"{path}: cannot be opened: {exc}") from None
    with closing(conn):
        yield _Sqlite(conn)


class _Postgres:
    param = "%s"
    row_key = "ctid"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        import psycopg

        try:
            with self._conn.transaction():
                cursor = self._conn.execute(sql, params or None)
                return int(cursor.rowcount)
        except psycopg.Error as exc:
            raise ChangeError(f"PostgreSQL: {str(exc).strip()}") from None

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        import psycopg

        try:
            row = self._conn.execute(sql, params or None).fetchone()
        except psycopg.Error as exc:
            raise ChangeError(f"PostgreSQL: {str(exc).strip()}") from None
        return int(next(iter(row.values())))


@contextmanager
def _postgres(dsn: Dsn) -> Iterator[_Postgres]:
    from redline.probes._postgres import connect

    try:
        conn = connect(dsn)
    except RedlineError as exc:
        raise ChangeError(exc.message) from None
    with conn:
        yield _Postgres(conn)


def _where(change: Change) -> tuple[str, str, str]:
    """(table, column, tag) from the verify statement :func:`tagged_rows_change` wrote."""
    match = _VERIFY.match(change.verify)
    if change.kind is not ChangeKind.TEST_DATA or match is None:
        raise ChangeError(f"{change.target}: not a test data change redline made")
    return match[1].replace('"', ""), match[2], match[3]


def _quoted(table: str) -> str:
    return ".".join(f'"{part}"' for part in table.split("."))
