"""The cache during a run (``run --cache``): each rule from a synthetic document, and a healthy
cache that gives none."""

from __future__ import annotations

from typing import Any

from redline.diagnose import Category, Severity, diagnose
from redline.diagnose._rule_cache import (
    CACHE_RULES,
    HIT_RATIO_FALL,
    LOW_HIT_RATIO,
    cache_connection_limit,
    cache_cpu_bound,
    cache_evictions,
    cache_hit_ratio,
    cache_not_read,
    cache_persistence_fork,
    cache_slow_commands,
)
from redline.diagnose._timeline import Timeline
from tests.unit.diagnose.diagnose_docs import Sec, document, server, stepped

REDIS = {
    "dsn": "redis://127.0.0.1:6379",
    "kind": "redis",
    "server": {"version": "7.0.15", "maxmemory_policy": "allkeys-lru",
               "maxmemory_bytes": 2_000_000, "slowlog_slower_than_us": 10_000,
               "slowlog_max_len": 128},
    "slowlog": [],
    "slowlog_logged": 0,
    "notes": [],
}  # fmt: skip
MEMCACHED = {
    "dsn": "memcached://127.0.0.1:11211",
    "kind": "memcached",
    "server": {"version": "1.6.18", "maxconns": 64, "maxmemory_bytes": 8_388_608},
    "notes": [],
}


def redis(hits: float = 950, misses: float = 50, **figures: Any) -> dict[str, Any]:
    """A Redis sample of one second."""
    return {
        "hits_per_s": hits, "misses_per_s": misses, "lookups_per_s": hits + misses,
        "hit_ratio": hits / (hits + misses) if hits + misses else None,
        "ops_per_s": hits + misses, "cpu": 0.1, "evicted_keys_per_s": 0.0,
        "expired_keys_per_s": 0.0, "forks": 0, "connected_clients": 4,
        "used_memory_bytes": 1_000_000, "maxmemory_bytes": 2_000_000,
        "mem_fragmentation_ratio": 1.1, "blocked_clients": 0, "latest_fork_us": 0,
        "bgsave_in_progress": 0, "aof_rewrite_in_progress": 0, **figures,
    }  # fmt: skip


def flat(sample: Any, *, seconds: int = 10, watched: dict[str, Any] | None = None,
         mean_us: float = 5000) -> dict[str, Any]:  # fmt: skip
    """Ten seconds at one load; ``sample(second)`` is the cache's sample of each second."""
    secs = [Sec(8, 200, mean_us, min_us=4000, cache=sample(n)) for n in range(seconds)]
    return document(secs, cache=watched or REDIS)


def rising(cache_at: Any, *, latency_us: Any = lambda level: 5000) -> dict[str, Any]:
    """Load stepping 10 → 20 → 40 VUs; the cache's sample is a function of the load."""
    seconds = stepped([10, 20, 40], latency_us=latency_us, throughput=lambda level: 50 * level,
                      server_at=lambda level: server(0.3), cache_at=cache_at)  # fmt: skip
    return document(seconds, cache=REDIS)


def rules(doc: dict[str, Any]) -> list[str]:
    return [f.rule for f in diagnose(doc).findings if f.rule.startswith("cache-")]


def test_a_healthy_cache_gives_no_finding() -> None:
    assert rules(flat(lambda n: redis())) == []
    assert rules(rising(lambda level: redis(cpu=0.2))) == []


def test_a_low_hit_ratio_is_reported_with_its_threshold() -> None:
    [finding] = cache_hit_ratio(Timeline.of(flat(lambda n: redis(hits=400, misses=600))))
    assert finding.title == "The cache's hit ratio was 40% during the run (6,000 misses)"
    assert finding.category is Category.CACHE and finding.severity is Severity.HIGH
    assert f"reported below {LOW_HIT_RATIO:.0%}" in finding.evidence[0].value
    assert "cache-aside" in finding.recommendation  # no evictions: keys not cached or expired
    assert finding.location == "cache redis://127.0.0.1:6379"


def test_a_ratio_between_the_thresholds_is_medium() -> None:
    [finding] = cache_hit_ratio(Timeline.of(flat(lambda n: redis(hits=700, misses=300))))
    assert finding.severity is Severity.MEDIUM


