"""The HTTP cache audit against a loopback server with cacheable and uncacheable endpoints.

Each rule has an endpoint that triggers it and is silent on ``/good``, which does
everything right; the audit sends at most 4 requests per GET and none to a POST.
"""

from __future__ import annotations

import socket
from collections import Counter

import pytest

from redline.diagnose import Cacheability, cache_verdict, http_cache_findings
from redline.diagnose._http_cache_rules import http_cache_notes
from redline.probes import AuditTarget, HttpCacheAudit, audit_http_cache
from redline.probes._http_cache import MAX_REQUESTS_PER_ENDPOINT
from tests.integration.http.cache_server import BIG_JSON, ETAG, CacheServer


def audit(server: CacheServer, *paths: str, timeout_s: float = 5.0) -> HttpCacheAudit:
    targets = [AuditTarget(name=p, method="GET", url=server.url + p) for p in paths]
    return audit_http_cache(targets, timeout_s=timeout_s)


def rules_of(server: CacheServer, path: str) -> list[str]:
    return [f.rule for f in http_cache_findings(audit(server, path))]


def test_a_well_behaved_endpoint_is_cacheable_and_has_no_finding(cache_server: CacheServer) -> None:
    result = audit(cache_server, "/good")
    [seen] = result.endpoints
    assert http_cache_findings(result) == []
    assert cache_verdict(seen).cacheability is Cacheability.CACHEABLE
    assert seen.conditional is not None and seen.conditional.status == 304
    assert seen.conditional_headers == {"If-None-Match": ETAG}
    assert seen.compression is not None and seen.compression.header("content-encoding") == "gzip"
    assert seen.compression.body_bytes < len(BIG_JSON) / 10
    sent = [r for r in cache_server.requests if r.path == "/good"]
    assert len(sent) == 4 <= MAX_REQUESTS_PER_ENDPOINT
    assert sent[2].headers["If-None-Match"] == ETAG
    assert sent[3].headers["Accept-Encoding"] == "gzip, br"


def test_no_caching_headers_on_a_cacheable_get(cache_server: CacheServer) -> None:
    assert rules_of(cache_server, "/plain") == ["http-cache-missing"]
    # Without a validator there is no conditional request: 3 requests.
    assert len(cache_server.requests) == 3


def test_an_etag_never_answered_with_304(cache_server: CacheServer) -> None:
    assert rules_of(cache_server, "/etag-ignored") == ["http-cache-not-revalidated"]


def test_a_large_uncompressed_json(cache_server: CacheServer) -> None:
    [finding] = http_cache_findings(audit(cache_server, "/big.json"))
    assert finding.rule == "http-compression-missing"
    assert "application/json uncompressed" in finding.title


def test_set_cookie_makes_it_uncacheable(cache_server: CacheServer) -> None:
    result = audit(cache_server, "/cookie")
    assert [f.rule for f in http_cache_findings(result)] == ["http-cache-set-cookie"]
    verdict = cache_verdict(result.endpoints[0])
    assert (verdict.cacheability, verdict.reason) == (
        Cacheability.MUST_NOT,
        "sets a cookie (Set-Cookie)",
    )


def test_a_body_per_request_must_not_be_cached(cache_server: CacheServer) -> None:
    result = audit(cache_server, "/now")
    assert http_cache_findings(result) == []
    verdict = cache_verdict(result.endpoints[0])
    assert verdict.cacheability is Cacheability.MUST_NOT
    assert verdict.reason == "the body differs between two requests"


def test_vary_user_agent_is_cache_busting(cache_server: CacheServer) -> None:
    assert rules_of(cache_server, "/vary-ua") == ["http-cache-vary"]


def test_no_store_on_a_static_file(cache_server: CacheServer) -> None:
    assert rules_of(cache_server, "/app.css") == ["http-cache-no-store-static"]


def test_private_on_a_shared_response(cache_server: CacheServer) -> None:
    assert rules_of(cache_server, "/private") == ["http-cache-private"]


def test_private_with_credentials_is_left_alone(cache_server: CacheServer) -> None:
    target = AuditTarget(
        name="/private", method="GET", url=cache_server.url + "/private",
        headers={"Authorization": "Bearer t1"},
    )  # fmt: skip
    result = audit_http_cache([target], timeout_s=5.0)
    assert http_cache_findings(result) == []
    assert all(r.headers["Authorization"] == "Bearer t1" for r in cache_server.requests)


def test_a_post_gets_no_request(cache_server: CacheServer) -> None:
    target = AuditTarget(name="order", method="POST", url=cache_server.url + "/plain")
    result = audit_http_cache([target], timeout_s=5.0)
    assert cache_server.requests == []
    assert cache_verdict(result.endpoints[0]).cacheability is Cacheability.MUST_NOT


def test_every_endpoint_at_once_stays_within_the_request_bound(cache_server: CacheServer) -> None:
    paths = ["/plain", "/good", "/etag-ignored", "/big.json", "/cookie", "/now", "/vary-ua",
             "/app.css", "/private"]  # fmt: skip
    result = audit(cache_server, *paths)
    per_path = Counter(r.path for r in cache_server.requests)
    assert set(per_path) == set(paths)
    assert max(per_path.values()) <= MAX_REQUESTS_PER_ENDPOINT
    # One per misbehaving endpoint; /good and /now have none.
    assert sorted(f.rule for f in http_cache_findings(result)) == [
        "http-cache-missing", "http-cache-no-store-static", "http-cache-not-revalidated",
        "http-cache-private", "http-cache-set-cookie", "http-cache-vary",
        "http-compression-missing",
    ]  # fmt: skip


def test_a_slow_endpoint_times_out_and_the_next_is_audited(cache_server: CacheServer) -> None:
    result = audit(cache_server, "/slow", "/good", timeout_s=0.3)
    slow, good = result.endpoints
    assert slow.error is not None and "timeout (no response within 0.3 s)" in slow.error
    assert good.error is None
    assert http_cache_notes(result) == [f"http audit: /slow: {slow.error}"]


def test_an_unreachable_url_is_one_line_naming_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}/items"
    result = audit_http_cache([AuditTarget(name="/items", method="GET", url=url)], timeout_s=2.0)
    [failed] = result.unreachable
    assert failed.error is not None
    assert failed.error.startswith(f"{url}: refused (")
    assert "\n" not in failed.error


@pytest.mark.parametrize("path", ["/plain", "/good"])
def test_the_plans_headers_are_sent(cache_server: CacheServer, path: str) -> None:
    target = AuditTarget(
        name=path, method="GET", url=cache_server.url + path,
        headers={"Accept": "application/json", "Accept-Encoding": "identity"},
    )  # fmt: skip
    audit_http_cache([target], timeout_s=5.0)
    first, *_, last = cache_server.requests
    assert first.headers["Accept-Encoding"] == "identity"
    assert last.headers["Accept-Encoding"] == "gzip, br"
    assert last.headers["Accept"] == "application/json"
