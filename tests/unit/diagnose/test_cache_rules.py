"""The cache rules on figures given as the servers' own INFO and stats replies (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest

from redline.diagnose import cache_findings
from redline.diagnose._finding import Finding, Severity
from redline.diagnose._memcached_rules import CONN_YIELDS_MIN, EVICTED_UNFETCHED_MIN
from redline.diagnose._redis_rules import (
    BIG_KEY_BYTES,
    BIG_KEY_ELEMENTS,
    FORK_SLOW_US,
    FRAGMENTATION_MIN_USED_BYTES,
    MIN_LOOKUPS,
    SLOW_COMMAND_US,
)
from redline.probes._memcached import MemcachedAnalysis, memcached_figures, slab_classes
from redline.probes._redis import (
    BigKey,
    KeySample,
    LatencyEvent,
    PrefixStats,
    RedisAnalysis,
    SlowEntry,
    redis_figures,
    trim_command,
)

MIB = 1024**2

#: A healthy cache's ``INFO all``, as redis-py parses it.
HEALTHY_INFO: dict[str, Any] = {
    "redis_version": "7.0.15",
    "uptime_in_seconds": 3600,
    "keyspace_hits": 9_500,
    "keyspace_misses": 500,
    "evicted_keys": 0,
    "expired_keys": 120,
    "used_memory": 20 * MIB,
    "used_memory_rss": 30 * MIB,
    "maxmemory": 64 * MIB,
    "maxmemory_policy": "allkeys-lru",
    "mem_fragmentation_ratio": 1.5,
    "connected_clients": 12,
    "blocked_clients": 0,
    "instantaneous_ops_per_sec": 800,
    "used_cpu_sys": 3.5,
    "used_cpu_user": 6.25,
    "latest_fork_usec": 900,
    "total_forks": 2,
    "rdb_bgsave_in_progress": 0,
    "aof_rewrite_in_progress": 0,
    "aof_enabled": 0,
    "db0": {"keys": 1_000, "expires": 990, "avg_ttl": 60_000},
}
CONFIG = {"maxmemory": str(64 * MIB), "maxmemory-policy": "allkeys-lru",
          "slowlog-log-slower-than": "10000", "latency-monitor-threshold": "0"}  # fmt: skip


def sample(sampled: int = 1_000, without_ttl: int = 10, **fields: Any) -> KeySample:
    return KeySample(database=0, total_keys=sampled, sampled=sampled, without_ttl=without_ttl,
                     complete=True, **fields)  # fmt: skip


def redis(info: dict[str, Any] | None = None, **parts: Any) -> dict[str, Finding]:
    analysis = RedisAnalysis(
        "redis://127.0.0.1:6379",
        figures=redis_figures({**HEALTHY_INFO, **(info or {})}, parts.pop("config", CONFIG)),
        config=CONFIG,
        slowlog=parts.pop("slowlog", []),
        latency=parts.pop("latency", []),
        keys=parts.pop("keys", sample()),
        **parts,
    )
    return {f.rule: f for f in cache_findings(analysis)}


def test_a_healthy_redis_gives_no_finding() -> None:
    assert redis() == {}


def test_figures_are_read_from_info_and_config() -> None:
    info = {**HEALTHY_INFO, "db1": {"keys": 5, "expires": 0}, "errorstat_OOM": {"count": 7}}
    figures = redis_figures(info, {"maxmemory": "1048576", "maxmemory-policy": "noeviction"})
    assert (figures.keys, figures.keys_with_ttl, figures.oom_errors) == (1_005, 990, 7)
    assert (figures.maxmemory_bytes, figures.maxmemory_policy) == (MIB, "noeviction")
    assert figures.hit_ratio == 0.95 and figures.cpu_user_s == 6.25
    empty = redis_figures({})
    assert empty.hit_ratio is None and empty.memory_share is None and empty.version == "?"


@pytest.mark.parametrize(
    ("hits", "misses", "fires"),
    [(700, 300, True), (699, MIN_LOOKUPS - 700, False), (800, 200, False), (100, 900, True)],
)
def test_hit_ratio_below_80_percent_once_enough_lookups(
    hits: int, misses: int, fires: bool
) -> None:
    found = redis({"keyspace_hits": hits, "keyspace_misses": misses})
    assert ("redis-hit-ratio" in found) is fires
    if fires:
        finding = found["redis-hit-ratio"]
        assert finding.severity is (Severity.HIGH if hits < 400 else Severity.MEDIUM)
        assert "(threshold 80%)" in finding.evidence[0].value


def test_evictions_name_the_policy_and_a_bigger_maxmemory() -> None:
    found = redis({"evicted_keys": 3_600, "used_memory": 64 * MIB})
    finding = found["redis-evictions"]
    assert "3,600 in 1.0 h (1.0/s)" in finding.evidence[0].value
    assert "CONFIG SET maxmemory 128mb" in finding.recommendation
    assert "redis-memory-near-limit" in found
    # allkeys-lru with most keys under a TTL and only 1 % without: the policy fits
    assert "redis-eviction-policy" in found  # some keys lack a TTL and may be evicted
    fitting = redis({"evicted_keys": 3_600}, keys=sample(without_ttl=0))
    assert "redis-eviction-policy" not in fitting


def test_volatile_policy_with_keys_without_ttl() -> None:
    config = {**CONFIG, "maxmemory-policy": "volatile-lru"}
    found = redis({"evicted_keys": 10, "errorstat_OOM": {"count": 3}}, config=config,
                  keys=sample(without_ttl=800))  # fmt: skip
    policy = found["redis-eviction-policy"]
    assert policy.severity is Severity.HIGH
    assert "80% of the keys have none" in policy.title
    assert "allkeys-lru" in policy.recommendation
    with_ttl = redis({"evicted_keys": 10}, config=config, keys=sample(without_ttl=100))
    assert "redis-eviction-policy" not in with_ttl


def test_noeviction_refusing_writes() -> None:
    config = {**CONFIG, "maxmemory-policy": "noeviction"}
    found = redis({"used_memory": 63 * MIB, "errorstat_OOM": {"count": 40}}, config=config)
    assert found["redis-eviction-policy"].title.startswith("maxmemory-policy noeviction")
    near = found["redis-memory-near-limit"]
    assert near.severity is Severity.HIGH and "noeviction" in near.recommendation


@pytest.mark.parametrize(("used_mib", "fires"), [(57.61, True), (57.5, False)])
def test_memory_near_limit_from_90_percent(used_mib: float, fires: bool) -> None:
    found = redis({"used_memory": int(used_mib * MIB)})
    assert ("redis-memory-near-limit" in found) is fires


def test_no_maxmemory_on_a_cache_but_not_on_a_store() -> None:
    config = {**CONFIG, "maxmemory": "0"}
    cache = redis(config=config, keys=None)
    assert "allkeys-lru" in cache["redis-no-maxmemory"].recommendation
    store = redis({"db0": {"keys": 1_000, "expires": 10}}, config=config, keys=None)
    assert "redis-no-maxmemory" not in store


@pytest.mark.parametrize(
    ("ratio", "used", "fires"),
    [(1.6, FRAGMENTATION_MIN_USED_BYTES, True), (1.5, 200 * MIB, False),
     (12.0, FRAGMENTATION_MIN_USED_BYTES - 1, False)],
)  # fmt: skip
def test_fragmentation_above_1_5_on_a_sizeable_server(ratio: float, used: int, fires: bool) -> None:
    info = {"mem_fragmentation_ratio": ratio, "used_memory": used,
            "used_memory_rss": int(used * ratio), "maxmemory": 0}  # fmt: skip
    found = redis(info, config={**CONFIG, "maxmemory": str(1024 * MIB)})
    assert ("redis-fragmentation" in found) is fires
    if fires:
        assert "activedefrag yes" in found["redis-fragmentation"].recommendation


def slow(name: str, us: int, command: str | None = None) -> SlowEntry:
    return SlowEntry(1, 0, us, name, command or name, "127.0.0.1:5000")


def test_slow_commands_by_name_with_their_own_advice() -> None:
    entries = [
        slow("KEYS", 50, "KEYS user:*"),
        slow("GET", 500),
        slow("SMEMBERS", 2_000),
        slow("HGETALL", 200),
        slow("EVALSHA", SLOW_COMMAND_US),
        slow("KEYS", 80),
    ]
    analysis = RedisAnalysis("redis://x:1", figures=redis_figures(HEALTHY_INFO), slowlog=entries)
    found = {f.location: f for f in cache_findings(analysis) if f.rule == "redis-slow-command"}
    assert set(found) == {"command: KEYS", "command: SMEMBERS", "command: EVALSHA"}
    keys = found["command: KEYS"]
    assert keys.title.startswith("KEYS ran 2 time(s) in the slow log, the slowest for 80 µs")
    assert "SCAN cursor MATCH" in keys.recommendation and keys.severity is Severity.MEDIUM
    assert "SSCAN" in found["command: SMEMBERS"].recommendation
    assert found["command: SMEMBERS"].severity is Severity.LOW
    assert "pipelined" in found["command: EVALSHA"].recommendation


def test_a_long_fork() -> None:
    assert "redis-fork" not in redis({"latest_fork_usec": FORK_SLOW_US - 1})
    fork = redis({"latest_fork_usec": FORK_SLOW_US, "rdb_bgsave_in_progress": 1})["redis-fork"]
    assert fork.severity is Severity.MEDIUM and "an RDB save" in fork.evidence[-1].value
    assert 'save ""' in fork.recommendation and "transparent_hugepage" in fork.recommendation
    assert redis({"latest_fork_usec": 5 * FORK_SLOW_US})["redis-fork"].severity is Severity.HIGH


def test_latency_events_with_the_doctor_text() -> None:
    assert redis(latency=[LatencyEvent("command", 0, 99, 99)]) == {}
    found = redis(latency=[LatencyEvent("fork", 0, 20, 180)], latency_doctor="Dave, fork is slow.")
    event = found["redis-latency-events"]
    assert event.location == "latency event: fork"
    assert event.evidence[-1].value == "Dave, fork is slow."


def test_big_keys_by_bytes_or_elements() -> None:
    keys = sample(big=[BigKey("blob", "string", BIG_KEY_BYTES, 10),
                       BigKey("queue", "list", 300_000, BIG_KEY_ELEMENTS),
                       BigKey("long-string", "string", 200_000, 200_000),
                       BigKey("small", "hash", 1_000, 20)])  # fmt: skip
    big = redis(keys=keys)["redis-big-keys"]
    assert [e.label for e in big.evidence[:2]] == ["blob", "queue"]
    assert big.evidence[1].value == "list, 293.0 KiB, 10,000 elements"
    assert len(big.evidence) == 4  # two keys, the judgement, the sample
    assert "UNLINK" in big.recommendation


def test_a_prefix_without_ttl_in_a_cache() -> None:
    prefixes = {
        "page": PrefixStats("page", 900, 0, MIB),
        "session": PrefixStats("session", 100, 95, 0),
        "tiny": PrefixStats("tiny", 5, 5, 0),
    }
    found = redis(keys=sample(without_ttl=100, prefixes=prefixes))
    assert found["redis-keys-without-ttl"].title.startswith("Keys session:* never expire")
    store = sample(without_ttl=600, prefixes=prefixes)
    assert "redis-keys-without-ttl" not in redis(keys=store)


def test_blocked_clients() -> None:
    blocked = redis({"blocked_clients": 2})["redis-blocked-clients"]
    assert blocked.title == "2 of 12 clients are blocked in a blocking command"


def test_commands_are_trimmed() -> None:
    assert trim_command(["SET", "k", "v" * 50]) == "SET k " + "v" * 40 + "..."
    assert len(trim_command(["MSET", *(["abc"] * 100)])) == 203


# -- memcached ------------------------------------------------------------------------------

HEALTHY_STATS: dict[str, Any] = {
    "version": "1.6.18", "uptime": 600, "cmd_get": 10_000, "get_hits": 9_800,
    "get_misses": 200, "cmd_set": 2_000, "evictions": 0, "evicted_unfetched": 0,
    "expired_unfetched": 3, "listen_disabled_num": 0, "conn_yields": 0,
    "curr_connections": 10, "max_connections": 1024, "rejected_connections": 0,
    "bytes": 2 * MIB, "limit_maxbytes": 64 * MIB, "curr_items": 2_000, "threads": 4,
}  # fmt: skip
SETTINGS = {"reqs_per_event": 20, "slab_automove": True, "maxconns": 1024}
SLABS = {"1:chunk_size": 96, "1:total_pages": 8, "1:total_chunks": 87_376,
         "1:used_chunks": 100, "1:free_chunks": 87_276, "5:chunk_size": 24_000,
         "5:total_pages": 2, "5:total_chunks": 86, "5:used_chunks": 86, "5:free_chunks": 0,
         "active_slabs": 2, "total_malloced": 10 * MIB}  # fmt: skip
ITEMS = {"items:1:number": 100, "items:1:evicted": 0, "items:5:number": 86,
         "items:5:evicted": 4_000, "items:5:evicted_unfetched": 10}  # fmt: skip


def memcached(stats: dict[str, Any] | None = None, *, slabs: bool = False) -> dict[str, Finding]:
    analysis = MemcachedAnalysis(
        "memcached://127.0.0.1:11211",
        figures=memcached_figures({**HEALTHY_STATS, **(stats or {})}, SETTINGS),
        slabs=slab_classes(SLABS, ITEMS) if slabs else [],
    )
    return {f.rule: f for f in cache_findings(analysis)}


def test_a_healthy_memcached_gives_no_finding() -> None:
    assert memcached() == {}


def test_memcached_hit_ratio() -> None:
    finding = memcached({"get_hits": 7_000, "get_misses": 3_000})["memcached-hit-ratio"]
    assert finding.title == "Hit ratio is 70.0%: 3,000 of 10,000 gets missed"
    assert "memcached-hit-ratio" not in memcached({"cmd_get": 999, "get_hits": 0})


def test_memcached_evictions_and_items_never_read() -> None:
    found = memcached({"evictions": 1_000, "evicted_unfetched": 500})
    assert "-m 128" in found["memcached-evictions"].recommendation
    assert found["memcached-evicted-unfetched"].title.startswith("50% of the evicted items")
    assert "memcached-evicted-unfetched" not in memcached({"evictions": 1_000,
                                                           "evicted_unfetched": 499})  # fmt: skip
    few = {"evictions": EVICTED_UNFETCHED_MIN - 1, "evicted_unfetched": EVICTED_UNFETCHED_MIN - 1}
    assert "memcached-evicted-unfetched" not in memcached(few)


@pytest.mark.parametrize("stats", [{"listen_disabled_num": 1}, {"rejected_connections": 3}])
def test_memcached_connection_limit(stats: dict[str, int]) -> None:
    finding = memcached(stats)["memcached-connection-limit"]
    assert finding.severity is Severity.HIGH and "-c 2048" in finding.recommendation


def test_memcached_connection_yields() -> None:
    assert "-R 100" in memcached({"conn_yields": 500})["memcached-conn-yields"].recommendation
    assert "memcached-conn-yields" not in memcached({"conn_yields": CONN_YIELDS_MIN - 1})
    rare = {"conn_yields": 200, "cmd_get": 10_000_000, "get_hits": 10_000_000}
    assert "memcached-conn-yields" not in memcached(rare)


def test_slab_imbalance() -> None:
    classes = slab_classes(SLABS, ITEMS)
    assert [(s.id, s.evicted, s.free_chunks) for s in classes] == [(1, 0, 87_276), (5, 4_000, 0)]
    finding = memcached(slabs=True)["memcached-slab-imbalance"]
    assert finding.title == "Slab classes 5 evict while other classes hold 8.0 MiB of free chunks"
    assert "slabs reassign 1 5" in finding.recommendation
    balanced = {**ITEMS, "items:5:evicted": 0}
    analysis = MemcachedAnalysis("m", figures=None, slabs=slab_classes(SLABS, balanced))
    assert cache_findings(analysis) == []
