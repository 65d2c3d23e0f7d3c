"""Waiting, not working: latency rises while the server's CPU stays low.

The server is blocked on something: a downstream it calls (a database, a
cache, another HTTP service), a lock, or a pool too small for the load. The
server's own connections, by remote port, name the downstream; when they sit
flat at a ceiling while the requests in flight grow, the pool in front of it is
exhausted (:func:`pool_exhaustion`), and Little's law (L = λ × W) sizes it.
With ``run --db`` and no server process to look at, the database's own
sessions count the pool; either way they tell whether the pooled connections
are working in the database (then it is the database that is slow, not the
pool that is small) and whether the size needed fits max_connections.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._pressure import Pressure, pressure_of, server_under_pressure
from redline.diagnose._timeline import VUS_UNIT, Second, Timeline, median
from redline.units import format_latency

__all__ = ["DOWNSTREAMS", "pool_exhaustion", "waiting"]

#: Below this share of its cores (and of one core for the busiest thread) the server is idle.
IDLE_SHARE = 0.5
#: Well-known downstream ports: what listens there and the category of waiting on it.
DOWNSTREAMS: dict[int, tuple[str, Category]] = {
    5432: ("PostgreSQL", Category.DATABASE),
    3306: ("MySQL/MariaDB", Category.DATABASE),
    27017: ("MongoDB", Category.DATABASE),
    6379: ("Redis", Category.CACHE),
    11211: ("Memcached", Category.CACHE),
}
#: In a closed model, X × W at this share of the VUs or more is the VUs' own concurrency.
VUS_SHARE = 0.8
#: A downstream's connections sit at their ceiling in at least this share of high-load seconds.
CEILING_SHARE = 0.8
SOURCE = "server process tree (/proc), at the highest load"
DATABASE_SOURCE = "the database's sessions (pg_stat_activity, processlist), at the highest load"
#: A pool whose connections are this busy in the database is not too small: the database is slow.
BUSY_SHARE = 0.8
#: A pool needing more than this share of max_connections needs a pooler instead.
MAX_CONNECTIONS_SHARE = 0.85


def waiting(timeline: Timeline) -> list[Finding]:
    """The waiting finding: under pressure with the server's CPU low."""
    server = server_under_pressure(timeline)
    if server is None:
        return []
    pressure, cpu, high = server.pressure, server.cpu, server.pressure.bands.high
    if cpu >= IDLE_SHARE * server.cores or server.thread >= IDLE_SHARE:
        return []
    if pool_exhaustion(timeline):
        return []  # the pool finding names the cause more exactly
    port = _busiest_downstream(high)
    evidence = [
        _cpu_evidence(timeline, high),
        *pressure.evidence(),
        _switches(timeline, pressure),
    ]
    if port is None:
        return [] if _bounded_by_the_vus(timeline, pressure) else [_inside(evidence, pressure)]
    name, category = _downstream(port)
    count = median(_connections(s, port) for s in high)
    evidence.append(Evidence(f"connections to {name}", f"{count:g}", SOURCE))
    return [
        Finding(
            rule="waiting",
            category=category,
            severity=Severity.HIGH,
            confidence=0.8 if pressure.stepped else 0.6,
            title=f"Waiting, not working: latency rises while the server's CPU stays at "
            f"{cpu:.0%} of a core; it waits on {name}",
            evidence=tuple(evidence),
            location=f"downstream: {name}",
            recommendation=f"find where {name} spends the time (its slow calls, and the pool "
            "in front of it), and make those calls fewer, faster or concurrent",
            expected_effect="latency falls by the time saved per downstream call",
        )
    ]


@dataclass(frozen=True)
class _Pool:
    """Where a pool's connections are counted: the server's sockets, or the database's sessions."""

    name: str
    count: Callable[[Second], int]
    source: str


