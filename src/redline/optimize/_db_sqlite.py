"""Index changes on SQLite (see :mod:`redline.optimize._db_changes`).

SQLite's DDL is transactional: a crash leaves an index either built or absent.
A create's ``prepare`` refuses a name already used; its undo drops the index
when it is there. A drop's ``prepare`` keeps ``sqlite_master.sql`` (the
``CREATE INDEX`` as written) and refuses the indexes SQLite makes for UNIQUE
and PRIMARY KEY constraints (they have none); its undo runs that statement
again. The file is opened read-write, never created; a lock held by another
connection is waited for :data:`~redline.optimize._db_changes.LOCK_TIMEOUT_S`
and a statement is interrupted after
:data:`~redline.optimize._db_changes.DDL_TIMEOUT_S`. SQLite has no server
settings (its PRAGMAs belong to each connection), so a setting change is refused.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator, Mapping

from redline.optimize._applier import ChangeError
from redline.optimize._change import Change
from redline.optimize._db_changes import (
    DDL_TIMEOUT_S,
    LOCK_TIMEOUT_S,
    IndexStatement,
    SettingStatement,
)
from redline.plan import Dsn

__all__ = ["SqliteChanges"]

#: SQLite virtual machine instructions between two checks of the statement's deadline.
PROGRESS_STEPS = 10_000

_INDEX = "SELECT sql, tbl_name FROM sqlite_master WHERE type = 'index' AND name = ?"
_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"


class SqliteChanges:
    """Index changes on one SQLite file."""

    def __init__(self, dsn: Dsn) -> None:
        self._dsn = dsn

    def prepare_index(self, change: Change, index: IndexStatement) -> dict[str, str]:
        with self._session() as conn:
            found = conn.execute(_INDEX, (index.name,)).fetchone()
            if index.action == "create":
                if conn.execute(_TABLE, (index.table,)).fetchone() is None:
                    raise ChangeError(f"no table {index.table} in {self._dsn.path}")
                if found is not None:
                    raise ChangeError(
                        f"index {index.name} already exists: redline leaves it as it is",
                        hint="drop it first, or give the new index another name",
                    )
                return {"action": "create", "name": index.name, "table": index.table or "",
                        "existed": "no"}  # fmt: skip
        if found is None:
            raise ChangeError(f"no index {index.name} in {self._dsn.path}")
        if found[0] is None:
            raise ChangeError(
                f"{index.name} is the index of a UNIQUE or PRIMARY KEY constraint of {found[1]}",
                hint="redline drops plain indexes only",
            )
        return {"action": "drop", "name": index.name, "table": str(found[1]),
                "existed": "yes", "definition": str(found[0])}  # fmt: skip

    def apply_index(self, change: Change, state: Mapping[str, str]) -> str:
        name = state["name"]
        with self._session() as conn:
            _run(conn, change.apply, doing=f"{state['action']} index {name}")
            found = conn.execute(_INDEX, (name,)).fetchone()
        if state["action"] == "create":
            if found is None:
                raise ChangeError(f"index {name} is not there after {change.apply!r}")
            return f"index {name} built: {found[0]}"
        if found is not None:
            raise ChangeError(f"index {name} is still there after {change.apply!r}")
        return f"dropped index {name} (kept: {state['definition']})"

    def undo_index(self, state: Mapping[str, str]) -> str:
        name = state["name"]
        with self._session() as conn:
            found = conn.execute(_INDEX, (name,)).fetchone()
            if state["action"] == "create":
                if state.get("existed") != "no" or found is None:
                    return f"index {name} is not there: nothing to undo"
                _run(conn, _drop_sql(name), doing=f"dropping index {name}")
                return f"dropped index {name}"
            if found is not None and found[0] == state["definition"]:
                return f"index {name} is there as before: nothing to undo"
            if found is not None:
                raise ChangeError(
                    f"another index named {name} exists now ({found[0]}): "
                    f"not replaced by the one dropped ({state['definition']})"
                )
            _run(conn, state["definition"], doing=f"recreating index {name}")
            found = conn.execute(_INDEX, (name,)).fetchone()
        if found is None or found[0] != state["definition"]:
            raise ChangeError(f"index {name} reads back as {found and found[0]!r}")
        return f"recreated {found[0]}"

    def prepare_setting(self, change: Change, setting: SettingStatement) -> dict[str, str]:
        raise ChangeError(
            f"SQLite has no server settings: {setting.name} is a PRAGMA of each connection",
            hint="set the PRAGMA in the application's connection code",
        )

    def apply_setting(self, change: Change, state: Mapping[str, str]) -> str:
        raise ChangeError("SQLite has no server settings")

    def undo_setting(self, state: Mapping[str, str]) -> str:
        raise ChangeError("SQLite has no server settings")

    @contextlib.contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        uri = f"file:{urllib.parse.quote(self._dsn.path)}?mode=rw"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise ChangeError(f"cannot open {self._dsn.path}: {exc}") from None
        deadline = time.monotonic() + DDL_TIMEOUT_S
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
        try:
            yield conn
        except sqlite3.Error as exc:
            raise ChangeError(f"{self._dsn.path}: {exc}") from None
        finally:
            conn.close()


def _run(conn: sqlite3.Connection, sql: str, *, doing: str) -> None:
    try:
        conn.execute(sql)
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise ChangeError(f"{doing}: stopped after {DDL_TIMEOUT_S} s") from None
        if "locked" in str(exc):
            raise ChangeError(
                f"{doing}: another connection held the database for over {LOCK_TIMEOUT_S} s",
                hint="try again when it is less busy",
            ) from None
        raise ChangeError(f"{doing}: {exc}") from None
    except sqlite3.Error as exc:
        raise ChangeError(f"{doing}: {exc}") from None


def _drop_sql(name: str) -> str:
    return 'DROP INDEX IF EXISTS "' + name.replace('"', '""') + '"'
