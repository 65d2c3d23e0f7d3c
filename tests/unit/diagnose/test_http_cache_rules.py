"""HTTP cache rules over built audits: each rule fires on its case and not on a healthy endpoint."""

from __future__ import annotations

import gzip
import hashlib
import random

import pytest

from redline.diagnose import Cacheability, Severity, cache_verdict, http_cache_findings
from redline.diagnose._http_cache_rules import (
    ADVISED_MAX_AGE_S,
    ADVISED_S_MAXAGE_S,
    COMPRESS_MIN_BYTES,
    directives,
    http_cache_notes,
)
from redline.probes import AuditTarget, EndpointAudit, HttpCacheAudit, ObservedResponse

URL = "http://127.0.0.1:8080"
#: Headers of an endpoint that does everything right.
GOOD = {
    "cache-control": "public, max-age=60",
    "etag": '"v1"',
    "vary": "Accept-Encoding",
    "content-type": "application/json",
}


def response(status: int = 200, body: bytes = b'{"ok": true}', **headers: str) -> ObservedResponse:
    """A response; header names in ``headers`` use ``_`` for ``-``."""
    pairs = tuple((name.replace("_", "-").lower(), value) for name, value in headers.items())
    encoded = any(name == "content-encoding" for name, _ in pairs)
    return ObservedResponse(
        status=status,
        headers=pairs,
        body_bytes=len(body),
        body_sha256=hashlib.sha256(body).hexdigest(),
        gzip_bytes=None if encoded or not body else len(gzip.compress(body, mtime=0)),
    )


def good(**changes: str | None) -> dict[str, str]:
    headers = {k.replace("-", "_"): v for k, v in GOOD.items()}
    for name, value in changes.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


def endpoint(
    path: str = "/items",
    *,
    first: ObservedResponse | None = None,
    second: ObservedResponse | None = None,
    conditional: ObservedResponse | None = None,
    compression: ObservedResponse | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    rate_per_s: float | None = None,
    requests: int | None = None,
    error: str | None = None,
) -> EndpointAudit:
    first = first if first is not None or error else response(**good())
    target = AuditTarget(
        name=path, method=method, url=URL + path, headers=headers or {},
        rate_per_s=rate_per_s, requests=requests,
    )  # fmt: skip
    return EndpointAudit(
        target,
        first=first,
        second=second if second is not None else first,
        conditional=conditional if conditional is not None else response(304, b"", etag='"v1"'),
        conditional_headers={"If-None-Match": '"v1"'},
        compression=compression if compression is not None else first,
        requests_sent=4,
        error=error,
    )


def rules_of(*audits: EndpointAudit) -> list[str]:
    return [f.rule for f in http_cache_findings(HttpCacheAudit(list(audits)))]


def test_a_well_behaved_endpoint_has_no_finding() -> None:
    audit = endpoint()
    assert rules_of(audit) == []
    assert cache_verdict(audit).cacheability is Cacheability.CACHEABLE


# -- http-cache-missing ------------------------------------------------------


def test_missing_headers_on_a_cacheable_get_advise_max_age_and_s_maxage() -> None:
    bare = response(content_type="application/json")
    [finding] = http_cache_findings(HttpCacheAudit([endpoint(first=bare)]))
    assert finding.rule == "http-cache-missing"
    assert finding.severity is Severity.MEDIUM
    assert (
        f"Cache-Control: public, max-age={ADVISED_MAX_AGE_S}, s-maxage={ADVISED_S_MAXAGE_S}"
        in finding.recommendation
    )
    assert "give --run RUN" in finding.expected_effect


def test_missing_headers_say_the_requests_saved_at_the_runs_rate() -> None:
    bare = response(content_type="application/json")
    audit = endpoint(first=bare, rate_per_s=100.0, requests=3000)
    [finding] = http_cache_findings(HttpCacheAudit([audit]))
    # 100 req/s, of which a shared cache lets ~1/300 s through: 99.99 saved per second.
    assert "about 100.0 of the run's 100.0 req/s saved" in finding.expected_effect
    # 3,000 requests over 30 s: one reaches the origin.
    assert "over the run, 2,999 of 3,000 requests" in finding.expected_effect
    assert any(e.value == "100.0 req/s (3,000 requests)" for e in finding.evidence)


