"""The CPU and waiting rules, on synthetic stepped runs: each fires on its own shape only."""

from __future__ import annotations

from typing import Any

import pytest

from redline.diagnose import Category, diagnose
from redline.diagnose._rule_cpu import cpu_bound
from redline.diagnose._rule_waiting import pool_exhaustion, waiting
from redline.diagnose._timeline import Timeline
from tests.unit.diagnose.diagnose_docs import Sec, document, server, stepped

LEVELS = [4.0, 8.0, 12.0, 16.0]


def saturated(cpu: float, **server_figures: Any) -> Timeline:
    """Throughput flat at 500 req/s, latency growing with the level (a queue)."""
    seconds = stepped(
        LEVELS,
        latency_us=lambda n: n / 500 * 1e6,
        throughput=lambda n: 500,
        server_at=lambda n: server(cpu, **server_figures),
    )
    return Timeline.of(document(seconds))


def test_one_saturated_thread_is_cpu_bound_and_asks_for_workers() -> None:
    [finding] = cpu_bound(saturated(1.0, max_thread_cpu=0.98))
    assert finding.category is Category.CPU
    assert "one thread" in finding.title and "2 cores are available" in finding.title
    assert "workers" in finding.recommendation
    assert "'python3' of process 4242" in (finding.location or "")


def test_all_cores_busy_asks_to_profile_or_scale_out() -> None:
    [finding] = cpu_bound(saturated(1.9, max_thread_cpu=0.5))
    assert finding.title == "CPU-bound: the server uses 1.90 of its 2 cores"
    assert "profile" in finding.recommendation


def test_busy_cpu_without_pressure_is_not_a_bottleneck() -> None:
    seconds = stepped(
        LEVELS,
        latency_us=lambda n: 2000,
        throughput=lambda n: n * 500,
        server_at=lambda n: server(1.0),
    )
    assert cpu_bound(Timeline.of(document(seconds))) == []


def test_the_waiting_rule_does_not_fire_on_a_cpu_bound_server() -> None:
    timeline = saturated(1.0, max_thread_cpu=0.98)
    assert waiting(timeline) == []
    assert pool_exhaustion(timeline) == []


def test_the_cpu_rule_does_not_fire_on_a_waiting_server() -> None:
    assert cpu_bound(saturated(0.05)) == []


def test_waiting_without_downstream_names_an_inner_limit_by_littles_law() -> None:
    # 200 req/s at 20 ms with no queue: about 4 requests at once.
    seconds = stepped(
        LEVELS,
        latency_us=lambda n: n / 200 * 1e6,
        throughput=lambda n: 200,
        server_at=lambda n: server(0.05),
    )
    [finding] = waiting(Timeline.of(document(seconds)))
    assert finding.category is Category.CONCURRENCY
    assert "a pool of about 4" in finding.title


def test_waiting_on_a_database_port_names_it() -> None:
    # Connections to 5432 follow the load: no ceiling, so no pool finding.
    seconds = stepped(
        LEVELS,
        latency_us=lambda n: n / 200 * 1e6,
        throughput=lambda n: 200,
        server_at=lambda n: server(0.05, tcp_outbound_by_remote_port={"5432": int(n)}),
    )
    timeline = Timeline.of(document(seconds))
    assert pool_exhaustion(timeline) == []
    [finding] = waiting(timeline)
    assert finding.category is Category.DATABASE
    assert "PostgreSQL" in finding.title


def test_a_pool_flat_at_its_ceiling_is_exhausted_and_sized_by_littles_law() -> None:
    # 4 connections, 20 ms each: 200 req/s whatever the load; 16 VUs need 16.
    seconds = stepped(
        LEVELS,
        latency_us=lambda n: n / 200 * 1e6,
        throughput=lambda n: 200,
        server_at=lambda n: server(0.05, tcp_outbound_by_remote_port={"6379": 4}),
    )
    diagnosis = diagnose(document(seconds))
    first = diagnosis.findings[0]
    assert first.rule == "pool-exhaustion"
    assert first.category is Category.CONCURRENCY
    assert "Redis stay at 4 while 16 requests are in flight" in first.title
    assert "at least 16 connections" in first.recommendation
    assert [f.rule for f in diagnosis.findings].count("waiting") == 0


