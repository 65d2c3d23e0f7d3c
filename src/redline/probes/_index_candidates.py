"""Which indexes might help a statement, read from its SQL alone (no database).

:func:`index_candidates` parses a statement with sqlglot (PostgreSQL dialect;
``$1`` placeholders parse as parameters) and collects, per table, the columns
that an index could serve:

- **equality** columns: ``col = value``, ``col IN (...)``, ``col = ANY($1)``,
  ``col IS NULL``, and join columns (``a.x = b.y``, each side for its table);
- **range** columns: ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``;
- **order** columns: ``ORDER BY`` when all its items are plain columns of one table.

A value is anything without a column of the same query level in it: a
literal, a parameter, or a column of an outer query (a correlated subquery's
reference is one value per loop). Columns are resolved to their table through
aliases; an unqualified column belongs to the only table of its query level,
or, given ``columns_of``, to the only table that has it; otherwise it is left out.

Candidates come single-column first (equality, then range, then order
columns), then multi-column: the equality columns followed by the ORDER BY
columns, and the equality columns followed by the first range column (a
B-tree serves equalities on its leading columns and then one range or
order), at most :data:`MAX_INDEX_COLUMNS` wide.

Left out on purpose: predicates under OR or NOT, expressions on a column
(``lower(email) = $1``, casts: they need an expression index), ``LIKE``
prefixes (they need ``text_pattern_ops`` or the C collation), mixed ASC/DESC
orders, and statements sqlglot cannot parse (they give no candidates).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

__all__ = ["IndexCandidate", "TableName", "index_candidates", "referenced_tables"]

#: The widest multi-column candidate.
MAX_INDEX_COLUMNS = 3

_EQUALITY = (exp.EQ, exp.In, exp.Is)
_RANGE = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)


@dataclass(frozen=True, order=True)
class TableName:
    """A table as a statement names it: PostgreSQL's folding applied (unquoted names lowercased)."""

    name: str
    schema: str | None = None

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class IndexCandidate:
    """A B-tree index that might serve a statement: a table and its columns, in index order."""

    table: TableName
    columns: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.table} ({', '.join(self.columns)})"


@dataclass
class _Uses:
    """The columns of one table one query level filters, joins or orders on."""

    equality: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)

    def add(self, kind: str, column: str) -> None:
        columns: list[str] = getattr(self, kind)
        if column not in columns:
            columns.append(column)


def index_candidates(
    sql: str, *, columns_of: Mapping[str, Collection[str]] | None = None
) -> list[IndexCandidate]:
    """Candidate indexes for ``sql``: single-column ones first, then multi-column.

    Args:
        sql: one statement (SELECT, UPDATE, DELETE, or INSERT ... SELECT).
        columns_of: each table's columns, keyed by the table as the statement names
            it (``str(TableName)``); resolves unqualified columns in joins and drops
            names that are not columns (output aliases in ORDER BY).

    Example::

        >>> index_candidates("SELECT * FROM orders WHERE customer_id = $1")
        [IndexCandidate(table=TableName(name='orders', schema=None), columns=('customer_id',))]
    """
    levels = list(_levels(sql, columns_of or {}))
    singles = [
        IndexCandidate(table, (column,))
        for uses_by_table in levels
        for table, uses in uses_by_table.items()
        for column in (*uses.equality, *uses.range, *uses.order)
    ]
    multis = [
        IndexCandidate(table, columns)
        for uses_by_table in levels
        for table, uses in uses_by_table.items()
        for columns in _multi_column(uses)
    ]
    return list(dict.fromkeys((*singles, *multis)))


def referenced_tables(sql: str) -> list[TableName]:
    """The tables ``sql`` reads or writes (not its CTEs), in order of appearance."""
    tree = _parse(sql)
    if tree is None:
        return []
    ctes = {
        _name(cte.args["alias"].this) for cte in tree.find_all(exp.CTE) if cte.args.get("alias")
    }
    tables = (_table_name(t) for t in tree.find_all(exp.Table) if t.name)
    return list(dict.fromkeys(t for t in tables if t.schema or t.name not in ctes))


