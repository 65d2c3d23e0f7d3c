"""DatabaseApplier against real servers: PostgreSQL and MariaDB (throwaway, loopback), SQLite.

Each kind per database: apply verifies, undo puts back exactly what was there, a
second undo is a no-op; a drop's undo recreates the same definition; a setting
that had no entry of its own is reset, not pinned; a target whose password is
not given is refused naming --db, and no password shows anywhere.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest

from redline.optimize import Change, ChangeError, ChangeKind
from redline.optimize._db_changes import (
    DatabaseApplier,
    drop_index_change,
    parse_index_statement,
    parse_setting_statement,
    setting_change,
)
from redline.plan import Dsn, parse_dsn
from tests.integration.db.conftest import PG_PASSWORD

CREATE_PG = (
    'CREATE INDEX CONCURRENTLY "redline_orders_customer_idx" ON "public"."orders" ("customer")'
)


def pg(dsn: Dsn) -> psycopg.Connection[Any]:
    return psycopg.connect(host=dsn.host, port=dsn.port, dbname=dsn.database, user=dsn.user,
                           password=dsn.password(), autocommit=True)  # fmt: skip


def pg_indexes(dsn: Dsn) -> list[tuple[str, str]]:
    with pg(dsn) as conn:
        return [
            (r[0], r[1])
            for r in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
            )
        ]


def pg_setting(dsn: Dsn, name: str) -> tuple[str, str, bool]:
    with pg(dsn) as conn:
        row = conn.execute("SELECT current_setting(name), source, pending_restart FROM pg_settings "
                           "WHERE name = %s", (name,)).fetchone()  # fmt: skip
    assert row is not None
    return str(row[0]), str(row[1]), bool(row[2])


def change(dsn: Dsn, kind: ChangeKind, apply: str) -> Change:
    return Change(kind=kind, summary=apply[:40], apply=apply, undo="", verify="", target=str(dsn))


def round_trip(applier: DatabaseApplier, made: Change) -> tuple[dict[str, str], str, str, str]:
    state = applier.prepare(made)
    applied = applier.apply(made, state)
    undone = applier.undo(made, state)
    again = applier.undo(made, state)
    return state, applied, undone, again


@pytest.fixture
def pg_dsn(pg_database: str) -> Dsn:
    dsn = parse_dsn(pg_database)
    with pg(dsn) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer int, note text)")
        conn.execute("INSERT INTO orders SELECT g, g % 50, 'n' || g FROM generate_series(1, 500) g")
        conn.execute("CREATE INDEX orders_note_idx ON orders (lower(note)) WHERE id > 10")
    return dsn


# --- statements ------------------------------------------------------------------------------


def test_index_statements_are_read_with_their_quoting() -> None:
    create = parse_index_statement(CREATE_PG, fold=True)
    assert (create.action, create.schema, create.name, create.table) == (
        "create", "public", "redline_orders_customer_idx", "orders")  # fmt: skip
    assert create.concurrently
    drop = parse_index_statement("/* x */ DROP INDEX `a``b` ON `s`.`t` ALGORITHM=INPLACE")
    assert (drop.action, drop.schema, drop.name, drop.table) == ("drop", "s", "a`b", "t")
    assert parse_index_statement("DROP INDEX Public.Ix", fold=True).name == "ix"
    with pytest.raises(ChangeError, match="CREATE INDEX name ON table"):
        parse_index_statement("CREATE INDEX ON orders (customer)")


def test_setting_statements() -> None:
    setting = parse_setting_statement("ALTER SYSTEM SET work_mem = '64MB'", "postgresql")
    assert (setting.name, setting.value, setting.quoted) == ("work_mem", "64MB", True)
    assert parse_setting_statement("SET GLOBAL max_connections = 200", "mysql").value == "200"
    with pytest.raises(ChangeError, match="SET GLOBAL name = value"):
        parse_setting_statement("SET max_connections = 200", "mysql")


# --- PostgreSQL ------------------------------------------------------------------------------


def test_postgres_create_index_apply_verify_undo(pg_dsn: Dsn) -> None:
    before = pg_indexes(pg_dsn)
    applier = DatabaseApplier([pg_dsn])
    made = change(pg_dsn, ChangeKind.INDEX, CREATE_PG)
    state = applier.prepare(made)
    assert state["existed"] == "no" and state["schema"] == "public"
    assert "is valid" in applier.apply(made, state)
    assert "redline_orders_customer_idx" in dict(pg_indexes(pg_dsn))
    assert "dropped public.redline_orders_customer_idx" in applier.undo(made, state)
    assert "nothing to undo" in applier.undo(made, state)
    assert pg_indexes(pg_dsn) == before


def test_postgres_create_refuses_an_existing_index_and_a_blocking_build(pg_dsn: Dsn) -> None:
    applier = DatabaseApplier([pg_dsn])
    taken = 'CREATE INDEX CONCURRENTLY "orders_note_idx" ON orders (customer)'
    with pytest.raises(ChangeError, match="already exists"):
        applier.prepare(change(pg_dsn, ChangeKind.INDEX, taken))
    with pytest.raises(ChangeError, match="must be CONCURRENTLY"):
        applier.prepare(change(pg_dsn, ChangeKind.INDEX, "CREATE INDEX x ON orders (customer)"))


def test_postgres_invalid_build_is_dropped_and_undo_removes_a_leftover(pg_dsn: Dsn) -> None:
    """A unique build on duplicates fails and leaves an INVALID index; neither survives."""
    before = pg_indexes(pg_dsn)
    applier = DatabaseApplier([pg_dsn])
    unique = "CREATE UNIQUE INDEX CONCURRENTLY redline_dup_idx ON orders (customer)"
    made = change(pg_dsn, ChangeKind.INDEX, unique)
    state = applier.prepare(made)
    with pytest.raises(ChangeError, match="INVALID index it left was dropped"):
        applier.apply(made, state)
    assert pg_indexes(pg_dsn) == before
    with pg(pg_dsn) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(made.apply)  # as a crash mid-build would leave it
    with pg(pg_dsn) as conn:
        row = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = "
                           "'redline_dup_idx'::regclass").fetchone()  # fmt: skip
    assert row == (False,)
    assert "(it was INVALID)" in applier.undo(made, state)
    assert pg_indexes(pg_dsn) == before


def test_postgres_drop_index_undo_recreates_the_same_definition(pg_dsn: Dsn) -> None:
    before = pg_indexes(pg_dsn)
    applier = DatabaseApplier([pg_dsn])
    made = drop_index_change(pg_dsn, "orders_note_idx", table="orders", schema="public")
    state, applied, undone, again = round_trip(applier, made)
    assert state["definition"] == dict(before)["orders_note_idx"]
    assert "dropped public.orders_note_idx" in applied
    assert undone.startswith("recreated CREATE INDEX orders_note_idx")
    assert "nothing to undo" in again
    assert pg_indexes(pg_dsn) == before


def test_postgres_refuses_to_drop_a_constraint_index(pg_dsn: Dsn) -> None:
    with pytest.raises(ChangeError, match="backs the constraint orders_pkey"):
        DatabaseApplier([pg_dsn]).prepare(drop_index_change(pg_dsn, "orders_pkey", table="orders"))


def test_postgres_setting_that_was_default_is_reset_not_pinned(pg_dsn: Dsn) -> None:
    before = pg_setting(pg_dsn, "work_mem")
    assert before[1] == "default"
    applier = DatabaseApplier([pg_dsn])
    made = setting_change(pg_dsn, "work_mem", "24MB")
    state = applier.prepare(made)
    assert (state["before"], state["in_auto_conf"]) == (before[0], "no")
    assert "work_mem = 24MB (was 4MB); configuration reloaded" == applier.apply(made, state)
    assert pg_setting(pg_dsn, "work_mem")[:2] == ("24MB", "configuration file")
    assert "reset: no entry of its own" in applier.undo(made, state)
    assert "nothing to undo" in applier.undo(made, state)
    assert pg_setting(pg_dsn, "work_mem") == before
    with pg(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM pg_file_settings WHERE name = 'work_mem'"
                            ).fetchone() == (0,)  # fmt: skip


def test_postgres_setting_in_auto_conf_is_put_back(pg_dsn: Dsn) -> None:
    with pg(pg_dsn) as conn:
        conn.execute("ALTER SYSTEM SET maintenance_work_mem = '80MB'")
        conn.execute("SELECT pg_reload_conf()")
    try:
        applier = DatabaseApplier([pg_dsn])
        made = setting_change(pg_dsn, "maintenance_work_mem", "96MB")
        state, applied, undone, again = round_trip(applier, made)
        assert (state["in_auto_conf"], state["auto_conf"]) == ("yes", "80MB")
        assert "maintenance_work_mem = 96MB (was 80MB)" in applied
        assert "back to 80MB ('80MB' as before" in undone
        assert "nothing to undo" in again
        assert pg_setting(pg_dsn, "maintenance_work_mem")[:2] == ("80MB", "configuration file")
    finally:
        with pg(pg_dsn) as conn:
            conn.execute("ALTER SYSTEM RESET maintenance_work_mem")
            conn.execute("SELECT pg_reload_conf()")


def test_postgres_postmaster_setting_says_restart_needed(pg_dsn: Dsn) -> None:
    before = pg_setting(pg_dsn, "max_connections")
    applier = DatabaseApplier([pg_dsn])
    made = setting_change(pg_dsn, "max_connections", str(int(before[0]) + 7))
    state = applier.prepare(made)
    assert state["context"] == "postmaster"
    assert "restart needed" in applier.apply(made, state)
    assert pg_setting(pg_dsn, "max_connections")[2] is True  # pending_restart
    assert "back to reset: no entry of its own in postgresql.auto.conf" in applier.undo(made, state)
    # The value and its source are back; PostgreSQL may keep pending_restart set until a restart.
    assert pg_setting(pg_dsn, "max_connections")[:2] == before[:2]


def test_postgres_setting_outranked_by_the_command_line_fails(pg_dsn: Dsn) -> None:
    """The test server runs with -c fsync=off: ALTER SYSTEM cannot win over it."""
    applier = DatabaseApplier([pg_dsn])
    made = setting_change(pg_dsn, "fsync", "on")
    state = applier.prepare(made)
    with pytest.raises(ChangeError, match="comes from command line"):
        applier.apply(made, state)
    applier.undo(made, state)
    assert pg_setting(pg_dsn, "fsync") == ("off", "command line", False)


def test_postgres_unknown_setting_is_refused(pg_dsn: Dsn) -> None:
    with pytest.raises(ChangeError, match="no setting 'no_such_thing'"):
        DatabaseApplier([pg_dsn]).prepare(setting_change(pg_dsn, "no_such_thing", "1"))


def test_missing_dsn_names_db_and_never_the_password(pg_dsn: Dsn) -> None:
    made = setting_change(pg_dsn, "work_mem", "8MB")
    assert PG_PASSWORD not in str(made.to_dict())
    with pytest.raises(ChangeError, match=r"needs the DSN with its password \(--db\)") as caught:
        DatabaseApplier([]).prepare(made)
    assert PG_PASSWORD not in f"{caught.value} {caught.value.hint}"
    other = parse_dsn(str(pg_dsn).replace(":***@", f":{PG_PASSWORD}@").replace("/t_", "/u_"))
    with pytest.raises(ChangeError, match="--db"):
        DatabaseApplier([other]).prepare(made)


def test_a_target_printed_without_a_password_matches(pg_dsn: Dsn) -> None:
    """The index advisor's targets have no ':***'; the DSN given still matches."""
    made = change(pg_dsn, ChangeKind.INDEX, CREATE_PG)
    bare = Change(**{**made.__dict__, "target": str(pg_dsn).replace(":***@", "@")})
    applier = DatabaseApplier([pg_dsn])
    state = applier.prepare(bare)
    applier.apply(bare, state)
    applier.undo(bare, state)


