"""PostgresProbe on a throwaway PostgreSQL 15: the statements that took the time, and its errors."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from redline.errors import ConfigError, TargetError
from redline.plan import parse_dsn
from redline.probes._postgres import (
    REDLINE_MARK,
    PostgresProbe,
    QueryStats,
    _is_loopback,
    _query_error,
    read_machine,
    statements_delta,
)

HEAVY = "SELECT count(*) FROM items WHERE v %% 7 = %s"
LIGHT = "SELECT v FROM items WHERE id = %s"
#: The password of the role the wrong-password test makes; neither it nor the wrong one shows.
RIGHT_PASSWORD = "r1ght-pw-42"
WRONG_PASSWORD = "wr0ng-pw-99"


def connect(dsn_text: str, **kwargs: Any) -> psycopg.Connection[Any]:
    dsn = parse_dsn(dsn_text)
    return psycopg.connect(
        host=dsn.host,
        port=dsn.port,
        dbname=dsn.database,
        user=dsn.user,
        password=dsn.password(),
        autocommit=True,
        **kwargs,
    )


def make_items(dsn_text: str, rows: int = 300_000) -> None:
    """A table of ``rows`` rows, and this database's statement statistics reset."""
    with connect(dsn_text) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, v int, note text)")
        conn.execute(
            "INSERT INTO items SELECT g, g %% 1000, 'note ' || g FROM generate_series(1, %s) AS g",
            (rows,),
        )
        conn.execute("ANALYZE items")
        conn.execute(
            "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database "
            "WHERE datname = current_database()), 0)"
        )


def run(dsn_text: str, statement: str, values: range) -> None:
    with connect(dsn_text) as conn:
        for value in values:
            conn.execute(statement, (value,))


def by_text(stats: Iterator[QueryStats] | list[QueryStats], fragment: str) -> QueryStats:
    return next(q for q in stats if fragment in q.query)


def test_top_queries_by_total_time_leave_out_redline(pg_database: str) -> None:
    make_items(pg_database)
    run(pg_database, HEAVY, range(8))
    run(pg_database, LIGHT, range(1, 51))
    with PostgresProbe(parse_dsn(pg_database)) as pg:
        pg.health()  # redline's own statements must not show below
        top = pg.top_queries(limit=5)
        by_calls = pg.top_queries(limit=1, order_by="calls")
    heavy, light = by_text(top, "count(*)"), by_text(top, "WHERE id = $1")
    assert top[0] == heavy
    assert [q.total_ms for q in top] == sorted((q.total_ms for q in top), reverse=True)
    assert heavy.query == "SELECT count(*) FROM items WHERE v % $2 = $1"
    assert (heavy.calls, heavy.rows) == (8, 8)
    assert heavy.mean_ms == pytest.approx(heavy.total_ms / 8)
    assert heavy.shared_hit + heavy.shared_read >= 8 * 1000  # the table is ~2,000 pages
    assert (light.calls, light.rows) == (50, 50)
    assert by_calls == [light]
    assert not any(q.query.startswith(REDLINE_MARK) for q in top)
    assert set(heavy.to_dict()) >= {"queryid", "query", "calls", "total_ms", "temp_written"}


def test_top_queries_rejects_bad_arguments(pg_database: str) -> None:
    with PostgresProbe(parse_dsn(pg_database)) as pg:
        with pytest.raises(ConfigError, match=r"order_by must be one of total, .*; got 'slow'"):
            pg.top_queries(order_by="slow")
        with pytest.raises(ConfigError, match=r"limit must be 1 or more; got 0"):
            pg.top_queries(limit=0)