def pool_exhaustion(timeline: Timeline) -> list[Finding]:
    """Connections to a downstream flat at a ceiling while requests in flight grow."""
    pressure = pressure_of(timeline)
    if pressure is None or not pressure.stepped or not pressure.under_pressure:
        return []
    high = pressure.bands.high
    pool = _pool_of(high)
    if pool is None:
        return []
    ceiling = max(pool.count(s) for s in timeline.measured)
    at_ceiling = sum(pool.count(s) == ceiling for s in high)
    in_flight = median(s.count * s.mean_us / 1e6 for s in high)
    if ceiling == 0 or at_ceiling < CEILING_SHARE * len(high) or in_flight < 1.5 * ceiling:
        return []
    return [_pool_finding(timeline, pressure, pool, (ceiling, at_ceiling), in_flight)]


def _pool_of(high: Sequence[Second]) -> _Pool | None:
    """The server's busiest downstream by its sockets; else the database's own sessions."""
    port = _busiest_downstream(high)
    if port is not None:
        return _Pool(_downstream(port)[0], lambda s: _connections(s, port), SOURCE)
    if any(s.database for s in high):
        return _Pool("the database", _sessions, DATABASE_SOURCE)
    return None


def _pool_finding(
    timeline: Timeline,
    pressure: Pressure,
    pool: _Pool,
    ceiling_and_seconds: tuple[int, int],
    in_flight: float,
) -> Finding:
    ceiling, at_ceiling = ceiling_and_seconds
    name = pool.name
    low, high = pressure.bands.low, pressure.bands.high
    # W: how long one request holds a connection, from the low band where nothing queued.
    hold_s = median(s.mean_us for s in low) / 1e6
    level = median(s.load for s in high)
    # The throughput the load asks for: N / W for VUs (no think time), the rate itself if open.
    demand_rps = level / hold_s if timeline.unit == VUS_UNIT else level
    needed = math.ceil(demand_rps * hold_s)
    served = median(s.count for s in high)
    busy = _busy_in_database(high, ceiling)
    return Finding(
        rule="pool-exhaustion",
        category=Category.CONCURRENCY,
        severity=Severity.HIGH,
        confidence=0.9,
        title=f"Pool exhausted: connections to {name} stay at {ceiling} while "
        f"{in_flight:.0f} requests are in flight",
        evidence=(
            Evidence(
                f"connections to {name}",
                f"at its ceiling of {ceiling} in {at_ceiling} of {len(high)} high-load seconds",
                pool.source,
            ),
            Evidence(
                "requests in flight (X × R)",
                f"{in_flight:.1f} at {served:,.0f} req/s",
                "per-second latency series, Little's law",
            ),
            Evidence(
                "time per request with no queue (W)",
                format_latency(hold_s * 1e6),
                "mean response at the lowest load",
            ),
            *([busy[0]] if busy else []),
            _cpu_evidence(timeline, high),
            *pressure.evidence(),
        ),
        location=f"the connection pool to {name}",
        recommendation=_pool_advice(name, needed, demand_rps, hold_s, busy, high),
        expected_effect=f"throughput from {served:,.0f} toward {demand_rps:,.0f} req/s "
        f"and latency back toward {format_latency(hold_s * 1e6)} at this load",
    )


def _pool_advice(
    name: str,
    needed: int,
    demand_rps: float,
    hold_s: float,
    busy: tuple[Evidence, float] | None,
    high: Sequence[Second],
) -> str:
    if busy is not None and busy[1] >= BUSY_SHARE:
        return (f"every pooled connection is working in the database, so a bigger pool "
                f"would queue inside it: make the statements faster first "
                f"(redline db analyze); Little's law asks for {needed} connections")  # fmt: skip
    advice = (f"raise the pool to at least {needed} connections: Little's law "
              f"L = λ × W = {demand_rps:,.0f} req/s × {format_latency(hold_s * 1e6)}")  # fmt: skip
    limit = max((int(s.database.get("max_connections") or 0) for s in high if s.database),
                default=0)  # fmt: skip
    if limit and needed > MAX_CONNECTIONS_SHARE * limit:
        return (f"{advice}; that is beyond {MAX_CONNECTIONS_SHARE:.0%} of the database's "
                f"max_connections ({limit}): put a pooler (PgBouncer, ProxySQL) in front "
                "of it or raise max_connections")  # fmt: skip
    return f"{advice} (check that {name} can take them)"


