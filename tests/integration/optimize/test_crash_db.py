"""kill -9 mid-change, then rollback: the database is exactly as it was before.

A subprocess (crash_apply.py) applies one Change through the journal and waits
at a barrier, either between the journal's intent and the apply, or between
the apply and the result; the test kills it with SIGKILL there, then undoes
every journal entry not yet undone with :func:`redline.optimize.rollback`
(the SQLite journal, ``appliers(dsns=...)``, as ``redline rollback`` does)
and compares the database with a snapshot taken before: PostgreSQL's indexes
and definitions (``pg_indexes``), no INVALID index, the setting's value,
source and ``postgresql.auto.conf`` entries; MariaDB's ``SHOW CREATE TABLE``
and the global variable; SQLite's ``sqlite_master``. A second rollback finds
nothing to do.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest

from redline.optimize import (
    Change,
    ChangeKind,
    SqliteJournal,
    appliers,
    drop_index_change,
    rollback,
    setting_change,
)
from redline.plan import parse_dsn

SCRIPT = Path(__file__).with_name("crash_apply.py")
REPO = Path(__file__).parents[3]
#: How long the subprocess may take to reach its barrier.
BARRIER_TIMEOUT_S = 60.0
POINTS = ["intent", "apply"]

Snapshot = Callable[[], Any]


def crash_then_rollback(dsn_text: str, change: Change, point: str, tmp: Path,
                        snapshot: Snapshot) -> None:  # fmt: skip
    dsn = parse_dsn(dsn_text)
    before = snapshot()
    journal_path, reached = tmp / "journal.db", tmp / "reached"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(journal_path), point, str(reached),
         json.dumps(change.to_dict())],
        cwd=REPO, env={**os.environ, "REDLINE_TEST_DSN": dsn_text},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + BARRIER_TIMEOUT_S
        while not reached.exists():
            assert proc.poll() is None, f"crash_apply.py exited with {proc.returncode}"
            assert time.monotonic() < deadline, "crash_apply.py never reached its barrier"
            time.sleep(0.02)
        changed = snapshot()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if point == "apply":
        assert changed != before, "the apply did not change anything to roll back"
    else:
        assert changed == before

    journal = SqliteJournal(journal_path)
    table = appliers(dsns=[dsn])
    pending = journal.to_undo()
    assert [e.status.value for e in pending] == ["intent"]  # no result was journaled
    outcomes = rollback(journal, table)
    assert [o.ok for o in outcomes] == [True], [o.detail for o in outcomes]
    assert snapshot() == before
    assert rollback(journal, table) == []  # rollback twice: nothing left to do
    again = table[change.kind].undo(change, pending[0].state)
    assert "nothing to undo" in again and snapshot() == before


# --- PostgreSQL ------------------------------------------------------------------------------


def pg_conn(dsn: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=True)


@pytest.fixture
def pg_shop(pg_database: str) -> str:
    with pg_conn(pg_database) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer int, note text)")
        conn.execute(
            "INSERT INTO orders SELECT g, g % 70, 'n' || g FROM generate_series(1, 2000) g"
        )
        conn.execute("CREATE INDEX orders_note_idx ON orders USING hash (note)")
    return pg_database


def pg_snapshot(dsn: str, setting: str = "work_mem", *, pending: bool = True) -> Snapshot:
    """Indexes, INVALID ones, the setting (value, source, pending_restart unless not
    ``pending``) and postgresql.auto.conf's entries."""
    columns = "setting, source" + (", pending_restart" if pending else "")

    def snapshot() -> Any:
        with pg_conn(dsn) as conn:
            return (
                conn.execute("SELECT indexname, indexdef FROM pg_indexes "
                             "WHERE schemaname = 'public' ORDER BY 1").fetchall(),
                conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone(),
                conn.execute(f"SELECT {columns} FROM pg_settings WHERE name = %s",
                             (setting,)).fetchone(),
                conn.execute("SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE "
                             "'%%postgresql.auto.conf' ORDER BY seqno").fetchall(),
            )  # fmt: skip

    return snapshot


@pytest.mark.parametrize("point", POINTS)
def test_postgres_create_index_crash(pg_shop: str, point: str, tmp_path: Path) -> None:
    dsn = parse_dsn(pg_shop)
    change = Change(
        kind=ChangeKind.INDEX, summary="index orders (customer)",
        apply='CREATE INDEX CONCURRENTLY "redline_orders_customer_idx" ON "public"."orders" '
        '("customer")', undo="", verify="", target=str(dsn),
    )  # fmt: skip
    crash_then_rollback(pg_shop, change, point, tmp_path, pg_snapshot(pg_shop))


@pytest.mark.parametrize("point", POINTS)
def test_postgres_drop_index_crash(pg_shop: str, point: str, tmp_path: Path) -> None:
    change = drop_index_change(parse_dsn(pg_shop), "orders_note_idx", table="orders")
    crash_then_rollback(pg_shop, change, point, tmp_path, pg_snapshot(pg_shop))