def test_snapshot_delta_counts_only_what_ran_in_between(pg_database: str) -> None:
    make_items(pg_database, rows=50_000)
    run(pg_database, HEAVY, range(4))
    run(pg_database, "SELECT max(v) FROM items WHERE id < %s", range(100, 103))
    with PostgresProbe(parse_dsn(pg_database)) as pg:
        before = pg.statements_snapshot()
        run(pg_database, HEAVY, range(3))
        run(pg_database, LIGHT, range(1, 3))
        after = pg.statements_snapshot()
    delta = statements_delta(before, after)
    assert sorted((q.query, q.calls) for q in delta) == [
        ("SELECT count(*) FROM items WHERE v % $2 = $1", 3),
        ("SELECT v FROM items WHERE id = $1", 2),
    ]
    heavy_before = by_text(iter(before.values()), "count(*)")
    heavy = by_text(delta, "count(*)")
    assert heavy.total_ms == pytest.approx(after[heavy.queryid].total_ms - heavy_before.total_ms)
    assert heavy.mean_ms == pytest.approx(heavy.total_ms / 3)


def stats(queryid: int, calls: int, total_ms: float) -> QueryStats:
    return QueryStats(
        queryid, f"q{queryid}", calls, total_ms, total_ms / calls, calls, 10 * calls, calls, 0, 0
    )


def test_statements_delta_new_reset_and_idle_statements() -> None:
    before = {1: stats(1, 10, 100.0), 2: stats(2, 50, 500.0), 3: stats(3, 5, 5.0)}
    after = {1: stats(1, 14, 140.0), 2: stats(2, 7, 70.0), 3: stats(3, 5, 5.0), 4: stats(4, 2, 9.0)}
    delta = {q.queryid: q for q in statements_delta(before, after)}
    assert set(delta) == {1, 2, 4}  # 3 did not run in between
    assert (delta[1].calls, delta[1].total_ms, delta[1].mean_ms) == (4, 40.0, 10.0)
    assert (delta[1].shared_hit, delta[1].rows) == (40, 4)
    assert delta[2] == after[2]  # fewer calls than before: reset, so counted whole
    assert delta[4] == after[4]  # new: counted whole
    assert [q.queryid for q in statements_delta(before, after)] == [2, 1, 4]


def test_machine_figures_come_from_proc_meminfo_for_loopback_only(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16384000 kB\nMemFree:         1000 kB\n")
    machine = read_machine(meminfo)
    assert machine is not None and machine.ram_bytes == 16384000 * 1024
    assert machine.cpu_count >= 1
    assert read_machine(tmp_path / "missing") is None
    assert [_is_loopback(h) for h in ("127.0.0.1", "127.0.1.1", "localhost", "10.0.0.5", "db")] == [
        True,
        True,
        True,
        False,
        False,
    ]


# -- errors --------------------------------------------------------------------------------


def assert_no_password(exc: pytest.ExceptionInfo[TargetError], *passwords: str) -> None:
    for text in (str(exc.value), repr(exc.value), exc.value.hint or ""):
        for password in passwords:
            assert password not in text


def test_connection_refused_names_host_and_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        dsn = parse_dsn(f"postgresql://redline:s3cret-pw-7@127.0.0.1:{port}/shop")
        with pytest.raises(TargetError, match=rf"refused the connection at 127.0.0.1:{port}$"):
            PostgresProbe(dsn).__enter__()
    with pytest.raises(TargetError) as caught:
        PostgresProbe(dsn).__enter__()
    assert caught.value.hint is not None
    assert f"is PostgreSQL listening on 127.0.0.1:{port}?" in caught.value.hint


def test_the_constructor_connects_to_nothing() -> None:
    PostgresProbe(parse_dsn("postgresql://nobody@127.0.0.1:1/none"))


def test_a_dsn_of_another_kind_is_bad_input() -> None:
    with pytest.raises(
        ConfigError, match=r"expected a postgresql:// connection string, got 'mysql'"
    ):
        PostgresProbe(parse_dsn("mysql://root@127.0.0.1/shop"))


@pytest.fixture
def password_role(postgres_server: Any) -> Iterator[str]:
    """A role that must give RIGHT_PASSWORD: pg_hba.conf gets a scram line for it alone."""
    name = f"pw_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(
        host="127.0.0.1",
        port=postgres_server.port,
        dbname="postgres",
        user="postgres",
        autocommit=True,
    )
    hba = Path(str(admin.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
    original = hba.read_text()
    try:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(RIGHT_PASSWORD)
            )
        )
        hba.write_text(f"host all {name} 127.0.0.1/32 scram-sha-256\n{original}")
        admin.execute("SELECT pg_reload_conf()")
        _wait_for_password_check(postgres_server.port, name)
        yield name
    finally:
        hba.write_text(original)
        admin.execute("SELECT pg_reload_conf()")
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
        admin.close()


