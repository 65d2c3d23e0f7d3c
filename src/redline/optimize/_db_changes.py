"""Database changes: indexes (create and drop) and server settings, applied and undone.

:class:`DatabaseApplier` is the :class:`~redline.optimize.Applier` of
:attr:`ChangeKind.INDEX <redline.optimize.ChangeKind.INDEX>` and
:attr:`ChangeKind.SETTING <redline.optimize.ChangeKind.SETTING>`. It picks the
database by the Change's ``target`` scheme (``postgresql``, ``mysql`` for MySQL
and MariaDB, ``sqlite``) and hands the work to that engine's module
(:mod:`._db_postgres`, :mod:`._db_mysql`, :mod:`._db_sqlite`).

**What a Change says.** Its ``apply`` is the statement that runs, as written:

- create an index: ``CREATE INDEX ...`` (on PostgreSQL ``CREATE INDEX
  CONCURRENTLY``, which is required, so writers are never blocked; on MySQL
  the advisor's ``ALGORITHM=INPLACE LOCK=NONE``);
- drop an index: ``DROP INDEX ...`` (:func:`drop_index_change`); its ``undo``
  text only describes the way back, because the definition to recreate is
  read by ``prepare`` (``pg_get_indexdef``, ``SHOW CREATE TABLE``,
  ``sqlite_master.sql``) and kept in the journal entry's state;
- a setting: ``ALTER SYSTEM SET name = value`` (PostgreSQL, then
  ``pg_reload_conf()``) or ``SET GLOBAL name = value`` (MySQL, MariaDB)
  (:func:`setting_change`).

Undo never runs the Change's ``undo`` text: it works from the state recorded
before the change (the module of each engine says what it records), checks
what is there first, and does nothing when the change is not there; so it is
idempotent and safe after a crash at any point.

**Passwords.** The target is a redacted DSN (``postgresql://app:***@...``) and
the journal never holds a password, so the applier is given the real DSNs
(``--db``) and matches the target to one of them by its printed form. A target
that shows no password (``sqlite:///...``, a user without one) is used as it
is; one that shows ``***`` with no DSN given for it is refused with
:class:`ChangeError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from redline.errors import ConfigError
from redline.optimize._applier import ChangeError
from redline.optimize._change import Change, ChangeKind
from redline.plan import Dsn, parse_dsn
from redline.plan._dsn import REDACTED

__all__ = [
    "DatabaseApplier",
    "IndexStatement",
    "SettingStatement",
    "drop_index_change",
    "parse_index_statement",
    "parse_setting_statement",
    "setting_change",
]

#: How long one DDL statement (an index build, a drop) may run before it is stopped.
DDL_TIMEOUT_S = 600
#: How long a DDL statement waits for a lock on its table before giving up.
LOCK_TIMEOUT_S = 5

_IDENT = r'(?:"(?:[^"]|"")+"|`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_$]*)'
#: Identifier quotes: PostgreSQL's and SQLite's, and MySQL's.
_DOUBLE, _BACKTICK = '"', "`"
_QUALIFIED = rf"(?:{_IDENT}\s*\.\s*)?{_IDENT}"
_LEADING_COMMENT = r"^\s*(?:/\*.*?\*/\s*)*"
_CREATE = re.compile(
    _LEADING_COMMENT + r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_QUALIFIED})\s+ON\s+(?:ONLY\s+)?(?P<table>{_QUALIFIED})",
    re.I | re.S,
)
_DROP = re.compile(
    _LEADING_COMMENT + r"DROP\s+INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?"
    rf"(?P<name>{_QUALIFIED})(?:\s+ON\s+(?P<table>{_QUALIFIED}))?",
    re.I | re.S,
)
_VALUE = r"(?P<value>'(?:[^']|'')*'|[^\s;']+(?:\s*,\s*[^\s;',]+)*)"
_ALTER_SYSTEM = re.compile(
    _LEADING_COMMENT + rf"ALTER\s+SYSTEM\s+SET\s+(?P<name>[A-Za-z_][A-Za-z0-9_.]*)\s*(?:=|\s+TO\s+)"
    rf"\s*{_VALUE}\s*;?\s*$",
    re.I | re.S,
)
_SET_GLOBAL = re.compile(
    _LEADING_COMMENT + r"SET\s+(?:GLOBAL\s+|@@GLOBAL\.)(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?::=|=)"
    rf"\s*{_VALUE}\s*;?\s*$",
    re.I | re.S,
)
#: A name a setting may have (PostgreSQL allows ``extension.name``).
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class IndexStatement:
    """What an index Change's ``apply`` names: create or drop, which index, on what."""

    #: ``create`` or ``drop``.
    action: str
    #: The index's name, unquoted.
    name: str
    #: The schema written before the index's name (a drop) or the table's (a create).
    schema: str | None
    #: The table (a create; a MySQL drop's ``ON`` table), unquoted.
    table: str | None
    #: ``CONCURRENTLY`` was written (PostgreSQL).
    concurrently: bool