def _parse(sql: str) -> exp.Expr | None:
    try:
        statements = sqlglot.parse(sql, read="postgres")
    except sqlglot.errors.SqlglotError:
        return None
    return statements[0] if len(statements) == 1 else None


def _multi_column(uses: _Uses) -> Iterator[tuple[str, ...]]:
    order = [c for c in uses.order if c not in uses.equality]
    tails = (order, uses.range[:1] if uses.range and uses.range[0] not in uses.equality else [])
    for tail in tails:
        columns = tuple(dict.fromkeys((*uses.equality, *tail)))[:MAX_INDEX_COLUMNS]
        if len(columns) >= 2:
            yield columns


def _levels(
    sql: str, columns_of: Mapping[str, Collection[str]]
) -> Iterator[dict[TableName, _Uses]]:
    """Uses by table per query level: each SELECT, and an UPDATE's or DELETE's own WHERE."""
    tree = _parse(sql)
    if tree is None:
        return
    if isinstance(tree, exp.Update | exp.Delete):
        sources = _dml_sources(tree)
        yield _uses(_Level(sources, columns_of), tree.args.get("where"), (), tree)
    for top in _top_selects(tree):
        for scope in traverse_scope(top):
            select = scope.expression
            if not isinstance(select, exp.Select):
                continue
            # The tables in its FROM and JOINs (scope.sources also holds CTEs it can see).
            selected = {alias: source for alias, (_, source) in scope.selected_sources.items()}
            sources = {k: v for k, v in selected.items() if isinstance(v, exp.Table)}
            level = _Level(sources, columns_of, others=set(selected) - set(sources))
            joins = [j.args.get("on") for j in select.args.get("joins") or ()]
            yield _uses(level, select.args.get("where"), joins, select)


def _top_selects(tree: exp.Expr) -> Iterator[exp.Expr]:
    if isinstance(tree, exp.Query):
        yield tree
        return
    for node in tree.find_all(exp.Query):
        if node.find_ancestor(exp.Query) is None:
            yield node


def _dml_sources(tree: exp.Expr) -> dict[str, exp.Table]:
    """An UPDATE's or DELETE's tables by alias: the target, UPDATE's FROM, DELETE's USING."""
    tables = [tree.this, *(tree.args.get("using") or ())]
    joined = tree.args.get("from_")
    if isinstance(joined, exp.From):
        tables.append(joined.this)
    return {t.alias_or_name: t for t in tables if isinstance(t, exp.Table)}


@dataclass(frozen=True)
class _Level:
    """One query level's tables by alias, for resolving its columns."""

    sources: Mapping[str, exp.Table]
    columns_of: Mapping[str, Collection[str]]
    #: Aliases of derived tables and CTEs at this level (their columns are not a table's).
    others: Collection[str] = ()

    def resolve(self, column: exp.Column) -> tuple[TableName, str] | None:
        name = _name(column.this)
        if column.table:
            source = self.sources.get(column.table)
            if source is None:
                return None
            return self._checked(_table_name(source), name)
        if self.others:
            return None
        tables = [_table_name(t) for t in self.sources.values()]
        if len(tables) == 1:
            return self._checked(tables[0], name)
        having = [t for t in tables if name in self.columns_of.get(str(t), ())]
        return (having[0], name) if len(having) == 1 else None

    def local(self, node: exp.Expr) -> bool:
        """Whether ``node`` names a column of this level (not an outer query's)."""
        return any(
            not c.table or c.table in self.sources or c.table in self.others
            for c in _own_columns(node)
        )

    def _checked(self, table: TableName, column: str) -> tuple[TableName, str] | None:
        known = self.columns_of.get(str(table))
        return (table, column) if known is None or column in known else None


