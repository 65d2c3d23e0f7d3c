"""Which indexes might help a statement, read from its SQL alone (no database).

The one SQL reader behind every index advisor: PostgreSQL's (:mod:`._hypopg`),
SQLite's (:mod:`._sqlite`) and MySQL's (:mod:`._mysql`). :func:`index_candidates`
parses a statement with sqlglot in the given dialect (see :data:`DIALECTS`) and
collects, per table, the columns that an index could serve:

- **equality** columns: ``col = value``, ``col IN (...)``, ``col = ANY($1)``,
  ``col IS NULL``, and join columns (``a.x = b.y``, each side for its table);
- **range** columns: ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``;
- **sort** columns: ``ORDER BY`` when all its items are plain columns of one table.

A value is anything without a column of the same query level in it: a
literal, a parameter, or a column of an outer query (a correlated subquery's
reference is one value per loop). Columns are resolved to their table through
aliases; an unqualified column belongs to the only table of its query level,
or, given ``columns_of``, to the only table that has it; otherwise it is left out.

Left out everywhere: predicates under OR or NOT, expressions on a column
(``lower(email) = $1``, casts: they need an expression index), and
statements sqlglot cannot parse.

**What differs by dialect** (one :class:`Dialect` each):

- *names*: PostgreSQL folds unquoted names to lower case; SQLite and MySQL keep
  them as written and match column names whatever their case;
- *parameters*: ``$1`` (pg_stat_statements), ``%s`` and ``%(name)s`` (psycopg)
  are parameters in PostgreSQL; ``?`` (MySQL digests) in MySQL; ``?``,
  ``?NNN``, ``:name``, ``@name`` and ``$name`` in SQLite;
- *lookups*: MySQL's ``<=>`` and SQLite's ``IS`` are equalities an index serves
  (PostgreSQL's ``IS NOT DISTINCT FROM`` is not), and a ``LIKE`` prefix
  (``'abc%'`` or a parameter) is a range (PostgreSQL needs ``text_pattern_ops``
  or the C collation for that);
- *the advisor's checks*: HypoPG costs a hypothetical index for free, so the
  PostgreSQL candidates are each column alone (equality, then range, then
  sort columns), then the equality columns followed by the sort columns and
  by the first range column, at most 3 wide; an UPDATE's and a DELETE's own
  WHERE count; the sort is ORDER BY in one direction. SQLite and MySQL
  build each candidate for real, so theirs are one per shape and table: the
  equality columns followed by the first range column, or by the sort
  columns, or alone, at most 4 wide; only SELECTs count; the sort is ORDER BY,
  else GROUP BY, else DISTINCT, in any direction (the re-plan tells); and a
  statement sqlglot cannot read raises :class:`~redline.errors.ConfigError`
  rather than giving nothing (a user asked for its plan).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from redline.errors import ConfigError
from redline.units import one_line

__all__ = [
    "DIALECTS",
    "ColumnsOf",
    "Dialect",
    "IndexCandidate",
    "TableName",
    "filtered_columns",
    "index_candidates",
    "referenced_tables",
    "table_aliases",
]

#: Each table's columns, keyed by the table as the statement names it (``str(TableName)``).
ColumnsOf = Mapping[str, Collection[str]]

#: How much of a statement an error message quotes.
QUOTE_CHARS = 60


@dataclass(frozen=True, kw_only=True)
class Dialect:
    """How one SQL dialect is read, and what its advisor wants (see the module docstring)."""

    #: sqlglot's name for it.
    name: str
    #: Unquoted names fold to lower case (PostgreSQL); elsewhere they are kept as written.
    folds_case: bool
    #: Column names match whatever their case, taking the table's own spelling.
    columns_ignore_case: bool
    #: ``a <=> 1`` (MySQL), ``a IS 1`` (SQLite) are lookups an index serves.
    null_safe_lookup: bool
    #: ``LIKE 'abc%'`` and ``LIKE ?`` are ranges an index serves.
    like_prefix: bool
    #: SQLite's ``?NNN`` and ``$name`` are parameters (sqlglot reads an error and a column).
    sqlite_parameters: bool
    #: Each column alone is a candidate too, not only the combined ones.
    each_column: bool
    #: The widest candidate.
    max_columns: int
    #: An UPDATE's or DELETE's own WHERE is read, not only SELECTs.
    reads_dml: bool
    #: GROUP BY, else DISTINCT, is the sort when there is no ORDER BY.
    grouping_sorts: bool
    #: A sort may mix ASC and DESC.
    mixed_directions: bool
    #: A statement sqlglot cannot read (or more than one) raises ConfigError, not gives nothing.
    strict: bool
    #: Only statements PREPARE takes (SELECT, VALUES, INSERT, UPDATE, DELETE, MERGE) give
    #: candidates, not the queries inside DDL (CREATE VIEW ... AS SELECT): the PostgreSQL
    #: advisor explains each statement through a prepared statement.
    only_preparable: bool


#: The dialects redline reads, by sqlglot's name.
DIALECTS: Mapping[str, Dialect] = {
    "postgres": Dialect(
        name="postgres", folds_case=True, columns_ignore_case=False, null_safe_lookup=False,
        like_prefix=False, sqlite_parameters=False,
        # HypoPG: a hypothetical index costs nothing to try.
        each_column=True, max_columns=3, reads_dml=True, grouping_sorts=False,
        mixed_directions=False, strict=False, only_preparable=True,
    ),
    "mysql": Dialect(
        name="mysql", folds_case=False, columns_ignore_case=True, null_safe_lookup=True,
        like_prefix=True, sqlite_parameters=False,
        # Each candidate is built for real to be checked.
        each_column=False, max_columns=4, reads_dml=False, grouping_sorts=True,
        mixed_directions=True, strict=True, only_preparable=False,
    ),
    "sqlite": Dialect(
        name="sqlite", folds_case=False, columns_ignore_case=True, null_safe_lookup=True,
        like_prefix=True, sqlite_parameters=True,
        each_column=False, max_columns=4, reads_dml=False, grouping_sorts=True,
        mixed_directions=True, strict=True, only_preparable=False,
    ),
}  # fmt: skip

#: What PostgreSQL's PREPARE takes.
_PREPARABLE = (exp.Query, exp.Values, exp.Insert, exp.Update, exp.Delete, exp.Merge)
_RANGE = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
#: SQLite's ``?NNN``: sqlglot reads ``?`` and then a stray number.
_NUMBERED_QUESTION_MARK = re.compile(r"\?\d+")


@dataclass(frozen=True, order=True)
class TableName:
    """A table as a statement names it (PostgreSQL's folding applied: unquoted names lowercased)."""

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
    """The columns of one table one query level filters, joins or sorts on."""

    ignore_case: bool
    equality: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    #: Equality and range columns compared with values (not joins).
    filtered: list[str] = field(default_factory=list)

    def add(self, kind: str, column: str) -> None:
        if kind in ("equality", "range"):
            self._append(self.filtered, column)
        self._append(getattr(self, "equality" if kind == "join" else kind), column)

    def without(self, columns: Iterable[str], leading: Iterable[str]) -> list[str]:
        """``columns`` less those in ``leading``."""
        taken = {self._key(c) for c in leading}
        return [c for c in columns if self._key(c) not in taken]

    def _append(self, columns: list[str], column: str) -> None:
        if self._key(column) not in (self._key(c) for c in columns):
            columns.append(column)

    def _key(self, column: str) -> str:
        return column.lower() if self.ignore_case else column


def index_candidates(
    sql: str, *, dialect: str = "postgres", columns_of: ColumnsOf | None = None
) -> list[IndexCandidate]:
    """Candidate indexes for ``sql`` (see the module docstring for their order and shape).

    Args:
        sql: one statement (SELECT, UPDATE, DELETE, or INSERT ... SELECT).
        dialect: sqlglot's name for its dialect, one of :data:`DIALECTS`.
        columns_of: each table's columns, keyed by the table as the statement names
            it (``str(TableName)``); resolves unqualified columns in joins and drops
            names that are not columns (output aliases in ORDER BY). A table it
            does not list is taken to have every column named.

    Raises:
        ConfigError: ``dialect`` is unknown; in a strict dialect, sqlglot cannot
            read ``sql`` as one statement.

    Example::

        >>> index_candidates("SELECT * FROM orders WHERE customer_id = $1")
        [IndexCandidate(table=TableName(name='orders', schema=None), columns=('customer_id',))]
    """
    rules = _dialect(dialect)
    levels = list(_levels(sql, rules, columns_of or {}))
    if not rules.each_column:
        found = (
            IndexCandidate(table, columns)
            for uses_by_table in levels
            for table, uses in uses_by_table.items()
            for columns in _combined(uses, rules.max_columns)
        )
        return list(dict.fromkeys(found))
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
        for columns in _multi_column(uses, rules.max_columns)
    ]
    return list(dict.fromkeys((*singles, *multis)))


