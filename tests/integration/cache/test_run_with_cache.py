"""``redline run --cache DSN`` against real throwaway caches on loopback.

The target is the demo cache shop (``redline.demo.cache_shop``), started by
redline with ``--server-cmd``: it reads each item through Redis (cache-aside).
A healthy setup (few keys, room for them) gives no cache finding; a small
``maxmemory`` under many keys evicts and misses; a shop that runs a Lua loop
now and then leaves slow commands in the slowlog; a BGSAVE during the run is a
fork. memcached is driven by the test itself beside a plain target.

The servers are this module's own fixtures (redis-server and memcached on free
ports, each in its own folder, stopped by PID).
"""

from __future__ import annotations

import json
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

#: The password of the password-bearing Redis: it must never show.
PASSWORD = "run-c4che-pw-5"
RUN_TIMEOUT_S = 120
READY_TIMEOUT_S = 10.0
#: A Lua loop this long holds Redis for some tens of milliseconds on the test machine.
SLOW_LOOPS = 300_000

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class Server:
    port: int
    dsn: str
    proc: subprocess.Popen[bytes]


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"not listening on {port}: {log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def start_redis(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``start_redis(*args, password=None)``: a redis-server of the test's own."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, password: str | None = None) -> Server:
        port, folder = free_port(), tmp_path / f"redis-{len(started)}"
        folder.mkdir()
        auth = ["--requirepass", password] if password else []
        log = folder / "log"
        proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
             "--save", "", "--appendonly", "no", "--logfile", str(log), *auth, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(proc)
        _wait_listening(proc, port, log)
        who = f":{password}@" if password else ""
        return Server(port, f"redis://{who}127.0.0.1:{port}", proc)

    try:
        yield start
    finally:
        for proc in started:
            _stop(proc)


@pytest.fixture
def memcached(tmp_path: Path) -> Iterator[Server]:
    """A memcached of the test's own with a low connection limit (40, one worker thread)."""
    if shutil.which("memcached") is None:
        pytest.skip("memcached is not installed")
    port, log = free_port(), tmp_path / "memcached.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["memcached", "-u", "root", "-l", "127.0.0.1", "-p", str(port), "-U", "0",
             "-m", "8", "-c", "40", "-t", "1"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_listening(proc, port, log)
        yield Server(port, f"memcached://127.0.0.1:{port}", proc)
    finally:
        _stop(proc)


def run(tmp_path: Path, target: str, server_cmd: list[str], cache: str,
        *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:  # fmt: skip
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", target, "--vus", "4", "--duration", "10s",
         "--quiet", "--out", str(out), "--history", str(tmp_path / "h.db"),
         "--server-cmd", shlex.join(server_cmd), "--cache", cache, "--diagnose", *extra],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def shop(redis: Server, *args: str) -> tuple[str, list[str]]:
    port = free_port()
    command = [sys.executable, "-m", "redline.demo.cache_shop", "--cache", redis.dsn,
               "--port", str(port), *args]  # fmt: skip
    return f"http://127.0.0.1:{port}/", command


def cache_rules(document: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in document["diagnosis"]["findings"] if f["category"] == "cache"]


def test_a_healthy_cache_is_sampled_stored_and_gives_no_finding(
    tmp_path: Path, start_redis: Callable[..., Server]
) -> None:
    redis = start_redis(password=PASSWORD)
    target, command = shop(redis, "--keys", "50")
    proc, document = run(tmp_path, target, command, redis.dsn)
    samples = document["resources"]["cache"]
    assert len(samples) >= 9
    busy = [s for s in samples if s["lookups_per_s"] > 0]
    assert busy and all(s["hit_ratio"] > 0.9 for s in busy[1:])  # 50 keys: misses only at first
    assert all(s["connected_clients"] >= 1 for s in busy)  # the shop's pool
    assert max(s["cpu"] for s in samples) > 0
    watched = document["cache"]
    assert watched["dsn"] == f"redis://127.0.0.1:{redis.port}"
    assert watched["kind"] == "redis" and watched["server"]["maxmemory_policy"] == "noeviction"
    assert watched["slowlog"] == [] and watched["notes"] == []
    assert cache_rules(document) == []
    stored = sqlite3.connect(tmp_path / "h.db").execute("SELECT document FROM runs").fetchone()[0]
    assert json.loads(stored)["cache"] == watched
    for text in (proc.stdout, proc.stderr, (tmp_path / "r.json").read_text(), stored):
        assert PASSWORD not in text


