"""Index and setting changes on MySQL and MariaDB (see :mod:`redline.optimize._db_changes`).

**Indexes** are built online (the advisor writes ``ALGORITHM=INPLACE
LOCK=NONE``: the server refuses rather than block writers when it cannot),
with ``lock_wait_timeout`` for the table's metadata lock and a statement
timeout (MariaDB's ``max_statement_time``; on MySQL the connection's read
timeout, after which the statement is killed). InnoDB's DDL is atomic, so a
crash leaves the index either built or absent. A create's ``prepare`` refuses
an index name already used on the table; its undo drops the index when it is
there. A drop's ``prepare`` keeps the index's line of ``SHOW CREATE TABLE``
(``KEY `name` (`a`,`b`)``); its undo adds it back with ``ALTER TABLE ... ADD``
and checks the line reads the same. Primary keys are never dropped.

**Settings** are ``SET GLOBAL``: new sessions see the value, and it is *not
persisted*, so a server restart returns it to the configured one (MySQL 8's
``SET PERSIST`` would write ``mysqld-auto.cnf``; MariaDB has no ``PERSIST``;
redline changes only the running server). ``prepare`` keeps the value
before; the undo sets it back (not ``DEFAULT``, which is the compiled-in
default rather than the configured value).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pymysql  # type: ignore[import-untyped]

from redline.optimize._applier import ChangeError
from redline.optimize._change import Change
from redline.optimize._db_changes import (
    DDL_TIMEOUT_S,
    LOCK_TIMEOUT_S,
    IndexStatement,
    SettingStatement,
)
from redline.plan import Dsn

__all__ = ["MySqlChanges"]

#: How long connecting and sending may take.
CONNECT_TIMEOUT_S = 5
#: Marks redline's own statements in the process list.
_MARK = "/* redline */ "
#: The connection was lost or its read timed out (2013), or the server went away (2006).
_GONE = {2006, 2013}
#: ER_LOCK_WAIT_TIMEOUT.
_LOCK_WAIT_TIMEOUT = 1205
#: The server will not do it online (ER_ALTER_OPERATION_NOT_SUPPORTED[_REASON]).
_NOT_ONLINE = {1845, 1846}
_CREATE_TABLE_KEY = re.compile(r"^\s*((?:UNIQUE |FULLTEXT |SPATIAL )?KEY `((?:[^`]|``)+)` .*?),?$")
_NUMBER = re.compile(r"^-?\d+$")


class MySqlChanges:
    """Index and setting changes on one MySQL or MariaDB database."""

    def __init__(self, dsn: Dsn) -> None:
        self._dsn = dsn

    # --- indexes -------------------------------------------------------------------------------

    def prepare_index(self, change: Change, index: IndexStatement) -> dict[str, str]:
        if index.table is None:
            raise ChangeError(
                f"DROP INDEX {index.name} names no table: MySQL needs DROP INDEX name ON table"
            )
        state = {"action": index.action, "schema": index.schema or self._dsn.database,
                 "table": index.table, "name": index.name}  # fmt: skip
        with self._session() as conn:
            if _create_table(conn, state) is None:
                raise ChangeError(f"no table {_name(state, table_only=True)}")
            definition = _definition(conn, state)
        if index.action == "create":
            if definition is not None:
                raise ChangeError(
                    f"{_name(state)} already exists: redline leaves it as it is",
                    hint="drop it first, or give the new index another name",
                )
            return {**state, "existed": "no"}
        if definition is None:
            raise ChangeError(f"no index {_name(state)}")
        return {**state, "existed": "yes", "definition": definition}

    def apply_index(self, change: Change, state: Mapping[str, str]) -> str:
        with self._session() as conn:
            self._run(conn, change.apply, doing=f"{state['action']} {_name(state)}")
            definition = _definition(conn, state)
        if state["action"] == "create":
            if definition is None:
                raise ChangeError(f"{_name(state)} is not there after {change.apply!r}")
            return f"{_name(state)} built: {definition}"
        if definition is not None:
            raise ChangeError(f"{_name(state)} is still there after {change.apply!r}")
        return f"dropped {_name(state)} (kept: {state['definition']})"

    def undo_index(self, state: Mapping[str, str]) -> str:
        with self._session() as conn:
            found = _definition(conn, state)
            if state["action"] == "create":
                if state.get("existed") != "no" or found is None:
                    return f"{_name(state)} is not there: nothing to undo"
                self._run(conn, _drop_sql(state), doing=f"dropping {_name(state)}")
                if _definition(conn, state) is not None:
                    raise ChangeError(f"{_name(state)} is still there after the drop")
                return f"dropped {_name(state)}"
            return self._recreate(conn, state, found)

    def _recreate(self, conn: Any, state: Mapping[str, str], found: str | None) -> str:
        if found == state["definition"]:
            return f"{_name(state)} is there as before: nothing to undo"
        if found is not None:
            raise ChangeError(
                f"another index named {_name(state)} exists now ({found}): "
                f"not replaced by the one dropped ({state['definition']})"
            )
        add = f"ALTER TABLE {_table(state)} ADD {state['definition']}"
        doing = f"recreating {_name(state)}"
        try:
            self._run(conn, add + ", ALGORITHM=INPLACE, LOCK=NONE", doing=doing, online=True)
        except _NotOnline:  # FULLTEXT and SPATIAL keys: rebuilt with a lock, as they were built
            self._run(conn, add, doing=doing)
        found = _definition(conn, state)
        if found != state["definition"]:
            raise ChangeError(f"{_name(state)} reads back as {found!r}, not {state['definition']}")
        return f"recreated {_name(state)}: {found}"

    # --- settings ------------------------------------------------------------------------------

    def prepare_setting(self, change: Change, setting: SettingStatement) -> dict[str, str]:
        with self._session() as conn:
            before = _variable(conn, setting.name)
        if before is None:
            raise ChangeError(f"the server has no global variable {setting.name!r}")
        return {"name": setting.name, "value": setting.value, "before": before}

    def apply_setting(self, change: Change, state: Mapping[str, str]) -> str:
        name = state["name"]
        with self._session() as conn:
            self._run(conn, change.apply, doing=f"setting {name}")
            now = _variable(conn, name)
        if now is None or (now == state["before"] and not _same(now, state["value"])):
            raise ChangeError(f"{name} is still {now!r} after {change.apply!r}")
        return (
            f"{name} = {now} (was {state['before']}); SET GLOBAL is not persisted: "
            "a server restart returns it to its configured value"
        )

    def undo_setting(self, state: Mapping[str, str]) -> str:
        name, before = state["name"], state["before"]
        with self._session() as conn:
            if _variable(conn, name) == before:
                return f"{name} is {before} as before: nothing to undo"
            value = before if _NUMBER.match(before) else _literal(before)
            self._run(conn, f"SET GLOBAL {name} = {value}", doing=f"putting back {name}")
            now = _variable(conn, name)
        if now != before:
            raise ChangeError(f"{name} reads {now!r} after setting it back to {before!r}")
        return f"{name} back to {before}"

    # --- the connection ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _session(self) -> Iterator[Any]:
        """An autocommit connection with DDL timeouts; errors become :class:`ChangeError`."""
        dsn = self._dsn
        try:
            conn = pymysql.connect(
                host=dsn.host, port=dsn.port, user=dsn.user or "", password=dsn.password() or "",
                database=dsn.database, connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=DDL_TIMEOUT_S, write_timeout=CONNECT_TIMEOUT_S, autocommit=True,
                charset="utf8mb4", program_name="redline",
            )  # fmt: skip
        except pymysql.err.MySQLError as exc:
            raise ChangeError(f"cannot connect to {dsn}: {self._message(exc)}") from None
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"SET SESSION lock_wait_timeout = {LOCK_TIMEOUT_S}")
                if "mariadb" in str(conn.get_server_info()).lower():
                    cursor.execute(f"SET SESSION max_statement_time = {DDL_TIMEOUT_S}")
            yield conn
        except pymysql.err.MySQLError as exc:
            raise ChangeError(f"{dsn}: {self._message(exc)}") from None
        finally:
            with contextlib.suppress(pymysql.err.Error):
                conn.close()

    def _run(self, conn: Any, sql: str, *, doing: str, online: bool = False) -> None:
        """Run one statement of a change; its failure is a :class:`ChangeError`
        (:class:`_NotOnline` when ``online`` and the server cannot do it online)."""
        try:
            with conn.cursor() as cursor:
                cursor.execute(_MARK + sql)
        except pymysql.err.MySQLError as exc:
            code = _code(exc)
            if code in _NOT_ONLINE and online:
                raise _NotOnline from None
            if code == _LOCK_WAIT_TIMEOUT:
                raise ChangeError(
                    f"{doing}: another session held the table for over {LOCK_TIMEOUT_S} s",
                    hint="try again when the table is less busy",
                ) from None
            if code in _GONE:
                self._kill(conn)
                raise ChangeError(f"{doing}: stopped after {DDL_TIMEOUT_S} s") from None
            raise ChangeError(f"{doing}: {self._message(exc)}") from None

    def _kill(self, conn: Any) -> None:
        """Stop the statement a timed-out connection left running on the server."""
        with contextlib.suppress(pymysql.err.MySQLError, ChangeError), self._session() as other:
            with other.cursor() as cursor:
                cursor.execute(f"KILL QUERY {int(conn.thread_id())}")

    def _message(self, exc: BaseException) -> str:
        args: tuple[Any, ...] = getattr(exc, "args", ())
        message = str(args[1]) if len(args) > 1 else str(exc)
        password = self._dsn.password()
        return message.replace(password, "***") if password else message


class _NotOnline(Exception):
    """The server cannot do this DDL online (in place, without a lock)."""


def _create_table(conn: Any, state: Mapping[str, str]) -> str | None:
    with conn.cursor() as cursor:
        try:
            cursor.execute(f"{_MARK}SHOW CREATE TABLE {_table(state)}")
        except pymysql.err.ProgrammingError as exc:
            if _code(exc) == 1146:  # ER_NO_SUCH_TABLE
                return None
            raise
        row = cursor.fetchone()
    return None if row is None else str(row[1])


def _definition(conn: Any, state: Mapping[str, str]) -> str | None:
    """The index's line in ``SHOW CREATE TABLE``, without its comma; None when absent."""
    text = _create_table(conn, state) or ""
    for line in text.splitlines():
        found = _CREATE_TABLE_KEY.match(line)
        if found and found[2].replace("``", "`") == state["name"]:
            return found[1]
    return None


def _variable(conn: Any, name: str) -> str | None:
    with conn.cursor() as cursor:
        cursor.execute(f"{_MARK}SHOW GLOBAL VARIABLES WHERE Variable_name = %s", (name,))
        row = cursor.fetchone()
    return None if row is None else str(row[1])


def _same(shown: str, wanted: str) -> bool:
    return shown.lower() == wanted.lower()


def _drop_sql(state: Mapping[str, str]) -> str:
    # In place by default: InnoDB drops a secondary index without copying or locking the table.
    return f"DROP INDEX {_quote(state['name'])} ON {_table(state)}"


def _table(state: Mapping[str, str]) -> str:
    return f"{_quote(state['schema'])}.{_quote(state['table'])}"


def _name(state: Mapping[str, str], *, table_only: bool = False) -> str:
    where = f"{state['schema']}.{state['table']}"
    return where if table_only else f"{state['name']} on {where}"


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _code(exc: BaseException) -> int:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    return int(args[0]) if args and isinstance(args[0], int) else 0
