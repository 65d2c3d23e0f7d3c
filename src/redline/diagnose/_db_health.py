"""A PostgreSQL server's health, as findings (``redline db analyze postgresql://...``).

Each rule reads one part of a :class:`~redline.probes._postgres.PgHealth` and
reports past a threshold of :class:`DbHealthConfig`:

- **cache hit ratio** of tables and of indexes, separately, below 99 % once at
  least ``cache_min_blocks`` buffer reads happened (fewer say little);
- **connections** at 85 % of ``max_connections`` or more;
- **idle in transaction**: sessions idle inside an open transaction for 30 s or
  more (they hold locks and stop VACUUM from removing rows newer than them);
- **lock waits**: one finding per root blocker (a session that holds a lock and
  waits for none), once a session it blocks has waited 1 s;
- **unused indexes** of 1 MiB or more never scanned since the statistics were
  reset, and **redundant indexes** (a duplicate, or a leading part of another);
- **bloat**: a table whose estimated bloat is 30 % of it and 64 MiB or more
  (an estimate: see :func:`~redline.probes._postgres.estimate_bloat_bytes`);
- **dead tuples**: 10,000 or more and 20 % of the live rows (autovacuum's own
  default trigger is 20 % + 50, so past it autovacuum is off, behind or
  blocked); **stale statistics**: as many rows changed since the last ANALYZE;
- **replication lag**: a standby 64 MiB of WAL or 60 s behind;
- **partitioning candidates**: tables of 10 GiB or more led by an indexed
  date/timestamp column;
- **memory settings** against the machine's RAM, when the server runs on this
  machine (see :func:`memory_settings` for the reasoning and figures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.errors import ConfigError
from redline.probes._postgres import (
    LockBlocker,
    LockWait,
    Machine,
    PgHealth,
    PgSettings,
    RedundantIndex,
    TableStats,
    UnusedIndex,
)

__all__ = ["DbHealthConfig", "health_findings", "memory_settings"]

MIB = 1024**2
GIB = 1024**3
#: Share of RAM the usual starting point gives shared_buffers, and the bounds reported.
SHARED_BUFFERS_RAM_SHARE = 0.25
SHARED_BUFFERS_MAX_RAM_SHARE = 0.4
#: Share of RAM effective_cache_size usually states (shared_buffers plus the OS cache).
EFFECTIVE_CACHE_RAM_SHARE = 0.75
#: Sorts and hashes a connection is assumed to run at once, sizing work_mem.
WORK_MEM_OPERATIONS = 3
#: maintenance_work_mem: a sixteenth of RAM, at most 2 GiB.
MAINTENANCE_RAM_DIVISOR = 16
MAINTENANCE_MAX_BYTES = 2 * GIB
#: A setting below this share of its suggested figure is reported as too small.
TOO_SMALL_SHARE = 0.5
#: work_mem and maintenance_work_mem only below this share (their figures are looser).
MEMORY_TOO_SMALL_SHARE = 0.25
#: Characters of a session's query shown.
QUERY_CHARS = 200
#: How many sessions are listed in one finding.
SESSIONS_SHOWN = 5

_ACTIVITY = "pg_stat_activity"
_SETTINGS = "pg_settings"
_MEMINFO = "/proc/meminfo (MemTotal)"


@dataclass(frozen=True, kw_only=True)
class DbHealthConfig:
    """The thresholds of :func:`health_findings` (see the module docstring for why)."""

    #: Cache hit ratios below this are reported...
    cache_hit_min: float = 0.99
    #: ...once this many buffer reads (hits + reads) happened.
    cache_min_blocks: int = 10_000
    #: Connections at this share of max_connections or more.
    connections_share: float = 0.85
    idle_in_transaction_min_s: float = 30.0
    lock_wait_min_s: float = 1.0
    unused_index_min_bytes: int = 1 * MIB
    bloat_min_share: float = 0.3
    bloat_min_bytes: int = 64 * MIB
    dead_tuples_min: int = 10_000
    #: Dead tuples (and rows changed since ANALYZE) at this share of the live rows.
    dead_tuples_share: float = 0.2
    replication_lag_bytes: int = 64 * MIB
    replication_lag_s: float = 60.0
    partition_min_bytes: int = 10 * GIB

    def validate(self) -> list[ConfigError]:
        """Every threshold out of range: shares in (0, 1], the rest 0 or more."""
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("share") or f.name == "cache_hit_min":
                if not 0 < value <= 1:
                    problems.append(ConfigError(f"{f.name} must be in (0, 1]; got {value!r}"))
            elif value < 0:
                problems.append(ConfigError(f"{f.name} must be 0 or more; got {value!r}"))
        return problems


_Rule = Callable[[PgHealth, DbHealthConfig], Iterable[Finding]]


def health_findings(health: PgHealth, config: DbHealthConfig | None = None) -> list[Finding]:
    """Every finding on ``health``, rule by rule (rank them with ``ranked``).

    Raises:
        ConfigError: a threshold of ``config`` is out of range (the first one).
    """
    config = config or DbHealthConfig()
    problems = config.validate()
    if problems:
        raise problems[0]
    return [finding for rule in _RULES for finding in rule(health, config)]


# -- cache, connections, sessions, locks ---------------------------------------------------


def _cache(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    for kind, cache, view in (
        ("tables", health.table_cache, "pg_statio_user_tables"),
        ("indexes", health.index_cache, "pg_statio_user_indexes"),
    ):
        ratio = cache.ratio
        total = cache.hits + cache.reads
        if ratio is None or total < config.cache_min_blocks or ratio >= config.cache_hit_min:
            continue
        yield Finding(
            rule="pg-cache-hit",
            category=Category.DATABASE,
            severity=Severity.HIGH if ratio < 0.9 else Severity.MEDIUM,
            confidence=0.7,
            title=f"Cache hit ratio of {kind} is {ratio:.1%}: "
            f"{cache.reads:,} of {total:,} buffer reads missed shared_buffers",
            evidence=(
                Evidence(f"{kind} cache hit ratio", f"{ratio:.2%}", view),
                Evidence("buffer reads outside shared_buffers", f"{cache.reads:,}", view),
                Evidence("threshold", f"{config.cache_hit_min:.0%}", "redline"),
            ),
            location=f"database {health.database} ({kind})",
            recommendation="raise shared_buffers toward a quarter of RAM if it is smaller; "
            "find the statements with the most shared_blks_read (redline db analyze lists "
            "them) and index or narrow them; a miss may still be served by the OS page cache",
            expected_effect="fewer reads from outside shared_buffers: less I/O and lower "
            "latency for the statements that read these " + kind,
        )


def _connections(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    c = health.connections
    if c.max_connections <= 0 or c.total < config.connections_share * c.max_connections:
        return
    share = c.total / c.max_connections
    states = ", ".join(f"{n} {state}" for state, n in sorted(c.by_state.items()))
    yield Finding(
        rule="pg-connections",
        category=Category.CONCURRENCY,
        severity=Severity.CRITICAL if share >= 0.95 else Severity.HIGH,
        confidence=0.9,
        title=f"{c.total} of {c.max_connections} connections in use ({share:.0%})",
        evidence=(
            Evidence("client connections by state", states, _ACTIVITY),
            Evidence("max_connections", f"{c.max_connections}", _SETTINGS),
            Evidence("kept for superusers", f"{c.reserved}", _SETTINGS),
        ),
        location="setting: max_connections",
        recommendation="put a pooler (PgBouncer in transaction mode) in front of the server or "
        "shrink the applications' pools; close idle connections. Raising max_connections "
        "costs memory per connection and lowers the work_mem each can safely use",
        expected_effect="new connections are not refused ('too many clients') at peak load",
    )


def _idle_in_transaction(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    idle = [s for s in health.idle_in_transaction if s.idle_s >= config.idle_in_transaction_min_s]
    if not idle:
        return
    oldest = max(idle, key=lambda s: s.transaction_s)
    yield Finding(
        rule="pg-idle-in-transaction",
        category=Category.CONCURRENCY,
        severity=Severity.HIGH if oldest.transaction_s >= 600 else Severity.MEDIUM,
        confidence=0.85,
        title=f"{len(idle)} session(s) idle in an open transaction, the oldest for "
        f"{_duration(oldest.transaction_s)}",
        evidence=tuple(
            Evidence(
                f"pid {s.pid} ({s.application or 'no application_name'}, {s.user}@{s.database})",
                f"idle {_duration(s.idle_s)}, in a transaction for {_duration(s.transaction_s)}; "
                f"last statement: {_text(s.query)}",
                _ACTIVITY,
            )
            for s in idle[:SESSIONS_SHOWN]
        ),
        location="sessions idle in transaction: pid " + ", ".join(str(s.pid) for s in idle),
        recommendation="commit or roll back promptly in the application (look for a "
        "transaction left open around slow work or on an error path); set "
        "idle_in_transaction_session_timeout (e.g. '60s') as a safety net",
        expected_effect="no locks held by idle sessions, and VACUUM can remove dead rows again",
    )


def _lock_waits(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    blockers = {b.pid: b for b in health.blockers}
    roots = sorted({p for w in health.lock_waits for p in w.blocked_by if _is_root(p, blockers)})
    for pid in roots:
        blocked = _blocked_by(pid, health.lock_waits)
        longest = max(w.waiting_s for w in blocked)
        if longest >= config.lock_wait_min_s:
            yield _lock_wait(pid, blockers.get(pid), blocked, longest)


def _blocked_by(pid: int, waits: Sequence[LockWait]) -> list[LockWait]:
    """The sessions waiting for ``pid``, directly or behind another waiting session."""
    found: list[LockWait] = []
    frontier = {pid}
    while frontier:
        step = [w for w in waits if frontier & set(w.blocked_by) and w not in found]
        found += step
        frontier = {w.pid for w in step}
    return sorted(found, key=lambda w: -w.waiting_s)


def _lock_wait(
    pid: int, blocker: LockBlocker | None, blocked: list[LockWait], longest: float
) -> Finding:
    if blocker is not None:
        who = f"pid {pid} ({blocker.state}, {blocker.user}@{blocker.database})"
    else:
        who = f"pid {pid}" + (" (a prepared transaction: pg_prepared_xacts)" if pid == 0 else "")
    evidence = [Evidence(f"blocker {who}", _text(blocker.query) if blocker else "?", _ACTIVITY)]
    evidence += [
        Evidence(
            f"waiting pid {w.pid} (for pid {', '.join(map(str, w.blocked_by))})",
            f"{_duration(w.waiting_s)}: {_text(w.query)}",
            f"{_ACTIVITY}, pg_blocking_pids()",
        )
        for w in blocked[:SESSIONS_SHOWN]
    ]
    return Finding(
        rule="pg-lock-wait",
        category=Category.CONCURRENCY,
        severity=Severity.HIGH if longest >= 5 else Severity.MEDIUM,
        confidence=0.9,
        title=f"{who} blocks {len(blocked)} session(s), the longest waiting {_duration(longest)}",
        evidence=tuple(evidence),
        location=f"pid {pid}",
        recommendation="shorten the blocker's transaction (commit sooner, take row locks "
        "last and in a fixed order); if it is stuck, end it with "
        f"SELECT pg_terminate_backend({pid}); set lock_timeout in the waiting application",
        expected_effect="the waiting sessions run as soon as the lock is released",
    )


def _is_root(pid: int, blockers: dict[int, LockBlocker]) -> bool:
    """The blocker waits for no lock itself (or is gone from pg_stat_activity)."""
    blocker = blockers.get(pid)
    return blocker is None or not blocker.waiting


# -- indexes -------------------------------------------------------------------------------


def _unused_indexes(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    redundant = {(r.schema, r.name) for r in health.redundant_indexes}
    since = _stats_since(health)
    for index in health.unused_indexes:
        if (
            index.size_bytes < config.unused_index_min_bytes
            or (index.schema, index.name) in redundant
        ):
            continue
        yield _unused_index(index, since, health.stats_reset_age_s)


def _unused_index(index: UnusedIndex, since: str, stats_age_s: float | None) -> Finding:
    name = f"{index.schema}.{index.name}"
    return Finding(
        rule="pg-unused-index",
        category=Category.DATABASE,
        severity=Severity.MEDIUM if index.size_bytes >= 100 * MIB else Severity.LOW,
        confidence=0.8 if stats_age_s is not None and stats_age_s >= 7 * 86400 else 0.5,
        title=f"Index {name} ({_size(index.size_bytes)}) was never scanned {since}",
        evidence=(
            Evidence("index scans", f"0 {since}", "pg_stat_user_indexes.idx_scan"),
            Evidence("size", _size(index.size_bytes), "pg_relation_size()"),
            Evidence("definition", index.definition, "pg_get_indexdef()"),
        ),
        location=f"index {name}",
        recommendation=f"DROP INDEX CONCURRENTLY {name}; after checking that no standby "
        "(its scans are not counted here) and no rare job (month-end reports) uses it",
        expected_effect=f"{_size(index.size_bytes)} less to store and cache, and cheaper "
        f"writes to {index.schema}.{index.table}",
    )


def _redundant_indexes(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    unused = {(i.schema, i.name) for i in health.unused_indexes}
    for index in health.redundant_indexes:
        yield _redundant_index(index, (index.schema, index.name) in unused, _stats_since(health))


def _redundant_index(index: RedundantIndex, unused: bool, since: str) -> Finding:
    name = f"{index.schema}.{index.name}"
    kind = "duplicates" if index.exact else "is a leading part of"
    evidence = [
        Evidence("definition", index.definition, "pg_get_indexdef()"),
        Evidence("covered by", index.covered_by_definition, "pg_get_indexdef()"),
        Evidence("size", _size(index.size_bytes), "pg_relation_size()"),
    ]
    if unused:
        evidence.append(Evidence("index scans", f"0 {since}", "pg_stat_user_indexes.idx_scan"))
    return Finding(
        rule="pg-redundant-index",
        category=Category.DATABASE,
        severity=Severity.MEDIUM if index.size_bytes >= 100 * MIB else Severity.LOW,
        confidence=0.85 if index.exact else 0.7,
        title=f"Index {name} {kind} {index.schema}.{index.covered_by}",
        evidence=tuple(evidence),
        location=f"index {name}",
        recommendation=f"DROP INDEX CONCURRENTLY {name}; queries that used it can use "
        f"{index.schema}.{index.covered_by}"
        + ("" if index.exact else " (slightly larger, so a little slower to read)"),
        expected_effect=f"{_size(index.size_bytes)} less to store and cache, and one index "
        f"fewer to update on each write to {index.schema}.{index.table}",
    )


# -- tables --------------------------------------------------------------------------------


def _bloat(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    for t in health.tables:
        bloat = t.estimated_bloat_bytes
        if bloat is None or t.size_bytes <= 0 or bloat < config.bloat_min_bytes:
            continue
        share = bloat / t.size_bytes
        if share < config.bloat_min_share:
            continue
        yield Finding(
            rule="pg-table-bloat",
            category=Category.DATABASE,
            severity=Severity.MEDIUM if share >= 0.5 else Severity.LOW,
            confidence=0.5,
            title=f"Table {t.schema}.{t.name}: about {_size(bloat)} ({share:.0%}) of its "
            f"{_size(t.size_bytes)} holds no live rows (estimate)",
            evidence=(
                Evidence("size", _size(t.size_bytes), "pg_relation_size()"),
                Evidence(
                    "estimated bloat",
                    f"{_size(bloat)} ({share:.0%})",
                    "estimate: live rows x average row width (pg_stats) vs size",
                ),
                Evidence(
                    "live / dead rows",
                    f"{t.live_tuples:,} / {t.dead_tuples:,}",
                    "pg_stat_user_tables",
                ),
            ),
            location=f"table {t.schema}.{t.name}",
            recommendation="VACUUM makes the space reusable but rarely returns it; to shrink "
            "the table rewrite it with pg_repack (online) or VACUUM FULL (locks it "
            "exclusively); then make autovacuum keep up on it",
            expected_effect=f"about {_size(bloat)} less to scan and cache for this table",
        )


def _dead_tuples(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    for t in health.tables:
        if t.dead_tuples < config.dead_tuples_min:
            continue
        if t.dead_tuples < config.dead_tuples_share * t.live_tuples:
            continue
        yield _dead_tuple_finding(t)


def _dead_tuple_finding(t: TableStats) -> Finding:
    ratio = t.dead_tuples / t.live_tuples if t.live_tuples else float("inf")
    why = (
        f"autovacuum is disabled for it: ALTER TABLE {t.schema}.{t.name} RESET "
        "(autovacuum_enabled); "
        if not t.autovacuum_enabled
        else "look for long transactions that hold back cleanup, and lower "
        "autovacuum_vacuum_scale_factor for this table; "
    )
    return Finding(
        rule="pg-dead-tuples",
        category=Category.DATABASE,
        severity=Severity.MEDIUM,
        confidence=0.8,
        title=f"Table {t.schema}.{t.name} has {t.dead_tuples:,} dead rows "
        f"({ratio:.0%} of its live rows); last vacuumed {_ago(t.vacuum_age_s)}",
        evidence=(
            Evidence(
                "dead / live rows",
                f"{t.dead_tuples:,} / {t.live_tuples:,}",
                "pg_stat_user_tables.n_dead_tup, n_live_tup",
            ),
            Evidence("last (auto)vacuum", _ago(t.vacuum_age_s), "pg_stat_user_tables"),
            Evidence(
                "autovacuum on this table",
                "on" if t.autovacuum_enabled else "off",
                "pg_class.reloptions",
            ),
        ),
        location=f"table {t.schema}.{t.name}",
        recommendation=f"VACUUM (ANALYZE) {t.schema}.{t.name}; then {why}"
        "autovacuum starts by default at 20 % dead rows",
        expected_effect="scans skip fewer dead rows, and the space is reused instead of "
        "growing the table",
    )


def _stale_statistics(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    for t in health.tables:
        changed = t.modified_since_analyze
        if changed < config.dead_tuples_min or changed < config.dead_tuples_share * t.live_tuples:
            continue
        yield Finding(
            rule="pg-stale-statistics",
            category=Category.DATABASE,
            severity=Severity.LOW,
            confidence=0.7,
            title=f"Table {t.schema}.{t.name}: {changed:,} rows changed since its last "
            f"ANALYZE ({_ago(t.analyze_age_s)})",
            evidence=(
                Evidence(
                    "rows changed since ANALYZE",
                    f"{changed:,}",
                    "pg_stat_user_tables.n_mod_since_analyze",
                ),
                Evidence("live rows", f"{t.live_tuples:,}", "pg_stat_user_tables.n_live_tup"),
                Evidence("last (auto)analyze", _ago(t.analyze_age_s), "pg_stat_user_tables"),
            ),
            location=f"table {t.schema}.{t.name}",
            recommendation=f"ANALYZE {t.schema}.{t.name}; if autoanalyze keeps falling behind, "
            "lower autovacuum_analyze_scale_factor for this table",
            expected_effect="row estimates that match the data, so the planner picks fitting "
            "plans (joins, index or sequential scans)",
        )


def _partition_candidates(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    for t in health.tables:
        if t.is_partition or not t.time_columns or t.size_bytes < config.partition_min_bytes:
            continue
        column = t.time_columns[0]
        yield Finding(
            rule="pg-partition-candidate",
            category=Category.DATABASE,
            severity=Severity.INFO,
            confidence=0.4,
            title=f"Table {t.schema}.{t.name} ({_size(t.size_bytes)}) could be partitioned "
            f"by {column}",
            evidence=(
                Evidence("size", _size(t.size_bytes), "pg_relation_size()"),
                Evidence(
                    "indexed time column(s)", ", ".join(t.time_columns), "pg_index, pg_attribute"
                ),
            ),
            location=f"table {t.schema}.{t.name}",
            recommendation=f"if its rows are mostly read and removed by {column} ranges, "
            f"partition it by RANGE ({column}); old data then goes with DROP or DETACH "
            "PARTITION instead of DELETE and VACUUM",
            expected_effect="queries on recent rows read only recent partitions; removing old "
            "rows costs no bloat",
        )


def _replication(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    for r in health.replicas:
        by_bytes = r.lag_bytes is not None and r.lag_bytes >= config.replication_lag_bytes
        by_time = r.replay_lag_s is not None and r.replay_lag_s >= config.replication_lag_s
        if not (by_bytes or by_time):
            continue
        name = f"replica {r.name or '?'} ({r.client_addr or 'local'})"
        yield Finding(
            rule="pg-replication-lag",
            category=Category.DATABASE,
            severity=Severity.HIGH,
            confidence=0.8,
            title=f"{name} is behind: "
            + _size(r.lag_bytes or 0)
            + (f", {_duration(r.replay_lag_s)}" if r.replay_lag_s is not None else ""),
            evidence=(
                Evidence(
                    "WAL not yet replayed",
                    "?" if r.lag_bytes is None else _size(r.lag_bytes),
                    "pg_stat_replication, pg_wal_lsn_diff(current LSN, replay_lsn)",
                ),
                Evidence(
                    "replay lag",
                    "?" if r.replay_lag_s is None else _duration(r.replay_lag_s),
                    "pg_stat_replication.replay_lag",
                ),
                Evidence("state", r.state, "pg_stat_replication.state"),
            ),
            location=name,
            recommendation="check the standby's disk and CPU (replay is single-threaded), the "
            "network between, and long queries on the standby delaying replay",
            expected_effect="reads from the standby see recent writes; failover loses less",
        )


# -- settings ------------------------------------------------------------------------------


def _settings(health: PgHealth, config: DbHealthConfig) -> Iterable[Finding]:
    if health.machine is None:
        return []
    return memory_settings(health.settings, health.machine)


def memory_settings(settings: PgSettings, machine: Machine) -> list[Finding]:
    """The memory settings that are far from the usual starting points for this machine.

    The starting points (the well-known rules of thumb PgTune also uses), for RAM R:

    - ``shared_buffers`` ≈ R/4: PostgreSQL reads through the OS page cache too, so
      its own buffers take a quarter and the rest stays for the OS cache, the
      connections and their sorts. Reported below half of that (hot pages are
      copied in from the OS cache again and again) or above 40 % of R (the two
      caches hold the same pages twice, and little is left for the rest).
    - ``effective_cache_size`` ≈ 3R/4: a hint to the planner of how much data is
      cached (nothing is allocated). Below half of that it rates index scans too
      costly; above R it rates them too cheap.
    - ``work_mem`` ≈ (R − shared_buffers) / (max_connections × 3): each sort or hash
      of a query may take work_mem, a query may run several and each connection one
      at once; dividing so keeps the worst case within what shared_buffers leaves.
      Reported below a quarter of that (sorts spill to temporary files) or when
      max_connections × work_mem exceeds R − shared_buffers (memory can run out).
    - ``maintenance_work_mem`` ≈ R/16, at most 2 GiB: VACUUM and CREATE INDEX run
      few at a time and go faster with more. Reported below a quarter of that.
    """
    ram = machine.ram_bytes
    found = [
        _shared_buffers(settings, machine),
        _effective_cache_size(settings, machine),
        _work_mem(settings, machine),
        _memory_setting(
            "maintenance_work_mem",
            settings.maintenance_work_mem_bytes,
            min(ram // MAINTENANCE_RAM_DIVISOR, MAINTENANCE_MAX_BYTES),
            "a sixteenth of RAM, at most 2 GiB: VACUUM and CREATE INDEX run few at a time "
            "and finish sooner with more memory",
            machine,
        ),
    ]
    return [f for f in found if f is not None]


def _shared_buffers(settings: PgSettings, machine: Machine) -> Finding | None:
    value, ram = settings.shared_buffers_bytes, machine.ram_bytes
    target = int(ram * SHARED_BUFFERS_RAM_SHARE)
    reason = (
        "a quarter of RAM: PostgreSQL also reads through the OS page cache, which "
        "keeps the rest for itself, the connections and their sorts"
    )
    if value > SHARED_BUFFERS_MAX_RAM_SHARE * ram:
        return _setting_finding(
            "shared_buffers", value, target, reason, machine, too_small=False, restart=True
        )
    return _memory_setting(
        "shared_buffers", value, target, reason, machine, share=TOO_SMALL_SHARE, restart=True
    )


def _effective_cache_size(settings: PgSettings, machine: Machine) -> Finding | None:
    value, ram = settings.effective_cache_size_bytes, machine.ram_bytes
    target = int(ram * EFFECTIVE_CACHE_RAM_SHARE)
    reason = (
        "three quarters of RAM: it only tells the planner how much data shared_buffers "
        "and the OS cache hold together, and allocates nothing"
    )
    if value > ram:
        return _setting_finding(
            "effective_cache_size", value, target, reason, machine, too_small=False
        )
    return _memory_setting(
        "effective_cache_size", value, target, reason, machine, share=TOO_SMALL_SHARE
    )


def _work_mem(settings: PgSettings, machine: Machine) -> Finding | None:
    spare = max(0, machine.ram_bytes - settings.shared_buffers_bytes)
    connections = max(1, settings.max_connections)
    target = spare // (connections * WORK_MEM_OPERATIONS)
    reason = (
        f"(RAM - shared_buffers) / (max_connections {connections} x "
        f"{WORK_MEM_OPERATIONS}): a query may run several sorts and hashes, each "
        "taking up to work_mem, in every connection at once"
    )
    if settings.work_mem_bytes * connections > spare:
        return _setting_finding(
            "work_mem", settings.work_mem_bytes, target, reason, machine, too_small=False
        )
    return _memory_setting("work_mem", settings.work_mem_bytes, target, reason, machine)


def _memory_setting(
    name: str,
    value: int,
    target: int,
    reason: str,
    machine: Machine,
    *,
    share: float = MEMORY_TOO_SMALL_SHARE,
    restart: bool = False,
) -> Finding | None:
    if value >= share * target:
        return None
    return _setting_finding(name, value, target, reason, machine, too_small=True, restart=restart)


def _setting_finding(
    name: str,
    value: int,
    target: int,
    reason: str,
    machine: Machine,
    *,
    too_small: bool,
    restart: bool = False,
) -> Finding:
    heavy = name in ("shared_buffers", "work_mem")
    effect = {
        (True, "shared_buffers"): "more of the working set served from shared_buffers",
        (True, "effective_cache_size"): "the planner prices index scans as the cache allows",
        (True, "work_mem"): "sorts and hashes stay in memory instead of temporary files",
        (True, "maintenance_work_mem"): "faster VACUUM and CREATE INDEX",
        (False, "shared_buffers"): "memory left for the OS cache and the connections",
        (False, "effective_cache_size"): "the planner stops assuming data is cached that is not",
        (False, "work_mem"): "no risk of running out of memory when many sorts run at once",
    }[(too_small, name)]
    then = "restart PostgreSQL" if restart else "SELECT pg_reload_conf();"
    return Finding(
        rule="pg-setting",
        category=Category.CONFIGURATION,
        severity=Severity.MEDIUM if heavy else Severity.LOW,
        confidence=0.6,
        title=f"{name} = {_size(value)} is {'small' if too_small else 'large'} for a machine "
        f"with {_size(machine.ram_bytes)} of RAM (about {_size(target)} suits it)",
        evidence=(
            Evidence(name, _size(value), _SETTINGS),
            Evidence("RAM", _size(machine.ram_bytes), _MEMINFO),
            Evidence("CPUs", f"{machine.cpu_count}", "os.cpu_count()"),
            Evidence("suggested", f"about {_size(target)}: {reason}", "rule of thumb"),
        ),
        location=f"setting: {name}",
        recommendation=f"ALTER SYSTEM SET {name} = '{_pg_size(target)}'; then {then} "
        "(a starting point: measure and adjust)",
        expected_effect=effect,
    )


# -- formatting ----------------------------------------------------------------------------


def _size(n: int) -> str:
    if n >= GIB:
        return f"{n / GIB:.1f} GiB"
    if n >= MIB:
        return f"{n / MIB:.0f} MiB"
    return f"{n / 1024:.0f} KiB"


def _pg_size(n: int) -> str:
    """A size as postgresql.conf takes it, rounded down to whole MB (at least 1MB)."""
    mb = max(1, n // MIB)
    return f"{mb // 1024}GB" if mb >= 1024 and mb % 1024 == 0 else f"{mb}MB"


def _duration(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.0f} s"


def _ago(age_s: float | None) -> str:
    if age_s is None:
        return "never"
    return f"{age_s / 86400:.1f} days ago" if age_s >= 2 * 86400 else f"{_duration(age_s)} ago"


def _text(query: str) -> str:
    flat = " ".join(query.split())
    return flat[:QUERY_CHARS] + ("..." if len(flat) > QUERY_CHARS else "")


def _stats_since(health: PgHealth) -> str:
    if health.stats_reset_age_s is None:
        return "since the statistics began (never reset)"
    return f"since the statistics were reset {_ago(health.stats_reset_age_s)}"


_RULES: tuple[_Rule, ...] = (
    _cache,
    _connections,
    _idle_in_transaction,
    _lock_waits,
    _unused_indexes,
    _redundant_indexes,
    _bloat,
    _dead_tuples,
    _stale_statistics,
    _replication,
    _partition_candidates,
    _settings,
)
