"""Index and setting changes on PostgreSQL (see :mod:`redline.optimize._db_changes`).

**Indexes.** ``CREATE INDEX CONCURRENTLY`` builds without blocking writers but
cannot run in a transaction, and when it fails or is interrupted it leaves the
index behind marked INVALID (``pg_index.indisvalid`` false). So:

- ``prepare`` (create) refuses when a relation of that name already exists, so
  the entry records that the index did not exist before (``existed: no``);
- ``apply`` runs the statement, then checks ``indisvalid``; a failed build's
  INVALID leftover is dropped at once (and again by the undo if that fails);
- ``undo`` drops the index (``DROP INDEX CONCURRENTLY IF EXISTS``) valid or not,
  which is safe because it did not exist before the entry;
- a drop's ``prepare`` keeps ``pg_get_indexdef`` and refuses an index that backs
  a constraint; its ``undo`` recreates it ``CONCURRENTLY`` and checks that the
  definition reads back the same (an INVALID one left by a crashed undo is
  dropped and built again).

**Settings.** ``ALTER SYSTEM SET`` writes ``postgresql.auto.conf``;
``pg_reload_conf()`` makes the server read it. ``prepare`` keeps the value
shown before (``current_setting``), its source, its context, and whether
``postgresql.auto.conf`` had an entry for it (and its value), because that
file is what the change edits: the undo of a setting that had no entry is
``ALTER SYSTEM RESET name`` (back to the default or ``postgresql.conf``), not
the old value pinned in ``postgresql.auto.conf``. ``apply`` waits until this
session has re-read the configuration (``pg_conf_load_time()``), then checks
that the value now comes from ``postgresql.auto.conf``; a value set on the
command line or per database outranks it, and the change fails saying so.
Settings of context ``postmaster`` (``shared_buffers``...) take effect only
after a restart: the apply checks ``pending_restart`` and says a restart is
needed. Every statement runs with a statement and a lock timeout.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg

from redline.errors import TargetError
from redline.optimize._applier import ChangeError
from redline.optimize._change import Change
from redline.optimize._db_changes import (
    DDL_TIMEOUT_S,
    LOCK_TIMEOUT_S,
    IndexStatement,
    SettingStatement,
)
from redline.plan import Dsn
from redline.probes._postgres import connect

__all__ = ["PostgresChanges"]

#: How long to wait for this session to re-read the configuration after pg_reload_conf().
RELOAD_WAIT_S = 10.0
#: How often to look while waiting.
RELOAD_POLL_S = 0.05
#: Marks redline's own statements in pg_stat_activity and the logs.
_MARK = "/* redline */ "

_INDEX = (
    _MARK + "SELECT c.oid, c.relkind, i.indisvalid, pg_get_indexdef(c.oid) AS definition, "
    "t.relname AS table_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid "
    "WHERE n.nspname = %s AND c.relname = %s"
)
_SETTING = (
    _MARK + "SELECT name, current_setting(name) AS shown, source, sourcefile, context, "
    "pending_restart FROM pg_settings WHERE name = %s"
)
_AUTO_CONF = (
    _MARK + "SELECT setting FROM pg_file_settings WHERE name = %s AND "
    "sourcefile = current_setting('data_directory') || '/postgresql.auto.conf' "
    "ORDER BY seqno DESC LIMIT 1"
)
_CREATE_HEAD = re.compile(r"^CREATE (UNIQUE )?INDEX ", re.I)


class PostgresChanges:
    """Index and setting changes on one PostgreSQL database."""

    def __init__(self, dsn: Dsn) -> None:
        self._dsn = dsn

    # --- indexes -------------------------------------------------------------------------------

    def prepare_index(self, change: Change, index: IndexStatement) -> dict[str, str]:
        if not index.concurrently:
            raise ChangeError(
                f"{index.action.upper()} INDEX on PostgreSQL must be CONCURRENTLY: "
                "without it the table is locked against writes while it runs",
                hint=f"write {index.action.upper()} INDEX CONCURRENTLY ...",
            )
        with self._session() as conn:
            if index.action == "create":
                return self._prepare_create(conn, index)
            return self._prepare_drop(conn, index)

    def apply_index(self, change: Change, state: Mapping[str, str]) -> str:
        with self._session() as conn:
            if state["action"] == "create":
                return self._apply_create(conn, change, state)
            _run(conn, change.apply, doing=f"dropping {_name(state)}")
            if _index(conn, state) is not None:
                raise ChangeError(f"{_name(state)} is still there after {change.apply!r}")
            return f"dropped {_name(state)} (kept: {state['definition']})"

    def undo_index(self, state: Mapping[str, str]) -> str:
        with self._session() as conn:
            if state["action"] == "create":
                return self._undo_create(conn, state)
            return self._undo_drop(conn, state)

    def _prepare_create(self, conn: Conn, index: IndexStatement) -> dict[str, str]:
        table = _qualified(index.schema, index.table or "")
        row = _one(conn, _MARK + "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
                   "ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)", (table,))  # fmt: skip
        if row is None:
            raise ChangeError(f"no table {table} in {self._dsn.database}")
        state = {"action": "create", "schema": row["nspname"], "name": index.name,
                 "table": row["relname"], "existed": "no"}  # fmt: skip
        if _index(conn, state) is not None:
            raise ChangeError(
                f"{_name(state)} already exists: redline leaves it as it is",
                hint="drop it first, or give the new index another name",
            )
        return state

    def _prepare_drop(self, conn: Conn, index: IndexStatement) -> dict[str, str]:
        qualified = _qualified(index.schema, index.name)
        row = _one(conn, _MARK + "SELECT n.nspname, c.relname, c.relkind, "
                   "(SELECT conname FROM pg_constraint WHERE conindid = c.oid LIMIT 1) AS con "
                   "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE c.oid = to_regclass(%s)", (qualified,))  # fmt: skip
        if row is None or row["relkind"] != "i":
            raise ChangeError(f"no index {qualified} in {self._dsn.database}")
        if row["con"] is not None:
            raise ChangeError(
                f"{qualified} backs the constraint {row['con']}: dropping it drops the constraint",
                hint="redline drops plain indexes only",
            )
        state = {"action": "drop", "schema": row["nspname"], "name": row["relname"]}
        found = _index(conn, state) or {}
        return {**state, "table": found["table_name"], "definition": found["definition"],
                "existed": "yes"}  # fmt: skip

    def _apply_create(self, conn: Conn, change: Change, state: Mapping[str, str]) -> str:
        try:
            _run(conn, change.apply, doing=f"building {_name(state)}")
        except ChangeError as exc:
            raise ChangeError(f"{exc} {self._drop_leftover(conn, state)}") from None
        found = _index(conn, state)
        if found is None:
            raise ChangeError(f"{_name(state)} is not there after {change.apply!r}")
        if not found["indisvalid"]:
            raise ChangeError(
                f"{_name(state)} was built INVALID. {self._drop_leftover(conn, state)}"
            )
        return f"{_name(state)} is valid: {found['definition']}"

    def _drop_leftover(self, conn: Conn, state: Mapping[str, str]) -> str:
        """Drop what a failed build left; say what became of it."""
        if _index(conn, state) is None:
            return "Nothing was left behind."
        try:
            _run(conn, _drop_sql(state), doing=f"dropping the unfinished {_name(state)}")
        except ChangeError as exc:
            return f"The INVALID index is still there ({exc}); rollback drops it."
        return "The INVALID index it left was dropped."

    def _undo_create(self, conn: Conn, state: Mapping[str, str]) -> str:
        if state.get("existed") != "no":
            return f"{_name(state)} existed before: left as it is"
        found = _index(conn, state)
        if found is None:
            return f"{_name(state)} is not there: nothing to undo"
        if found["relkind"] != "i":
            raise ChangeError(f"{_name(state)} is now a relation of kind {found['relkind']!r}")
        _run(conn, _drop_sql(state), doing=f"dropping {_name(state)}")
        if _index(conn, state) is not None:
            raise ChangeError(f"{_name(state)} is still there after the drop")
        return f"dropped {_name(state)}" + ("" if found["indisvalid"] else " (it was INVALID)")

    def _undo_drop(self, conn: Conn, state: Mapping[str, str]) -> str:
        found = _index(conn, state)
        if found is not None and found["indisvalid"]:
            if found["definition"] == state["definition"]:
                return f"{_name(state)} is there as before: nothing to undo"
            raise ChangeError(
                f"another index named {_name(state)} exists now ({found['definition']}): "
                f"not replaced by the one dropped ({state['definition']})"
            )
        if found is not None:  # an INVALID one left by an interrupted undo
            _run(conn, _drop_sql(state), doing=f"dropping the INVALID {_name(state)}")
        _run(conn, _concurrently(state["definition"]), doing=f"recreating {_name(state)}")
        found = _index(conn, state)
        if found is None or not found["indisvalid"]:
            raise ChangeError(f"{_name(state)} was not rebuilt valid; run rollback again")
        if found["definition"] != state["definition"]:
            raise ChangeError(f"{_name(state)} reads back as {found['definition']}")
        return f"recreated {found['definition']}"

    # --- settings ------------------------------------------------------------------------------

    def prepare_setting(self, change: Change, setting: SettingStatement) -> dict[str, str]:
        with self._session() as conn:
            row = _one(conn, _SETTING, (setting.name,))
            if row is None:
                raise ChangeError(f"PostgreSQL has no setting {setting.name!r}")
            if row["context"] == "internal":
                raise ChangeError(f"{setting.name} is fixed when PostgreSQL is built")
            entry = _auto_conf(conn, setting.name)
        return {
            "name": setting.name,
            "value": setting.value,
            "before": row["shown"],
            "source": row["source"],
            "context": row["context"],
            "pending_restart": "yes" if row["pending_restart"] else "no",
            "in_auto_conf": "no" if entry is None else "yes",
            "auto_conf": "" if entry is None else entry,
        }

    def apply_setting(self, change: Change, state: Mapping[str, str]) -> str:
        name = state["name"]
        with self._session() as conn:
            _run(conn, change.apply, doing=f"setting {name}")
            _reload(conn)
            row = _setting(conn, name)
            if state["context"] == "postmaster":
                return _restart_detail(row, state)
            if not _from_auto_conf(conn, row):
                raise ChangeError(
                    f"{name} is still {row['shown']}: its value comes from {row['source']}, "
                    "which outranks ALTER SYSTEM",
                    hint="change it where it is set (the server's command line, ALTER DATABASE "
                    "or ALTER ROLE ... SET)",
                )
        return f"{name} = {row['shown']} (was {state['before']}); configuration reloaded"

    def undo_setting(self, state: Mapping[str, str]) -> str:
        name = state["name"]
        with self._session() as conn:
            entry = _auto_conf(conn, name)
            wanted = state["auto_conf"] if state["in_auto_conf"] == "yes" else None
            shown = _setting(conn, name)
            if entry == wanted and (
                state["context"] == "postmaster" or shown["shown"] == state["before"]
            ):
                return f"{name} is {shown['shown']} as before: nothing to undo"
            if entry != wanted:
                _run(conn, _restore_sql(name, wanted), doing=f"putting back {name}")
            _reload(conn)
            return _check_restored(conn, state)

    # --- the connection ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _session(self) -> Iterator[Conn]:
        """An autocommit connection with DDL timeouts; errors become :class:`ChangeError`."""
        try:
            conn = connect(self._dsn)
        except TargetError as exc:
            raise ChangeError(str(exc), hint=exc.hint) from None
        try:
            conn.execute(f"SET statement_timeout = '{DDL_TIMEOUT_S}s'")
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_S}s'")
            yield conn
        except psycopg.Error as exc:
            raise ChangeError(f"PostgreSQL at {self._dsn}: {_message(exc)}") from None
        finally:
            conn.close()


Conn = psycopg.Connection[dict[str, Any]]


def _one(conn: Conn, sql: str, args: tuple[Any, ...] = ()) -> dict[str, Any] | None:
    return conn.execute(sql, args).fetchone()


def _run(conn: Conn, sql: str, *, doing: str) -> None:
    """Run one statement of a change; its failure is a :class:`ChangeError` saying what failed."""
    try:
        conn.execute(_MARK + sql)
    except psycopg.errors.QueryCanceled as exc:
        raise ChangeError(f"{doing}: stopped after the timeout ({_message(exc)})") from None
    except psycopg.errors.LockNotAvailable:
        raise ChangeError(
            f"{doing}: another session held the table for over {LOCK_TIMEOUT_S} s",
            hint="try again when the table is less busy",
        ) from None
    except psycopg.Error as exc:
        raise ChangeError(f"{doing}: {_message(exc)}") from None


def _index(conn: Conn, state: Mapping[str, str]) -> dict[str, Any] | None:
    """The relation named like the state's index in its schema (an index, normally)."""
    return _one(conn, _INDEX, (state["schema"], state["name"]))