@pytest.mark.parametrize("header", [{"cache_control": "max-age=0"}, {"expires": "0"}])
def test_missing_headers_is_silent_when_the_server_says_anything(header: dict[str, str]) -> None:
    assert rules_of(endpoint(first=response(content_type="text/plain", **header))) == []


def test_missing_headers_is_silent_on_a_body_that_changes() -> None:
    audit = endpoint(first=response(body=b"1"), second=response(body=b"2"))
    assert rules_of(audit) == []
    verdict = cache_verdict(audit)
    assert verdict.cacheability is Cacheability.MUST_NOT
    assert verdict.reason == "the body differs between two requests"


# -- http-cache-not-revalidated ---------------------------------------------


def test_validators_without_304_are_found_with_the_bytes_a_304_saves() -> None:
    body = b"x" * 900  # under COMPRESS_MIN_BYTES: only this rule speaks
    first = response(body=body, **good(content_type="text/plain"))
    audit = endpoint(first=first, conditional=first, rate_per_s=10.0)
    [finding] = http_cache_findings(HttpCacheAudit([audit]))
    assert finding.rule == "http-cache-not-revalidated"
    assert finding.evidence[0].value == 'If-None-Match: "v1"'
    assert finding.evidence[1].value == "200 with 900 B"
    assert finding.expected_effect.endswith("up to 8.8 KiB/s")


def test_a_304_answer_is_not_found() -> None:
    assert "http-cache-not-revalidated" not in rules_of(endpoint())


# -- http-compression-missing -------------------------------------------------


def test_a_large_json_sent_plain_to_a_gzip_client_is_found_with_bytes_saved() -> None:
    body = b'{"items": [' + b'{"id": 1, "name": "thing"},' * 100 + b"{}]}"
    plain = response(body=body, **good())
    [finding] = http_cache_findings(HttpCacheAudit([endpoint(first=plain, rate_per_s=2.0)]))
    assert finding.rule == "http-compression-missing"
    assert plain.gzip_bytes is not None
    saved = len(body) - plain.gzip_bytes
    assert finding.expected_effect.startswith(f"{saved / 1024:.1f} KiB less per response")
    assert "at 2.0 req/s" in finding.expected_effect


def test_compression_is_not_asked_of_small_or_binary_or_compressed_responses() -> None:
    small = response(body=b"a" * (COMPRESS_MIN_BYTES - 1), **good(content_type="text/plain"))
    image = response(body=b"a" * 4096, **good(content_type="image/png"))
    gzipped = response(body=b"\x1f\x8b" + b"a" * 40, **good(content_encoding="gzip"))
    noise = random.Random(1).randbytes(4096)  # gzip cannot save COMPRESS_MIN_SAVING of it
    random_text = response(body=noise, **good(content_type="text/plain"))
    assert rules_of(*(endpoint(first=r) for r in (small, image, gzipped, random_text))) == []


# -- http-cache-vary ----------------------------------------------------------


@pytest.mark.parametrize(
    ("vary", "title"),
    [("User-Agent", "varies on user-agent"), ("*", "Vary: * makes every response unreusable"),
     ("Accept-Encoding, Cookie", "varies on cookie")],
)  # fmt: skip
def test_vary_on_a_per_client_header_is_cache_busting(vary: str, title: str) -> None:
    [finding] = http_cache_findings(HttpCacheAudit([endpoint(first=response(**good(vary=vary)))]))
    assert finding.rule == "http-cache-vary"
    assert title in finding.title


def test_vary_on_accept_encoding_is_fine() -> None:
    assert rules_of(endpoint(first=response(**good(vary="Accept-Encoding, Accept-Language")))) == []


