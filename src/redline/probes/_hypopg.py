"""Missing indexes on PostgreSQL, tested with hypothetical indexes (HypoPG) before advising them.

:func:`advise_indexes` takes statements (``pg_stat_statements`` texts with
``$1`` placeholders are fine) and, for each:

1. reads the indexable columns from its SQL
   (:func:`redline.probes._index_candidates.index_candidates`), keeping
   tables (not views) that exist and columns they have;
2. drops candidates an existing index already serves: a valid, non-partial
   B-tree whose key columns start with the candidate's (the same index, or one
   the candidate is a prefix of);
3. creates each remaining candidate as a hypothetical index
   (``hypopg_create_index``), explains every statement on its table (the
   generic plan, see :mod:`redline.probes._explain`) and compares the planner's
   total cost with the cost without it; a candidate gains for a statement when
   the cost drops by ``min_gain`` (half) or more;
4. per statement and table keeps the single-column index with the lowest
   cost, unless a multi-column one removes at least
   :data:`MULTI_COLUMN_EXTRA_GAIN` (10 %) more of the statement's cost (a
   multi-column one alone when no single column gains enough); then folds an
   advised index into a longer advised one it is a prefix of, when the longer
   one also gains for its statements;
5. weighs writes (below) and calls ``hypopg_reset()`` whatever happens.

**Write cost.** Every INSERT, and every UPDATE that is not HOT, adds an entry
to each index of the table. Given ``writes_per_s`` for the table and
``calls_per_s`` for the statements an index serves, redline compares the
planner cost the index saves each second, sum over its statements of (cost
before - cost after) x calls/s, with the upkeep it adds, writes/s x
``random_page_cost`` (about one random page per entry): an index whose upkeep
is at least the saving is dropped, one whose upkeep is at least
:data:`WRITE_NOTE_SHARE` of the saving is kept with a note. Without the
statements' call rates, a table written at least :data:`WRITE_HEAVY_PER_S`
times a second only gets the note. Write rates that may overstate
(``writes_upper_bound``: counted since the database was created, so a one-off
bulk load counts as if it went on) never drop an index, only note it.

The planner's cost is a model, not time: the advice says what EXPLAIN
expects; redline's before/after runs measure what it gives.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from redline.errors import ConfigError, TargetError
from redline.optimize import Change, ChangeKind
from redline.probes._explain import REDLINE_MARK, explain
from redline.probes._index_candidates import (
    TableName,
    index_candidates,
    referenced_tables,
)

__all__ = ["IndexAdvice", "advise_indexes", "index_name"]

#: A multi-column index is preferred when it removes at least this share more of a
#: statement's cost than the best single-column one.
MULTI_COLUMN_EXTRA_GAIN = 0.1
#: Upkeep at least this share of the saving puts a note on the advice.
WRITE_NOTE_SHARE = 0.1
#: Without call rates, a table written this often (rows/s) gets a note.
WRITE_HEAVY_PER_S = 100.0
#: PostgreSQL's longest identifier (NAMEDATALEN - 1 bytes).
MAX_IDENTIFIER_BYTES = 63
#: Relation kinds an index can go on: ordinary tables and materialized views.
_INDEXABLE_KINDS = ("r", "m")

#: A candidate by its table's oid and its columns.
_Key = tuple[int, tuple[str, ...]]

_RELATION = f"""{REDLINE_MARK}
SELECT c.oid, n.nspname, c.relname, c.relkind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(%s)"""
_COLUMNS = f"""{REDLINE_MARK}
SELECT attnum, attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped"""
_INDEXES = f"""{REDLINE_MARK}
SELECT i.indkey::int2[], i.indnkeyatts
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
WHERE i.indrelid = %s AND am.amname = 'btree' AND i.indpred IS NULL AND i.indisvalid"""


@dataclass(frozen=True, kw_only=True)
class IndexAdvice:
    """An index HypoPG showed would cut the planner's cost of some statements.

    Costs are the planner's total cost (its own units), summed over the
    statements the index serves, without and with the index.
    """

    schema: str
    table: str
    columns: tuple[str, ...]
    #: ``CREATE INDEX CONCURRENTLY "redline_<table>_<columns>_idx" ON ...``, identifiers quoted.
    ddl: str
    cost_before: float
    cost_after: float
    #: The statements it serves, as given.
    queries: tuple[str, ...]
    #: The database, as a DSN without a password.
    target: str
    #: Why the table's writes make the index less attractive, when they do.
    write_note: str | None = None

    @property
    def index_name(self) -> str:
        return index_name(self.table, self.columns)

    @property
    def gain(self) -> float:
        """The share of the cost the index removes, 0..1."""
        return 1.0 - self.cost_after / self.cost_before if self.cost_before > 0 else 0.0

    def to_change(self) -> Change:
        """The index as a :class:`~redline.optimize.Change` (apply, undo, verify)."""
        qualified = f"{_quote_ident(self.schema)}.{_quote_ident(self.index_name)}"
        return Change(
            kind=ChangeKind.INDEX,
            summary=f"index {self.schema}.{self.table} ({', '.join(self.columns)}): planner "
            f"cost {self.cost_before:,.0f} -> {self.cost_after:,.0f} "
            f"({self.gain:.0%} less) for {len(self.queries)} statement(s)",
            apply=self.ddl,
            undo=f"DROP INDEX CONCURRENTLY IF EXISTS {qualified}",
            verify=f"SELECT indisvalid FROM pg_index WHERE indexrelid = "
            f"to_regclass({_quote_literal(qualified)})",
            target=self.target,
        )

    def to_dict(self) -> dict[str, Any]:
        """For a results file and ``--json``."""
        return {
            "schema": self.schema,
            "table": self.table,
            "columns": list(self.columns),
            "ddl": self.ddl,
            "cost_before": round(self.cost_before, 2),
            "cost_after": round(self.cost_after, 2),
            "gain": round(self.gain, 3),
            "queries": list(self.queries),
            "target": self.target,
            "write_note": self.write_note,
        }


def index_name(table: str, columns: Sequence[str]) -> str:
    """``redline_<table>_<columns>_idx``; too long for PostgreSQL, cut and made unique by a hash."""
    name = f"redline_{table}_{'_'.join(columns)}_idx"
    if len(name.encode()) <= MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    head = name.encode()[: MAX_IDENTIFIER_BYTES - len(digest) - 5].decode(errors="ignore")
    return f"{head}_{digest}_idx"


def _quote_ident(name: str) -> str:
    """``name`` as a PostgreSQL quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    """``text`` as a PostgreSQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Table:
    """A table a statement names, as the catalog knows it."""

    oid: int
    schema: str
    name: str
    #: Column names by attribute number.
    columns: Mapping[int, str]
    #: Key columns of each valid, non-partial B-tree index.
    indexes: tuple[tuple[str, ...], ...]

    def covers(self, columns: tuple[str, ...]) -> bool:
        return any(index[: len(columns)] == columns for index in self.indexes)


@dataclass(frozen=True)
class _Option:
    """One candidate on one table as the catalog names it."""

    table: _Table
    columns: tuple[str, ...]

    @property
    def key(self) -> _Key:
        return self.table.oid, self.columns


def advise_indexes(
    conn: psycopg.Connection[Any],
    queries: Sequence[str],
    *,
    min_gain: float = 0.5,
    writes_per_s: Mapping[str, float] | None = None,
    calls_per_s: Mapping[str, float] | None = None,
    writes_upper_bound: bool = False,
) -> list[IndexAdvice]:
    """Indexes worth creating for ``queries``, best gain first (see the module docstring).

    Args:
        conn: a connection to the database, with the ``hypopg`` extension created.
        queries: statements, ``$1`` placeholders allowed; ones without candidate
            columns are not explained.
        min_gain: the share of a statement's cost an index must remove, in (0, 1).
        writes_per_s: rows inserted and updated per second by table (``orders`` or
            ``public.orders``), e.g. from ``pg_stat_user_tables`` deltas.
        calls_per_s: executions per second by statement text, e.g. from
            ``pg_stat_statements`` deltas.
        writes_upper_bound: ``writes_per_s`` may overstate the tables' writes
            (e.g. counted since the database was created, one-off loads included):
            an index they outweigh is kept with a note rather than dropped.

    Raises:
        ConfigError: ``min_gain`` out of range, HypoPG missing, or a statement the
            server rejects.
        TargetError: the server failed.
    """
    if not 0.0 < min_gain < 1.0:
        raise ConfigError(
            f"min_gain: expected a share between 0 and 1 (exclusive), got {min_gain!r}"
        )
    try:
        present = _has_hypopg(conn)
    except psycopg.Error as exc:
        raise _target_error(exc) from None
    if not present:
        raise ConfigError(
            "the index advisor needs the hypopg extension in this database",
            hint="install HypoPG on the server and run CREATE EXTENSION hypopg",
        )
    try:
        with conn.transaction(force_rollback=True):
            measured = _measure(conn, list(dict.fromkeys(queries)), min_gain)
            page_cost = float(_scalar(conn, "SELECT current_setting('random_page_cost')::float8"))
    except psycopg.Error as exc:
        raise _target_error(exc) from None
    finally:
        _reset(conn)
    target = _target(conn)
    weigh = _WriteWeigher(writes_per_s or {}, calls_per_s or {}, page_cost, writes_upper_bound)
    advice = [a for a in _advice(measured, target, weigh) if a is not None]
    return sorted(advice, key=lambda a: (-a.gain, a.schema, a.table, a.columns))


@dataclass
class _Measured:
    """Planner costs: each statement's own, and with each candidate, by statement."""

    min_gain: float
    before: dict[str, float]
    after: dict[_Key, dict[str, float]]
    options: dict[_Key, _Option]
    #: Each statement's tables (by oid), for choosing one index per statement and table.
    tables_of: dict[str, tuple[int, ...]]

    def gains(self, key: _Key, query: str) -> bool:
        cost = self.after[key].get(query)
        base = self.before[query]
        return cost is not None and base > 0 and 1.0 - cost / base >= self.min_gain