@dataclass(frozen=True)
class SettingStatement:
    """What a setting Change's ``apply`` sets: the name and the value, unquoted."""

    name: str
    value: str
    #: The value was written as a quoted string.
    quoted: bool


def parse_index_statement(sql: str, *, fold: bool = False) -> IndexStatement:
    """Read ``CREATE [UNIQUE] INDEX ... name ON table`` or ``DROP INDEX name [ON table]``.

    ``fold``: unquoted names are lower-cased, as PostgreSQL does.

    Raises:
        ChangeError: neither form, or an index without a name.
    """
    for action, pattern in (("create", _CREATE), ("drop", _DROP)):
        found = pattern.match(sql)
        if found is None:
            continue
        index_schema, name = _split(found["name"], fold)
        table_schema, table = _split(found["table"], fold) if found["table"] else (None, None)
        return IndexStatement(
            action=action,
            name=name,
            schema=table_schema if action == "create" else index_schema or table_schema,
            table=table,
            concurrently=bool(found["concurrently"]),
        )
    raise ChangeError(
        f"an index change's apply must be CREATE INDEX name ON table ... or DROP INDEX name, "
        f"got {sql[:80]!r}",
        hint="name the index: its undo finds it by name",
    )


def parse_setting_statement(sql: str, scheme: str) -> SettingStatement:
    """Read ``ALTER SYSTEM SET name = value`` (postgresql) or ``SET GLOBAL name = value`` (mysql).

    Raises:
        ChangeError: not that form for this database.
    """
    forms = {
        "postgresql": (_ALTER_SYSTEM, "ALTER SYSTEM SET name = value"),
        "mysql": (_SET_GLOBAL, "SET GLOBAL name = value"),
    }
    if scheme not in forms:
        raise ChangeError(f"{scheme} has no server settings redline changes")
    pattern, form = forms[scheme]
    found = pattern.match(sql)
    if found is None:
        raise ChangeError(f"a {scheme} setting change must be {form}, got {sql[:80]!r}")
    value = found["value"]
    quoted = value.startswith("'")
    if quoted:
        value = value[1:-1].replace("''", "'")
    return SettingStatement(found["name"].lower(), value, quoted)


def drop_index_change(dsn: Dsn, name: str, *, table: str, schema: str | None = None) -> Change:
    """A Change that drops index ``name`` of ``table``; its undo recreates the same definition.

    The definition is read when the change is prepared and kept in the
    journal, so the undo does not depend on this Change's text.

    Example::

        drop_index_change(parse_dsn("postgresql://app:pw@127.0.0.1/shop"),
                          "orders_note_idx", table="orders", schema="public")
    """
    if dsn.scheme == "postgresql":
        where = f"{_quote(schema, _DOUBLE)}." if schema else ""
        apply = f"DROP INDEX CONCURRENTLY IF EXISTS {where}{_quote(name, _DOUBLE)}"
    elif dsn.scheme == "mysql":
        where = f"{_quote(schema or dsn.database, _BACKTICK)}.{_quote(table, _BACKTICK)}"
        apply = f"DROP INDEX {_quote(name, _BACKTICK)} ON {where}"
    else:
        apply = f"DROP INDEX IF EXISTS {_quote(name, _DOUBLE)}"
    return Change(
        kind=ChangeKind.INDEX,
        summary=f"drop index {name} on {table}",
        apply=apply,
        undo=f"recreate {name} from its definition, read before the drop (the entry's state)",
        verify=f"index {name} is gone",
        target=str(dsn),
    )


def setting_change(dsn: Dsn, name: str, value: str) -> Change:
    """A Change that sets server setting ``name`` to ``value``; its undo puts back what was.

    PostgreSQL: ``ALTER SYSTEM SET`` and a reload; MySQL and MariaDB: ``SET GLOBAL``.

    Raises:
        ConfigError: the name is not a setting's name, or the database has no settings.
    """
    if not _SETTING_NAME.match(name):
        raise ConfigError(
            f"setting: expected a name of letters, digits, '_' (and one '.'), got {name!r}"
        )
    literal = "'" + value.replace("'", "''") + "'"
    if dsn.scheme == "postgresql":
        apply, verify = f"ALTER SYSTEM SET {name} = {literal}", f"SHOW {name}"
    elif dsn.scheme == "mysql":
        number = re.fullmatch(r"-?\d+", value) is not None
        apply = f"SET GLOBAL {name} = {value if number else literal}"
        verify = f"SELECT @@GLOBAL.{name}"
    else:
        raise ConfigError(
            f"setting: {dsn.scheme} has no server settings redline changes (got {name!r})"
        )
    return Change(
        kind=ChangeKind.SETTING,
        summary=f"set {name} = {value}",
        apply=apply,
        undo=f"put {name} back as it was (value and source kept in the entry's state)",
        verify=verify,
        target=str(dsn),
    )


