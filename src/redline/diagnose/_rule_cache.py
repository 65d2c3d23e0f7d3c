"""The cache under test during a run (``redline run ... --cache redis://...|memcached://...``).

The cache's samples (``resources.cache``, one per sampling interval) and what
its watch read at the start and the end (``cache``: the settings and, for
Redis, the slowlog entries logged during the run) give these findings, each
with its threshold in the evidence:

- **cache-hit-ratio**: lookups that found their key, over the run, below
  ``LOW_HIT_RATIO``; or falling by ``HIT_RATIO_FALL`` or more from the run's
  lowest load to its highest.
- **cache-evictions**: keys evicted to make room during the run
  (``MIN_EVICTIONS`` or more), the second and the load at which they began,
  and what the eviction policy does with them.
- **cache-cpu-bound**: Redis runs commands on one thread, so it is saturated
  at one core: its CPU at ``SATURATED_CORE_SHARE`` of a core or more at the
  highest load, while the service's latency rose with load.
- **cache-slow-commands**: the slowlog's entries of ``SLOW_COMMAND_FLOOR_US``
  or more, by command; each blocked every other client while it ran.
- **cache-persistence-fork**: Redis forked for an RDB save or an AOF rewrite
  during the run; how long the fork blocked it, and whether latency spiked in
  that second (p95 at ``FORK_SPIKE_RATIO`` times the run's median or more).
- **cache-connection-limit**: memcached refused connections at its limit
  (``rejected_connections`` rose: memcached 1.6 closes them at once) or
  stopped accepting them (``listen_disabled_num`` rose: older ones, or
  ``maxconns_fast`` off).
- **cache-not-read**: what the watch could not read (a refused CONFIG or
  SLOWLOG, a slowlog that overflowed), so a missing finding is not taken for
  a healthy cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._pressure import pressure_of
from redline.diagnose._timeline import Second, Timeline, median
from redline.units import format_bytes, format_latency

__all__ = [
    "CACHE_RULES",
    "cache_connection_limit",
    "cache_cpu_bound",
    "cache_evictions",
    "cache_hit_ratio",
    "cache_not_read",
    "cache_persistence_fork",
    "cache_slow_commands",
]

#: A hit ratio over the run below this is reported ...
LOW_HIT_RATIO = 0.8
#: ... and below this one, as the bottleneck (most lookups go on to the slower store).
VERY_LOW_HIT_RATIO = 0.5
#: A hit ratio that falls by this much (0.10 = 10 points) from low to high load is reported.
HIT_RATIO_FALL = 0.10
#: Fewer lookups than this (in the run, or in a band of seconds) say nothing of a hit ratio.
MIN_LOOKUPS = 100
#: Keys evicted during the run before evictions are reported.
MIN_EVICTIONS = 10
#: Redis's CPU at this share of one core or more counts as saturated (one thread runs commands).
SATURATED_CORE_SHARE = 0.9
#: Slowlog entries shorter than this are not named (the slowlog's own threshold may be lower).
SLOW_COMMAND_FLOOR_US = 1_000
#: A slow command this long or longer blocks Redis long enough to be the bottleneck.
SLOW_COMMAND_HIGH_US = 50_000
#: Commands named in a finding's evidence, the most time first.
SLOW_COMMANDS_SHOWN = 5
#: A fork's second "spikes" when its p95 is this many times the run's median p95.
FORK_SPIKE_RATIO = 2.0
SAMPLES = "cache samples (INFO / stats each interval)"
SLOWLOG = "SLOWLOG, entries logged during the run"

#: What to do about a slow command, by its name; others get :data:`SLOW_COMMAND_ADVICE`.
SLOW_COMMAND_FIXES = {
    "KEYS": "KEYS walks every key: iterate with SCAN, or keep the keys you look up in a set",
    "SMEMBERS": "read the set in pieces with SSCAN, or keep it small",
    "HGETALL": "read the fields you need with HMGET, or iterate with HSCAN",
    "LRANGE": "read shorter ranges (LRANGE key 0 99), or keep the list capped with LTRIM",
    "ZRANGE": "read shorter ranges, or use ZRANGE ... LIMIT",
    "SORT": "keep the data sorted (a sorted set) instead of SORT on each read",
    "DEL": "UNLINK frees a large key's memory in the background",
    "FLUSHALL": "FLUSHALL ASYNC frees the memory in the background",
    "FLUSHDB": "FLUSHDB ASYNC frees the memory in the background",
    "EVAL": "the script does too much per call: split it, or move the loop to the client",
    "EVALSHA": "the script does too much per call: split it, or move the loop to the client",
}
SLOW_COMMAND_ADVICE = (
    "a command over a large value or many keys: read ranges or fields rather than whole "
    "values, split big keys"
)


@dataclass(frozen=True)
class _Cache:
    """What the run recorded of the cache: its samples, settings, slowlog and notes."""

    dsn: str
    kind: str
    samples: list[Mapping[str, Any]]
    server: Mapping[str, Any]
    watched: Mapping[str, Any]
    interval_s: float

    def total(self, *rates: str) -> float:
        """A rate summed over the run (rate × each sample's duration), the first name found."""
        return sum(_rate(s, rates) * float(s.get("duration_s") or 0) for s in self.samples)

    def run_second(self, sample: Mapping[str, Any]) -> int:
        """The run's second a sample begins in."""
        return int(int(sample["second"]) * self.interval_s)


def _cache(timeline: Timeline) -> _Cache | None:
    watched = timeline.document.get("cache")
    samples = list(timeline.resources.get("cache") or [])
    if watched is None and not samples:
        return None
    watched = watched or {}
    return _Cache(
        dsn=str(watched.get("dsn") or "the cache"),
        kind=str(watched.get("kind") or ""),
        samples=samples,
        server=watched.get("server") or {},
        watched=watched,
        interval_s=float(timeline.resources.get("interval_s") or 1.0),
    )


def cache_hit_ratio(timeline: Timeline) -> list[Finding]:
    """A hit ratio that is low over the run, or that fell as load rose."""
    cache = _cache(timeline)
    if cache is None:
        return []
    hits, misses = cache.total("hits_per_s"), cache.total("misses_per_s")
    if hits + misses < MIN_LOOKUPS:
        return []
    ratio = hits / (hits + misses)
    fall = _hit_ratio_fall(timeline)
    low = ratio < LOW_HIT_RATIO
    if not low and fall is None:
        return []
    evicted = cache.total("evicted_keys_per_s", "evictions_per_s")
    evidence = [
        Evidence(
            "hit ratio during the run",
            f"{ratio:.1%} ({hits:,.0f} hits, {misses:,.0f} misses); "
            f"reported below {LOW_HIT_RATIO:.0%}",
            SAMPLES,
        ),
        Evidence("keys evicted during the run", f"{evicted:,.0f}", SAMPLES),
    ]
    if fall is not None:
        evidence.append(fall)
    if low:
        title = f"The cache's hit ratio was {ratio:.0%} during the run ({misses:,.0f} misses)"
    else:
        title = f"The cache's hit ratio fell as load rose: {fall.value if fall else ''}"
    return [
        Finding(
            rule="cache-hit-ratio",
            category=Category.CACHE,
            severity=Severity.HIGH if ratio < VERY_LOW_HIT_RATIO else Severity.MEDIUM,
            confidence=0.8 if low else 0.6,
            title=title,
            evidence=tuple(evidence),
            location=f"cache {cache.dsn}",
            recommendation=_hit_ratio_advice(evicted, cache),
            expected_effect="each miss turned into a hit saves a trip to the slower store "
            "behind the cache",
        )
    ]


def _hit_ratio_fall(timeline: Timeline) -> Evidence | None:
    """The hit ratio at low and at high load, when it fell by HIT_RATIO_FALL or more."""
    bands = timeline.bands()
    pressure = pressure_of(timeline)
    if bands is None or pressure is None or not pressure.stepped:
        return None
    low, high = _band_ratio(bands.low), _band_ratio(bands.high)
    if low is None or high is None or low - high < HIT_RATIO_FALL:
        return None
    loads = (median(s.load for s in bands.low), median(s.load for s in bands.high))
    return Evidence(
        f"hit ratio, low → high load (reported at a fall of {HIT_RATIO_FALL * 100:.0f} points)",
        f"{low:.0%} → {high:.0%} as load went {loads[0]:g} → {loads[1]:g} {timeline.unit}",
        SAMPLES,
    )


def _band_ratio(seconds: Sequence[Second]) -> float | None:
    hits = sum(float(s.cache.get("hits_per_s") or 0) for s in seconds if s.cache)
    misses = sum(float(s.cache.get("misses_per_s") or 0) for s in seconds if s.cache)
    if hits + misses < MIN_LOOKUPS:
        return None
    return hits / (hits + misses)


def _hit_ratio_advice(evicted: float, cache: _Cache) -> str:
    if evicted >= MIN_EVICTIONS:
        return (
            "the cache evicts keys the service reads again: give it more memory "
            f"({_memory_setting(cache)}) or store less (shorter TTLs, smaller values)"
        )
    return (
        "no keys were evicted, so the misses are keys never cached or already expired: check "
        "that the service stores what it reads after a miss (cache-aside), that TTLs outlive "
        "the reuse of a key, and that keys do not carry per-request parts (ids, timestamps)"
    )


def cache_evictions(timeline: Timeline) -> list[Finding]:
    """Keys evicted during the run: from when, at which load, and what the policy evicts."""
    cache = _cache(timeline)
    if cache is None:
        return []
    rates = ("evicted_keys_per_s", "evictions_per_s")
    evicted = cache.total(*rates)
    if evicted < MIN_EVICTIONS:
        return []
    first = next(s for s in cache.samples if _rate(s, rates) > 0)
    began = cache.run_second(first)
    load = next((s.load for s in timeline.seconds if s.second == began), None)
    peak = max(_rate(s, rates) for s in cache.samples)
    at_load = f" at {load:g} {timeline.unit}" if load is not None else ""
    evidence = [
        Evidence(
            "keys evicted during the run",
            f"{evicted:,.0f}, up to {peak:,.0f}/s (reported from {MIN_EVICTIONS})",
            SAMPLES,
        ),
        Evidence("evictions began", f"second {began}{at_load}", SAMPLES),
        Evidence("memory when they began", _memory(first), SAMPLES),
    ]
    policy = cache.server.get("maxmemory_policy")
    if policy:
        evidence.append(Evidence("eviction policy", str(policy), "INFO memory (maxmemory_policy)"))
    hits, misses = cache.total("hits_per_s"), cache.total("misses_per_s")
    low_hits = hits + misses >= MIN_LOOKUPS and hits / (hits + misses) < LOW_HIT_RATIO
    return [
        Finding(
            rule="cache-evictions",
            category=Category.CACHE,
            severity=Severity.HIGH if low_hits else Severity.MEDIUM,
            confidence=0.85,
            title=f"The cache evicted {evicted:,.0f} keys during the run "
            f"(up to {peak:,.0f}/s), from second {began}{at_load}",
            evidence=tuple(evidence),
            location=f"cache {cache.dsn}",
            recommendation=_eviction_advice(policy, cache),
            expected_effect="keys stay until they expire: fewer misses, and no eviction work "
            "on the cache's writes",
        )
    ]


def _eviction_advice(policy: Any, cache: _Cache) -> str:
    more = f"give the cache more memory ({_memory_setting(cache)}) or store less"
    if isinstance(policy, str) and policy.startswith("volatile"):
        return (
            f"{policy} evicts only keys with a TTL, so keys without one fill the memory and "
            f"the keys with a TTL go first: set TTLs on cached keys, or use allkeys-lru; {more}"
        )
    return f"{more} (shorter TTLs, smaller values)"


def cache_cpu_bound(timeline: Timeline) -> list[Finding]:
    """Redis near one core (its command thread saturated) while latency rose."""
    cache = _cache(timeline)
    pressure = pressure_of(timeline)
    if cache is None or cache.kind != "redis" or pressure is None or not pressure.under_pressure:
        return []
    high = [s.cache for s in pressure.bands.high if s.cache and s.cache.get("cpu") is not None]
    if not high:
        return []
    cpu = median(float(c["cpu"]) for c in high)
    if cpu < SATURATED_CORE_SHARE:
        return []
    ops = median(float(c.get("ops_per_s") or 0) for c in high)
    return [
        Finding(
            rule="cache-cpu-bound",
            category=Category.CACHE,
            severity=Severity.HIGH,
            confidence=0.85 if pressure.stepped else 0.7,
            title=f"Redis is CPU-bound: {cpu:.0%} of its one core at the highest load "
            f"({ops:,.0f} commands/s)",
            evidence=(
                Evidence(
                    "Redis CPU at the highest load",
                    f"{cpu:.0%} of one core (saturated from {SATURATED_CORE_SHARE:.0%}: Redis "
                    "runs commands on one thread)",
                    "INFO cpu (used_cpu_user + used_cpu_sys), per second",
                ),
                Evidence("commands at the highest load", f"{ops:,.0f}/s", SAMPLES),
                *pressure.evidence(),
            ),
            location=f"cache {cache.dsn}",
            recommendation="make fewer, cheaper calls: batch round trips (pipelining, "
            "MGET/MSET), avoid commands over large values (see the slow commands), or spread "
            "the keys over more Redis instances (Redis Cluster); io-threads help only when the "
            "time goes to network I/O",
            expected_effect="latency stops rising with load until the next limit",
        )
    ]


def cache_slow_commands(timeline: Timeline) -> list[Finding]:
    """The slowlog's entries during the run, by command, the most time first."""
    cache = _cache(timeline)
    if cache is None:
        return []
    entries = [
        e
        for e in cache.watched.get("slowlog") or []
        if int(e.get("duration_us") or 0) >= SLOW_COMMAND_FLOOR_US
    ]
    if not entries:
        return []
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for entry in entries:
        groups.setdefault(str(entry["command"]), []).append(entry)
    ranked = sorted(groups.items(), key=lambda g: -sum(e["duration_us"] for e in g[1]))
    worst = max(int(e["duration_us"]) for e in entries)
    name, top = ranked[0]
    evidence = [_slow_evidence(name, group) for name, group in ranked[:SLOW_COMMANDS_SHOWN]]
    evidence.append(_slowlog_threshold(cache))
    return [
        Finding(
            rule="cache-slow-commands",
            category=Category.CACHE,
            severity=Severity.HIGH if worst >= SLOW_COMMAND_HIGH_US else Severity.MEDIUM,
            confidence=0.9,
            title=f"Slow Redis commands during the run: {len(entries)} commands of "
            f"{format_latency(SLOW_COMMAND_FLOOR_US)} or more, the slowest "
            f"{format_latency(worst)}; {name} the most time",
            evidence=tuple(evidence),
            location=f"cache {cache.dsn}: {max(top, key=lambda e: e['duration_us'])['text']}",
            recommendation=SLOW_COMMAND_FIXES.get(name, SLOW_COMMAND_ADVICE)
            + "; Redis runs one command at a time, so every client waits while one is slow",
            expected_effect="the other clients' commands stop queueing behind the slow ones",
        )
    ]


def _slow_evidence(name: str, group: list[Mapping[str, Any]]) -> Evidence:
    slowest = max(group, key=lambda e: e["duration_us"])
    total_us = sum(int(e["duration_us"]) for e in group)
    seconds = sorted({int(e.get("second") or 0) for e in group})
    when = f"second {seconds[0]}" if len(seconds) == 1 else f"seconds {seconds[0]}–{seconds[-1]}"
    return Evidence(
        f"{name}",
        f"{len(group)}× ({when}), {format_latency(total_us)} in all, the slowest "
        f"{format_latency(int(slowest['duration_us']))}: {slowest['text']}",
        SLOWLOG,
    )


def _slowlog_threshold(cache: _Cache) -> Evidence:
    logged = cache.server.get("slowlog_slower_than_us")
    at = format_latency(int(logged)) if logged is not None else "unknown"
    floor, high = format_latency(SLOW_COMMAND_FLOOR_US), format_latency(SLOW_COMMAND_HIGH_US)
    return Evidence(
        "thresholds",
        f"the slowlog logs commands from {at}; named here from {floor}; high from {high}",
        "CONFIG GET slowlog-log-slower-than",
    )


def cache_persistence_fork(timeline: Timeline) -> list[Finding]:
    """Redis forked for a save during the run: how long, and whether latency spiked then."""
    cache = _cache(timeline)
    if cache is None or cache.kind != "redis":
        return []
    forks = [s for s in cache.samples if int(s.get("forks") or 0) > 0]
    if not forks:
        return []
    p95 = {s.second: s.p95_us for s in timeline.measured}
    typical = median(p95.values())
    spikes = []
    for sample in forks:
        second = cache.run_second(sample)
        worst = max((p95.get(k, 0) for k in (second, second + 1)), default=0)
        if typical and worst >= FORK_SPIKE_RATIO * typical:
            spikes.append((second, worst))
    longest_us = max(int(s.get("latest_fork_us") or 0) for s in forks)
    seconds = ", ".join(str(cache.run_second(s)) for s in forks)
    count = sum(int(s.get("forks") or 0) for s in forks)
    evidence = [
        Evidence(
            "forks during the run",
            f"{count} (second {seconds}); the longest blocked Redis {format_latency(longest_us)}",
            "INFO stats (total_forks), INFO persistence (latest_fork_usec)",
        ),
        _spike_evidence(spikes, typical),
    ]
    return [
        Finding(
            rule="cache-persistence-fork",
            category=Category.CACHE,
            severity=Severity.MEDIUM if spikes else Severity.LOW,
            confidence=0.8 if spikes else 0.6,
            title=f"Redis forked to save (RDB or AOF rewrite) during the run at second {seconds}"
            + (f"; latency p95 spiked to {format_latency(spikes[0][1])}" if spikes else ""),
            evidence=tuple(evidence),
            location=f"cache {cache.dsn}",
            recommendation="a cache that can be refilled needs no persistence: turn snapshots "
            'off (save "") and appendonly no; otherwise save from a replica or off-peak, keep '
            "transparent huge pages off, and keep the instance's memory small (the fork copies "
            "its page tables)",
            expected_effect="no stall while the fork copies the page tables, and no "
            "copy-on-write memory growth during the save",
        )
    ]


def _spike_evidence(spikes: list[tuple[int, int]], typical: float) -> Evidence:
    limit = f"a spike is p95 at {FORK_SPIKE_RATIO:g}× the run's median ({format_latency(typical)})"
    if not spikes:
        return Evidence("latency at the forks", f"no spike ({limit})", "per-second latency series")
    shown = ", ".join(f"second {s}: {format_latency(p)}" for s, p in spikes)
    return Evidence("latency at the forks", f"p95 {shown} ({limit})", "per-second latency series")


def cache_connection_limit(timeline: Timeline) -> list[Finding]:
    """memcached refused or stopped accepting connections at its limit."""
    cache = _cache(timeline)
    if cache is None or cache.kind != "memcached":
        return []
    hit = [s for s in cache.samples if _limit_hits(s) > 0]
    if not hit:
        return []
    times = sum(_limit_hits(s) for s in hit)
    began = cache.run_second(hit[0])
    load = next((s.load for s in timeline.seconds if s.second == began), None)
    at_load = f" at {load:g} {timeline.unit}" if load is not None else ""
    maxconns = cache.server.get("maxconns")
    peak = max(int(s.get("curr_connections") or 0) for s in cache.samples)
    return [
        Finding(
            rule="cache-connection-limit",
            category=Category.CACHE,
            severity=Severity.HIGH,
            confidence=0.9,
            title=f"memcached hit its connection limit ({maxconns or '?'}) {times} times, "
            f"from second {began}{at_load}",
            evidence=(
                Evidence(
                    "times the limit was hit",
                    f"{times} (rejected_connections and listen_disabled_num; reported from 1)",
                    SAMPLES,
                ),
                Evidence("connections at most", f"{peak:,} of {maxconns or '?'}", SAMPLES),
            ),
            location=f"cache {cache.dsn}: maxconns (-c)",
            recommendation="raise memcached's connection limit (-c), and have the service "
            "reuse a pool of connections rather than open one per request",
            expected_effect="new connections are accepted at once instead of waiting in the "
            "listen backlog",
        )
    ]


def cache_not_read(timeline: Timeline) -> list[Finding]:
    """What the cache's watch could not read: its absence from the findings means nothing."""
    cache = _cache(timeline)
    if cache is None or not cache.watched.get("notes"):
        return []
    notes = [str(n) for n in cache.watched["notes"]]
    return [
        Finding(
            rule="cache-not-read",
            category=Category.CACHE,
            severity=Severity.INFO,
            confidence=1.0,
            title=f"Part of the cache could not be read: {notes[0]}",
            evidence=tuple(Evidence("not read", n, "the cache watch") for n in notes),
            location=f"cache {cache.dsn}",
            recommendation="give the DSN's user the permissions (CONFIG GET, SLOWLOG), turn "
            "the slowlog on (slowlog-log-slower-than 10000), or raise slowlog-max-len when it "
            "overflowed",
            expected_effect="the slow-command findings see every slow command of the run",
        )
    ]


def _limit_hits(sample: Mapping[str, Any]) -> int:
    """Connections refused (maxconns_fast) or times accepting stopped, in a sample."""
    return int(sample.get("rejected_connections") or 0) + int(sample.get("listen_disabled") or 0)


def _rate(sample: Mapping[str, Any], names: Sequence[str]) -> float:
    for name in names:
        if sample.get(name) is not None:
            return float(sample[name])
    return 0.0


def _memory(sample: Mapping[str, Any]) -> str:
    used = sample.get("used_memory_bytes")
    limit = sample.get("maxmemory_bytes")
    if used is None:
        return "not sampled"
    if not limit:
        return f"{format_bytes(float(used))} used, no limit set"
    return (
        f"{format_bytes(float(used))} of {format_bytes(float(limit))} ({float(used) / limit:.0%})"
    )


def _memory_setting(cache: _Cache) -> str:
    return "maxmemory" if cache.kind == "redis" else "memcached -m"


#: Every cache rule, in the order the diagnosis runs them.
CACHE_RULES = (
    cache_hit_ratio,
    cache_evictions,
    cache_cpu_bound,
    cache_slow_commands,
    cache_persistence_fork,
    cache_connection_limit,
    cache_not_read,
)
