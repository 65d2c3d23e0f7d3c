"""Throwaway database servers on loopback for the database tests.

- ``postgres_server``: a PostgreSQL 15 cluster made for this test session with
  ``initdb`` in a temporary folder, run as the ``postgres`` user (PostgreSQL
  refuses root) on a free port, with ``pg_stat_statements`` preloaded and
  HypoPG available; stopped by its own ``pg_ctl stop`` at the end.
- ``pg_database``: a fresh database in it for one test (dropped after), as a DSN
  with a password-bearing user, so tests can check the password never shows.
- ``mariadb_server`` / ``mariadb_database``: the same for MariaDB
  (``mariadb-install-db`` + ``mariadbd`` on a free port and its own socket).

Nothing here touches the machine's running servers or their data.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: The password of the test role: tests check it never appears in output.
PG_PASSWORD = "s3cret-pw-7"
READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def as_postgres(*argv: str) -> subprocess.CompletedProcess[str]:
    command = list(argv) if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


@dataclass(frozen=True)
class PgServer:
    port: int
    admin_dsn: str
    #: The server's log (stderr, the default prefix), for the tests that read it.
    log: Path

    def dsn(self, database: str, *, user: str = "redline", password: str = PG_PASSWORD) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgServer]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 is not installed")
    folder = Path(tempfile.mkdtemp(prefix="redline-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    init = as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    assert init.returncode == 0, init.stderr
    options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
               "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all "
               "-c fsync=off -c full_page_writes=off")  # fmt: skip
    wait = ["-w", "-t", str(int(READY_TIMEOUT_S))]
    start = as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, *wait,
                        "-l", str(folder / "log"), "start")  # fmt: skip
    assert start.returncode == 0, start.stdout + start.stderr
    admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        _psql(port, "postgres", f"CREATE ROLE redline LOGIN SUPERUSER PASSWORD '{PG_PASSWORD}'")
        yield PgServer(port, admin, folder / "log")
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _psql(port: int, database: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=port, dbname=database, user="postgres",
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture
def pg_database(postgres_server: PgServer) -> Iterator[str]:
    """A fresh database with pg_stat_statements and hypopg; its DSN (password included)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _psql(postgres_server.port, "postgres", f"CREATE DATABASE {name}")
    _psql(postgres_server.port, name, "CREATE EXTENSION pg_stat_statements")
    _psql(postgres_server.port, name, "CREATE EXTENSION hypopg")
    try:
        yield postgres_server.dsn(name)
    finally:
        _psql(postgres_server.port, "postgres", f"DROP DATABASE {name} WITH (FORCE)")


@dataclass(frozen=True)
class MariaDbServer:
    port: int
    socket: Path

    def dsn(self, database: str, *, user: str = "redline", password: str = PG_PASSWORD) -> str:
        return f"mysql://{user}:{password}@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDbServer]:
    install, server = shutil.which("mariadb-install-db"), shutil.which("mariadbd")
    server = server or "/usr/sbin/mariadbd"
    if install is None or not Path(server).exists():
        pytest.skip("MariaDB is not installed")
    folder = Path(tempfile.mkdtemp(prefix="redline-maria-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "mysql")
    data, sock, port = folder / "data", folder / "sock", free_port()
    user = ["--user=mysql"] if os.geteuid() == 0 else []
    done = subprocess.run([install, f"--datadir={data}", "--auth-root-authentication-method=normal",
                           "--skip-test-db", *user], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    proc = subprocess.Popen([server, "--no-defaults", f"--datadir={data}", f"--port={port}",
                             "--bind-address=127.0.0.1", f"--socket={sock}",
                             "--performance-schema=ON", "--skip-log-bin", *user],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_for_port(port, proc)
        _mariadb(sock, f"CREATE USER 'redline'@'%' IDENTIFIED BY '{PG_PASSWORD}'")
        _mariadb(sock, "GRANT ALL ON *.* TO 'redline'@'%'")
        yield MariaDbServer(port, sock)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mariadbd exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("mariadbd did not listen in time")


def _mariadb(sock: Path, sql: str, database: str | None = None) -> None:
    import pymysql

    conn = pymysql.connect(unix_socket=str(sock), user="root", database=database, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def mariadb_database(mariadb_server: MariaDbServer) -> Iterator[str]:
    """A fresh MariaDB database; its DSN (password included)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _mariadb(mariadb_server.socket, f"CREATE DATABASE {name}")
    try:
        yield mariadb_server.dsn(name)
    finally:
        _mariadb(mariadb_server.socket, f"DROP DATABASE {name}")
