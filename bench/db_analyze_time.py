"""How long ``redline db analyze`` takes on a database with 1,000 distinct statements.

Starts a throwaway PostgreSQL 15 cluster (``initdb`` as the ``postgres`` user,
a free port, ``pg_stat_statements`` preloaded, HypoPG created), loads 20
tables of 50,000 rows, runs 1,000 statements of distinct shapes (each a few
times), then times the whole command ``redline db analyze DSN`` (top 20
statements, 5 plans with index advice, health) ``--runs`` times. The cluster
is stopped and removed at the end.

    .venv/bin/python bench/db_analyze_time.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

PG_BIN = Path("/usr/lib/postgresql/15/bin")
TABLES, COLUMNS, STATEMENTS = 20, 8, 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def as_postgres(*argv: str) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=120)


def load(port: int) -> None:
    with psycopg.connect(host="127.0.0.1", port=port, dbname="postgres", user="postgres",
                         autocommit=True) as conn:  # fmt: skip
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute("CREATE EXTENSION hypopg")
        columns = ", ".join(f"c{k} int" for k in range(COLUMNS))
        for t in range(TABLES):
            conn.execute(f"CREATE TABLE t{t} (id serial PRIMARY KEY, {columns})")  # type: ignore[arg-type]
            values = ", ".join(f"(n * {k + 7}) % {100 + k * 50}" for k in range(COLUMNS))
            conn.execute(f"INSERT INTO t{t} ({', '.join(f'c{k}' for k in range(COLUMNS))}) "  # type: ignore[arg-type]
                         f"SELECT {values} FROM generate_series(1, 50000) n")  # fmt: skip
        conn.execute("ANALYZE")
        conn.execute("SELECT pg_stat_statements_reset()")
        for i in range(STATEMENTS):
            t, a, b = i % TABLES, (i // TABLES) % COLUMNS, (i // (TABLES * COLUMNS)) % COLUMNS
            picked = ", ".join(f"c{k}" for k in range((i % 5) + 1))
            sql = f"SELECT {picked} FROM t{t} WHERE c{a} = %s AND c{b} < %s LIMIT {1 + i % 7}"
            for value in range(3):
                conn.execute(sql, (value, 50))  # type: ignore[arg-type]
        count = conn.execute("SELECT count(*) FROM pg_stat_statements").fetchone()
        print(f"pg_stat_statements holds {count[0] if count else '?'} statements")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="redline-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    preload = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=5000"
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 {preload}"
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                str(folder / "log"), "start")  # fmt: skip
    try:
        load(port)
        dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "redline", "db", "analyze", dsn, "--json"],
                           check=True, capture_output=True, timeout=120)  # fmt: skip
            times.append(time.perf_counter() - started)
        print(f"redline db analyze: median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}) over {args.runs} runs")  # fmt: skip
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