def filtered_columns(
    sql: str, *, dialect: str = "postgres", columns_of: ColumnsOf | None = None
) -> dict[str, list[str]]:
    """Per table name (no schema), the columns ``sql`` compares with values, not joins.

    Without ``columns_of``, an unqualified column is placed only when its query
    level reads one table.

    Raises:
        ConfigError: as :func:`index_candidates`.
    """
    rules = _dialect(dialect)
    result: dict[str, _Uses] = {}
    for uses_by_table in _levels(sql, rules, columns_of or {}):
        for table, uses in uses_by_table.items():
            merged = result.setdefault(table.name, _Uses(rules.columns_ignore_case))
            for column in uses.filtered:
                merged.add("equality", column)
    return {table: uses.filtered for table, uses in result.items() if uses.filtered}


def table_aliases(sql: str, *, dialect: str = "postgres") -> dict[str, str]:
    """Each name a table goes by in ``sql`` (its alias, and its own name) -> the table's name.

    Raises:
        ConfigError: as :func:`index_candidates`.
    """
    rules = _dialect(dialect)
    tree = _parse(sql, rules)
    aliases: dict[str, str] = {}
    for level, *_ in _level_nodes(tree, rules, {}) if tree is not None else ():
        for alias, table in level.sources.items():
            if not table.name:  # a table function
                continue
            name = _table_name(table, rules).name
            aliases.setdefault(alias, name)
            aliases.setdefault(name, name)
    return aliases


