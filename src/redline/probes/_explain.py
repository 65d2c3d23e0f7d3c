"""A statement's plan on PostgreSQL, as EXPLAIN's JSON (``redline db analyze``).

:func:`explain` returns the top object of ``EXPLAIN (FORMAT JSON)`` (the one
holding ``"Plan"``), or of ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` when
asked to run the statement. Either way it works inside a transaction that is
always rolled back, so even a statement that writes leaves nothing behind
(except what no transaction undoes: sequence values, for one).

**Generic plans on PostgreSQL 15.** Statement texts from
``pg_stat_statements`` carry ``$1``-style placeholders and no values.
``EXPLAIN (GENERIC_PLAN)`` arrived only in PostgreSQL 16, so redline does what
works on every version from 12 on:

1. ``PREPARE redline_explain AS <statement>``: the server infers each
   parameter's type (``pg_prepared_statements.parameter_types``);
2. ``SET LOCAL plan_cache_mode = force_generic_plan``;
3. ``EXPLAIN EXECUTE redline_explain(NULL, ...)``, one NULL per parameter.

Under ``force_generic_plan`` the planner never looks at the values, so the
NULLs cannot mislead it (measured on PostgreSQL 15: the filter reads
``customer_id = $1``, not a constant). Without that setting the first five
executions get a *custom* plan built for the NULLs (``customer_id = NULL`` is
planned as an empty result), which is why it is set. Plain NULLs are enough:
EXECUTE coerces them to the types PREPARE fixed, and spelling the types out
(``NULL::timestamp with time zone``) changed nothing in our tests. With real
``params``, the statement is planned for them (``force_custom_plan``) and
they are sent as quoted literals.

A prepared statement outlives a rollback, so it is deallocated afterwards.
Each statement redline sends starts with ``/* redline */`` so it can be told
apart from the workload in ``pg_stat_statements``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

import psycopg
import sqlglot
from psycopg import sql as pgsql
from sqlglot import exp

from redline.errors import ConfigError, TargetError
from redline.units import one_line

__all__ = ["explain", "is_read_only"]

#: Marks redline's own statements, so they can be told from the workload's.
REDLINE_MARK: Final = "/* redline */"
#: The name of the prepared statement explain uses (deallocated after each call).
PREPARED_NAME: Final = "redline_explain"
#: How much of a statement an error message quotes.
QUOTE_CHARS = 60
#: Nodes that make a statement write (or lock rows, which writes their headers).
_WRITING_NODES: tuple[type[exp.Expression], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Into,
    exp.Lock,
    exp.Create,
    exp.Drop,
    exp.Command,
    exp.Copy,
)
#: SQLSTATE classes that mean the statement itself is at fault (not the server):
#: 22 data exception, 42 syntax error or access rule violation, 0A not supported.
_STATEMENT_FAULTS = ("22", "42", "0A")


def explain(
    conn: psycopg.Connection[Any],
    sql: str,
    *,
    analyze: bool = False,
    allow_writes: bool = False,
    params: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """The plan of ``sql`` as EXPLAIN's JSON object (with ``"Plan"`` in it).

    Args:
        conn: an open connection; autocommit or not, nothing is left committed.
        sql: one statement; ``$1``-style placeholders are fine (see the module
            docstring for how they are planned without values).
        analyze: run the statement (``EXPLAIN (ANALYZE, BUFFERS)``) for actual
            rows, times and buffers; needs ``params`` when it has placeholders.
        allow_writes: with ``analyze``, run statements that are not a plain SELECT;
            their writes are rolled back.
        params: values for ``$1``, ``$2``...; the plan is then made for them.

    Raises:
        ConfigError: ``analyze`` of a statement that writes without ``allow_writes``,
            of placeholders without ``params``, the wrong number of ``params``, or a
            statement the server rejects (syntax, unknown table, untyped parameter).
        TargetError: the server failed otherwise (connection lost, out of memory).
    """
    text = sql.strip().rstrip(";").strip()
    if analyze and not allow_writes and not is_read_only(text):
        raise ConfigError(
            f"--analyze: {_quote(text)} is not a SELECT; pass --allow-writes to run it "
            "inside a rolled-back transaction"
        )
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    prepared = False
    try:
        with conn.transaction(force_rollback=True):
            _send(conn, pgsql.SQL("PREPARE {} AS ").format(pgsql.Identifier(PREPARED_NAME)), text)
            prepared = True
            count = _parameter_count(conn)
            _check_params(text, count, params, analyze=analyze)
            plan = _explain_prepared(conn, options, count, params)
    except psycopg.Error as exc:
        raise _translated(exc, text) from None
    finally:
        if prepared:
            _deallocate(conn)
    return plan


def is_read_only(sql: str) -> bool:
    """Whether ``sql`` is one query that only reads (decided by sqlglot, not a regex).

    ``SELECT``, ``WITH ... SELECT``, ``UNION`` and ``VALUES`` read; a CTE with
    INSERT, UPDATE or DELETE, ``SELECT ... INTO`` and ``SELECT ... FOR UPDATE``
    (row locks) do not. A statement sqlglot cannot parse is not called read-only.
    Functions the query calls may still write: SQL cannot tell.
    """
    try:
        statements = sqlglot.parse(sql, read="postgres")
    except sqlglot.errors.SqlglotError:
        return False
    if len(statements) != 1 or statements[0] is None:
        return False
    tree = statements[0]
    if not isinstance(tree, exp.Query | exp.Values):
        return False
    return tree.find(*_WRITING_NODES) is None


def _send(conn: psycopg.Connection[Any], head: pgsql.Composable, statement: str) -> None:
    # The statement comes from pg_stat_statements or the user and must reach the
    # server verbatim (PREPARE takes no bind parameters), so it is wrapped as SQL.
    body = pgsql.SQL(statement)
    conn.execute(pgsql.SQL(REDLINE_MARK + " ") + head + body)


def _parameter_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        REDLINE_MARK + " SELECT cardinality(parameter_types) FROM pg_prepared_statements "
        "WHERE name = %s",
        (PREPARED_NAME,),
    ).fetchone()
    return int(row[0]) if row else 0


def _check_params(text: str, count: int, params: Sequence[Any] | None, *, analyze: bool) -> None:
    if params is None:
        if analyze and count:
            raise ConfigError(
                f"--analyze: {_quote(text)} has {count} parameter(s) ($1...) and no values",
                hint="give values with --samples (a server log, or a run with --db), or leave "
                "out --analyze for the generic plan",
            )
        return
    if len(params) != count:
        raise ConfigError(
            f"params: {_quote(text)} takes {count} parameter(s), got {len(params)} "
            f"value(s): {list(params)!r}"
        )


def _explain_prepared(
    conn: psycopg.Connection[Any], options: str, count: int, params: Sequence[Any] | None
) -> dict[str, Any]:
    mode = "force_custom_plan" if params is not None else "force_generic_plan"
    conn.execute(
        pgsql.SQL(REDLINE_MARK + " SET LOCAL plan_cache_mode = {}").format(pgsql.SQL(mode))
    )
    values: list[pgsql.Composable] = (
        [pgsql.Literal(v) for v in params] if params is not None else [pgsql.SQL("NULL")] * count
    )
    arguments = pgsql.SQL("({})").format(pgsql.SQL(", ").join(values)) if count else pgsql.SQL("")
    query = pgsql.SQL(REDLINE_MARK + " EXPLAIN ({}) EXECUTE {}{}").format(
        pgsql.SQL(options), pgsql.Identifier(PREPARED_NAME), arguments
    )
    row = conn.execute(query).fetchone()
    if row is None:  # pragma: no cover - EXPLAIN always returns its one row
        raise TargetError("EXPLAIN returned no plan")
    document = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    top: dict[str, Any] = document[0]
    return top


def _deallocate(conn: psycopg.Connection[Any]) -> None:
    if conn.closed or conn.broken:
        return
    # DEALLOCATE is not transactional; the block keeps a non-autocommit
    # connection from being left inside a transaction it did not open.
    with conn.transaction(force_rollback=True):
        conn.execute(
            pgsql.SQL(REDLINE_MARK + " DEALLOCATE {}").format(pgsql.Identifier(PREPARED_NAME))
        )


def _translated(exc: psycopg.Error, text: str) -> ConfigError | TargetError:
    message = (exc.diag.message_primary if exc.diag else None) or str(exc).strip()
    state = exc.sqlstate or ""
    if state[:2] in _STATEMENT_FAULTS:
        return ConfigError(
            f"EXPLAIN {_quote(text)}: {message}",
            hint="check the statement runs as written on this database",
        )
    return TargetError(f"EXPLAIN {_quote(text)} failed: {message}")


def _quote(text: str) -> str:
    return repr(one_line(text, QUOTE_CHARS, ellipsis="..."))