def test_a_small_maxmemory_under_many_keys_evicts_and_misses(
    tmp_path: Path, start_redis: Callable[..., Server]
) -> None:
    redis = start_redis("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")
    target, command = shop(redis, "--keys", "20000", "--value-bytes", "1000")
    _, document = run(tmp_path, target, command, redis.dsn)
    assert sum(s["evicted_keys_per_s"] for s in document["resources"]["cache"]) > 0
    rules = cache_rules(document)
    assert "cache-evictions" in rules and "cache-hit-ratio" in rules
    evictions = next(f for f in document["diagnosis"]["findings"] if f["rule"] == "cache-evictions")
    assert any(e["value"] == "allkeys-lru" for e in evictions["evidence"])


def test_slow_commands_and_a_fork_during_the_run_are_named(
    tmp_path: Path, start_redis: Callable[..., Server]
) -> None:
    redis = start_redis("--slowlog-log-slower-than", "10000")
    target, command = shop(redis, "--keys", "50", "--slow-every", "300",
                           "--slow-loops", str(SLOW_LOOPS))  # fmt: skip
    saver = threading.Thread(target=_bgsave_once_busy, args=(redis.port,), daemon=True)
    saver.start()
    _, document = run(tmp_path, target, command, redis.dsn)
    saver.join(timeout=30)
    slowlog = document["cache"]["slowlog"]
    assert slowlog and {e["command"] for e in slowlog} == {"EVAL"}
    assert all(e["duration_us"] >= 10_000 and 0 <= e["second"] <= 11 for e in slowlog)
    assert sum(s["forks"] for s in document["resources"]["cache"]) >= 1
    rules = cache_rules(document)
    assert "cache-slow-commands" in rules and "cache-persistence-fork" in rules
    slow = next(f for f in document["diagnosis"]["findings"] if f["rule"] == "cache-slow-commands")
    assert "EVAL the most time" in slow["title"]


def _bgsave_once_busy(port: int) -> None:
    """BGSAVE once the shop's traffic has run for a few seconds (a fork during the run)."""
    import redis as redis_py

    client = redis_py.Redis(port=port)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if int(client.info("stats")["total_commands_processed"]) > 2000:
                time.sleep(3)
                client.bgsave()
                return
            time.sleep(0.1)
    finally:
        client.close()


def test_memcached_is_sampled_and_its_connection_limit_found(
    tmp_path: Path, memcached: Server
) -> None:
    port = free_port()
    target = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "redline.demo.capacity", "--port", str(port),
               "--slots", "4", "--service-ms", "2"]  # fmt: skip
    stop = threading.Event()
    traffic = threading.Thread(target=_memcached_traffic, args=(memcached.port, stop))
    traffic.start()
    try:
        _, document = run(tmp_path, target, command, memcached.dsn)
    finally:
        stop.set()
        traffic.join(timeout=30)
    samples = document["resources"]["cache"]
    assert sum(s["lookups_per_s"] for s in samples) > 0
    assert sum(s["rejected_connections"] + s["listen_disabled"] for s in samples) > 0
    assert document["cache"]["server"]["maxconns"] == 40
    assert "cache-connection-limit" in cache_rules(document)


def _memcached_traffic(port: int, stop: threading.Event) -> None:
    """Gets and sets, and after a few seconds more connections than memcached allows."""
    from pymemcache.client.base import Client

    client = Client(("127.0.0.1", port))
    extra: list[socket.socket] = []
    started = time.monotonic()
    try:
        while not stop.is_set():
            for n in range(50):
                if client.get(f"k{n}") is None:
                    client.set(f"k{n}", b"v" * 100)
            if not extra and time.monotonic() - started > 4:
                extra = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
            time.sleep(0.05)
    finally:
        client.close()
        for sock in extra:
            sock.close()


def test_a_cache_that_refuses_stops_the_run_before_any_load(
    tmp_path: Path, start_redis: Callable[..., Server]
) -> None:
    redis = start_redis(password=PASSWORD)
    for dsn, message in [
        (
            f"redis://:wrong-{PASSWORD}@127.0.0.1:{redis.port}",
            "refused the login: wrong password or user (WRONGPASS)",
        ),
        (f"redis://127.0.0.1:{redis.port}", "requires a password and the DSN has none (NOAUTH)"),
        (f"redis://127.0.0.1:{free_port()}", "refused the connection"),
        (f"memcached://127.0.0.1:{free_port()}", "refused the connection"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "redline", "run", "http://127.0.0.1:9/", "--vus", "1",
             "--duration", "10s", "--no-save", "--cache", dsn],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert proc.returncode == 3, proc.stderr
        first, hint = proc.stderr.splitlines()  # one line, and the hint
        assert first.startswith("error: --cache: ") and first.endswith(message)
        assert hint.startswith("hint: ")
        assert PASSWORD not in proc.stderr + proc.stdout


def test_a_dsn_of_another_kind_is_refused() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", "http://127.0.0.1:9/", "--vus", "1",
         "--duration", "10s", "--no-save", "--cache", "postgresql://u:pw@127.0.0.1/db"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--cache: not a connection string of a supported kind" in proc.stderr