def _setting(conn: Conn, name: str) -> dict[str, Any]:
    row = _one(conn, _SETTING, (name,))
    if row is None:
        raise ChangeError(f"PostgreSQL has no setting {name!r}")
    return row


def _from_auto_conf(conn: Conn, row: Mapping[str, Any]) -> bool:
    """The setting's value now comes from ``postgresql.auto.conf`` (nothing outranks it)."""
    path = _one(conn, _MARK + "SELECT current_setting('data_directory') "
                "|| '/postgresql.auto.conf' AS path")  # fmt: skip
    return (
        row["source"] == "configuration file"
        and path is not None
        and (row["sourcefile"] == path["path"])
    )


def _auto_conf(conn: Conn, name: str) -> str | None:
    """The value ``postgresql.auto.conf`` holds for ``name``, or None without an entry."""
    # Its error column is not checked: a postmaster setting awaiting a restart reads
    # "setting could not be applied", and ALTER SYSTEM has already refused bad values.
    row = _one(conn, _AUTO_CONF, (name,))
    return None if row is None else str(row["setting"])


def _reload(conn: Conn) -> None:
    """``pg_reload_conf()``, then wait until this session has re-read the files."""
    loaded = _one(conn, _MARK + "SELECT pg_conf_load_time() AS at")
    _one(conn, _MARK + "SELECT pg_reload_conf()")
    deadline = time.monotonic() + RELOAD_WAIT_S
    while time.monotonic() < deadline:
        now = _one(conn, _MARK + "SELECT pg_conf_load_time() AS at")
        if loaded is None or now is None or now["at"] > loaded["at"]:
            return
        time.sleep(RELOAD_POLL_S)
    raise ChangeError(f"the server did not reload its configuration within {RELOAD_WAIT_S:g} s")


