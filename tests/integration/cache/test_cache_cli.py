"""``redline cache analyze``: a figures table and a diagnosis, JSON, one-line errors, and the
password never shown."""

from __future__ import annotations

import json
import subprocess
import sys

import redis

from tests.integration.cache.conftest import (
    REDIS_PASSWORD,
    StartMemcached,
    StartRedis,
    free_port,
)

TIMEOUT_S = 60


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "redline", "cache", "analyze", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def test_redis_with_a_password_shows_figures_and_findings_never_the_password(
    start_redis: StartRedis,
) -> None:
    server = start_redis("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru",
                         password=REDIS_PASSWORD)  # fmt: skip
    r = redis.Redis(port=server.port, password=REDIS_PASSWORD, protocol=2)
    pipe = r.pipeline(transaction=False)
    for n in range(5_000):
        pipe.set(f"k:{n}", "x" * 1_000)
    pipe.execute()
    text = redline(server.dsn, "--scan-seconds", "1")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"cache figures (redis://127.0.0.1:{server.port})")
    assert "diagnosis of cache" in text.stdout and "redis-evictions" in text.stdout
    as_json = redline(server.dsn, "--json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["figures"]["evicted_keys"] > 0 and report["keys"]["sampled"] > 0
    assert "redis-evictions" in {f["rule"] for f in report["findings"]}
    assert [n.split(":")[0] for n in report["notes"]] == ["key sample"]
    for output in (text.stdout, text.stderr, as_json.stdout, as_json.stderr):
        assert REDIS_PASSWORD not in output


def test_a_wrong_or_missing_password_is_one_line_without_it(start_redis: StartRedis) -> None:
    server = start_redis(password=REDIS_PASSWORD)
    wrong = redline(f"redis://app:hunter2@127.0.0.1:{server.port}")
    assert wrong.returncode == 3 and wrong.stdout == ""
    first, hint = wrong.stderr.splitlines()
    assert first == (f"error: Redis at redis://app:***@127.0.0.1:{server.port} refused the "
                     "login: wrong password or user (WRONGPASS)")  # fmt: skip
    assert hint.startswith("hint: ")
    assert "hunter2" not in wrong.stderr
    missing = redline(f"redis://127.0.0.1:{server.port}")
    assert missing.returncode == 3
    assert missing.stderr.splitlines()[0].endswith(
        "requires a password and the DSN has none (NOAUTH)"
    )


def test_a_refused_port_is_one_line() -> None:
    port = free_port()
    for dsn, server in ((f"redis://:hunter2@127.0.0.1:{port}", "Redis"),
                        (f"memcached://127.0.0.1:{port}", "memcached")):  # fmt: skip
        proc = redline(dsn)
        assert proc.returncode == 3 and proc.stdout == ""
        first, hint = proc.stderr.splitlines()
        assert first.startswith(f"error: {server} at ") and first.endswith("refused the connection")
        assert hint.startswith("hint: check that")
        assert "hunter2" not in proc.stderr


def test_bad_input_is_one_line_with_exit_code_2() -> None:
    bad = redline("redis://:hunter2@127.0.0.1:6379/cache")
    assert bad.returncode == 2 and bad.stderr.startswith("error: DSN: a Redis database is a number")
    assert "hunter2" not in bad.stderr
    other = redline("postgresql://127.0.0.1/db")
    assert other.returncode == 2 and "expected redis://" in other.stderr
    budget = redline("redis://127.0.0.1:6379", "--scan-seconds", "61")
    assert budget.returncode == 2
    assert budget.stderr.startswith("error: --scan-seconds: 61.0 is out of range; allowed 0..60")
    memcached = redline("memcached://127.0.0.1:11211", "--scan-seconds", "1")
    assert memcached.returncode == 2 and "--scan-seconds: for Redis only" in memcached.stderr


def test_memcached_shows_figures_and_findings(start_memcached: StartMemcached) -> None:
    server = start_memcached()
    proc = redline(server.dsn)
    assert proc.returncode == 0, proc.stderr
    assert "hit ratio" in proc.stdout and "memory used / limit (-m)" in proc.stdout
    assert "no findings" in proc.stdout
    report = json.loads(redline(server.dsn, "--json").stdout)
    assert report["figures"]["limit_maxbytes"] == 8 * 1024**2 and report["findings"] == []
    assert report["slabs"] == []