def _measure(conn: psycopg.Connection[Any], queries: list[str], min_gain: float) -> _Measured:
    tables: dict[TableName, _Table | None] = {}
    options: dict[_Key, _Option] = {}
    touching: dict[int, list[str]] = {}
    for query in queries:
        found = _candidates(conn, query, tables)
        for option in found:
            options.setdefault(option.key, option)
        for oid in dict.fromkeys(o.table.oid for o in found):
            touching.setdefault(oid, []).append(query)
    evaluated = sorted({q for qs in touching.values() for q in qs}, key=queries.index)
    before = {q: _cost(conn, q) for q in evaluated}
    after = {key: _costs_with(conn, option, touching[key[0]]) for key, option in options.items()}
    tables_of = {q: tuple(oid for oid, qs in touching.items() if q in qs) for q in evaluated}
    return _Measured(min_gain, before, after, options, tables_of)


def _candidates(
    conn: psycopg.Connection[Any], query: str, tables: dict[TableName, _Table | None]
) -> list[_Option]:
    """The query's candidates on real tables, less those an existing index serves."""
    named = referenced_tables(query)
    for name in named:
        if name not in tables:
            tables[name] = _table(conn, name)
    known = {str(n): t for n in named if (t := tables[n]) is not None}
    columns_of = {name: list(t.columns.values()) for name, t in known.items()}
    options = []
    for candidate in index_candidates(query, columns_of=columns_of):
        table = known.get(str(candidate.table))
        if table is not None and not table.covers(candidate.columns):
            options.append(_Option(table, candidate.columns))
    return options


