"""The index advisor on a real PostgreSQL 15 with HypoPG: planted missing indexes are found,
present ones are not advised again, and no hypothetical index outlives a call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from redline.errors import ConfigError, TargetError
from redline.optimize import ChangeKind
from redline.plan import parse_dsn
from redline.probes import _hypopg
from redline.probes._hypopg import IndexAdvice, advise_indexes, index_name
from redline.probes._pg_analysis import PostgresAnalysis, analyze_postgres

ROWS = 300_000
BY_CUSTOMER = "SELECT * FROM orders WHERE customer_id = $1"
BY_REGION_AND_CATEGORY = "SELECT * FROM orders WHERE region = $1 AND category = $2"


@pytest.fixture
def conn(pg_database: str) -> Iterator[psycopg.Connection[Any]]:
    """orders (300,000 rows: 10,000 customers, 1,000 stores, 100 regions, 97 categories)."""
    dsn = parse_dsn(pg_database)
    with psycopg.connect(
        host=dsn.host,
        port=dsn.port,
        dbname=dsn.database,
        user=dsn.user,
        password=dsn.password(),
        autocommit=True,
    ) as connection:
        connection.execute(
            "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, status text, "
            "created_at timestamptz, region int, category int, store int)"
        )
        connection.execute(
            "INSERT INTO orders SELECT i, (i * 7919) % 10000, "
            "(ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + i % 4], "
            "timestamptz '2024-01-01' + ((i * 104729) % 300000) * interval '1 minute', "
            "(i * 13) % 100, (i * 17) % 97, (i * 31) % 1000 "
            f"FROM generate_series(1::bigint, {ROWS}) i"
        )
        connection.execute("ANALYZE orders")
        yield connection


def hypothetical_indexes(conn: psycopg.Connection[Any]) -> list[Any]:
    return conn.execute("SELECT * FROM hypopg_list_indexes").fetchall()


def test_a_missing_index_on_one_column_is_advised_and_works(conn: psycopg.Connection[Any]) -> None:
    # The statement as pg_stat_statements keeps it: constants replaced by $1.
    conn.execute("SELECT * FROM orders WHERE customer_id = 42")
    row = conn.execute(
        "SELECT query FROM pg_stat_statements WHERE query LIKE 'SELECT * FROM orders WHERE%'"
    ).fetchone()
    assert row == (BY_CUSTOMER,)
    [advice] = advise_indexes(conn, [BY_CUSTOMER])
    assert (advice.schema, advice.table, advice.columns) == ("public", "orders", ("customer_id",))
    assert advice.gain >= 0.5
    assert advice.cost_after < advice.cost_before
    assert advice.queries == (BY_CUSTOMER,)
    assert advice.ddl == (
        'CREATE INDEX CONCURRENTLY "redline_orders_customer_id_idx" ON "public"."orders" '
        '("customer_id")'
    )
    assert hypothetical_indexes(conn) == []
    # The change it describes applies, verifies and undoes for real.
    change = advice.to_change()
    assert change.kind is ChangeKind.INDEX
    assert "s3cret" not in change.target and change.target.endswith(conn.info.dbname)
    conn.execute(change.apply)  # type: ignore[arg-type]
    assert conn.execute(change.verify).fetchone() == (True,)  # type: ignore[arg-type]
    assert advise_indexes(conn, [BY_CUSTOMER]) == []  # present now: not advised again
    conn.execute(change.undo)  # type: ignore[arg-type]
    assert conn.execute(change.verify).fetchone() is None  # type: ignore[arg-type]


def test_two_equalities_get_the_two_column_index(conn: psycopg.Connection[Any]) -> None:
    # Neither column alone halves the cost (100 and 97 values); together they do.
    [advice] = advise_indexes(conn, [BY_REGION_AND_CATEGORY])
    assert advice.columns == ("region", "category")
    assert advice.gain >= 0.5
    assert advice.index_name == "redline_orders_region_category_idx"


def test_the_single_column_index_wins_unless_the_wider_one_gains_clearly_more(
    conn: psycopg.Connection[Any],
) -> None:
    # (customer_id) leaves ~2% of the cost (30 rows); with status ~0.5%: not worth a wider index.
    narrow = "SELECT * FROM orders WHERE customer_id = $1 AND status = $2"
    # (store) leaves ~14% (300 rows); with category ~0.3%: 13 points more, over the 10 needed.
    wide = "SELECT * FROM orders WHERE store = $1 AND category = $2"
    advice = advise_indexes(conn, [narrow, wide])
    assert sorted(a.columns for a in advice) == [("customer_id",), ("store", "category")]


def test_a_well_indexed_workload_gets_no_advice(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE INDEX ON orders (customer_id)")
    conn.execute("CREATE INDEX ON orders (region, category)")
    workload = [
        "SELECT * FROM orders WHERE id = $1",
        BY_CUSTOMER,
        BY_REGION_AND_CATEGORY,
        "SELECT count(*) FROM orders",
        "BEGIN",
        "SELECT 1",
    ]
    assert advise_indexes(conn, workload) == []
    assert hypothetical_indexes(conn) == []


def test_an_index_that_starts_with_the_columns_is_not_duplicated(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute("CREATE INDEX orders_customer_created ON orders (customer_id, created_at)")
    assert advise_indexes(conn, [BY_CUSTOMER]) == []
    # A partial index does not serve every customer: it does not count.
    conn.execute("DROP INDEX orders_customer_created")
    conn.execute("CREATE INDEX ON orders (customer_id) WHERE status = 'new'")
    assert [a.columns for a in advise_indexes(conn, [BY_CUSTOMER])] == [("customer_id",)]


def test_statements_sharing_an_index_are_served_by_one(conn: psycopg.Connection[Any]) -> None:
    update = "UPDATE orders SET status = $1 WHERE customer_id = $2"
    [advice] = advise_indexes(conn, [BY_CUSTOMER, update, BY_CUSTOMER])
    assert advice.queries == (BY_CUSTOMER, update)
    assert advice.to_dict()["queries"] == [BY_CUSTOMER, update]


def test_hypothetical_indexes_are_gone_even_when_explaining_fails(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = _hypopg.explain

    def failing_after_the_baseline(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(args[1])
        if len(calls) > 1:
            assert hypothetical_indexes(conn) != []  # one is there when it fails
            raise TargetError("server went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(_hypopg, "explain", failing_after_the_baseline)
    with pytest.raises(TargetError, match="server went away"):
        advise_indexes(conn, [BY_CUSTOMER])
    assert hypothetical_indexes(conn) == []
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_heavy_writes_drop_or_annotate_the_advice(conn: psycopg.Connection[Any]) -> None:
    [plain] = advise_indexes(conn, [BY_CUSTOMER])
    saving_per_call = plain.cost_before - plain.cost_after  # about 5,700 cost units
    once_a_second = {BY_CUSTOMER: 1.0}
    # Upkeep: writes/s x random_page_cost (4). Dropped when it reaches the saving...
    heavy = {"orders": saving_per_call / 4 * 1.1}
    assert advise_indexes(conn, [BY_CUSTOMER], writes_per_s=heavy, calls_per_s=once_a_second) == []
    # ...noted from a tenth of it...
    some = {"public.orders": saving_per_call / 4 * 0.5}
    [noted] = advise_indexes(conn, [BY_CUSTOMER], writes_per_s=some, calls_per_s=once_a_second)
    assert noted.write_note is not None and "50% of what it saves" in noted.write_note
    # ...and left alone below.
    [quiet] = advise_indexes(
        conn, [BY_CUSTOMER], writes_per_s={"orders": 1.0}, calls_per_s=once_a_second
    )
    assert quiet.write_note is None
    # Without call rates, a busy table only gets a note.
    [unknown] = advise_indexes(conn, [BY_CUSTOMER], writes_per_s={"orders": 500.0})
    assert unknown.write_note is not None and "call rates are unknown" in unknown.write_note


def test_bad_settings_and_a_missing_hypopg_are_refused(conn: psycopg.Connection[Any]) -> None:
    for bad in (0.0, 1.0, -0.5):
        with pytest.raises(ConfigError, match=rf"min_gain: expected a share .* got {bad!r}"):
            advise_indexes(conn, [BY_CUSTOMER], min_gain=bad)
    conn.execute("DROP EXTENSION hypopg")
    with pytest.raises(ConfigError, match="needs the hypopg extension") as caught:
        advise_indexes(conn, [BY_CUSTOMER])
    assert caught.value.hint is not None and "CREATE EXTENSION hypopg" in caught.value.hint


def test_index_names_are_deterministic_and_fit_postgresql() -> None:
    assert index_name("orders", ["customer_id"]) == "redline_orders_customer_id_idx"
    long = index_name("order_line_items_archive", ["warehouse_location_id", "shipped_at"])
    assert len(long.encode()) <= 63 and long.endswith("_idx")
    assert long == index_name("order_line_items_archive", ["warehouse_location_id", "shipped_at"])
    assert long != index_name("order_line_items_archive", ["warehouse_location_id", "shipped_on"])


def test_advice_with_odd_names_quotes_them(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE SCHEMA "Shop"')
    conn.execute(
        'CREATE TABLE "Shop"."Line Items" AS SELECT i AS "OrderId", i % 7 AS kind '
        "FROM generate_series(1, 100000) i"
    )
    conn.execute('ANALYZE "Shop"."Line Items"')
    [advice] = advise_indexes(conn, ['SELECT * FROM "Shop"."Line Items" WHERE "OrderId" = $1'])
    assert isinstance(advice, IndexAdvice)
    assert advice.ddl == (
        'CREATE INDEX CONCURRENTLY "redline_Line Items_OrderId_idx" ON "Shop"."Line Items" '
        '("OrderId")'
    )
    conn.execute(advice.to_change().apply)  # type: ignore[arg-type]
    assert conn.execute(advice.to_change().verify).fetchone() == (True,)  # type: ignore[arg-type]


# --- The analysis weighs advice against the write rates it reads -----------------------------

#: Reads of BY_CUSTOMER: each saves about 5,700 planner cost units with the index.
READS = 20
#: Rows updated by each write statement, and how many statements: 100,000 rows written,
#: whose upkeep (x random_page_cost 4) outweighs READS x 5,700 = 114,000 saved.
ROWS_PER_WRITE, WRITES = 1_000, 100


def read_by_customer(conn: psycopg.Connection[Any]) -> None:
    for customer in range(READS):
        conn.execute("SELECT * FROM orders WHERE customer_id = %s", (customer,))


def write_orders(conn: psycopg.Connection[Any]) -> None:
    update = "UPDATE orders SET status = %s WHERE id BETWEEN %s AND %s"
    for n in range(WRITES):
        conn.execute(update, ("paid", n * ROWS_PER_WRITE + 1, (n + 1) * ROWS_PER_WRITE))


def reset_statistics(conn: psycopg.Connection[Any]) -> None:
    """Counting starts now: the load's 300,000 inserts are not the workload's writes."""
    flush_statistics(conn)  # else the load's counts arrive after the reset
    conn.execute("SELECT pg_stat_reset()")
    conn.execute("SELECT pg_stat_statements_reset()")


def flush_statistics(conn: psycopg.Connection[Any]) -> None:
    """This backend's table counts reach the shared statistics as it goes idle after this
    (otherwise up to a second later)."""
    conn.execute("SELECT pg_stat_force_next_flush()")


def analysed(pg_database: str, conn: psycopg.Connection[Any]) -> PostgresAnalysis:
    flush_statistics(conn)
    return analyze_postgres(parse_dsn(pg_database), plans=5)


def by_customer(analysis: PostgresAnalysis) -> list[IndexAdvice]:
    return [a for a in analysis.advice if a.columns == ("customer_id",)]


def test_the_analysis_advises_the_index_for_a_table_that_is_only_read(
    pg_database: str, conn: psycopg.Connection[Any]
) -> None:
    reset_statistics(conn)
    read_by_customer(conn)
    analysis = analysed(pg_database, conn)
    [advice] = by_customer(analysis)
    assert advice.queries == (BY_CUSTOMER,) and advice.write_note is None
    assert not [n for n in analysis.notes if "index advice" in n]


def test_the_analysis_drops_the_index_for_a_table_written_more_than_it_saves(
    pg_database: str, conn: psycopg.Connection[Any]
) -> None:
    reset_statistics(conn)
    read_by_customer(conn)
    write_orders(conn)
    analysis = analysed(pg_database, conn)
    assert BY_CUSTOMER in [q.query for q in analysis.top[:5]]  # it was weighed...
    assert by_customer(analysis) == []  # ...and its upkeep outweighed the saving
    assert not [n for n in analysis.notes if "index advice" in n]


def test_writes_counted_since_the_database_began_note_the_advice_but_never_drop_it(
    pg_database: str, conn: psycopg.Connection[Any]
) -> None:
    # A fresh database has no pg_stat_database.stats_reset: its counts go back to its
    # creation (the load's 300,000 inserts), averaged over pg_stat_statements' span.
    assert conn.execute(
        "SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone() == (None,)
    read_by_customer(conn)
    analysis = analysed(pg_database, conn)
    assert not [n for n in analysis.notes if "write rates unknown" in n]
    [advice] = by_customer(analysis)  # the load outweighs 20 reads, but may be one-off
    assert advice.write_note is not None and "never reset" in advice.write_note
    assert "of what it saves" in advice.write_note