# --- MariaDB ---------------------------------------------------------------------------------


@pytest.fixture
def maria_dsn(mariadb_database: str) -> Iterator[Dsn]:
    dsn = parse_dsn(mariadb_database)
    with maria(dsn) as cursor:
        cursor.execute("CREATE TABLE orders (id INT PRIMARY KEY, customer INT, note VARCHAR(40), "
                       "KEY orders_note (note(10), customer DESC)) ENGINE=InnoDB")  # fmt: skip
        cursor.execute("INSERT INTO orders VALUES (1, 1, 'a'), (2, 2, 'b')")
    yield dsn


class maria:  # noqa: N801 - used as a context manager, like a function
    def __init__(self, dsn: Dsn) -> None:
        self.conn = pymysql.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                                    password=dsn.password(), database=dsn.database,
                                    autocommit=True)  # fmt: skip

    def __enter__(self) -> Any:
        return self.conn.cursor()

    def __exit__(self, *_: object) -> None:
        self.conn.close()


def maria_table(dsn: Dsn) -> str:
    with maria(dsn) as cursor:
        cursor.execute("SHOW CREATE TABLE orders")
        return str(cursor.fetchone()[1])


def maria_global(dsn: Dsn, name: str) -> str:
    with maria(dsn) as cursor:
        cursor.execute("SHOW GLOBAL VARIABLES WHERE Variable_name = %s", (name,))
        return str(cursor.fetchone()[1])


