"""``analyze_redis`` on real throwaway servers, with workloads that each cause one finding."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis

from redline.diagnose import cache_findings
from redline.plan import parse_dsn
from redline.probes import RedisAnalysis, analyze_redis
from tests.integration.cache.conftest import StartRedis


def client(dsn: str) -> redis.Redis:
    parsed = parse_dsn(dsn)
    return redis.Redis(host=parsed.host, port=parsed.port, password=parsed.password(),
                       decode_responses=True, protocol=2)  # fmt: skip


def analyze(dsn: str, **options: Any) -> tuple[RedisAnalysis, dict[str, Any]]:
    analysis = analyze_redis(parse_dsn(dsn), **options)
    return analysis, {f.rule: f for f in cache_findings(analysis)}


def fill(r: redis.Redis, count: int, *, prefix: str = "k", size: int = 100,
         ttl_s: int | None = None) -> None:  # fmt: skip
    pipe = r.pipeline(transaction=False)
    for n in range(count):
        pipe.set(f"{prefix}:{n}", "x" * size, ex=ttl_s)
        if n % 500 == 499:
            pipe.execute()
    pipe.execute()


def test_a_healthy_cache_gives_no_finding(start_redis: StartRedis) -> None:
    server = start_redis("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
    r = client(server.dsn)
    fill(r, 500, prefix="page", ttl_s=600)
    for _ in range(4):
        r.mget([f"page:{n}" for n in range(500)])
    r.get("page:missing")
    analysis, findings = analyze(server.dsn)
    assert findings == {}, [f.title for f in findings.values()]
    assert analysis.notes == [
        "key sample: its 520 key lookups (PTTL, TYPE) now count in the server's "
        "keyspace_hits/misses; this analysis read them before (--scan-seconds 0 skips the sample)"
    ]
    figures = analysis.figures
    assert figures is not None and figures.hit_ratio is not None and figures.hit_ratio > 0.99
    assert figures.maxmemory_bytes == 64 * 1024**2 and figures.maxmemory_policy == "allkeys-lru"
    assert analysis.keys is not None and analysis.keys.complete
    assert analysis.keys.sampled == 500 and analysis.keys.without_ttl == 0


def test_a_low_hit_ratio_is_found(start_redis: StartRedis) -> None:
    server = start_redis("--maxmemory", "64mb")
    r = client(server.dsn)
    fill(r, 100, ttl_s=600)
    pipe = r.pipeline(transaction=False)
    for n in range(1_500):
        pipe.get(f"k:{n}")  # 100 hits, 1,400 misses
    pipe.execute()
    _, findings = analyze(server.dsn)
    finding = findings["redis-hit-ratio"]
    assert finding.title.startswith("Hit ratio is 6.7%: 1,400 of 1,500 lookups missed")
    assert "threshold 80%" in finding.evidence[0].value


def test_evictions_under_a_small_maxmemory(start_redis: StartRedis) -> None:
    server = start_redis("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")
    r = client(server.dsn)
    fill(r, 5_000, size=1_000)  # about 5 MB of keys without a TTL into 2 MB
    analysis, findings = analyze(server.dsn)
    assert analysis.figures is not None and analysis.figures.evicted_keys > 1_000
    evictions = findings["redis-evictions"]
    assert "allkeys-lru" in {e.value for e in evictions.evidence}
    assert "CONFIG SET maxmemory 4mb" in evictions.recommendation
    assert "redis-memory-near-limit" in findings
    # every key lacks a TTL: allkeys-lru is the policy that fits
    assert "redis-eviction-policy" not in findings


def test_volatile_policy_with_keys_without_ttl_is_found(start_redis: StartRedis) -> None:
    server = start_redis("--maxmemory", "2mb", "--maxmemory-policy", "volatile-lru")
    r = client(server.dsn)
    fill(r, 200, prefix="cache", size=1_000, ttl_s=600)
    with pytest.raises(redis.ResponseError, match="maxmemory"):
        fill(r, 5_000, prefix="data", size=1_000)  # no TTL: cannot be evicted
    _, findings = analyze(server.dsn)
    policy = findings["redis-eviction-policy"]
    assert policy.title.startswith("maxmemory-policy volatile-lru can evict only keys with a TTL")
    assert "allkeys-lru" in policy.recommendation
    assert policy.severity.value == "high"  # writes were refused


def test_slow_commands_are_named(start_redis: StartRedis) -> None:
    server = start_redis("--slowlog-log-slower-than", "0")
    r = client(server.dsn)
    fill(r, 20_000, size=10, ttl_s=600)
    r.rpush("feed:all", *range(100_000))
    assert len(r.keys("k:*")) == 20_000
    r.lrange("feed:all", 0, -1)
    analysis, _ = analyze(server.dsn, scan_s=0)
    slow = {f.location: f for f in cache_findings(analysis) if f.rule == "redis-slow-command"}
    keys = slow["command: KEYS"]
    assert "SCAN" in keys.recommendation
    assert any(e.value == "KEYS k:*" for e in keys.evidence)
    assert "LRANGE feed:all 0 -1" in {e.value for e in slow["command: LRANGE"].evidence}
    assert analysis.slowlog is not None
    assert all(e.client != "redline" for e in analysis.slowlog)
    # fast commands in the slow log (the threshold is 0) are not findings
    assert "command: SET" not in slow and "command: GET" not in slow


def test_big_keys_are_found_by_sampling_within_the_budget(start_redis: StartRedis) -> None:
    server = start_redis()
    r = client(server.dsn)
    fill(r, 3_000, ttl_s=600)
    r.rpush("queue:big", *range(20_000))
    r.set("blob:big", "x" * (2 * 1024**2))
    analysis, findings = analyze(server.dsn, scan_s=2.0)
    sample = analysis.keys
    assert sample is not None and sample.complete and sample.elapsed_s < 2.5
    big = findings["redis-big-keys"]
    named = {e.label for e in big.evidence}
    assert {"blob:big", "queue:big"} <= named
    assert any("20,000 elements" in e.value for e in big.evidence)
    assert big.location == "key: blob:big"


def test_the_sample_is_read_after_the_hit_ratio(start_redis: StartRedis) -> None:
    server = start_redis()
    r = client(server.dsn)
    fill(r, 1_000, ttl_s=600)
    first, _ = analyze(server.dsn)
    second, _ = analyze(server.dsn)
    assert first.figures is not None and first.figures.lookups == 0
    assert first.keys is not None and first.keys.lookups == 1_000 + 2 * 10
    # redis counts the sample's PTTL and TYPE as lookups: the next analysis sees them
    assert second.figures is not None and second.figures.lookups == first.keys.lookups


def test_the_key_sample_stops_at_its_budget_and_cap(start_redis: StartRedis) -> None:
    server = start_redis()
    r = client(server.dsn)
    fill(r, 30_000, size=10)
    capped, _ = analyze(server.dsn, max_keys=500)
    assert capped.keys is not None
    assert (capped.keys.stopped_by, capped.keys.sampled) == ("cap", 500)
    timed, _ = analyze(server.dsn, scan_s=0.01)
    assert timed.keys is not None and timed.keys.stopped_by == "time"
    assert timed.keys.sampled < 30_000 and timed.keys.elapsed_s < 1.0


def test_keys_without_ttl_in_a_cache_and_no_maxmemory(start_redis: StartRedis) -> None:
    server = start_redis()  # maxmemory 0
    r = client(server.dsn)
    fill(r, 300, prefix="page", ttl_s=600)
    fill(r, 60, prefix="session")
    _, findings = analyze(server.dsn)
    lasting = findings["redis-keys-without-ttl"]
    assert lasting.title.startswith("Keys session:* never expire")
    assert "redis-no-maxmemory" in findings
    assert "allkeys-lru" in findings["redis-no-maxmemory"].recommendation


def test_latency_events_with_the_doctor(start_redis: StartRedis) -> None:
    server = start_redis("--latency-monitor-threshold", "50", "--enable-debug-command", "local")
    r = client(server.dsn)
    r.execute_command("DEBUG", "SLEEP", "0.15")
    analysis, findings = analyze(server.dsn)
    assert analysis.latency_doctor is not None
    event = findings["redis-latency-events"]
    assert event.location == "latency event: command"
    assert any(e.label == "LATENCY DOCTOR" for e in event.evidence)


def test_blocked_clients_are_found(start_redis: StartRedis) -> None:
    server = start_redis()
    waiter = threading.Thread(target=lambda: client(server.dsn).blpop(["jobs"], timeout=5))
    waiter.start()
    r = client(server.dsn)
    try:
        for _ in range(100):
            if r.info("clients")["blocked_clients"]:
                break
            threading.Event().wait(0.02)
        _, findings = analyze(server.dsn)
    finally:
        r.rpush("jobs", "done")
        waiter.join(timeout=10)
    assert findings["redis-blocked-clients"].title.startswith("1 of ")


def test_config_disabled_is_a_note_and_the_rest_is_read(start_redis: StartRedis) -> None:
    server = start_redis("--rename-command", "CONFIG", "", "--maxmemory", "2mb",
                         "--maxmemory-policy", "allkeys-lru")  # fmt: skip
    fill(client(server.dsn), 5_000, size=1_000)
    analysis, findings = analyze(server.dsn)
    assert analysis.config is None
    assert analysis.notes[0] == (
        "CONFIG GET: CONFIG is not available (renamed or disabled by rename-command) "
        "(figures that need it are left out)"
    )
    assert len(analysis.notes) == 2 and analysis.notes[1].startswith("key sample: its")
    assert analysis.figures is not None and analysis.figures.maxmemory_policy == "allkeys-lru"
    assert "redis-evictions" in findings


def test_a_persistence_fork_is_measured(start_redis: StartRedis) -> None:
    server = start_redis()
    r = client(server.dsn)
    fill(r, 1_000)
    r.bgsave()
    for _ in range(200):
        if not r.info("persistence")["rdb_bgsave_in_progress"]:
            break
        threading.Event().wait(0.02)
    analysis, findings = analyze(server.dsn)
    assert analysis.figures is not None and analysis.figures.total_forks == 1
    assert analysis.figures.latest_fork_us > 0
    # a fork of a few MB takes well under the 100 ms threshold
    assert "redis-fork" not in findings


def test_commands_the_user_may_not_run_are_notes(start_redis: StartRedis) -> None:
    server = start_redis()
    admin = client(server.dsn)
    admin.execute_command("ACL", "SETUSER", "watcher", "on", ">w4tch-pw", "~*", "+@all",
                          "-config", "-slowlog")  # fmt: skip
    fill(admin, 100, ttl_s=600)
    analysis, _ = analyze(f"redis://watcher:w4tch-pw@127.0.0.1:{server.port}")
    assert analysis.config is None and analysis.slowlog is None
    assert analysis.notes[:2] == [
        "CONFIG GET: the user may not run CONFIG (NOPERM) (grant it: ACL SETUSER watcher +config)",
        "SLOWLOG GET: the user may not run SLOWLOG (NOPERM) "
        "(grant it: ACL SETUSER watcher +slowlog)",
    ]
    assert analysis.figures is not None and analysis.keys is not None
    assert all("w4tch-pw" not in note for note in analysis.notes)