def _uses(
    level: _Level,
    where: exp.Expr | None,
    joins: Iterable[exp.Expr | None],
    select: exp.Expr,
) -> dict[TableName, _Uses]:
    uses: dict[TableName, _Uses] = {}

    def note(kind: str, resolved: tuple[TableName, str] | None) -> None:
        if resolved is not None:
            uses.setdefault(resolved[0], _Uses()).add(kind, resolved[1])

    conditions = [where.this if isinstance(where, exp.Where) else where, *joins]
    for condition in conditions:
        for conjunct in _conjuncts(condition):
            for kind, column in _predicate_columns(conjunct, level):
                note(kind, level.resolve(column))
    for column in _order_columns(select, level):
        note("order", level.resolve(column))
    return uses


def _conjuncts(condition: exp.Expr | None) -> Iterator[exp.Expr]:
    if condition is None:
        return
    if isinstance(condition, exp.Paren):
        yield from _conjuncts(condition.this)
    elif isinstance(condition, exp.And):
        yield from _conjuncts(condition.left)
        yield from _conjuncts(condition.right)
    else:
        yield condition


def _predicate_columns(predicate: exp.Expr, level: _Level) -> Iterator[tuple[str, exp.Column]]:
    """(kind, column) for each indexable column of one predicate."""
    if isinstance(predicate, exp.In | exp.Is | exp.Between):
        if isinstance(predicate.this, exp.Column) and not predicate.args.get("negate"):
            yield ("range" if isinstance(predicate, exp.Between) else "equality"), predicate.this
        return
    if not isinstance(predicate, _EQUALITY + _RANGE):
        return
    kind = "equality" if isinstance(predicate, exp.EQ) else "range"
    left, right = predicate.this, predicate.expression
    for side, other in ((left, right), (right, left)):
        if not isinstance(side, exp.Column) or not isinstance(other, exp.Expr):
            continue
        if not level.local(other):
            yield kind, side
        elif kind == "equality" and isinstance(other, exp.Column) and _joins(side, other, level):
            # A join: each side's column is a lookup key for its own table.
            yield "equality", side


def _joins(column: exp.Column, other: exp.Column, level: _Level) -> bool:
    """Whether ``column`` of a table is equated with a column of another table or a CTE."""
    mine, theirs = level.resolve(column), level.resolve(other)
    return mine is not None and (theirs is None or mine[0] != theirs[0])


def _order_columns(select: exp.Expr, level: _Level) -> list[exp.Column]:
    """ORDER BY's columns when they are all plain columns of one table in one direction."""
    order = select.args.get("order")
    if not isinstance(order, exp.Order):
        return []
    items = order.expressions
    aliases = {e.alias for e in select.expressions if isinstance(e, exp.Alias)}
    columns = [
        i.this
        for i in items
        if isinstance(i, exp.Ordered)
        and isinstance(i.this, exp.Column)
        and (i.this.table or i.this.name not in aliases)
    ]
    directions = {bool(i.args.get("desc")) for i in items}
    if len(columns) != len(items) or len(directions) > 1:
        return []
    tables = {resolved[0] if (resolved := level.resolve(c)) else None for c in columns}
    return columns if len(tables) == 1 and None not in tables else []


def _own_columns(node: exp.Expr) -> Iterator[exp.Column]:
    """Columns in ``node`` outside any subquery it holds."""
    for column in node.find_all(exp.Column):
        if column.find_ancestor(exp.Query) is node.find_ancestor(exp.Query):
            yield column


def _table_name(table: exp.Table) -> TableName:
    schema = _name(table.args["db"]) if table.args.get("db") else None
    return TableName(_name(table.this), schema)


def _name(identifier: exp.Expr) -> str:
    """PostgreSQL's folding: an unquoted identifier is lowercased, a quoted one kept."""
    if isinstance(identifier, exp.Identifier):
        text = str(identifier.this)
        return text if identifier.quoted else text.lower()
    return str(identifier.name).lower()