def _busy_in_database(high: Sequence[Second], ceiling: int) -> tuple[Evidence, float] | None:
    """How many of the pool's connections the database saw working, at high load."""
    active = [float(s.database["active"]) for s in high if s.database and "active" in s.database]
    if not active:
        return None
    share = median(active) / ceiling
    value = f"{median(active):.0f} of {ceiling} active on average ({share:.0%})"
    return Evidence("database sessions at work", value, DATABASE_SOURCE), share


def _at_once(pressure: Pressure) -> float:
    """Requests the server works on at once at high load (X × W, Little's law)."""
    served = median(s.count for s in pressure.bands.high)
    return served * median(s.mean_us for s in pressure.bands.low) / 1e6


def _bounded_by_the_vus(timeline: Timeline, pressure: Pressure) -> bool:
    """Closed model: the server had as many requests at once as there were VUs, so an
    inner limit cannot be told from the load's own concurrency (a stepped run can)."""
    vus = median(s.load for s in pressure.bands.high)
    return timeline.unit == VUS_UNIT and _at_once(pressure) >= VUS_SHARE * vus


def _inside(evidence: list[Evidence], pressure: Pressure) -> Finding:
    served = median(s.count for s in pressure.bands.high)
    hold_s = median(s.mean_us for s in pressure.bands.low) / 1e6
    at_once = _at_once(pressure)
    evidence.append(
        Evidence(
            "requests the server works on at once (X × W)",
            f"{at_once:.1f} ({served:,.0f} req/s × {format_latency(hold_s * 1e6)})",
            "Little's law on the latency series",
        )
    )
    return Finding(
        rule="waiting",
        category=Category.CONCURRENCY,
        severity=Severity.HIGH,
        confidence=0.7 if pressure.throughput_flat else 0.55,
        title="Waiting, not working: latency rises while the server's CPU stays low, and "
        f"it holds no downstream connections: a lock or a pool of about {at_once:.0f}",
        evidence=tuple(evidence),
        location="inside the server: a lock, semaphore, thread or worker pool",
        recommendation=f"find the limit of about {at_once:.0f} concurrent requests "
        "(worker/thread count, a semaphore, a lock held across I/O) and raise it",
        expected_effect="throughput grows with the limit until CPU or a downstream bounds it",
    )


def _cpu_evidence(timeline: Timeline, high: Sequence[Second]) -> Evidence:
    cpu = median(timeline.server_values(high, "cpu"))
    thread = median(timeline.server_values(high, "max_thread_cpu"))
    cores = timeline.server_cores(high)
    return Evidence(
        "server CPU", f"{cpu:.2f} of {cores:g} cores; busiest thread {thread:.0%}", SOURCE
    )


def _switches(timeline: Timeline, pressure: Pressure) -> Evidence:
    low, high = pressure.bands.low, pressure.bands.high
    per_request = [
        median(timeline.server_values(band, "voluntary_switches_per_s"))
        / max(1.0, median(s.count for s in band))
        for band in (low, high)
    ]
    return Evidence(
        "voluntary context switches per request, low → high load",
        f"{per_request[0]:.2f} → {per_request[1]:.2f} (threads sleeping on I/O or locks)",
        "server process tree (/proc/PID/task/*/status)",
    )


def _sessions(second: Second) -> int:
    return int((second.database or {}).get("connections", 0))


def _connections(second: Second, port: int) -> int:
    by_port = (second.server or {}).get("tcp_outbound_by_remote_port") or {}
    return int(by_port.get(str(port), 0))


def _busiest_downstream(seconds: Sequence[Second]) -> int | None:
    """The remote port the server holds the most connections to, at high load."""
    totals: dict[int, int] = {}
    for s in seconds:
        for port, count in ((s.server or {}).get("tcp_outbound_by_remote_port") or {}).items():
            totals[int(port)] = totals.get(int(port), 0) + int(count)
    return max(totals, key=lambda p: totals[p]) if totals else None


def _downstream(port: int) -> tuple[str, Category]:
    return DOWNSTREAMS.get(port, (f"the service on port {port}", Category.NETWORK))