def _wait_for_password_check(port: int, role: str) -> None:
    """pg_reload_conf() only signals the server: wait until it asks this role for a password."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(
                host="127.0.0.1", port=port, dbname="postgres", user=role, password=WRONG_PASSWORD
            ).close()
        except psycopg.OperationalError:
            return
        time.sleep(0.05)
    raise AssertionError("pg_hba.conf was not reloaded in time")


def test_wrong_password_never_shows_it(postgres_server: Any, password_role: str) -> None:
    port = postgres_server.port
    wrong = parse_dsn(f"postgresql://{password_role}:{WRONG_PASSWORD}@127.0.0.1:{port}/postgres")
    with pytest.raises(TargetError, match=rf"rejected the login of user '{password_role}'") as e:
        PostgresProbe(wrong).__enter__()
    assert "check the user and password" in (e.value.hint or "")
    assert_no_password(e, WRONG_PASSWORD, RIGHT_PASSWORD)
    right = parse_dsn(f"postgresql://{password_role}:{RIGHT_PASSWORD}@127.0.0.1:{port}/postgres")
    with PostgresProbe(right) as pg:
        assert pg.health().database == "postgres"


def test_a_missing_database_is_named(postgres_server: Any) -> None:
    dsn = parse_dsn(postgres_server.dsn("no_such_db"))
    with pytest.raises(
        TargetError, match=r"database 'no_such_db' does not exist on PostgreSQL"
    ) as e:
        PostgresProbe(dsn).__enter__()
    assert "CREATE DATABASE no_such_db" in (e.value.hint or "")
    assert_no_password(e, dsn.password() or "")


def test_missing_pg_stat_statements_says_how_to_install_it(pg_database: str) -> None:
    with connect(pg_database) as conn:
        conn.execute("DROP EXTENSION pg_stat_statements")
    dsn = parse_dsn(pg_database)
    with PostgresProbe(dsn) as pg:
        with pytest.raises(
            TargetError, match=r"not installed .*CREATE EXTENSION pg_stat_statements;"
        ) as e:
            pg.top_queries()
        assert "shared_preload_libraries = 'pg_stat_statements'" in (e.value.hint or "")
        assert pg.health().settings.max_connections > 0  # health needs no extension


def test_pg_stat_statements_not_preloaded_says_how_to_load_it() -> None:
    # A server started without shared_preload_libraries answers the view with this error.
    exc = errors.ObjectNotInPrerequisiteState(
        "pg_stat_statements must be loaded via shared_preload_libraries"
    )
    error = _query_error(exc, parse_dsn("postgresql://app:pw@127.0.0.1/shop"))
    assert isinstance(error, TargetError)
    assert "not loaded" in error.message
    assert "shared_preload_libraries = 'pg_stat_statements'" in (error.hint or "")
    assert "restart PostgreSQL" in (error.hint or "")


def test_other_roles_statements_need_pg_read_all_stats(
    pg_database: str, postgres_server: Any
) -> None:
    role = f"ro_{uuid.uuid4().hex[:10]}"
    with connect(pg_database) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        try:
            admin.execute("SELECT pg_sleep(0.05)")  # time under a role the new one cannot read
            dsn = parse_dsn(pg_database.replace("redline:", f"{role}:", 1))
            with PostgresProbe(dsn) as pg:
                with pytest.raises(TargetError, match=r"ran as other roles") as e:
                    pg.top_queries()
            assert f"GRANT pg_read_all_stats TO {role};" in (e.value.hint or "")
            assert_no_password(e, dsn.password() or "")
        finally:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