def test_too_few_lookups_say_nothing() -> None:
    assert cache_hit_ratio(Timeline.of(flat(lambda n: redis(hits=1, misses=8)))) == []


def test_a_hit_ratio_falling_as_load_rises_is_reported() -> None:
    ratios = {10: 0.97, 20: 0.9, 40: 0.82}  # above LOW_HIT_RATIO throughout: only the fall
    doc = rising(lambda level: redis(hits=1000 * ratios[level], misses=1000 * (1 - ratios[level])))
    [finding] = cache_hit_ratio(Timeline.of(doc))
    assert finding.title == (
        "The cache's hit ratio fell as load rose: 95% → 82% as load went 10 → 40 VUs"
    )
    assert f"a fall of {HIT_RATIO_FALL * 100:.0f} points" in finding.evidence[-1].label


def test_evictions_say_when_and_at_which_load_they_began() -> None:
    doc = rising(lambda level: redis(evicted_keys_per_s=300.0 if level == 40 else 0.0,
                                     used_memory_bytes=1_990_000))  # fmt: skip
    [finding] = cache_evictions(Timeline.of(doc))
    assert finding.title == (
        "The cache evicted 1,200 keys during the run (up to 300/s), from second 8 at 40 VUs"
    )
    values = {e.label: e.value for e in finding.evidence}
    assert values["memory when they began"] == "1.9 MiB of 1.9 MiB (100%)"
    assert values["eviction policy"] == "allkeys-lru"
    assert finding.severity is Severity.MEDIUM  # the hit ratio stayed high


def test_a_volatile_policy_says_keys_without_ttl_are_never_evicted() -> None:
    watched = {**REDIS, "server": {**REDIS["server"], "maxmemory_policy": "volatile-lru"}}
    doc = flat(lambda n: redis(hits=300, misses=700, evicted_keys_per_s=50.0), watched=watched)
    [finding] = cache_evictions(Timeline.of(doc))
    assert "volatile-lru evicts only keys with a TTL" in finding.recommendation
    assert finding.severity is Severity.HIGH  # and the hit ratio is low
    [ratio] = cache_hit_ratio(Timeline.of(doc))
    assert "more memory (maxmemory)" in ratio.recommendation


def test_a_few_evictions_are_not_reported() -> None:
    doc = flat(lambda n: redis(evicted_keys_per_s=0.5))  # 5 keys in 10 s
    assert cache_evictions(Timeline.of(doc)) == []


def test_redis_near_one_core_while_latency_rises_is_cpu_bound() -> None:
    doc = rising(lambda level: redis(cpu=level / 42, ops_per_s=2000 * level),
                 latency_us=lambda level: 1000 * level)  # fmt: skip
    [finding] = cache_cpu_bound(Timeline.of(doc))
    assert finding.title == "Redis is CPU-bound: 95% of its one core at the highest load " \
        "(80,000 commands/s)"  # fmt: skip
    assert "saturated from 90%" in finding.evidence[0].value
    assert "pipelining" in finding.recommendation


def test_a_busy_redis_without_rising_latency_is_not_cpu_bound() -> None:
    doc = rising(lambda level: redis(cpu=0.95))
    assert cache_cpu_bound(Timeline.of(doc)) == []


def test_cpu_bound_is_silent_on_an_inconclusive_run() -> None:
    doc = rising(lambda level: redis(cpu=0.97), latency_us=lambda level: 1000 * level)
    doc["self_check"] = {"generator_bound": True, "reasons": ["generator CPU"]}
    assert "cache-cpu-bound" not in rules(doc)


def slow(command: str, duration_us: int, second: int = 3, text: str | None = None) -> dict:
    return {"id": second, "second": second, "duration_us": duration_us, "command": command,
            "text": text or command}  # fmt: skip