def _table(conn: psycopg.Connection[Any], name: TableName) -> _Table | None:
    # prepare=False here and on every statement the advisor repeats: psycopg prepares a
    # statement run 5 times, and then answers the next ROLLBACK (each explain's savepoint)
    # with DEALLOCATE ALL, which takes explain's own prepared statement with it.
    text = ".".join(_quote_ident(p) for p in (name.schema, name.name) if p)
    row = conn.execute(_RELATION, (text,), prepare=False).fetchone()
    if row is None or row[3] not in _INDEXABLE_KINDS:
        return None
    oid = int(row[0])
    columns = {int(n): str(a) for n, a in conn.execute(_COLUMNS, (oid,), prepare=False)}
    indexes = []
    for keys, key_count in conn.execute(_INDEXES, (oid,), prepare=False):
        names = []
        for attnum in list(keys)[:key_count]:
            if attnum not in columns:  # 0: an expression; what follows it cannot match
                break
            names.append(columns[attnum])
        indexes.append(tuple(names))
    return _Table(oid, str(row[1]), str(row[2]), columns, tuple(indexes))


def _cost(conn: psycopg.Connection[Any], query: str) -> float:
    return float(explain(conn, query)["Plan"]["Total Cost"])


def _costs_with(
    conn: psycopg.Connection[Any], option: _Option, queries: list[str]
) -> dict[str, float]:
    table = f"{_quote_ident(option.table.schema)}.{_quote_ident(option.table.name)}"
    columns = ", ".join(_quote_ident(c) for c in option.columns)
    try:
        with conn.transaction():
            row = conn.execute(
                REDLINE_MARK + " SELECT indexrelid FROM hypopg_create_index(%s)",
                (f"CREATE INDEX ON {table} USING btree ({columns})",),
                prepare=False,
            ).fetchone()
    except psycopg.errors.UndefinedObject:
        # A type with no B-tree operator class (box, point...): no such index can exist.
        return {}
    if row is None:  # pragma: no cover - hypopg_create_index returns its index or raises
        raise TargetError(f"hypopg_create_index returned nothing for {table} ({columns})")
    try:
        return {q: _cost(conn, q) for q in queries}
    finally:
        conn.execute(REDLINE_MARK + " SELECT hypopg_drop_index(%s)", (row[0],), prepare=False)