class _Engine(Protocol):
    """One database's way of making and unmaking index and setting changes."""

    def prepare_index(self, change: Change, index: IndexStatement) -> dict[str, str]: ...

    def apply_index(self, change: Change, state: Mapping[str, str]) -> str: ...

    def undo_index(self, state: Mapping[str, str]) -> str: ...

    def prepare_setting(self, change: Change, setting: SettingStatement) -> dict[str, str]: ...

    def apply_setting(self, change: Change, state: Mapping[str, str]) -> str: ...

    def undo_setting(self, state: Mapping[str, str]) -> str: ...


def _engines() -> dict[str, Callable[[Dsn], _Engine]]:
    # Imported here: each engine imports its driver, which a SQLite-only run need not load.
    from redline.optimize._db_mysql import MySqlChanges
    from redline.optimize._db_postgres import PostgresChanges
    from redline.optimize._db_sqlite import SqliteChanges

    return {"postgresql": PostgresChanges, "mysql": MySqlChanges, "sqlite": SqliteChanges}


class DatabaseApplier:
    """The :class:`~redline.optimize.Applier` of index and setting changes on databases.

    Args:
        dsns: the databases' DSNs with their passwords (``--db``); a Change's
            redacted target is matched to one of them.

    Example::

        appliers = {ChangeKind.INDEX: DatabaseApplier(dsns), ChangeKind.SETTING: ...}
        outcome = apply_change(advice.to_change(), journal, appliers)
    """

    def __init__(self, dsns: Sequence[Dsn]) -> None:
        self._dsns = list(dsns)

    def prepare(self, change: Change) -> dict[str, str]:
        dsn = self._dsn_for(change.target)
        engine = _engine(dsn)
        if change.kind is ChangeKind.INDEX:
            index = parse_index_statement(change.apply, fold=dsn.scheme == "postgresql")
            return engine.prepare_index(change, index)
        _check_kind(change)
        return engine.prepare_setting(change, parse_setting_statement(change.apply, dsn.scheme))

    def apply(self, change: Change, state: Mapping[str, str]) -> str:
        engine = _engine(self._dsn_for(change.target))
        if change.kind is ChangeKind.INDEX:
            return engine.apply_index(change, state)
        _check_kind(change)
        return engine.apply_setting(change, state)

    def undo(self, change: Change, state: Mapping[str, str]) -> str:
        engine = _engine(self._dsn_for(change.target))
        if change.kind is ChangeKind.INDEX:
            return engine.undo_index(state)
        _check_kind(change)
        return engine.undo_setting(state)

    def _dsn_for(self, target: str) -> Dsn:
        """The given DSN whose printed form is ``target`` (the password is not compared)."""
        wanted = _without_password(target)
        for dsn in self._dsns:
            if _without_password(str(dsn)) == wanted:
                return dsn
        if f":{REDACTED}@" not in target:
            try:
                return parse_dsn(target, field="change target")
            except ConfigError as exc:
                raise ChangeError(str(exc), hint=exc.hint) from None
        raise ChangeError(
            f"{target}: needs the DSN with its password (--db); the journal keeps none",
            hint=f"pass --db with the full connection string of {target}",
        )


def _engine(dsn: Dsn) -> _Engine:
    engines = _engines()
    if dsn.scheme not in engines:
        raise ChangeError(
            f"{dsn}: redline makes database changes on {', '.join(engines)}, not {dsn.scheme}"
        )
    return engines[dsn.scheme](dsn)


def _check_kind(change: Change) -> None:
    if change.kind is not ChangeKind.SETTING:
        raise ChangeError(
            f"the database applier makes index and setting changes, not {change.kind.value}"
        )


def _without_password(target: str) -> str:
    """``scheme://user@host:port/db`` from a DSN printed with or without ``:***``."""
    return target.replace(f":{REDACTED}@", "@")


def _split(qualified: str, fold: bool) -> tuple[str | None, str]:
    """``"schema"."name"`` -> (schema, name), unquoted; bare names lower-cased if ``fold``."""
    parts = re.findall(_IDENT, qualified)
    names = [_unquote(p, fold) for p in parts]
    return (names[0], names[1]) if len(names) == 2 else (None, names[0])


def _unquote(ident: str, fold: bool) -> str:
    if ident[0] == _DOUBLE:
        return ident[1:-1].replace(_DOUBLE * 2, _DOUBLE)
    if ident[0] == _BACKTICK:
        return ident[1:-1].replace(_BACKTICK * 2, _BACKTICK)
    return ident.lower() if fold else ident


def _quote(name: str, quote: str) -> str:
    """``name`` as a quoted identifier (``"`` for PostgreSQL and SQLite, a backtick for MySQL)."""
    return quote + name.replace(quote, quote * 2) + quote