@pytest.mark.parametrize("point", POINTS)
def test_postgres_setting_crash(pg_shop: str, point: str, tmp_path: Path) -> None:
    change = setting_change(parse_dsn(pg_shop), "work_mem", "48MB")
    crash_then_rollback(pg_shop, change, point, tmp_path, pg_snapshot(pg_shop, "work_mem"))


@pytest.mark.parametrize("point", POINTS)
def test_postgres_postmaster_setting_crash(pg_shop: str, point: str, tmp_path: Path) -> None:
    """Value, source and postgresql.auto.conf come back. pending_restart stays true once the
    apply ran: PostgreSQL marks a postmaster setting whose entry leaves the file as pending
    a restart even when the running value is the one it falls back to."""
    change = setting_change(parse_dsn(pg_shop), "max_wal_senders", "7")
    snapshot = pg_snapshot(pg_shop, "max_wal_senders", pending=False)
    crash_then_rollback(pg_shop, change, point, tmp_path, snapshot)


# --- MariaDB ---------------------------------------------------------------------------------


@pytest.fixture
def maria_shop(mariadb_database: str) -> str:
    with maria_cursor(mariadb_database) as cursor:
        cursor.execute("CREATE TABLE orders (id INT PRIMARY KEY, customer INT, note VARCHAR(40), "
                       "UNIQUE KEY orders_note (note)) ENGINE=InnoDB")  # fmt: skip
        cursor.execute("INSERT INTO orders VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 1, 'c')")
    return mariadb_database


class maria_cursor:  # noqa: N801 - a context manager used like a function
    def __init__(self, dsn_text: str) -> None:
        dsn = parse_dsn(dsn_text)
        self.conn = pymysql.connect(host=dsn.host, port=dsn.port, user=dsn.user,
                                    password=dsn.password(), database=dsn.database,
                                    autocommit=True)  # fmt: skip

    def __enter__(self) -> Any:
        return self.conn.cursor()

    def __exit__(self, *_: object) -> None:
        self.conn.close()


def maria_snapshot(dsn: str) -> Snapshot:
    def snapshot() -> Any:
        with maria_cursor(dsn) as cursor:
            cursor.execute("SHOW CREATE TABLE orders")
            table = cursor.fetchone()[1]
            cursor.execute("SHOW GLOBAL VARIABLES WHERE Variable_name = 'max_connections'")
            return table, cursor.fetchone()

    return snapshot


@pytest.mark.parametrize("point", POINTS)
def test_mariadb_create_index_crash(maria_shop: str, point: str, tmp_path: Path) -> None:
    dsn = parse_dsn(maria_shop)
    change = Change(
        kind=ChangeKind.INDEX, summary="index orders (customer)",
        apply=f"CREATE INDEX `redline_orders_customer_idx` ON `{dsn.database}`.`orders` "
        "(`customer`) ALGORITHM=INPLACE LOCK=NONE", undo="", verify="", target=str(dsn),
    )  # fmt: skip
    crash_then_rollback(maria_shop, change, point, tmp_path, maria_snapshot(maria_shop))


@pytest.mark.parametrize("point", POINTS)
def test_mariadb_drop_index_crash(maria_shop: str, point: str, tmp_path: Path) -> None:
    change = drop_index_change(parse_dsn(maria_shop), "orders_note", table="orders")
    crash_then_rollback(maria_shop, change, point, tmp_path, maria_snapshot(maria_shop))


@pytest.mark.parametrize("point", POINTS)
def test_mariadb_setting_crash(maria_shop: str, point: str, tmp_path: Path) -> None:
    change = setting_change(parse_dsn(maria_shop), "max_connections", "177")
    crash_then_rollback(maria_shop, change, point, tmp_path, maria_snapshot(maria_shop))


# --- SQLite ----------------------------------------------------------------------------------


@pytest.fixture
def sqlite_shop(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INT, note TEXT)")
        conn.execute("CREATE INDEX orders_note ON orders (note DESC) WHERE note IS NOT NULL")
    conn.close()
    return f"sqlite://{path}"


def sqlite_snapshot(dsn_text: str) -> Snapshot:
    def snapshot() -> Any:
        conn = sqlite3.connect(parse_dsn(dsn_text).path)
        try:
            return conn.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY name"
            ).fetchall()
        finally:
            conn.close()

    return snapshot


@pytest.mark.parametrize("point", POINTS)
def test_sqlite_create_index_crash(sqlite_shop: str, point: str, tmp_path: Path) -> None:
    change = Change(kind=ChangeKind.INDEX, summary="index orders (customer)",
                    apply='CREATE INDEX "redline_orders_customer_idx" ON "orders" ("customer")',
                    undo="", verify="", target=sqlite_shop)  # fmt: skip
    crash_then_rollback(sqlite_shop, change, point, tmp_path, sqlite_snapshot(sqlite_shop))


@pytest.mark.parametrize("point", POINTS)
def test_sqlite_drop_index_crash(sqlite_shop: str, point: str, tmp_path: Path) -> None:
    change = drop_index_change(parse_dsn(sqlite_shop), "orders_note", table="orders")
    crash_then_rollback(sqlite_shop, change, point, tmp_path, sqlite_snapshot(sqlite_shop))