def _restart_detail(row: Mapping[str, Any], state: Mapping[str, str]) -> str:
    name = row["name"]
    if row["pending_restart"]:
        return (
            f"{name} = {state['value']} written to postgresql.auto.conf; still {row['shown']} "
            "until PostgreSQL restarts (context postmaster): restart needed"
        )
    return f"{name} = {row['shown']}, as requested (context postmaster; no restart needed)"


def _check_restored(conn: Conn, state: Mapping[str, str]) -> str:
    name = state["name"]
    row = _setting(conn, name)
    if state["context"] == "postmaster":
        note = "; a restart is still pending" if row["pending_restart"] else "; no restart needed"
        return f"{name} back to {_restored(state)} in postgresql.auto.conf{note}"
    if row["shown"] != state["before"]:
        raise ChangeError(
            f"{name} is {row['shown']} after the undo, was {state['before']}: "
            "something else changed it meanwhile"
        )
    return f"{name} back to {row['shown']} ({_restored(state)}, source {row['source']})"


def _restored(state: Mapping[str, str]) -> str:
    if state["in_auto_conf"] == "yes":
        return f"{state['auto_conf']!r} as before"
    return "reset: no entry of its own"


def _restore_sql(name: str, value: str | None) -> str:
    if value is None:
        return f"ALTER SYSTEM RESET {name}"
    return f"ALTER SYSTEM SET {name} = '" + value.replace("'", "''") + "'"


def _drop_sql(state: Mapping[str, str]) -> str:
    return f"DROP INDEX CONCURRENTLY IF EXISTS {_qualified(state['schema'], state['name'])}"


def _concurrently(definition: str) -> str:
    """``pg_get_indexdef``'s ``CREATE [UNIQUE] INDEX`` made ``CONCURRENTLY``."""
    return _CREATE_HEAD.sub(lambda m: f"CREATE {m[1] or ''}INDEX CONCURRENTLY ", definition, 1)


def _qualified(schema: str | None, name: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    return quoted if schema is None else '"' + schema.replace('"', '""') + '".' + quoted


def _name(state: Mapping[str, str]) -> str:
    return f"{state['schema']}.{state['name']}"


def _message(exc: psycopg.Error) -> str:
    return (exc.diag.message_primary if exc.diag else None) or str(exc).strip()