def test_mariadb_create_index_online_and_undo(maria_dsn: Dsn) -> None:
    before = maria_table(maria_dsn)
    made = change(maria_dsn, ChangeKind.INDEX,
                  f"CREATE INDEX `redline_orders_customer_idx` ON `{maria_dsn.database}`.`orders` "
                  "(`customer`) ALGORITHM=INPLACE LOCK=NONE")  # fmt: skip
    state, applied, undone, again = round_trip(DatabaseApplier([maria_dsn]), made)
    assert "KEY `redline_orders_customer_idx` (`customer`)" in applied
    assert undone.startswith("dropped") and "nothing to undo" in again
    assert maria_table(maria_dsn) == before


def test_mariadb_drop_index_undo_recreates_the_same_definition(maria_dsn: Dsn) -> None:
    before = maria_table(maria_dsn)
    made = drop_index_change(maria_dsn, "orders_note", table="orders")
    state, applied, undone, again = round_trip(DatabaseApplier([maria_dsn]), made)
    assert state["definition"] == "KEY `orders_note` (`note`(10),`customer` DESC)"
    assert "orders_note" not in applied.split("(kept")[0].replace("dropped orders_note", "")
    assert undone.startswith("recreated") and "nothing to undo" in again
    assert maria_table(maria_dsn) == before


