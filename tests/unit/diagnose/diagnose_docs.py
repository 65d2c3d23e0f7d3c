"""Synthetic results documents for diagnosis tests: one dict per second, as ``--out`` writes.

``seconds`` are built from :class:`Sec`: the load, the requests and their
latency, errors by outcome, and the server's figures for that second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sec:
    """One second of a synthetic run."""

    load: float
    count: int
    mean_us: float
    min_us: int | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    server: dict[str, Any] | None = None
    host: dict[str, Any] | None = None
    #: The database's sample for that second (``run --db``).
    database: dict[str, Any] | None = None
    #: The cache's sample for that second (``run --cache``).
    cache: dict[str, Any] | None = None


def server(cpu: float, **figures: Any) -> dict[str, Any]:
    """A server sample: CPU share, one thread at ``max_thread_cpu`` (default: ``cpu``), 2 cores."""
    return {
        "cpu": cpu,
        "max_thread_cpu": figures.pop("max_thread_cpu", cpu),
        "max_thread_name": "python3",
        "max_thread_pid": 4242,
        "cores_available": 2.0,
        "rss_bytes": 50_000_000,
        "voluntary_switches_per_s": 100.0,
        "tcp_outbound_by_remote_port": {},
        **figures,
    }


def document(
    seconds: list[Sec],
    *,
    unit: str = "VUs",
    self_check: dict[str, Any] | None = None,
    notes: list[str] | None = None,
    host_info: dict[str, Any] | None = None,
    phases: list[dict[str, Any]] | None = None,
    cache: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A results document holding ``seconds`` from second 0 (``cache``: what ``run --cache``
    watched, the document's ``cache`` field)."""
    overall, generator, servers, hosts, databases, caches = [], [], [], [], [], []
    for number, s in enumerate(seconds):
        outcomes = s.outcomes or {"200": s.count}
        failures = sum(n for k, n in outcomes.items() if not k.isdigit() or int(k) >= 400)
        overall.append(
            {
                "second": number,
                "count": s.count,
                "failures": failures,
                "outcomes": outcomes,
                "response": {
                    "mean": s.mean_us,
                    "p95": int(s.mean_us * 1.2),
                    "min": s.min_us if s.min_us is not None else int(s.mean_us * 0.8),
                },
            }
        )
        key = "active_vus" if unit == "VUs" else "iterations"
        generator.append({"second": number, key: s.load})
        if s.server is not None:
            servers.append({"second": number, **s.server})
        if s.host is not None:
            hosts.append({"second": number, **s.host})
        if s.database is not None:
            databases.append({"second": number, **s.database})
        if s.cache is not None:
            caches.append({"second": number, "duration_s": 1.0, **s.cache})
    document = {
        "run": {"id": "test-run"},
        "analysis": {"unit": unit, "phases": phases or []},
        "self_check": self_check or {"generator_bound": False, "reasons": []},
        "series": {"overall": overall, "generator": generator},
        "resources": {
            "server": servers,
            "host": hosts,
            "database": databases,
            "cache": caches,
            "notes": notes or [],
            "host_info": host_info or {"cpus": 2},
        },
    }
    if cache is not None:
        document["cache"] = cache
    return document


def stepped(
    levels: list[float],
    *,
    per_level: int = 4,
    latency_us: Any,
    throughput: Any,
    server_at: Any,
    database_at: Any = None,
    cache_at: Any = None,
) -> list[Sec]:
    """Seconds stepping through ``levels``; each figure is a function of the level."""
    return [
        Sec(
            load=level,
            count=int(throughput(level)),
            mean_us=latency_us(level),
            min_us=1000,
            server=server_at(level),
            database=database_at(level) if database_at is not None else None,
            cache=cache_at(level) if cache_at is not None else None,
        )
        for level in levels
        for _ in range(per_level)
    ]