def test_slow_commands_are_named_with_their_fix() -> None:
    entries = [slow("KEYS", 30_000, 2, "KEYS *"), slow("KEYS", 35_000, 5), slow("GET", 200),
               slow("HGETALL", 2_000, 4, "HGETALL h")]  # fmt: skip
    watched = {**REDIS, "slowlog": entries}
    [finding] = cache_slow_commands(Timeline.of(flat(lambda n: redis(), watched=watched)))
    assert finding.title == (
        "Slow Redis commands during the run: 3 commands of 1.00 ms or more, the slowest 35.00 ms; "
        "KEYS the most time"
    )
    keys, hgetall, thresholds = finding.evidence
    assert keys.value == "2× (seconds 2–5), 65.00 ms in all, the slowest 35.00 ms: KEYS"
    assert hgetall.label == "HGETALL"
    assert "logs commands from 10.00 ms" in thresholds.value
    assert finding.recommendation.startswith("KEYS walks every key: iterate with SCAN")
    assert finding.severity is Severity.MEDIUM


def test_a_command_of_50_ms_or_more_is_high() -> None:
    watched = {**REDIS, "slowlog": [slow("EVAL", 80_000)]}
    [finding] = cache_slow_commands(Timeline.of(flat(lambda n: redis(), watched=watched)))
    assert finding.severity is Severity.HIGH and "script" in finding.recommendation


def test_a_fork_with_a_latency_spike_in_its_second() -> None:
    secs = [Sec(8, 200, 5000, cache=redis(forks=int(n == 6), latest_fork_us=12_000))
            for n in range(10)]  # fmt: skip
    secs[6] = Sec(8, 200, 20_000, cache=secs[6].cache)
    [finding] = cache_persistence_fork(Timeline.of(document(secs, cache=REDIS)))
    assert finding.title == (
        "Redis forked to save (RDB or AOF rewrite) during the run at second 6; "
        "latency p95 spiked to 24.00 ms"
    )
    assert "the longest blocked Redis 12.00 ms" in finding.evidence[0].value
    assert finding.severity is Severity.MEDIUM
    assert 'save ""' in finding.recommendation


def test_a_fork_without_a_spike_is_low() -> None:
    doc = flat(lambda n: redis(forks=int(n == 4), latest_fork_us=300))
    [finding] = cache_persistence_fork(Timeline.of(doc))
    assert finding.severity is Severity.LOW
    assert finding.evidence[1].value.startswith("no spike")


def test_memcached_at_its_connection_limit() -> None:
    def sample(n: int) -> dict[str, Any]:
        return {"hits_per_s": 900, "misses_per_s": 100, "curr_connections": 64 if n >= 5 else 20,
                "listen_disabled": 1 if n >= 5 else 0, "rejected_connections": 2 if n >= 5 else 0,
                "evictions_per_s": 0.0}  # fmt: skip

    doc = flat(sample, watched=MEMCACHED)
    [finding] = cache_connection_limit(Timeline.of(doc))
    assert finding.title == (
        "memcached hit its connection limit (64) 15 times, from second 5 at 8 VUs"
    )
    assert finding.evidence[1].value == "64 of 64"
    assert rules(doc) == ["cache-connection-limit"]
    assert cache_cpu_bound(Timeline.of(doc)) == []  # memcached runs on several threads


def test_what_could_not_be_read_is_a_finding() -> None:
    note = (
        "SLOWLOG GET: the user may not run SLOWLOG (NOPERM) "
        "(grant it: ACL SETUSER default +slowlog)"
    )
    watched = {**REDIS, "notes": [note]}
    [finding] = cache_not_read(Timeline.of(flat(lambda n: redis(), watched=watched)))
    assert finding.severity is Severity.INFO
    assert finding.title == f"Part of the cache could not be read: {note}"


def test_no_cache_no_findings() -> None:
    doc = document([Sec(8, 200, 5000) for _ in range(10)])
    assert all(rule(Timeline.of(doc)) == [] for rule in CACHE_RULES)


def test_sampled_every_two_seconds_the_totals_are_not_counted_twice() -> None:
    doc = flat(lambda n: redis(evicted_keys_per_s=10.0), seconds=10)
    doc["resources"]["cache"] = [
        {"second": k, "duration_s": 2.0, **redis(evicted_keys_per_s=10.0)} for k in range(5)
    ]
    doc["resources"]["interval_s"] = 2.0
    [finding] = cache_evictions(Timeline.of(doc))
    assert finding.title.startswith("The cache evicted 100 keys during the run")
