"""How long rolling back a typical experiment takes (issue 10's bound: under 5 minutes).

The experiment, applied through the SQLite journal and then rolled back with
``redline.optimize.rollback`` (what ``redline rollback --all`` runs):

- 10 indexes, ``CREATE INDEX CONCURRENTLY`` on 10 tables of ``--rows`` rows each, on a
  throwaway PostgreSQL 15 cluster (``initdb`` as the ``postgres`` user, a free port,
  removed at the end);
- 10 PostgreSQL settings (``ALTER SYSTEM`` + reload);
- 5 config files of 500 lines (backup, atomic replace, checksums);
- 10 kernel parameters, on a FakeSystem (never this machine's kernel);
- test data: ``--rows`` tagged rows in PostgreSQL and in SQLite, deleted in batches.

    .venv/bin/python bench/rollback_time.py --rows 1000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg

from redline.optimize import (
    Change,
    ChangeKind,
    SqliteJournal,
    appliers,
    apply_change,
    file_edit_change,
    rollback,
    tagged_rows_change,
)
from redline.optimize._db_changes import setting_change
from redline.plan import parse_dsn
from redline.probes import FakeSystem

PG_BIN = Path("/usr/lib/postgresql/15/bin")
TABLES, FILES, FILE_LINES = 10, 5, 500
RUN = "bench-rollback"
#: Settings a tuning experiment changes (all reloadable, none needs a restart).
SETTINGS = {
    "work_mem": "64MB",
    "random_page_cost": "1.1",
    "effective_cache_size": "8GB",
    "maintenance_work_mem": "256MB",
    "effective_io_concurrency": "200",
    "checkpoint_completion_target": "0.9",
    "default_statistics_target": "200",
    "jit": "off",
    "log_min_duration_statement": "500",
    "idle_in_transaction_session_timeout": "60000",
}
KERNEL = {
    "net.core.somaxconn": ("128", "4096"),
    "net.ipv4.tcp_max_syn_backlog": ("512", "8192"),
    "net.ipv4.tcp_fin_timeout": ("60", "15"),
    "net.ipv4.tcp_tw_reuse": ("2", "1"),
    "vm.swappiness": ("60", "1"),
    "vm.overcommit_memory": ("0", "1"),
    "fs.file-max": ("9223372036854775807", "2097152"),
    "fs.nr_open": ("1048576", "2097152"),
    "net.core.netdev_max_backlog": ("1000", "16384"),
    "net.ipv4.tcp_keepalive_time": ("7200", "600"),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def as_postgres(*argv: str) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=300)


def load_postgres(port: int, rows: int) -> None:
    with psycopg.connect(host="127.0.0.1", port=port, dbname="postgres", user="postgres",
                         autocommit=True) as conn:  # fmt: skip
        for t in range(TABLES):
            conn.execute(f"CREATE TABLE t{t} (id bigserial PRIMARY KEY, c1 int, c2 text, tag text)")  # type: ignore[arg-type]
            conn.execute(f"INSERT INTO t{t} (c1, c2) SELECT n % 9973, md5(n::text) "  # type: ignore[arg-type]
                         f"FROM generate_series(1, {rows}) n")  # fmt: skip
        conn.execute("ANALYZE")


def changes(folder: Path, pg: str, sqlite_path: Path, rows: int) -> list[Change]:
    dsn, lite = parse_dsn(pg), parse_dsn(f"sqlite://{sqlite_path}")
    made = [
        Change(kind=ChangeKind.INDEX, summary=f"index t{t} (c1)",
               apply=f"CREATE INDEX CONCURRENTLY redline_t{t}_c1_idx ON t{t} (c1)",
               undo=f"DROP INDEX CONCURRENTLY redline_t{t}_c1_idx", verify="", target=str(dsn))
        for t in range(TABLES)
    ]  # fmt: skip
    made += [setting_change(dsn, name, value) for name, value in SETTINGS.items()]
    for n in range(FILES):
        path = folder / f"service{n}.conf"
        before = "".join(f"option_{k} = {k}\n" for k in range(FILE_LINES))
        path.write_text(before)
        after = before.replace("option_7 = 7\n", "option_7 = 70\n")
        made.append(file_edit_change(path, before, after, summary=f"{path.name}: option_7"))
    made += [
        Change(kind=ChangeKind.KERNEL_PARAMETER, summary=f"{key} -> {new}",
               apply=f"sysctl -w {key}={new}", undo=f"sysctl -w {key}={old}",
               verify=f"sysctl -n {key}", target="host")
        for key, (old, new) in KERNEL.items()
    ]  # fmt: skip
    series = f"generate_series(1, {rows}) n"
    seed = f"INSERT INTO t0 (c1, c2, tag) SELECT n, 'seed', '{RUN}' FROM {series}"
    made.append(tagged_rows_change(
        target=dsn, table="t0", column="tag", run_id=RUN, summary=f"{rows:,} rows in t0",
        insert=seed))  # fmt: skip
    made.append(tagged_rows_change(
        target=lite, table="orders", column="tag", run_id=RUN, summary=f"{rows:,} orders",
        insert=f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
               f"INSERT INTO orders (item, tag) SELECT 'seed', '{RUN}' FROM n"))  # fmt: skip
    return made


class Timed:
    """An applier that adds the time each undo takes to ``seconds[kind]``."""

    def __init__(self, inner: Any, seconds: dict[str, float]) -> None:
        self.inner, self.seconds = inner, seconds

    def prepare(self, change: Change) -> dict[str, str]:
        state: dict[str, str] = self.inner.prepare(change)
        return state

    def apply(self, change: Change, state: Mapping[str, str]) -> str:
        detail: str = self.inner.apply(change, state)
        return detail

    def undo(self, change: Change, state: Mapping[str, str]) -> str:
        started = time.perf_counter()
        try:
            detail: str = self.inner.undo(change, state)
        finally:
            kind = change.kind.value
            self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - started
        return detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per table")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="redline-bench-rollback-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                str(folder / "log"), "start")  # fmt: skip
    try:
        run(folder, port, args.rows)
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, port: int, rows: int) -> None:
    started = time.perf_counter()
    load_postgres(port, rows)
    lite = folder / "shop.db"
    with sqlite3.connect(lite) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, tag TEXT)")
    print(f"loaded {TABLES} tables of {rows:,} rows in {time.perf_counter() - started:.1f} s")
    pg = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    files = {f"/proc/sys/{k.replace('.', '/')}": f"{old}\n" for k, (old, _) in KERNEL.items()}
    system = FakeSystem(files=dict(files), uid=0)
    seconds: dict[str, float] = {}
    table = {k: Timed(a, seconds) for k, a in appliers(dsns=[parse_dsn(pg)], system=system).items()}
    journal = SqliteJournal(folder / "journal.db", run_id=RUN)
    made = changes(folder, pg, lite, rows)
    started = time.perf_counter()
    applied = [apply_change(change, journal, table) for change in made]
    apply_s = time.perf_counter() - started
    failed = [o.detail for o in applied if not o.ok]
    assert not failed, failed
    kinds = Counter(c.kind.value for c in made)
    print(f"applied {len(made)} changes ({dict(kinds)}) in {apply_s:.1f} s")
    started = time.perf_counter()
    outcomes = rollback(journal, table, run_id=RUN)
    rollback_s = time.perf_counter() - started
    assert all(o.ok for o in outcomes), [o.detail for o in outcomes if not o.ok]
    again = time.perf_counter()
    assert rollback(journal, table, run_id=RUN) == []
    again_s = time.perf_counter() - again
    assert system.files == files
    print(f"rolled back {len(outcomes)} changes in {rollback_s:.1f} s "
          f"(bound 300 s); a second rollback: {again_s * 1000:.0f} ms")  # fmt: skip
    for kind in kinds:
        undone = [o for o in outcomes if o.change.kind.value == kind]
        print(f"  {kind}: {len(undone)} undone in {seconds[kind]:.2f} s, "
              f"e.g. {undone[0].detail[:80]}")  # fmt: skip


if __name__ == "__main__":
    main()