def pooled_by_the_database(**database: Any) -> list[Sec]:
    """4 pooled connections, 20 ms each, seen only from the database (no server process)."""
    return stepped(LEVELS, latency_us=lambda n: n / 200 * 1e6, throughput=lambda n: 200,
                   server_at=lambda n: None,
                   database_at=lambda n: {"connections": 4, **database})  # fmt: skip


def test_the_database_sessions_show_a_pool_exhausted_without_a_server_probe() -> None:
    diagnosis = diagnose(document(pooled_by_the_database(active=1, max_connections=100)))
    [pool] = [f for f in diagnosis.findings if f.rule == "pool-exhaustion"]
    assert "the database stay at 4 while 16 requests are in flight" in pool.title
    assert "raise the pool to at least 16 connections" in pool.recommendation
    busy = {e.label: e.value for e in pool.evidence}["database sessions at work"]
    assert busy == "1 of 4 active on average (25%)"


def test_a_pool_busy_in_the_database_points_at_the_statements() -> None:
    diagnosis = diagnose(document(pooled_by_the_database(active=4)))
    [pool] = [f for f in diagnosis.findings if f.rule == "pool-exhaustion"]
    assert pool.recommendation.startswith("every pooled connection is working in the database")
    assert "redline db analyze" in pool.recommendation


def test_a_pool_larger_than_max_connections_allows_asks_for_a_pooler() -> None:
    diagnosis = diagnose(document(pooled_by_the_database(active=1, max_connections=10)))
    [pool] = [f for f in diagnosis.findings if f.rule == "pool-exhaustion"]
    assert "max_connections (10): put a pooler" in pool.recommendation


def test_database_sessions_that_follow_the_load_are_no_pool_ceiling() -> None:
    seconds = stepped(LEVELS, latency_us=lambda n: n / 200 * 1e6, throughput=lambda n: 200,
                      server_at=lambda n: None,
                      database_at=lambda n: {"connections": int(n), "active": 1})  # fmt: skip
    assert pool_exhaustion(Timeline.of(document(seconds))) == []


def test_a_flat_closed_run_does_not_call_its_own_vus_an_inner_limit() -> None:
    # 4 VUs, 1,500 req/s at 2.7 ms: X x W = 4, the VUs themselves, whatever the server's limit.
    seconds = [Sec(4, 1500, 2_700, min_us=250, server=server(0.05)) for _ in range(12)]
    assert waiting(Timeline.of(document(seconds))) == []


def test_flat_load_that_queues_is_pressure_too() -> None:
    # One level: the mean is 10x the fastest request, so requests queue.
    seconds = [Sec(16, 500, 32_000, min_us=3_000, server=server(1.0)) for _ in range(12)]
    [finding] = cpu_bound(Timeline.of(document(seconds)))
    assert finding.evidence[-1].label == "mean response vs fastest, at the highest load"


def test_no_server_samples_no_cpu_or_waiting_finding_and_a_note() -> None:
    seconds = stepped(
        LEVELS, latency_us=lambda n: n * 1e4, throughput=lambda n: 200, server_at=lambda n: None
    )
    diagnosis = diagnose(document(seconds))
    assert [f.rule for f in diagnosis.findings if f.rule in ("cpu-bound", "waiting")] == []
    assert any("--server-pid" in note for note in diagnosis.notes)


def test_resource_samples_longer_than_a_second_cover_each_of_their_seconds() -> None:
    doc = document([Sec(4, 100, 2000) for _ in range(6)])
    doc["resources"]["interval_s"] = 2.0
    doc["resources"]["server"] = [
        {"second": k, **server(0.1 * (k + 1))} for k in range(3)
    ]  # samples 0, 1, 2 cover seconds 0-1, 2-3, 4-5
    cpus = [s.server["cpu"] if s.server else None for s in Timeline.of(doc).seconds]
    assert cpus == pytest.approx([0.1, 0.1, 0.2, 0.2, 0.3, 0.3])