# -- http-cache-no-store-static -----------------------------------------------


def test_no_store_on_a_static_file_is_found() -> None:
    css = response(body=b"body{}", **good(cache_control="no-store", content_type="text/css"))
    [finding] = http_cache_findings(HttpCacheAudit([endpoint("/app.css", first=css)]))
    assert finding.rule == "http-cache-no-store-static"
    assert "immutable" in finding.recommendation


def test_no_store_on_an_api_response_is_left_alone() -> None:
    api = response(**good(cache_control="no-store"))
    audit = endpoint("/account", first=api)
    assert rules_of(audit) == []
    assert cache_verdict(audit).reason == "the server forbids it (no-store)"


# -- http-cache-set-cookie ----------------------------------------------------


def test_set_cookie_on_a_cacheable_response_says_why_it_must_not_be_cached() -> None:
    cookie = response(**good(cache_control=None, set_cookie="sid=abc; Path=/"))
    audit = endpoint(first=cookie)
    [finding] = http_cache_findings(HttpCacheAudit([audit]))
    assert finding.rule == "http-cache-set-cookie"
    assert finding.severity is Severity.LOW
    assert "hand one client's cookie" in finding.recommendation
    assert finding.evidence[0].value == "sid"
    assert cache_verdict(audit).cacheability is Cacheability.MUST_NOT


def test_set_cookie_with_public_caching_is_high() -> None:
    cookie = response(**good(set_cookie="sid=abc; Expires=Wed, 21 Oct 2026 07:28:00 GMT"))
    [finding] = http_cache_findings(HttpCacheAudit([endpoint(first=cookie)]))
    assert finding.severity is Severity.HIGH
    assert "drop public/s-maxage" in finding.recommendation


def test_set_cookie_on_a_private_response_is_left_alone() -> None:
    cookie = response(**good(cache_control="private, no-cache", set_cookie="sid=abc"))
    assert rules_of(endpoint(first=cookie)) == []


# -- http-cache-private -------------------------------------------------------


def test_private_on_a_response_the_same_for_everyone_is_explained() -> None:
    private = response(**good(cache_control="private, max-age=60"))
    [finding] = http_cache_findings(HttpCacheAudit([endpoint(first=private)]))
    assert finding.rule == "http-cache-private"
    assert finding.severity is Severity.INFO
    assert "public (or s-maxage) lets a CDN" in finding.recommendation


def test_private_is_right_for_a_request_with_credentials() -> None:
    private = response(**good(cache_control="private, max-age=60"))
    audit = endpoint(first=private, headers={"Authorization": "Bearer t"})
    assert rules_of(audit) == []


# -- verdicts and notes -------------------------------------------------------


def test_verdicts_for_non_get_errors_and_other_statuses() -> None:
    post = EndpointAudit(
        AuditTarget(name="order", method="POST", url=URL + "/orders"),
        skipped="POST is not a safe method: no request is repeated",
    )
    failed = endpoint(error="http://127.0.0.1:8080/items: refused (...)")
    missing = endpoint(first=response(404, b"no"))
    assert cache_verdict(post).cacheability is Cacheability.MUST_NOT
    assert cache_verdict(failed).cacheability is Cacheability.UNKNOWN
    assert cache_verdict(missing).reason == "status 404: judged on 200 only"
    audit = HttpCacheAudit([post, failed, missing])
    assert rules_of(post, failed, missing) == []
    assert http_cache_notes(audit) == [
        "http audit: /items: http://127.0.0.1:8080/items: refused (...)",
        "http audit: order: POST is not a safe method: no request is repeated",
    ]


def test_cache_control_directives_are_read_with_quotes_and_spaces() -> None:
    parsed = directives(response(cache_control='Public, MAX-AGE = 30, no-cache="set-cookie"'))
    assert parsed == {"public": "", "max-age": "30", "no-cache": "set-cookie"}
