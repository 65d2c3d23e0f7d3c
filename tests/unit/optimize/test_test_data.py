"""Test data on SQLite: rows tagged with the run id, removed by a batched, time-bounded DELETE."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.optimize import (
    ChangeError,
    ChangeKind,
    SqliteJournal,
    TestDataApplier,
    apply_change,
    rollback,
    tagged_rows_change,
)
from redline.plan import parse_dsn

RUN = "20261128-150405-abc123"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, redline_run TEXT)")
        db.executemany("INSERT INTO orders (item) VALUES (?)", [("real",)] * 7)
    return path


def rows(path: Path, where: str = "1") -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM orders WHERE {where}").fetchone()[0])


def seed(path: Path, count: int = 1234):
    return tagged_rows_change(
        target=parse_dsn(f"sqlite://{path}"),
        table="orders",
        column="redline_run",
        run_id=RUN,
        insert=(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) "
            f"INSERT INTO orders (item, redline_run) SELECT 'seed', '{RUN}' FROM n"
        ),
        summary=f"{count} orders for the volume test",
    )


def test_the_change_says_the_delete_and_the_check(shop: Path) -> None:
    change = seed(shop)
    assert change.kind is ChangeKind.TEST_DATA and change.target == f"sqlite:///{str(shop)[1:]}"
    assert change.undo.startswith(f'DELETE FROM "orders" WHERE "redline_run" = \'{RUN}\'')
    assert change.verify == f'SELECT count(*) FROM "orders" WHERE "redline_run" = \'{RUN}\''


def test_apply_adds_tagged_rows_and_undo_deletes_them_in_batches(shop: Path) -> None:
    applier, change = TestDataApplier(batch_rows=100), seed(shop)
    state = applier.prepare(change)
    assert state == {"table": "orders", "column": "redline_run", "tag": RUN, "rows_before": "7"}
    assert applier.apply(change, state) == f"1,234 rows tagged {RUN} in orders"
    assert rows(shop) == 1241
    assert applier.undo(change, state) == "1,234 rows deleted; orders back to 7 rows"
    assert rows(shop) == 7 and rows(shop, "item = 'real'") == 7
    assert applier.undo(change, state) == "0 rows deleted; orders back to 7 rows"  # idempotent


def test_undo_stops_at_its_time_bound_and_the_next_one_finishes(shop: Path) -> None:
    ticks = iter(range(0, 10**12, 10**9))  # one second per clock reading
    applier = TestDataApplier(batch_rows=100, timeout_s=3, now_ns=lambda: next(ticks))
    change = seed(shop)
    state = applier.prepare(change)
    applier.apply(change, state)
    with pytest.raises(ChangeError, match=r"orders: 1,034 rows tagged .* left after 3 s \(200 del"):
        applier.undo(change, state)
    assert rows(shop) == 7 + 1034
    assert TestDataApplier().undo(change, state) == "1,034 rows deleted; orders back to 7 rows"


def test_undo_reports_a_row_count_that_did_not_come_back(shop: Path) -> None:
    applier, change = TestDataApplier(), seed(shop, 5)
    state = applier.prepare(change)
    applier.apply(change, state)
    with sqlite3.connect(shop) as db:
        db.execute("INSERT INTO orders (item) VALUES ('added meanwhile')")
    with pytest.raises(ChangeError, match=r"orders: 8 rows after deleting the test data, 7 before"):
        applier.undo(change, state)
    assert rows(shop, f"redline_run = '{RUN}'") == 0


def test_an_insert_that_tags_nothing_is_a_failed_change(shop: Path) -> None:
    change = seed(shop)
    change = type(change)(**{**change.__dict__, "apply": "INSERT INTO orders (item) VALUES ('x')"})
    applier = TestDataApplier()
    with pytest.raises(ChangeError, match=r"the insert added no row tagged redline_run"):
        applier.apply(change, applier.prepare(change))


def test_sql_errors_become_change_errors(shop: Path, tmp_path: Path) -> None:
    change = seed(shop)
    broken = type(change)(**{**change.__dict__, "apply": "INSERT INTO nowhere VALUES (1)"})
    applier = TestDataApplier()
    with pytest.raises(ChangeError, match=r"^SQLite: no such table: nowhere$"):
        applier.apply(broken, applier.prepare(broken))
    missing = seed(tmp_path / "missing.db")
    with pytest.raises(ChangeError, match=r"missing.db: cannot be opened"):
        applier.prepare(missing)


def test_a_password_target_without_its_dsn_needs_db() -> None:
    change = tagged_rows_change(
        target=parse_dsn("postgresql://app:pw@127.0.0.1:5432/shop"),
        table="orders", column="tag", run_id=RUN, insert="INSERT ...", summary="s",
    )  # fmt: skip
    with pytest.raises(ChangeError, match=r"needs the DSN with its password \(--db\)"):
        TestDataApplier().prepare(change)


@pytest.mark.parametrize(
    ("table", "column", "run_id", "message"),
    [
        ("orders; DROP TABLE x", "tag", RUN, r"test data table: .* is not a plain SQL name"),
        ("orders", "a.b", RUN, r"test data column: 'a.b' is not a plain SQL name"),
        ("orders", "tag", "x' OR '1'='1", r"test data run id: .* must be letters, digits"),
    ],
)
def test_names_are_checked_before_they_reach_sql(table, column, run_id, message) -> None:
    with pytest.raises(ConfigError, match=message):
        tagged_rows_change(target=parse_dsn("sqlite:///tmp/x.db"), table=table, column=column,
                           run_id=run_id, insert="", summary="s")  # fmt: skip


def test_rollback_of_a_run_removes_its_test_data(shop: Path, tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db", run_id=RUN)
    appliers = {ChangeKind.TEST_DATA: TestDataApplier()}
    assert apply_change(seed(shop), journal, appliers).ok
    assert [o.ok for o in rollback(journal, appliers, run_id=RUN)] == [True]
    assert rows(shop) == 7
