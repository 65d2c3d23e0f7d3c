"""Throwaway cache servers on loopback for the cache tests.

- ``start_redis(*args, password=None)``: a ``redis-server`` of its own for one
  test, on a free port of 127.0.0.1, in its own folder, with persistence off
  (``--save ''``, ``--appendonly no``) and the extra ``args`` (``--maxmemory 2mb``...);
  ``--requirepass`` when a password is given.
- ``start_memcached(*args)``: a ``memcached -l 127.0.0.1 -p PORT -m 8 -U 0`` of its
  own (``-u memcache`` when run as root, which memcached refuses otherwise).

Each is stopped by its own PID when the test ends. Nothing here touches the
machine's running servers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The password of the Redis servers started with one: tests check it never shows.
REDIS_PASSWORD = "r3dis-s3cret-9"
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class CacheServer:
    port: int
    dsn: str
    pid: int
    folder: Path


@dataclass
class _Started:
    procs: list[subprocess.Popen[bytes]]
    folders: list[Path]

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{name} did not listen in time")


StartRedis = Callable[..., CacheServer]
StartMemcached = Callable[..., CacheServer]


@pytest.fixture
def start_redis() -> Iterator[StartRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    started = _Started([], [])

    def start(*args: str, password: str | None = None) -> CacheServer:
        folder = Path(tempfile.mkdtemp(prefix="redline-redis-"))
        port = free_port()
        auth = ["--requirepass", password] if password else []
        argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                "--appendonly", "no", "--dir", str(folder), "--daemonize", "no",
                "--logfile", str(folder / "log"), *auth, *args]  # fmt: skip
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.procs.append(proc)
        started.folders.append(folder)
        _wait_for_port(port, proc, "redis-server")
        who = f":{password}@" if password else ""
        return CacheServer(port, f"redis://{who}127.0.0.1:{port}", proc.pid, folder)

    try:
        yield start
    finally:
        started.stop()


def _unprivileged_user() -> str:
    """memcached refuses to run as root: the Debian package's user, else nobody."""
    try:
        pwd.getpwnam("memcache")
    except KeyError:
        return "nobody"
    return "memcache"


@pytest.fixture
def start_memcached() -> Iterator[StartMemcached]:
    binary = shutil.which("memcached")
    if binary is None:
        pytest.skip("memcached is not installed")
    started = _Started([], [])

    def start(*args: str, memory_mb: int = 8) -> CacheServer:
        port = free_port()
        user = ["-u", _unprivileged_user()] if os.geteuid() == 0 else []
        argv = [binary, "-l", "127.0.0.1", "-p", str(port), "-m", str(memory_mb), "-U", "0",
                *user, *args]  # fmt: skip
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.procs.append(proc)
        _wait_for_port(port, proc, "memcached")
        return CacheServer(port, f"memcached://127.0.0.1:{port}", proc.pid, Path())

    try:
        yield start
    finally:
        started.stop()