def _advice(measured: _Measured, target: str, weigh: _WriteWeigher) -> list[IndexAdvice | None]:
    served = _fold_prefixes(measured, _choose(measured))
    return [
        weigh(
            _advice_for(measured, measured.options[key], queries, target),
            {q: measured.before[q] - measured.after[key][q] for q in queries},
        )
        for key, queries in served.items()
    ]


def _choose(measured: _Measured) -> dict[_Key, list[str]]:
    """Per statement and table, the index to advise; the statements each index serves."""
    served: dict[_Key, list[str]] = {}
    for query, oids in measured.tables_of.items():
        for oid in oids:
            costs = {
                k: after[query]
                for k, after in measured.after.items()
                if k[0] == oid and measured.gains(k, query)
            }
            choice = _preferred(costs, measured.before[query])
            if choice is not None:
                served.setdefault(choice, []).append(query)
    return served


def _preferred(costs: Mapping[_Key, float], before: float) -> _Key | None:
    """The cheapest single-column key, unless a multi-column one gains clearly more."""
    singles = sorted((c, k) for k, c in costs.items() if len(k[1]) == 1)
    multis = sorted((c, k) for k, c in costs.items() if len(k[1]) > 1)
    if not singles:
        return multis[0][1] if multis else None
    if multis and singles[0][0] - multis[0][0] >= MULTI_COLUMN_EXTRA_GAIN * before:
        return multis[0][1]
    return singles[0][1]