def referenced_tables(sql: str, *, dialect: str = "postgres") -> list[TableName]:
    """The tables ``sql`` reads or writes (not its CTEs), in order of appearance.

    Raises:
        ConfigError: as :func:`index_candidates`.
    """
    rules = _dialect(dialect)
    tree = _parse(sql, rules)
    if tree is None:
        return []
    ctes = {
        _name(cte.args["alias"].this, rules)
        for cte in tree.find_all(exp.CTE)
        if cte.args.get("alias")
    }
    tables = (_table_name(t, rules) for t in tree.find_all(exp.Table) if t.name)
    return list(dict.fromkeys(t for t in tables if t.schema or t.name not in ctes))


def _dialect(name: str) -> Dialect:
    rules = DIALECTS.get(name)
    if rules is None:
        raise ConfigError(f"dialect: expected one of {sorted(DIALECTS)}, got {name!r}")
    return rules


def _parse(sql: str, rules: Dialect) -> exp.Expr | None:
    """The one statement in ``sql``; None (or, when strict, ConfigError) if it is not that."""
    text = _NUMBERED_QUESTION_MARK.sub("?", sql) if rules.sqlite_parameters else sql
    try:
        statements = [s for s in sqlglot.parse(text, read=rules.name) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        if not rules.strict:
            return None
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"cannot read {_quote(sql)} as {rules.name} SQL: {first}") from None
    if len(statements) == 1:
        return statements[0]
    if rules.strict:
        raise ConfigError(f"cannot read {_quote(sql)} as {rules.name} SQL: not one statement")
    return None


def _quote(text: str) -> str:
    return repr(one_line(text, QUOTE_CHARS, ellipsis="..."))


def _multi_column(uses: _Uses, max_columns: int) -> Iterator[tuple[str, ...]]:
    """The equality columns followed by the sort columns, and by the first range column."""
    order = uses.without(uses.order, uses.equality)
    first_range = uses.range[:1] if uses.range and uses.range[0] not in uses.equality else []
    for tail in (order, first_range):
        columns = tuple(dict.fromkeys((*uses.equality, *tail)))[:max_columns]
        if len(columns) >= 2:
            yield columns


def _combined(uses: _Uses, max_columns: int) -> Iterator[tuple[str, ...]]:
    """The equality columns followed by the first range column, or the sort, or alone."""
    shapes = []
    if uses.range:
        shapes.append([*uses.equality, *uses.without(uses.range, uses.equality)[:1]])
    if uses.order:
        shapes.append([*uses.equality, *uses.without(uses.order, uses.equality)])
    for shape in shapes or [uses.equality]:
        columns = tuple(dict.fromkeys(shape))[:max_columns]
        if columns:
            yield columns