def test_mariadb_refuses_a_drop_without_its_table(maria_dsn: Dsn) -> None:
    with pytest.raises(ChangeError, match="DROP INDEX name ON table"):
        DatabaseApplier([maria_dsn]).prepare(
            change(maria_dsn, ChangeKind.INDEX, "DROP INDEX orders_note")
        )


def test_mariadb_setting_set_global_and_back(maria_dsn: Dsn) -> None:
    before = maria_global(maria_dsn, "max_connections")
    made = setting_change(maria_dsn, "max_connections", str(int(before) + 9))
    state, applied, undone, again = round_trip(DatabaseApplier([maria_dsn]), made)
    assert state["before"] == before
    assert f"max_connections = {int(before) + 9} (was {before})" in applied
    assert "not persisted" in applied
    assert undone == f"max_connections back to {before}" and "nothing to undo" in again
    assert maria_global(maria_dsn, "max_connections") == before


def test_a_wrong_password_is_a_change_error_without_it(maria_dsn: Dsn) -> None:
    wrong = parse_dsn(str(maria_dsn).replace(":***@", ":not-the-pw@"))
    with pytest.raises(ChangeError, match="Access denied") as caught:
        DatabaseApplier([wrong]).prepare(setting_change(maria_dsn, "max_connections", "90"))
    assert "not-the-pw" not in f"{caught.value} {caught.value.hint}"


def test_mariadb_string_setting_and_back(maria_dsn: Dsn) -> None:
    before = maria_global(maria_dsn, "sql_mode")
    made = setting_change(maria_dsn, "sql_mode", "ANSI_QUOTES")
    round_trip(DatabaseApplier([maria_dsn]), made)
    assert maria_global(maria_dsn, "sql_mode") == before


# --- SQLite ----------------------------------------------------------------------------------


@pytest.fixture
def sqlite_dsn(tmp_path: Path) -> Dsn:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INT, note TEXT UNIQUE)")
        conn.execute("CREATE INDEX orders_note_customer ON orders (note COLLATE NOCASE, customer)")
    return parse_dsn(f"sqlite://{path}")


def sqlite_schema(dsn: Dsn) -> list[tuple[str, str, str | None]]:
    conn = sqlite3.connect(dsn.path)
    try:
        return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()


def test_sqlite_create_and_drop_index_round_trips(sqlite_dsn: Dsn) -> None:
    before = sqlite_schema(sqlite_dsn)
    applier = DatabaseApplier([])  # nothing secret: the target is used as it is
    sql = 'CREATE INDEX "redline_orders_customer_idx" ON "orders" ("customer")'
    create = change(sqlite_dsn, ChangeKind.INDEX, sql)
    _, applied, undone, again = round_trip(applier, create)
    assert "built" in applied and undone.startswith("dropped") and "nothing to undo" in again
    drop = drop_index_change(sqlite_dsn, "orders_note_customer", table="orders")
    state, applied, undone, again = round_trip(applier, drop)
    assert (
        state["definition"]
        == "CREATE INDEX orders_note_customer ON orders (note COLLATE NOCASE, customer)"
    )
    assert undone.startswith("recreated") and "nothing to undo" in again
    assert sqlite_schema(sqlite_dsn) == before


def test_sqlite_refuses_constraint_indexes_and_settings(sqlite_dsn: Dsn) -> None:
    applier = DatabaseApplier([])
    with pytest.raises(ChangeError, match="UNIQUE or PRIMARY KEY constraint"):
        applier.prepare(drop_index_change(sqlite_dsn, "sqlite_autoindex_orders_1", table="orders"))
    made = Change(kind=ChangeKind.SETTING, summary="", apply="ALTER SYSTEM SET a = 1", undo="",
                  verify="", target=str(sqlite_dsn))  # fmt: skip
    with pytest.raises(ChangeError, match="sqlite has no server settings"):
        applier.prepare(made)
