"""Test data on a throwaway PostgreSQL: tagged rows added, then removed by redline rollback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from redline.optimize import SqliteJournal, TestDataApplier, apply_change, tagged_rows_change
from redline.optimize._change import ChangeKind
from redline.plan import parse_dsn

RUN = "20261128-151000-pg0001"


def count(dsn: str, where: str = "true") -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT count(*) FROM orders WHERE {where}").fetchone()  # type: ignore[arg-type]
        return int(row[0]) if row else -1


def test_rows_tagged_with_the_run_are_deleted_by_rollback(pg_database: str, tmp_path) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, item text, run text)")
        conn.execute("INSERT INTO orders (item) SELECT 'real' FROM generate_series(1, 300)")
    dsn = parse_dsn(pg_database)
    change = tagged_rows_change(
        target=dsn, table="orders", column="run", run_id=RUN, summary="12,345 orders",
        insert=f"INSERT INTO orders (item, run) SELECT 'seed', '{RUN}' "
               "FROM generate_series(1, 12345)",
    )  # fmt: skip
    assert ":***@" in change.target and "s3cret" not in change.target
    history = tmp_path / ".redline" / "redline.db"
    journal = SqliteJournal(history.parent / "journal.db", run_id=RUN)
    outcome = apply_change(change, journal, {ChangeKind.TEST_DATA: TestDataApplier([dsn])})
    assert outcome.ok and outcome.detail == f"12,345 rows tagged {RUN} in orders"
    assert count(pg_database) == 12_645

    base = [sys.executable, "-m", "redline", "rollback", "--run", RUN, "--yes",
            "--history", str(history)]  # fmt: skip
    without = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert without.returncode == 3 and "SKIPPED" in without.stdout
    assert "needs --db postgresql://" in without.stdout and "s3cret" not in without.stdout
    assert count(pg_database) == 12_645
    done = subprocess.run([*base, "--db", pg_database], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "12,345 rows deleted; orders back to 300 rows" in done.stdout
    assert count(pg_database) == 300 and count(pg_database, f"run = '{RUN}'") == 0
    assert Path(journal.path).exists() and journal.to_undo() == []
