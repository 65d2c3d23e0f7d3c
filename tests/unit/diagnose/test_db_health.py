"""PostgreSQL health findings from PgHealth figures built here (no server)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from redline.diagnose._db_health import DbHealthConfig, health_findings, memory_settings
from redline.diagnose._finding import Category, Finding, Severity
from redline.errors import ConfigError
from redline.probes._postgres import (
    CacheHits,
    Connections,
    IdleTransaction,
    LockBlocker,
    LockWait,
    Machine,
    PgHealth,
    PgSettings,
    RedundantIndex,
    Replica,
    TableStats,
    UnusedIndex,
)

MIB, GIB = 1024**2, 1024**3
MACHINE = Machine(ram_bytes=16 * GIB, cpu_count=8)
#: PostgreSQL's defaults: small for 16 GiB.
DEFAULTS = PgSettings(
    shared_buffers_bytes=128 * MIB,
    effective_cache_size_bytes=4 * GIB,
    work_mem_bytes=4 * MIB,
    maintenance_work_mem_bytes=64 * MIB,
    max_connections=100,
)
#: The usual starting points for 16 GiB and 100 connections.
SENSIBLE = PgSettings(
    shared_buffers_bytes=4 * GIB,
    effective_cache_size_bytes=12 * GIB,
    work_mem_bytes=40 * MIB,
    maintenance_work_mem_bytes=1 * GIB,
    max_connections=100,
)


def healthy(**changes: object) -> PgHealth:
    health = PgHealth(
        server_version="15.5",
        database="shop",
        stats_reset_age_s=30 * 86400.0,
        table_cache=CacheHits(hits=1_000_000, reads=100),
        index_cache=CacheHits(hits=2_000_000, reads=50),
        connections=Connections({"active": 5, "idle": 20}, max_connections=100, reserved=3),
        idle_in_transaction=(),
        lock_waits=(),
        blockers=(),
        unused_indexes=(),
        redundant_indexes=(),
        tables=(table(),),
        replicas=(),
        settings=SENSIBLE,
        machine=MACHINE,
    )
    return dataclasses.replace(health, **changes)  # type: ignore[arg-type]


def table(**changes: object) -> TableStats:
    stats = TableStats(
        schema="public",
        name="orders",
        size_bytes=500 * MIB,
        live_tuples=4_000_000,
        dead_tuples=1_000,
        modified_since_analyze=2_000,
        vacuum_age_s=3600.0,
        analyze_age_s=3600.0,
        autovacuum_enabled=True,
        estimated_bloat_bytes=10 * MIB,
        time_columns=(),
        is_partition=False,
    )
    return dataclasses.replace(stats, **changes)  # type: ignore[arg-type]


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def test_a_healthy_server_has_no_findings() -> None:
    assert health_findings(healthy()) == []


def test_default_settings_are_small_for_16_gib_with_the_reasoning() -> None:
    findings = memory_settings(DEFAULTS, MACHINE)
    by_location = {f.location: f for f in findings}
    assert set(by_location) == {
        "setting: shared_buffers",
        "setting: effective_cache_size",
        "setting: work_mem",
        "setting: maintenance_work_mem",
    }
    shared = by_location["setting: shared_buffers"]
    assert shared.category is Category.CONFIGURATION
    assert "4.0 GiB" in shared.title and "small" in shared.title
    assert "ALTER SYSTEM SET shared_buffers = '4GB'" in shared.recommendation
    assert "restart" in shared.recommendation
    suggested = {e.label: e for e in shared.evidence}["suggested"]
    assert "quarter of RAM" in suggested.value
    assert {e.source for e in shared.evidence} >= {"pg_settings", "/proc/meminfo (MemTotal)"}
    work = by_location["setting: work_mem"]
    # (16 GiB - 128 MiB) / (100 x 3) = 54 MiB.
    assert "ALTER SYSTEM SET work_mem = '54MB'" in work.recommendation
    assert "max_connections 100" in {e.label: e for e in work.evidence}["suggested"].value
    maintenance = by_location["setting: maintenance_work_mem"]
    assert "'1GB'" in maintenance.recommendation  # 16 GiB / 16, under the 2 GiB cap


def test_sensible_settings_have_no_findings() -> None:
    assert memory_settings(SENSIBLE, MACHINE) == []
    big = Machine(ram_bytes=256 * GIB, cpu_count=64)
    assert (
        memory_settings(
            dataclasses.replace(
                SENSIBLE,
                shared_buffers_bytes=64 * GIB,
                effective_cache_size_bytes=192 * GIB,
                maintenance_work_mem_bytes=2 * GIB,
                work_mem_bytes=600 * MIB,
            ),
            big,
        )
        == []
    )


def test_oversized_settings_are_reported_as_large() -> None:
    findings = memory_settings(
        dataclasses.replace(
            SENSIBLE,
            shared_buffers_bytes=10 * GIB,
            work_mem_bytes=256 * MIB,
            effective_cache_size_bytes=32 * GIB,
        ),
        MACHINE,
    )
    titles = {f.location: f.title for f in findings}
    assert set(titles) == {
        "setting: shared_buffers",
        "setting: work_mem",
        "setting: effective_cache_size",
    }
    assert all(" is large " in t for t in titles.values())


def test_settings_need_the_machine() -> None:
    assert health_findings(healthy(settings=DEFAULTS, machine=None)) == []
    assert len(health_findings(healthy(settings=DEFAULTS))) == 4


def test_cache_hit_ratio_per_kind_only_after_enough_reads() -> None:
    low = CacheHits(hits=90_000, reads=10_000)
    findings = health_findings(healthy(index_cache=low))
    assert rules(findings) == ["pg-cache-hit"]
    assert findings[0].location == "database shop (indexes)"
    assert "90.0%" in findings[0].title
    assert findings[0].evidence[0].source == "pg_statio_user_indexes"
    assert health_findings(healthy(table_cache=CacheHits(hits=900, reads=100))) == []


def test_connections_near_max_connections() -> None:
    busy = Connections({"active": 40, "idle": 50}, max_connections=100, reserved=3)
    [finding] = health_findings(healthy(connections=busy))
    assert finding.rule == "pg-connections" and finding.severity is Severity.HIGH
    assert finding.location == "setting: max_connections"
    assert "90 of 100" in finding.title


def test_idle_in_transaction_past_the_threshold() -> None:
    old = IdleTransaction(
        7,
        "app",
        "shop",
        "web",
        idle_s=300.0,
        transaction_s=310.0,
        query="UPDATE accounts SET balance = 10 WHERE id = 4",
    )
    young = dataclasses.replace(old, pid=8, idle_s=2.0, transaction_s=3.0)
    [finding] = health_findings(healthy(idle_in_transaction=(old, young)))
    assert finding.rule == "pg-idle-in-transaction"
    assert finding.location == "sessions idle in transaction: pid 7"
    assert "UPDATE accounts" in finding.evidence[0].value
    assert health_findings(healthy(idle_in_transaction=(young,))) == []


def test_lock_waits_name_the_root_blocker_and_everyone_behind_it() -> None:
    long_query = "UPDATE stock SET n = n - 1 WHERE item = 'x' " + "-- padding " * 40
    root = LockBlocker(10, "app", "shop", "idle in transaction", 60.0, long_query, waiting=False)
    middle = LockBlocker(11, "app", "shop", "active", 5.0, "UPDATE stock ...", waiting=True)
    waits = (
        LockWait(11, "app", "shop", 8.0, "Lock:transactionid", "UPDATE stock ...", (10,)),
        LockWait(12, "app", "shop", 3.0, "Lock:transactionid", "UPDATE stock ...", (11,)),
    )
    [finding] = health_findings(healthy(lock_waits=waits, blockers=(root, middle)))
    assert finding.rule == "pg-lock-wait" and finding.location == "pid 10"
    assert "blocks 2 session(s)" in finding.title
    assert "pg_terminate_backend(10)" in finding.recommendation
    blocker_text = finding.evidence[0].value
    assert blocker_text.startswith("UPDATE stock") and len(blocker_text) == 203  # 200 + "..."
    assert finding.severity is Severity.HIGH


def test_short_lock_waits_are_not_reported() -> None:
    root = LockBlocker(10, "app", "shop", "active", 1.0, "UPDATE t ...", waiting=False)
    wait = LockWait(11, "app", "shop", 0.2, "Lock:tuple", "UPDATE t ...", (10,))
    assert health_findings(healthy(lock_waits=(wait,), blockers=(root,))) == []


def test_unused_and_redundant_indexes() -> None:
    unused = UnusedIndex(
        "public",
        "orders",
        "orders_note_idx",
        40 * MIB,
        "CREATE INDEX orders_note_idx ON public.orders USING btree (note)",
    )
    tiny = dataclasses.replace(unused, name="orders_tiny_idx", size_bytes=64 * 1024)
    dup = UnusedIndex("public", "orders", "orders_user_idx", 20 * MIB, "CREATE INDEX ... (user_id)")
    redundant = RedundantIndex(
        "public",
        "orders",
        "orders_user_idx",
        20 * MIB,
        "CREATE INDEX ... (user_id)",
        "orders_user_at_idx",
        "CREATE INDEX ... (user_id, at)",
        exact=False,
    )
    findings = health_findings(
        healthy(unused_indexes=(unused, tiny, dup), redundant_indexes=(redundant,))
    )
    assert [(f.rule, f.location) for f in findings] == [
        ("pg-unused-index", "index public.orders_note_idx"),
        ("pg-redundant-index", "index public.orders_user_idx"),
    ]
    unused_finding, redundant_finding = findings
    assert unused_finding.recommendation.startswith(
        "DROP INDEX CONCURRENTLY public.orders_note_idx;"
    )
    assert "since the statistics were reset 30.0 days ago" in unused_finding.title
    assert "is a leading part of public.orders_user_at_idx" in redundant_finding.title
    assert any(e.label == "index scans" for e in redundant_finding.evidence)


def test_bloat_dead_tuples_and_stale_statistics() -> None:
    churned = table(
        name="events",
        size_bytes=400 * MIB,
        live_tuples=1_000_000,
        dead_tuples=2_000_000,
        modified_since_analyze=2_000_000,
        vacuum_age_s=None,
        autovacuum_enabled=False,
        estimated_bloat_bytes=250 * MIB,
    )
    findings = health_findings(healthy(tables=(churned,)))
    assert rules(findings) == ["pg-table-bloat", "pg-dead-tuples", "pg-stale-statistics"]
    assert {f.location for f in findings} == {"table public.events"}
    bloat, dead, _ = findings
    assert "(estimate)" in bloat.title and "62%" in bloat.title
    assert "never" in dead.title
    assert "RESET (autovacuum_enabled)" in dead.recommendation


def test_replication_lag_and_partition_candidates() -> None:
    lagging = Replica("standby1", "10.0.0.2", "streaming", lag_bytes=512 * MIB, replay_lag_s=90.0)
    close = Replica("standby2", "10.0.0.3", "streaming", lag_bytes=1024, replay_lag_s=0.01)
    events = table(name="events", size_bytes=20 * GIB, time_columns=("created_at",))
    findings = health_findings(healthy(replicas=(lagging, close), tables=(events,)))
    assert [(f.rule, f.location) for f in findings] == [
        ("pg-replication-lag", "replica standby1 (10.0.0.2)"),
        ("pg-partition-candidate", "table public.events"),
    ]
    assert "512 MiB" in findings[0].title
    assert "RANGE (created_at)" in findings[1].recommendation
    part = dataclasses.replace(events, is_partition=True)
    assert health_findings(healthy(tables=(part,))) == []


def test_findings_serialize() -> None:
    findings = health_findings(healthy(settings=DEFAULTS))
    assert json.loads(json.dumps([f.to_dict() for f in findings]))
    assert [Finding.from_dict(f.to_dict()) for f in findings] == findings


def test_thresholds_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"cache_hit_min must be in \(0, 1\]; got 1.5"):
        health_findings(healthy(), DbHealthConfig(cache_hit_min=1.5))
    with pytest.raises(ConfigError, match=r"lock_wait_min_s must be 0 or more; got -1"):
        health_findings(healthy(), DbHealthConfig(lock_wait_min_s=-1))
    assert DbHealthConfig().validate() == []
