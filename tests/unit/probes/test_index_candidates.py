"""Index candidates read from SQL: columns by table, single-column first, then multi-column."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.probes._index_candidates import (
    IndexCandidate,
    TableName,
    filtered_columns,
    index_candidates,
    referenced_tables,
    table_aliases,
)


def shown(sql: str, **options: object) -> list[str]:
    return [str(c) for c in index_candidates(sql, **options)]  # type: ignore[arg-type]


def test_an_equality_on_a_placeholder_gives_one_single_column_candidate() -> None:
    assert index_candidates("SELECT * FROM orders WHERE customer_id = $1") == [
        IndexCandidate(TableName("orders"), ("customer_id",))
    ]


def test_equalities_come_first_then_range_and_order_columns() -> None:
    sql = "SELECT * FROM orders WHERE created_at > $2 AND status = $1 ORDER BY created_at"
    assert shown(sql) == ["orders (status)", "orders (created_at)", "orders (status, created_at)"]


def test_two_equalities_give_both_singles_and_the_pair() -> None:
    sql = "SELECT * FROM orders WHERE region = $1 AND category = $2"
    assert shown(sql) == ["orders (region)", "orders (category)", "orders (region, category)"]


def test_an_order_by_and_a_different_range_column_give_two_multi_column_candidates() -> None:
    sql = "SELECT * FROM orders WHERE status = $1 AND amount > $2 ORDER BY created_at LIMIT 20"
    assert shown(sql)[-2:] == ["orders (status, created_at)", "orders (status, amount)"]


def test_multi_column_candidates_are_at_most_three_wide() -> None:
    sql = "SELECT * FROM t WHERE a = 1 AND b = 2 AND c = 3 AND d = 4"
    assert shown(sql)[-1] == "t (a, b, c)"


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("a IN ($1, $2)", "t (a)"),
        ("a = ANY($1)", "t (a)"),
        ("a IS NULL", "t (a)"),
        ("a BETWEEN $1 AND $2", "t (a)"),
        ("a <= now()", "t (a)"),
        ("$1 > a", "t (a)"),
        ("(a = 1)", "t (a)"),
    ],
)
def test_indexable_predicates(predicate: str, expected: str) -> None:
    assert shown(f"SELECT * FROM t WHERE {predicate}") == [expected]


@pytest.mark.parametrize(
    "predicate",
    [
        "lower(email) = $1",  # an expression: needs an expression index
        "a = 1 OR b = 2",
        "NOT a = 1",
        "a IS NOT NULL",
        "name LIKE 'abc%'",
        "a = b",  # two columns of one row: no lookup key
        "a > b",
    ],
)
def test_predicates_left_out(predicate: str) -> None:
    assert shown(f"SELECT * FROM t WHERE {predicate}") == []


def test_join_columns_are_resolved_through_aliases_each_for_its_table() -> None:
    sql = (
        "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.status = $1 AND c.region = $2"
    )
    assert shown(sql) == [
        "orders (status)",
        "orders (customer_id)",
        "customers (region)",
        "customers (id)",
        "orders (status, customer_id)",
        "customers (region, id)",
    ]


def test_unqualified_columns_of_a_join_need_the_tables_columns() -> None:
    sql = "SELECT * FROM t1, t2 WHERE t1.x = t2.y AND z = 1"
    assert shown(sql) == ["t1 (x)", "t2 (y)"]
    known = {"t1": ["x"], "t2": ["y", "z"]}
    assert shown(sql, columns_of=known) == ["t1 (x)", "t2 (y)", "t2 (z)", "t2 (y, z)"]


def test_columns_a_table_lacks_are_dropped_when_its_columns_are_known() -> None:
    sql = "SELECT * FROM orders WHERE customer_id = $1 AND nope = 2"
    assert shown(sql, columns_of={"orders": ["id", "customer_id"]}) == ["orders (customer_id)"]


def test_subqueries_and_ctes_give_candidates_on_their_own_tables() -> None:
    sql = (
        "WITH recent AS (SELECT * FROM orders WHERE created_at > $1) "
        "SELECT * FROM recent r JOIN items i ON i.order_id = r.id "
        "WHERE r.customer_id IN (SELECT id FROM customers WHERE region = $2)"
    )
    assert sorted(shown(sql)) == ["customers (region)", "items (order_id)", "orders (created_at)"]


def test_a_correlated_reference_is_a_value_for_the_inner_query() -> None:
    sql = "SELECT s.id, (SELECT count(*) FROM hf WHERE hf.id = s.id) FROM small s"
    assert shown(sql) == ["hf (id)"]


def test_order_by_needs_plain_columns_of_one_table_in_one_direction() -> None:
    assert shown("SELECT * FROM t ORDER BY a, b") == ["t (a)", "t (b)", "t (a, b)"]
    assert shown("SELECT * FROM t ORDER BY a DESC, b DESC")[-1] == "t (a, b)"
    assert shown("SELECT * FROM t ORDER BY a DESC, b") == []
    assert shown("SELECT * FROM t ORDER BY lower(a)") == []
    assert shown("SELECT g, sum(x) AS total FROM t GROUP BY g ORDER BY total") == []


def test_update_and_delete_use_their_where_and_joined_tables() -> None:
    assert shown("UPDATE orders SET status = $1 WHERE id = $2") == ["orders (id)"]
    delete = "DELETE FROM orders o USING customers c WHERE c.id = o.customer_id AND c.region = $1"
    assert shown(delete) == [
        "customers (id)",
        "customers (region)",
        "orders (customer_id)",
        "customers (id, region)",
    ]
    assert shown("INSERT INTO log SELECT * FROM events WHERE kind = $1") == ["events (kind)"]


def test_quoted_names_keep_their_case_and_unquoted_ones_fold() -> None:
    sql = 'SELECT * FROM Shop."Orders" WHERE "CustomerId" = $1 AND Status = $2'
    [first, second, pair] = index_candidates(sql)
    assert first.table == TableName("Orders", "shop")
    assert (first.columns, second.columns, pair.columns) == (
        ("CustomerId",),
        ("status",),
        ("CustomerId", "status"),
    )


def test_what_cannot_be_parsed_or_indexed_gives_nothing() -> None:
    assert index_candidates("SELEKT * FROM (((") == []
    assert index_candidates("SELECT 1; SELECT 2") == []
    assert index_candidates("INSERT INTO t VALUES ($1)") == []
    assert index_candidates("BEGIN") == []


def test_referenced_tables_leave_out_ctes() -> None:
    sql = "WITH x AS (SELECT * FROM public.orders) SELECT * FROM x JOIN items ON true"
    assert referenced_tables(sql) == [TableName("items"), TableName("orders", "public")]
    assert referenced_tables("not sql (((") == []


# --- What differs by dialect ----------------------------------------------------------------


def in_dialect(dialect: str, sql: str, **options: object) -> list[str]:
    return shown(sql, dialect=dialect, **options)


@pytest.mark.parametrize(
    ("dialect", "placeholder"),
    [
        ("postgres", "$1"),  # pg_stat_statements
        ("postgres", "%s"),  # psycopg
        ("postgres", "%(customer)s"),
        ("mysql", "?"),  # performance_schema digests
        ("sqlite", "?"),
        ("sqlite", "?2"),  # sqlglot reads ?NNN as an error
        ("sqlite", ":customer"),
        ("sqlite", "@customer"),
        ("sqlite", "$customer"),  # sqlglot reads $name as a column
    ],
)
def test_each_dialects_placeholders_are_values(dialect: str, placeholder: str) -> None:
    sql = f"SELECT * FROM orders WHERE customer_id = {placeholder}"
    assert in_dialect(dialect, sql) == ["orders (customer_id)"]


def test_a_dollar_name_is_a_column_in_mysql_and_a_parameter_in_sqlite() -> None:
    sql = "SELECT * FROM t WHERE a = $b"
    assert in_dialect("mysql", sql) == []  # two columns of one row
    assert in_dialect("sqlite", sql) == ["t (a)"]


@pytest.mark.parametrize("dialect", ["mysql", "sqlite"])
def test_a_like_prefix_is_a_range_in_mysql_and_sqlite(dialect: str) -> None:
    assert in_dialect(dialect, "SELECT * FROM t WHERE a = 1 AND name LIKE 'ab%'") == ["t (a, name)"]
    assert in_dialect(dialect, "SELECT * FROM t WHERE name LIKE ?") == ["t (name)"]
    assert in_dialect(dialect, "SELECT * FROM t WHERE name LIKE '%ab'") == []
    assert in_dialect("postgres", "SELECT * FROM t WHERE name LIKE 'ab%'") == []


def test_null_safe_equality_is_a_lookup_except_in_postgres() -> None:
    assert in_dialect("mysql", "SELECT * FROM t WHERE a <=> ?") == ["t (a)"]
    assert in_dialect("sqlite", "SELECT * FROM t WHERE a IS ?") == ["t (a)"]
    assert in_dialect("postgres", "SELECT * FROM t WHERE a IS NOT DISTINCT FROM $1") == []


def test_names_fold_in_postgres_and_keep_their_case_elsewhere() -> None:
    sql = "SELECT * FROM Orders WHERE Status = 1"
    assert in_dialect("postgres", sql) == ["orders (status)"]
    assert in_dialect("mysql", sql) == ["Orders (Status)"]
    # MySQL and SQLite column names match whatever their case: the table's spelling wins.
    known = {"Orders": ["id", "status"]}
    assert in_dialect("sqlite", sql, columns_of=known) == ["Orders (status)"]
    assert in_dialect("postgres", 'SELECT * FROM t WHERE "A" = 1', columns_of={"t": ["a"]}) == []


def test_built_candidates_are_one_per_shape_and_up_to_four_wide() -> None:
    sql = "SELECT * FROM t WHERE a = 1 AND b = 2 AND c > 3 ORDER BY d"
    assert in_dialect("sqlite", sql) == ["t (a, b, c)", "t (a, b, d)"]
    assert in_dialect("postgres", sql)[-2:] == ["t (a, b, d)", "t (a, b, c)"]
    wide = "SELECT * FROM t WHERE a = 1 AND b = 2 AND c = 3 AND d = 4 AND e = 5"
    assert in_dialect("mysql", wide) == ["t (a, b, c, d)"]


def test_group_by_and_distinct_sort_only_for_built_candidates() -> None:
    assert in_dialect("sqlite", "SELECT status, count(*) FROM t GROUP BY status") == ["t (status)"]
    assert in_dialect("mysql", "SELECT DISTINCT region FROM t") == ["t (region)"]
    assert in_dialect("postgres", "SELECT status, count(*) FROM t GROUP BY status") == []
    # Mixed directions: the re-plan tells for SQLite and MySQL; PostgreSQL leaves them out.
    assert in_dialect("sqlite", "SELECT * FROM t ORDER BY a DESC, b") == ["t (a, b)"]
    assert in_dialect("postgres", "SELECT * FROM t ORDER BY a DESC, b") == []


def test_an_updates_own_where_counts_only_for_postgres() -> None:
    sql = "UPDATE orders SET status = ? WHERE customer_id = ?"
    assert in_dialect("postgres", sql) == ["orders (customer_id)"]
    assert in_dialect("sqlite", sql) == []


@pytest.mark.parametrize("dialect", ["mysql", "sqlite"])
def test_what_cannot_be_read_is_an_error_where_a_plan_was_asked_for(dialect: str) -> None:
    with pytest.raises(ConfigError, match=rf"cannot read 'SELEKT \* FROM \(\(\(' as {dialect} SQL"):
        index_candidates("SELEKT * FROM (((", dialect=dialect)
    with pytest.raises(ConfigError, match="not one statement"):
        table_aliases("SELECT 1; SELECT 2", dialect=dialect)
    assert index_candidates("SELEKT * FROM (((", dialect="postgres") == []


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"dialect: expected one of .*'sqlite'.*, got 'oracle'"):
        index_candidates("SELECT 1", dialect="oracle")


def test_filtered_columns_and_table_aliases_leave_joins_out() -> None:
    sql = (
        "SELECT * FROM main.orders o JOIN items i ON i.order_id = o.id "
        "WHERE o.status = ? AND i.qty > 3"
    )
    assert filtered_columns(sql, dialect="sqlite") == {"orders": ["status"], "items": ["qty"]}
    assert table_aliases(sql, dialect="sqlite") == {
        "o": "orders",
        "orders": "orders",
        "i": "items",
        "items": "items",
    }


def test_postgres_reads_only_statements_it_can_prepare_and_explain() -> None:
    view = "CREATE VIEW v AS SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id"
    assert index_candidates(view) == []
    assert shown("INSERT INTO log SELECT * FROM events WHERE kind = $1") == ["events (kind)"]