def _levels(sql: str, rules: Dialect, columns_of: ColumnsOf) -> Iterator[dict[TableName, _Uses]]:
    """Uses by table per query level: each SELECT and (if read) an UPDATE's or DELETE's WHERE."""
    tree = _parse(sql, rules)
    if tree is None:
        return
    for level, where, joins, select in _level_nodes(tree, rules, columns_of):
        yield _uses(level, where, joins, select)


def _level_nodes(
    tree: exp.Expr, rules: Dialect, columns_of: ColumnsOf
) -> Iterator[tuple[_Level, exp.Expr | None, list[exp.Expr | None], exp.Expr]]:
    """Each query level: its tables, its WHERE, its JOIN conditions and its own node."""
    if rules.only_preparable and not isinstance(tree, _PREPARABLE):
        return
    if rules.reads_dml and isinstance(tree, exp.Update | exp.Delete):
        level = _Level(_dml_sources(tree), columns_of, rules)
        yield level, tree.args.get("where"), [], tree
    for top in _top_selects(tree):
        for scope in traverse_scope(top):
            select = scope.expression
            if not isinstance(select, exp.Select):
                continue
            # The tables in its FROM and JOINs (scope.sources also holds CTEs it can see).
            selected = {alias: source for alias, (_, source) in scope.selected_sources.items()}
            sources = {k: v for k, v in selected.items() if isinstance(v, exp.Table)}
            level = _Level(sources, columns_of, rules, others=set(selected) - set(sources))
            joins = [j.args.get("on") for j in select.args.get("joins") or ()]
            yield level, select.args.get("where"), joins, select


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
    columns_of: ColumnsOf
    rules: Dialect
    #: Aliases of derived tables and CTEs at this level (their columns are not a table's).
    others: Collection[str] = ()

    def resolve(self, column: exp.Column) -> tuple[TableName, str] | None:
        if self.is_parameter(column):
            return None
        name = _name(column.this, self.rules)
        if column.table:
            source = self.sources.get(column.table) or self.sources.get(column.table.lower())
            if source is None:
                return None
            return self._checked(_table_name(source, self.rules), name)
        if self.others:
            return None
        tables = list(dict.fromkeys(_table_name(t, self.rules) for t in self.sources.values()))
        if len(tables) == 1:
            return self._checked(tables[0], name)
        having = [(t, c) for t in tables if (c := self._spelled(t, name)) is not None]
        return having[0] if len(having) == 1 else None

    def local(self, node: exp.Expr) -> bool:
        """Whether ``node`` names a column of this level (not an outer query's)."""
        return any(
            not c.table or c.table in self.sources or c.table in self.others
            for c in _own_columns(node)
            if not self.is_parameter(c)
        )

    def is_parameter(self, column: exp.Column) -> bool:
        """SQLite's ``$name``, which sqlglot reads as a column."""
        identifier = column.this
        return (
            self.rules.sqlite_parameters
            and not column.table
            and isinstance(identifier, exp.Identifier)
            and not identifier.quoted
            and str(identifier.this).startswith("$")
        )

    def _checked(self, table: TableName, column: str) -> tuple[TableName, str] | None:
        if str(table) not in self.columns_of:
            return table, column
        spelled = self._spelled(table, column)
        return None if spelled is None else (table, spelled)

    def _spelled(self, table: TableName, column: str) -> str | None:
        """The table's own spelling of ``column``, if it has it (and its columns are known)."""
        known = self.columns_of.get(str(table), ())
        if not self.rules.columns_ignore_case:
            return column if column in known else None
        return {c.lower(): c for c in known}.get(column.lower())


