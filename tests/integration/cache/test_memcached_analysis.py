"""``analyze_memcached`` on real throwaway servers, with workloads that each cause one finding."""

from __future__ import annotations

import socket
from typing import Any

from pymemcache.client.base import Client

from redline.diagnose import cache_findings
from redline.plan import parse_dsn
from redline.probes import MemcachedAnalysis, analyze_memcached
from tests.integration.cache.conftest import CacheServer, StartMemcached


def client(server: CacheServer) -> Client:
    return Client(("127.0.0.1", server.port), connect_timeout=5, timeout=5)


def analyze(server: CacheServer) -> tuple[MemcachedAnalysis, dict[str, Any]]:
    analysis = analyze_memcached(parse_dsn(server.dsn))
    return analysis, {f.rule: f for f in cache_findings(analysis)}


def fill(mc: Client, count: int, *, prefix: str = "k", size: int = 100, batch: int = 100) -> None:
    """Stores in batches, each answered (noreply=False) so the server keeps up."""
    for start in range(0, count, batch):
        items = {f"{prefix}:{n}": b"x" * size for n in range(start, min(start + batch, count))}
        assert mc.set_many(items, noreply=False) == []


def test_a_healthy_cache_gives_no_finding(start_memcached: StartMemcached) -> None:
    server = start_memcached()
    mc = client(server)
    for n in range(300):
        mc.set(f"page:{n}", b"x" * 200, noreply=False)
    for _ in range(5):
        for n in range(300):
            assert mc.get(f"page:{n}") is not None
    mc.get("page:missing")
    mc.close()
    analysis, findings = analyze(server)
    assert findings == {}, [f.title for f in findings.values()]
    assert analysis.notes == []
    assert analysis.figures is not None and analysis.figures.hit_ratio is not None
    assert analysis.figures.hit_ratio > 0.99
    assert analysis.figures.limit_maxbytes == 8 * 1024**2
    assert analysis.figures.reqs_per_event == 20
    assert analysis.slabs and sum(s.items for s in analysis.slabs) == 300


def test_a_low_hit_ratio_is_found(start_memcached: StartMemcached) -> None:
    server = start_memcached()
    mc = client(server)
    fill(mc, 100)
    for n in range(1_500):
        mc.get(f"k:{n}")  # 100 hits, 1,400 misses
    mc.close()
    _, findings = analyze(server)
    finding = findings["memcached-hit-ratio"]
    assert finding.title == "Hit ratio is 6.7%: 1,400 of 1,500 gets missed"
    assert "threshold 80%" in finding.evidence[0].value


def test_evictions_and_items_never_read(start_memcached: StartMemcached) -> None:
    server = start_memcached()
    mc = client(server)
    fill(mc, 20_000, size=1_000)  # about 20 MB into 8 MB, none read
    mc.close()
    analysis, findings = analyze(server)
    assert analysis.figures is not None and analysis.figures.evictions > 1_000
    assert findings["memcached-evictions"].recommendation.startswith(
        "start memcached with more memory (-m 64"
    )
    unfetched = findings["memcached-evicted-unfetched"]
    assert unfetched.title.startswith("100% of the evicted items were never read")


def test_slab_imbalance_is_found(start_memcached: StartMemcached) -> None:
    server = start_memcached("-o", "slab_automove=0")
    mc = client(server)
    fill(mc, 30_000, prefix="small", size=100)  # the pages go to a small-item class
    for start in range(0, 30_000, 500):
        mc.delete_many([f"small:{n}" for n in range(start, start + 500)], noreply=False)
    fill(mc, 2_000, prefix="large", size=20_000, batch=20)  # its class gets too few pages
    mc.close()
    analysis, findings = analyze(server)
    imbalance = findings["memcached-slab-imbalance"]
    assert analysis.slabs is not None
    evicting = [s for s in analysis.slabs if s.evicted]
    assert evicting and all(s.chunk_size >= 20_000 for s in evicting)
    assert "slabs reassign" in imbalance.recommendation
    assert "slab_automove" in {e.label for e in imbalance.evidence}


def test_the_connection_limit_is_found(start_memcached: StartMemcached) -> None:
    server = start_memcached("-c", "30")
    sockets = []
    try:
        sockets.extend(
            socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(40)
        )
        for sock in sockets:  # an answer, or a close, from each
            sock.sendall(b"version\r\n")
            sock.recv(100)
    finally:
        for sock in sockets:
            sock.close()
    analysis, findings = analyze(server)
    assert analysis.figures is not None and analysis.figures.rejected_connections > 0
    limit = findings["memcached-connection-limit"]
    assert "-c 2048" in limit.recommendation
    assert limit.title.startswith("memcached hit its connection limit (30)")


def test_connection_yields_are_found(start_memcached: StartMemcached) -> None:
    server = start_memcached("-R", "5")
    mc = client(server)
    for _ in range(10):
        fill(mc, 200, batch=200)  # 200 stores sent at once: a yield every 5
    mc.close()
    analysis, findings = analyze(server)
    assert analysis.figures is not None and analysis.figures.conn_yields >= 100
    yields = findings["memcached-conn-yields"]
    assert "-R 100" in yields.recommendation
