"""A Redis server's health, as findings (``redline cache analyze redis://...``).

Each rule reads one part of a :class:`~redline.probes._redis.RedisAnalysis` and
reports past a threshold named below (and stated in the finding's evidence):

- **hit ratio** below 80 % once 1,000 lookups happened (fewer say little);
- **evictions**: keys evicted since the start; and an **eviction policy** that
  does not fit the keys: ``volatile-*`` while most sampled keys have no TTL
  (they cannot be evicted, so the few with a TTL go first and writes fail once
  none is left), ``allkeys-*`` evicting while most keys have a TTL (the keys
  without one look meant to stay, and may be evicted), ``noeviction`` refusing
  writes (OOM error replies);
- **memory**: used memory at 90 % of maxmemory or more; no maxmemory on a cache
  (most keys have a TTL); **fragmentation** above 1.5 on 64 MiB or more (a fresh
  server's RSS alone gives small ones a high ratio);
- **slow commands** in SLOWLOG: any KEYS; commands that read a whole collection
  or keyspace (SMEMBERS, HGETALL, LRANGE, SORT, ...) from 1 ms; any command from
  10 ms (Redis's own slowlog default);
- **a long fork** (RDB save, AOF rewrite): the last took 100 ms or more, during
  which the server answered no one; **latency events** of 100 ms or more;
- **big keys** in the sample: 1 MiB or 10,000 elements or more;
- **keys without TTL** in a cache: a key prefix whose sampled keys (20 or more)
  all but never expire while most other keys do;
- **blocked clients**: clients waiting in BLPOP, XREAD BLOCK, WAIT and the like.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.probes._redis import BigKey, KeySample, RedisAnalysis, RedisFigures, SlowEntry
from redline.units import format_bytes, format_latency

__all__ = ["redis_findings"]

#: A hit ratio below this is reported...
HIT_RATIO_MIN = 0.8
#: ...once this many lookups (hits + misses) happened.
MIN_LOOKUPS = 1_000
#: The share of sampled keys with (or without) a TTL that makes "most keys".
MOST_KEYS_SHARE = 0.5
#: Used memory at this share of maxmemory or more.
MEMORY_NEAR_LIMIT_SHARE = 0.9
#: used_memory_rss / used_memory above this...
FRAGMENTATION_MAX = 1.5
#: ...on a server using at least this much (below, the fixed RSS of the process rules).
FRAGMENTATION_MIN_USED_BYTES = 64 * 1024**2
#: Any command this slow (Redis's default slowlog-log-slower-than).
SLOW_COMMAND_US = 10_000
#: Commands that read a whole collection or keyspace, this slow or more.
SLOW_SCAN_COMMAND_US = 1_000
#: Commands whose cost grows with a whole collection (or the keyspace); KEYS always counts.
WHOLE_READ_COMMANDS = frozenset(
    {
        "KEYS",
        "SMEMBERS",
        "HGETALL",
        "HKEYS",
        "HVALS",
        "LRANGE",
        "ZRANGE",
        "ZRANGEBYSCORE",
        "ZREVRANGE",
        "SORT",
        "SUNION",
        "SINTER",
        "SDIFF",
        "SUNIONSTORE",
        "SINTERSTORE",
        "SDIFFSTORE",
        "ZUNIONSTORE",
        "ZINTERSTORE",
        "LREM",
        "LINDEX",
        "LSET",
        "FLUSHALL",
        "FLUSHDB",
        "DEL",
        "XRANGE",
    }
)
#: The slow commands listed in one finding.
SLOW_SHOWN = 5
#: A fork (RDB save, AOF rewrite) this long stopped the server noticeably.
FORK_SLOW_US = 100_000
#: A latency event this long.
LATENCY_EVENT_MS = 100
#: Sampled keys this big, or with this many elements, are big keys.
BIG_KEY_BYTES = 1024**2
BIG_KEY_ELEMENTS = 10_000
#: A prefix with this many sampled keys or more is judged on its own...
PREFIX_MIN_KEYS = 20
#: ...as never expiring when this share of them has no TTL.
PREFIX_NO_TTL_SHARE = 0.9
#: Characters of LATENCY DOCTOR's text kept in a finding.
DOCTOR_CHARS = 600

_INFO = "INFO"
_SAMPLE = "SCAN sample"

_Rule = Callable[[RedisAnalysis], Iterable[Finding]]


def redis_findings(analysis: RedisAnalysis) -> list[Finding]:
    """Every finding on ``analysis``, rule by rule (rank them with ``ranked``)."""
    return [finding for rule in _RULES for finding in rule(analysis)]


def _hit_ratio(analysis: RedisAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or f.hit_ratio is None or f.lookups < MIN_LOOKUPS or f.hit_ratio >= HIT_RATIO_MIN:
        return
    yield Finding(
        rule="redis-hit-ratio",
        category=Category.CACHE,
        severity=Severity.HIGH if f.hit_ratio < HIT_RATIO_MIN / 2 else Severity.MEDIUM,
        confidence=0.8,
        title=f"Hit ratio is {f.hit_ratio:.1%}: {f.keyspace_misses:,} of {f.lookups:,} "
        "lookups missed",
        evidence=(
            Evidence("hit ratio", f"{f.hit_ratio:.1%} (threshold {HIT_RATIO_MIN:.0%})", _INFO),
            Evidence(
                "keyspace hits, misses",
                f"{f.keyspace_hits:,}, {f.keyspace_misses:,}",
                f"{_INFO} keyspace_hits, keyspace_misses",
            ),
            Evidence(
                "evicted, expired keys",
                f"{f.evicted_keys:,}, {f.expired_keys:,}",
                f"{_INFO} evicted_keys, expired_keys",
            ),
        ),
        location=None,
        recommendation=_miss_advice(f),
        expected_effect="more reads served by Redis instead of the slower source behind it",
    )


def _miss_advice(f: RedisFigures) -> str:
    causes = []
    if f.evicted_keys:
        causes.append("keys are evicted before they are read again: raise maxmemory")
    if f.expired_keys:
        causes.append("keys expire before they are read again: lengthen their TTL")
    causes.append(
        "check the application stores what it reads under the same key (a key built "
        "from a changing part, such as a timestamp, never hits) and fills the cache on a miss"
    )
    return "; ".join(causes)


def _evictions(analysis: RedisAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or f.evicted_keys == 0:
        return
    evidence = [
        Evidence(
            "evicted keys",
            f"{f.evicted_keys:,} in {_duration(f.uptime_s)} "
            f"({f.evicted_keys / max(f.uptime_s, 1):,.1f}/s)",
            f"{_INFO} evicted_keys",
        ),
        Evidence("used memory / maxmemory", _memory(f), f"{_INFO} used_memory, maxmemory"),
        Evidence("maxmemory-policy", f.maxmemory_policy, f"{_INFO} maxmemory_policy"),
    ]
    if f.hit_ratio is not None:
        evidence.append(Evidence("hit ratio", f"{f.hit_ratio:.1%}", _INFO))
    yield Finding(
        rule="redis-evictions",
        category=Category.CACHE,
        severity=Severity.MEDIUM,
        confidence=0.8,
        title=f"Redis evicts keys: {f.evicted_keys:,} evicted at maxmemory "
        f"{format_bytes(f.maxmemory_bytes)} ({f.maxmemory_policy})",
        evidence=tuple(evidence),
        location="setting: maxmemory",
        recommendation=f"give it more memory (CONFIG SET maxmemory "
        f"{_suggested_maxmemory(f)}, and the same in redis.conf) or store less: shorter "
        "TTLs, smaller values (compress, drop unused fields)",
        expected_effect="keys stay until they expire; fewer misses",
    )


def _eviction_policy(analysis: RedisAnalysis) -> Iterable[Finding]:
    f, keys = analysis.figures, analysis.keys
    if f is None:
        return
    policy = f.maxmemory_policy
    without_ttl = _without_ttl_share(f, keys)
    if policy.startswith("volatile-") and without_ttl >= MOST_KEYS_SHARE and _under_pressure(f):
        yield _policy_finding(
            f,
            keys,
            without_ttl,
            title=f"maxmemory-policy {policy} can evict only keys with a TTL, and "
            f"{without_ttl:.0%} of the keys have none",
            why="the few keys with a TTL are evicted first and hardest; once none is left, "
            "writes fail with OOM errors",
            advice="give the cache keys a TTL (SET key value EX seconds), or CONFIG SET "
            "maxmemory-policy allkeys-lru if every key is a cache entry",
        )
    elif (
        policy.startswith("allkeys-")
        and f.evicted_keys
        and keys is not None
        and keys.without_ttl
        and 1 - without_ttl >= MOST_KEYS_SHARE
    ):
        yield _policy_finding(
            f,
            keys,
            without_ttl,
            title=f"maxmemory-policy {policy} evicts keys without a TTL too, while most "
            "keys have one",
            why="keys stored without a TTL in a cache whose keys mostly expire look meant "
            "to stay (sessions, counters, queues), and allkeys-* may evict them",
            advice="CONFIG SET maxmemory-policy volatile-lru (only keys with a TTL are "
            "evicted), or keep the lasting keys in another Redis",
        )
    elif policy == "noeviction" and f.maxmemory_bytes and (f.oom_errors or _near_limit(f)):
        yield _policy_finding(
            f,
            keys,
            without_ttl,
            title="maxmemory-policy noeviction: writes are refused (OOM) once memory is full",
            why=f"{f.oom_errors:,} commands were refused with OOM errors so far",
            advice="for a cache, CONFIG SET maxmemory-policy allkeys-lru (or volatile-lru "
            "when some keys must stay); for a store, raise maxmemory",
        )


def _policy_finding(
    f: RedisFigures,
    keys: KeySample | None,
    without_ttl: float,
    *,
    title: str,
    why: str,
    advice: str,
) -> Finding:
    sampled = (
        f"{without_ttl:.0%} of {keys.sampled:,} sampled keys"
        if keys and keys.sampled
        else f"{without_ttl:.0%} of {f.keys:,} keys"
    )
    return Finding(
        rule="redis-eviction-policy",
        category=Category.CACHE,
        severity=Severity.HIGH if f.oom_errors else Severity.MEDIUM,
        confidence=0.7,
        title=title,
        evidence=(
            Evidence("maxmemory-policy", f.maxmemory_policy, f"{_INFO} maxmemory_policy"),
            Evidence(
                "keys without a TTL",
                sampled,
                _SAMPLE if keys and keys.sampled else f"{_INFO} keyspace",
            ),
            Evidence(
                "evicted keys, OOM errors",
                f"{f.evicted_keys:,}, {f.oom_errors:,}",
                f"{_INFO} evicted_keys, errorstat_OOM",
            ),
            Evidence("used memory / maxmemory", _memory(f), _INFO),
            Evidence("why it matters", why, "redline"),
        ),
        location="setting: maxmemory-policy",
        recommendation=advice,
        expected_effect="evictions take the keys meant to go, and writes are not refused",
    )


def _memory_near_limit(analysis: RedisAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or not _near_limit(f) or f.memory_share is None:
        return
    refuses = f.maxmemory_policy == "noeviction"
    yield Finding(
        rule="redis-memory-near-limit",
        category=Category.MEMORY,
        severity=Severity.HIGH if refuses else Severity.LOW,
        confidence=0.85,
        title=f"Used memory is {f.memory_share:.0%} of maxmemory ({_memory(f)})",
        evidence=(
            Evidence("used memory / maxmemory", _memory(f), f"{_INFO} used_memory, maxmemory"),
            Evidence("threshold", f"{MEMORY_NEAR_LIMIT_SHARE:.0%}", "redline"),
            Evidence("maxmemory-policy", f.maxmemory_policy, _INFO),
        ),
        location="setting: maxmemory",
        recommendation=(
            "writes will be refused at the limit (noeviction): raise maxmemory or choose "
            "allkeys-lru for a cache"
            if refuses
            else f"at the limit keys are evicted ({f.maxmemory_policy}); if the misses it "
            f"causes matter, CONFIG SET maxmemory {_suggested_maxmemory(f)}"
        ),
        expected_effect="room for the working set without evictions or refused writes",
    )


def _no_maxmemory(analysis: RedisAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or f.maxmemory_bytes or not f.keys:
        return
    with_ttl = 1 - _without_ttl_share(f, analysis.keys)
    if with_ttl < MOST_KEYS_SHARE:
        return  # most keys never expire: a store, not a cache
    yield Finding(
        rule="redis-no-maxmemory",
        category=Category.CONFIGURATION,
        severity=Severity.MEDIUM,
        confidence=0.6,
        title=f"No maxmemory on a cache ({with_ttl:.0%} of keys have a TTL): it grows "
        "until the machine runs out of memory",
        evidence=(
            Evidence("maxmemory", "0 (no limit)", f"{_INFO} maxmemory"),
            Evidence("used memory", format_bytes(f.used_memory_bytes), f"{_INFO} used_memory"),
            Evidence("keys with a TTL", f"{with_ttl:.0%}", f"{_INFO} keyspace / {_SAMPLE}"),
        ),
        location="setting: maxmemory",
        recommendation="CONFIG SET maxmemory to what the machine can give it (leave room "
        "for forks and the OS), then CONFIG SET maxmemory-policy allkeys-lru (volatile-lru "
        "if some keys must stay), and write both to redis.conf",
        expected_effect="the least recently used keys are evicted instead of Redis being "
        "killed by the OOM killer or swapping",
    )


def _fragmentation(analysis: RedisAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    ratio = f.fragmentation_ratio if f else None
    if f is None or ratio is None or ratio <= FRAGMENTATION_MAX:
        return
    if f.used_memory_bytes < FRAGMENTATION_MIN_USED_BYTES:
        return
    yield Finding(
        rule="redis-fragmentation",
        category=Category.MEMORY,
        severity=Severity.MEDIUM,
        confidence=0.7,
        title=f"Memory fragmentation ratio is {ratio:.2f}: Redis holds "
        f"{format_bytes(f.used_memory_rss_bytes)} for {format_bytes(f.used_memory_bytes)} "
        "of data",
        evidence=(
            Evidence(
                "mem_fragmentation_ratio",
                f"{ratio:.2f} (threshold {FRAGMENTATION_MAX})",
                f"{_INFO} mem_fragmentation_ratio",
            ),
            Evidence(
                "RSS, used memory",
                f"{format_bytes(f.used_memory_rss_bytes)}, {format_bytes(f.used_memory_bytes)}",
                f"{_INFO} used_memory_rss",
            ),
        ),
        location="setting: activedefrag",
        recommendation="CONFIG SET activedefrag yes (jemalloc builds) to defragment while "
        "running; or restart it (fail over to a replica first) at a quiet time. Many "
        "deleted or shrunk keys of varied sizes cause it",
        expected_effect="RSS back near used memory: the same data in less RAM",
    )


def _slow_commands(analysis: RedisAnalysis) -> Iterable[Finding]:
    slow = [e for e in analysis.slowlog or [] if _is_slow(e)]
    if not slow:
        return
    threshold = (analysis.config or {}).get("slowlog-log-slower-than", "?")
    for name, entries in _by_command(slow).items():
        worst = max(entries, key=lambda e: e.duration_us)
        yield Finding(
            rule="redis-slow-command",
            category=Category.CACHE,
            severity=_slow_severity(name, worst),
            confidence=0.85,
            title=f"{name} ran {len(entries)} time(s) in the slow log, the slowest for "
            f"{format_latency(worst.duration_us)}: Redis serves no one else meanwhile",
            evidence=(
                *(
                    Evidence(format_latency(e.duration_us), e.command, "SLOWLOG GET")
                    for e in sorted(entries, key=lambda e: -e.duration_us)[:SLOW_SHOWN]
                ),
                Evidence(
                    "judged slow",
                    f"KEYS always; {', '.join(_whole_read_examples())} "
                    f"from {format_latency(SLOW_SCAN_COMMAND_US)}; any command from "
                    f"{format_latency(SLOW_COMMAND_US)}",
                    "redline",
                ),
                Evidence("slowlog-log-slower-than", f"{threshold} µs", "CONFIG GET"),
            ),
            location=f"command: {name}",
            recommendation=_slow_advice(name),
            expected_effect="no single command holds Redis's one thread for long: the "
            "latency of every other client stops spiking",
        )


def _is_slow(entry: SlowEntry) -> bool:
    if entry.name == "KEYS" or entry.duration_us >= SLOW_COMMAND_US:
        return True
    return entry.name in WHOLE_READ_COMMANDS and entry.duration_us >= SLOW_SCAN_COMMAND_US


def _by_command(entries: list[SlowEntry]) -> dict[str, list[SlowEntry]]:
    grouped: dict[str, list[SlowEntry]] = {}
    for entry in sorted(entries, key=lambda e: -e.duration_us):
        grouped.setdefault(entry.name, []).append(entry)
    return grouped


def _slow_severity(name: str, worst: SlowEntry) -> Severity:
    if worst.duration_us >= 10 * SLOW_COMMAND_US:
        return Severity.HIGH
    return (
        Severity.MEDIUM
        if name == "KEYS" or worst.duration_us >= SLOW_COMMAND_US
        else (Severity.LOW)
    )


def _whole_read_examples() -> list[str]:
    return ["SMEMBERS", "HGETALL", "LRANGE", "SORT"]


#: What to do instead of each command that reads too much at once.
SLOW_ADVICE = {
    "KEYS": "never use KEYS outside debugging: iterate with SCAN cursor MATCH pattern COUNT "
    "100, or keep the keys you need in a set of their own",
    "SMEMBERS": "read big sets in pages with SSCAN, or keep them smaller (split by id)",
    "HGETALL": "read the fields you need (HMGET) or page with HSCAN; split big hashes",
    "HKEYS": "page with HSCAN; split big hashes",
    "HVALS": "page with HSCAN; split big hashes",
    "LRANGE": "read lists in pages (LRANGE key 0 99, then 100 199) and cap them (LTRIM)",
    "SORT": "keep the data sorted in a sorted set (ZADD) and read ranges of it",
    "DEL": "delete big keys with UNLINK, which frees their memory in the background",
    "FLUSHALL": "use FLUSHALL ASYNC",
    "FLUSHDB": "use FLUSHDB ASYNC",
}


def _slow_advice(name: str) -> str:
    base = SLOW_ADVICE.get(name)
    if base is None and name in WHOLE_READ_COMMANDS:
        base = "read the collection in pages (ZRANGE with LIMIT, SSCAN, HSCAN) and keep it small"
    if base is None:
        base = "find the caller of this command and make it do less per call"
    return base + "; many small commands in a row are better pipelined (one round trip)"


def _fork(analysis: RedisAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or f.latest_fork_us < FORK_SLOW_US:
        return
    per_gib = f.latest_fork_us / max(f.used_memory_bytes / 1024**3, 1e-9)
    now = [
        what
        for what, on in (
            ("an RDB save", f.rdb_bgsave_in_progress),
            ("an AOF rewrite", f.aof_rewrite_in_progress),
        )
        if on
    ]
    yield Finding(
        rule="redis-fork",
        category=Category.CACHE,
        severity=Severity.HIGH if f.latest_fork_us >= 5 * FORK_SLOW_US else Severity.MEDIUM,
        confidence=0.75,
        title=f"The last fork for persistence stopped Redis for {format_latency(f.latest_fork_us)}",
        evidence=(
            Evidence(
                "latest_fork_usec",
                f"{format_latency(f.latest_fork_us)} (threshold {format_latency(FORK_SLOW_US)})",
                f"{_INFO} latest_fork_usec",
            ),
            Evidence("per GiB of data", format_latency(per_gib), "latest_fork_usec / used_memory"),
            Evidence("forks since start", f"{f.total_forks:,}", f"{_INFO} total_forks"),
            Evidence("running now", ", ".join(now) or "nothing", f"{_INFO} persistence"),
        ),
        location="settings: save, appendonly",
        recommendation='on a pure cache turn persistence off (CONFIG SET save ""; '
        "appendonly no); otherwise save less often, persist on a replica instead, and "
        "disable transparent huge pages (echo never > "
        "/sys/kernel/mm/transparent_hugepage/enabled), which make forks slow",
        expected_effect="no stall of the whole server while it forks",
    )


def _latency_events(analysis: RedisAnalysis) -> Iterable[Finding]:
    events = [e for e in analysis.latency or [] if e.max_ms >= LATENCY_EVENT_MS]
    if not events:
        return
    worst = max(events, key=lambda e: e.max_ms)
    evidence = [
        Evidence(e.event, f"latest {e.latest_ms} ms, worst {e.max_ms} ms", "LATENCY LATEST")
        for e in events
    ]
    if analysis.latency_doctor:
        doctor = " ".join(analysis.latency_doctor.split())[:DOCTOR_CHARS]
        evidence.append(Evidence("LATENCY DOCTOR", doctor, "LATENCY DOCTOR"))
    yield Finding(
        rule="redis-latency-events",
        category=Category.CACHE,
        severity=Severity.MEDIUM,
        confidence=0.7,
        title=f"Redis recorded latency spikes: {worst.event} up to {worst.max_ms} ms",
        evidence=tuple(evidence),
        location=f"latency event: {worst.event}",
        recommendation="follow LATENCY DOCTOR's advice above; 'command' events are slow "
        "commands (see the slow log), 'fork' events persistence, 'expire-cycle' many keys "
        "expiring at once (spread their TTLs)",
        expected_effect=f"no pause of {LATENCY_EVENT_MS} ms or more for every client",
    )


def _big_keys(analysis: RedisAnalysis) -> Iterable[Finding]:
    sample = analysis.keys
    if sample is None:
        return
    big = [k for k in sample.big if _is_big(k)]
    if not big:
        return
    yield Finding(
        rule="redis-big-keys",
        category=Category.CACHE,
        severity=Severity.MEDIUM,
        confidence=0.75,
        title=f"{len(big)} big key(s) among {sample.sampled:,} sampled, the biggest "
        f"{big[0].key} ({format_bytes(big[0].bytes)})",
        evidence=(
            *(
                Evidence(
                    k.key,
                    f"{k.type}, {format_bytes(k.bytes)}"
                    + (f", {k.elements:,} elements" if k.elements is not None else ""),
                    "MEMORY USAGE, " + _SAMPLE,
                )
                for k in big
            ),
            Evidence(
                "judged big",
                f"{format_bytes(BIG_KEY_BYTES)} or {BIG_KEY_ELEMENTS:,} elements",
                "redline",
            ),
            Evidence("sample", _sample_text(sample), _SAMPLE),
        ),
        location=f"key: {big[0].key}",
        recommendation="split big keys (one per entity, or hash buckets by id), read them "
        "in pages (LRANGE 0 99, HSCAN, SSCAN, ZRANGE with LIMIT) rather than whole, and "
        "delete them with UNLINK",
        expected_effect="each command touches a little data: no long stall, no burst of "
        "network traffic, and evenly spread memory in a cluster",
    )


def _is_big(key: BigKey) -> bool:
    if key.bytes >= BIG_KEY_BYTES:
        return True
    return key.type != "string" and (key.elements or 0) >= BIG_KEY_ELEMENTS


def _prefixes_without_ttl(analysis: RedisAnalysis) -> Iterable[Finding]:
    sample = analysis.keys
    if sample is None or not sample.sampled or sample.without_ttl_share is None:
        return
    if 1 - sample.without_ttl_share < MOST_KEYS_SHARE:
        return  # most keys never expire: a store, where that is normal
    lasting = [
        p
        for p in sample.prefixes.values()
        if p.keys >= PREFIX_MIN_KEYS and p.without_ttl / p.keys >= PREFIX_NO_TTL_SHARE
    ]
    if not lasting:
        return
    names = ", ".join(f"{p.prefix}:*" for p in lasting)
    yield Finding(
        rule="redis-keys-without-ttl",
        category=Category.CACHE,
        severity=Severity.LOW,
        confidence=0.6,
        title=f"Keys {names} never expire while most keys of this cache do",
        evidence=(
            *(
                Evidence(
                    f"{p.prefix}:*",
                    f"{p.without_ttl:,} of {p.keys:,} sampled keys "
                    f"without a TTL, {format_bytes(p.bytes)}",
                    _SAMPLE,
                )
                for p in lasting
            ),
            Evidence("all sampled keys without a TTL", f"{sample.without_ttl_share:.0%}", _SAMPLE),
            Evidence(
                "judged",
                f"{PREFIX_NO_TTL_SHARE:.0%} of {PREFIX_MIN_KEYS} or more sampled keys",
                "redline",
            ),
        ),
        location=f"keys: {names}",
        recommendation="if they are cache entries, set a TTL when writing them (SET key "
        "value EX seconds); if they must stay, a volatile-* maxmemory-policy keeps them "
        "from eviction",
        expected_effect="stale entries leave by themselves instead of filling memory",
    )


def _blocked_clients(analysis: RedisAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or f.blocked_clients == 0:
        return
    yield Finding(
        rule="redis-blocked-clients",
        category=Category.CONCURRENCY,
        severity=Severity.LOW,
        confidence=0.4,
        title=f"{f.blocked_clients} of {f.connected_clients} clients are blocked in a "
        "blocking command",
        evidence=(
            Evidence(
                "blocked, connected clients",
                f"{f.blocked_clients}, {f.connected_clients}",
                f"{_INFO} blocked_clients",
            ),
        ),
        location=None,
        recommendation="normal for queue consumers (BLPOP, BRPOP, XREAD BLOCK); otherwise "
        "check WAIT calls and clients blocked by a module or a paused server (CLIENT LIST "
        "shows their flags)",
        expected_effect="connections in use for work rather than waiting",
    )


# -- shared --------------------------------------------------------------------------------


def _near_limit(f: RedisFigures) -> bool:
    return f.memory_share is not None and f.memory_share >= MEMORY_NEAR_LIMIT_SHARE


def _under_pressure(f: RedisFigures) -> bool:
    return bool(f.evicted_keys or f.oom_errors or _near_limit(f))


def _without_ttl_share(f: RedisFigures, keys: KeySample | None) -> float:
    """The share of keys without a TTL: the sample's, else INFO keyspace's (exact)."""
    if keys is not None and keys.without_ttl_share is not None:
        return keys.without_ttl_share
    return 1 - f.keys_with_ttl / f.keys if f.keys else 0.0


def _memory(f: RedisFigures) -> str:
    if not f.maxmemory_bytes:
        return f"{format_bytes(f.used_memory_bytes)} of no limit"
    share = f.used_memory_bytes / f.maxmemory_bytes
    return f"{format_bytes(f.used_memory_bytes)} of {format_bytes(f.maxmemory_bytes)} ({share:.0%})"


def _suggested_maxmemory(f: RedisFigures) -> str:
    """Twice the current limit, in Redis's own units ('2mb'), as a starting point."""
    target = max(2 * (f.maxmemory_bytes or f.used_memory_bytes), 1024**2)
    return f"{-(-target // 1024**2)}mb"


def _sample_text(sample: KeySample) -> str:
    how = {
        "end": "the whole keyspace",
        "time": f"stopped at the {sample.budget_s:g} s budget",
        "cap": "stopped at the key cap",
    }[sample.stopped_by]
    return f"{sample.sampled:,} of {sample.total_keys:,} keys in db {sample.database} ({how})"


def _duration(s: float) -> str:
    if s >= 86400:
        return f"{s / 86400:.1f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.0f} s"


_RULES: tuple[_Rule, ...] = (
    _hit_ratio,
    _evictions,
    _eviction_policy,
    _memory_near_limit,
    _no_maxmemory,
    _fragmentation,
    _slow_commands,
    _fork,
    _latency_events,
    _big_keys,
    _prefixes_without_ttl,
    _blocked_clients,
)