def _uses(
    level: _Level,
    where: exp.Expr | None,
    joins: Iterable[exp.Expr | None],
    select: exp.Expr,
) -> dict[TableName, _Uses]:
    uses: dict[TableName, _Uses] = {}

    def note(kind: str, resolved: tuple[TableName, str] | None) -> None:
        if resolved is not None:
            table = uses.setdefault(resolved[0], _Uses(level.rules.columns_ignore_case))
            table.add(kind, resolved[1])

    conditions = [where.this if isinstance(where, exp.Where) else where, *joins]
    for condition in conditions:
        for conjunct in _conjuncts(condition):
            for kind, column in _predicate_columns(conjunct, level):
                note(kind, level.resolve(column))
    for column in _sort_columns(select, level):
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
    """(kind, column) for each indexable column of one predicate: equality, range or join."""
    rules = level.rules
    subject = predicate.this.unnest() if isinstance(predicate.this, exp.Expr) else None
    if isinstance(predicate, exp.In | exp.Is | exp.Between | exp.Like):
        if not isinstance(subject, exp.Column) or predicate.args.get("negate"):
            return
        if isinstance(predicate, exp.Like):
            if rules.like_prefix and _prefix_pattern(predicate.expression, level):
                yield "range", subject
        else:
            yield ("range" if isinstance(predicate, exp.Between) else "equality"), subject
        return
    equalities = (exp.EQ, exp.NullSafeEQ) if rules.null_safe_lookup else (exp.EQ,)
    if not isinstance(predicate, equalities + _RANGE):
        return
    kind = "equality" if isinstance(predicate, equalities) else "range"
    left, right = predicate.this.unnest(), predicate.expression.unnest()
    for side, other in ((left, right), (right, left)):
        if not isinstance(side, exp.Column) or level.is_parameter(side):
            continue
        if not level.local(other):
            yield kind, side
        elif kind == "equality" and isinstance(other, exp.Column):
            joined = _joined(side, other, level)
            if joined is not None:
                yield joined, side


def _prefix_pattern(pattern: exp.Expr, level: _Level) -> bool:
    """A parameter, or a string that does not start with a wildcard."""
    if isinstance(pattern, exp.Placeholder | exp.Parameter):
        return True
    if isinstance(pattern, exp.Column):
        return level.is_parameter(pattern)
    return (
        isinstance(pattern, exp.Literal)
        and pattern.is_string
        and not pattern.this.startswith(("%", "_"))
    )


def _joined(column: exp.Column, other: exp.Column, level: _Level) -> str | None:
    """How ``column = other`` uses ``column``, both of this level: a lookup key for its table
    when ``other`` is of another table ("join") or of a CTE or derived table, whose rows
    come as values ("equality"); None for two columns of one table."""
    mine, theirs = level.resolve(column), level.resolve(other)
    if mine is None:
        return None
    if theirs is None:
        return "equality"
    return "join" if mine[0] != theirs[0] else None


def _sort_columns(select: exp.Expr, level: _Level) -> list[exp.Column]:
    """The sort's columns when they are all plain columns of one table (and in one direction,
    unless the dialect allows mixing)."""
    items = _sort_items(select, level.rules)
    if not items:
        return []
    aliases = {e.alias for e in select.expressions if isinstance(e, exp.Alias)}
    nodes = [(i.this if isinstance(i, exp.Ordered) else i).unnest() for i in items]
    columns = [
        n
        for n in nodes
        if isinstance(n, exp.Column)
        and not level.is_parameter(n)
        and (n.table or n.name not in aliases)
    ]
    directions = {bool(i.args.get("desc")) for i in items if isinstance(i, exp.Ordered)}
    if len(columns) != len(items) or (len(directions) > 1 and not level.rules.mixed_directions):
        return []
    tables = {resolved[0] if (resolved := level.resolve(c)) else None for c in columns}
    return columns if len(tables) == 1 and None not in tables else []


def _sort_items(select: exp.Expr, rules: Dialect) -> list[exp.Expr]:
    """ORDER BY's items; for a dialect with grouping sorts, else GROUP BY's, else DISTINCT's."""
    order = select.args.get("order")
    if isinstance(order, exp.Order):
        return list(order.expressions)
    if not rules.grouping_sorts or not isinstance(select, exp.Select):
        return []
    group = select.args.get("group")
    if isinstance(group, exp.Group):
        return list(group.expressions)
    if select.args.get("distinct") is not None:
        return [e.unalias() for e in select.expressions]
    return []


def _own_columns(node: exp.Expr) -> Iterator[exp.Column]:
    """Columns in ``node`` outside any subquery it holds."""
    for column in node.find_all(exp.Column):
        if column.find_ancestor(exp.Query) is node.find_ancestor(exp.Query):
            yield column


def _table_name(table: exp.Table, rules: Dialect) -> TableName:
    schema = _name(table.args["db"], rules) if table.args.get("db") else None
    return TableName(_name(table.this, rules), schema)


def _name(identifier: exp.Expr, rules: Dialect) -> str:
    """A name as the dialect reads it: in PostgreSQL, unquoted ones lowercased."""
    if isinstance(identifier, exp.Identifier):
        text = str(identifier.this)
        return text.lower() if rules.folds_case and not identifier.quoted else text
    name = str(identifier.name)
    return name.lower() if rules.folds_case else name