def _fold_prefixes(measured: _Measured, served: dict[_Key, list[str]]) -> dict[_Key, list[str]]:
    """Fold an index into a longer advised one it is a prefix of, when that one gains too."""
    for key in sorted(served, key=lambda k: len(k[1])):
        longer = [
            k
            for k in served
            if k[0] == key[0]
            and len(k[1]) > len(key[1])
            and k[1][: len(key[1])] == key[1]
            and all(measured.gains(k, q) for q in served[key])
        ]
        if longer:
            served[longer[0]].extend(q for q in served.pop(key) if q not in served[longer[0]])
    return served


def _advice_for(
    measured: _Measured, option: _Option, queries: list[str], target: str
) -> IndexAdvice:
    table, columns = option.table, option.columns
    name = index_name(table.name, columns)
    ddl = (
        f"CREATE INDEX CONCURRENTLY {_quote_ident(name)} ON "
        f"{_quote_ident(table.schema)}.{_quote_ident(table.name)} "
        f"({', '.join(_quote_ident(c) for c in columns)})"
    )
    return IndexAdvice(
        schema=table.schema,
        table=table.name,
        columns=columns,
        ddl=ddl,
        cost_before=sum(measured.before[q] for q in queries),
        cost_after=sum(measured.after[option.key][q] for q in queries),
        queries=tuple(queries),
        target=target,
    )


@dataclass(frozen=True)
class _WriteWeigher:
    """Drops or annotates advice on tables whose writes outweigh what the index saves."""

    writes_per_s: Mapping[str, float]
    calls_per_s: Mapping[str, float]
    page_cost: float
    #: The write rates may overstate: note, never drop.
    upper_bound: bool = False

    def __call__(self, advice: IndexAdvice, savings: Mapping[str, float]) -> IndexAdvice | None:
        """The advice, the advice with a note, or None; ``savings``: cost saved per call."""
        writes = self.writes_per_s.get(f"{advice.schema}.{advice.table}")
        writes = self.writes_per_s.get(advice.table) if writes is None else writes
        if not writes:
            return advice
        if any(q not in self.calls_per_s for q in advice.queries):
            if writes < WRITE_HEAVY_PER_S:
                return advice
            return _with_note(
                advice,
                f"{advice.table} takes {writes:,.0f} writes/s, each adding an index entry; "
                "the statements' call rates are unknown, so weigh the upkeep",
            )
        saving = sum(saved * (self.calls_per_s.get(q) or 0.0) for q, saved in savings.items())
        upkeep = writes * self.page_cost
        if upkeep >= saving and not self.upper_bound:
            return None
        if upkeep < WRITE_NOTE_SHARE * saving:
            return advice
        bound = (
            "; the writes are counted since the database's statistics began (never reset), "
            "so a one-off load counts too: kept, check the table's write rate"
            if self.upper_bound
            else ""
        )
        return _with_note(
            advice,
            f"{advice.table} takes {writes:,.0f} writes/s: the index's upkeep (about "
            f"{upkeep:,.0f} cost units/s) is {upkeep / saving:.0%} of what it saves{bound}",
        )


def _with_note(advice: IndexAdvice, note: str) -> IndexAdvice:
    return dataclasses.replace(advice, write_note=note)


def _target_error(exc: psycopg.Error) -> TargetError:
    message = (exc.diag.message_primary if exc.diag else None) or str(exc).strip()
    return TargetError(f"index advisor: {message}")


def _has_hypopg(conn: psycopg.Connection[Any]) -> bool:
    return bool(_scalar(conn, "SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'") == 1)


def _reset(conn: psycopg.Connection[Any]) -> None:
    if conn.closed or conn.broken:
        return
    with conn.transaction(force_rollback=True):
        conn.execute(REDLINE_MARK + " SELECT hypopg_reset()")


def _scalar(conn: psycopg.Connection[Any], query: str) -> Any:
    with conn.transaction(force_rollback=True):
        row = conn.execute(REDLINE_MARK + " " + query).fetchone()
    return row[0] if row else None


def _target(conn: psycopg.Connection[Any]) -> str:
    info = conn.info
    return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
