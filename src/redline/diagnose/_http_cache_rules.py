"""Rules that turn an HTTP cache audit into Findings, and each endpoint's cacheability.

The audit (:mod:`redline.probes._http_cache`) asked each GET endpoint twice, once
with its validators and once accepting gzip. An endpoint **could be cached** when
both answers were ``200`` with the same body and no ``Set-Cookie``, and the server
does not forbid it (``no-store``, ``private``); it **must not be** when it sets a
cookie, forbids it, answers with a different body each time, or is not a GET.

The rules (thresholds are the named constants below):

- **http-cache-missing**: a cacheable GET with neither ``Cache-Control`` nor
  ``Expires``. Browsers then guess a lifetime (RFC 9111 §4.2.2) and CDNs mostly
  pass the request through. Advice: ``Cache-Control: public, max-age=``
  :data:`ADVISED_MAX_AGE_S` ``, s-maxage=`` :data:`ADVISED_S_MAXAGE_S`, with the
  requests per second a shared cache would save at the run's rate.
- **http-cache-not-revalidated**: ``ETag`` or ``Last-Modified`` is sent, but a
  conditional request with them gets the whole body again, not ``304``.
- **http-compression-missing**: a text, JSON, JavaScript or XML response of
  :data:`COMPRESS_MIN_BYTES` or more sent uncompressed to a client that accepts
  gzip, when gzip would save :data:`COMPRESS_MIN_SAVING` of it or more.
- **http-cache-vary**: ``Vary: *`` (never reusable) or ``Vary`` on a header with
  a value per client (:data:`HIGH_CARDINALITY_VARY`): one cache entry per client.
- **http-cache-no-store-static**: ``no-store`` on a response that looks static
  (:data:`STATIC_SUFFIXES`, :data:`STATIC_CONTENT_TYPES`) and is the same each time.
- **http-cache-set-cookie**: ``Set-Cookie`` on a response that is otherwise the
  same for everyone: why it must not be cached, and what to change so it can be.
  HIGH when the response also allows shared caches to store it.
- **http-cache-private**: ``Cache-Control: private`` on a response the same for
  everyone, requested without credentials: ``private`` keeps it out of CDNs.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from redline.diagnose._finding import Category, Evidence, Finding, Severity, ranked
from redline.probes._http_cache import (
    AUDITED_METHODS,
    EndpointAudit,
    HttpCacheAudit,
    ObservedResponse,
)
from redline.units import format_bytes

__all__ = [
    "ADVISED_MAX_AGE_S",
    "ADVISED_S_MAXAGE_S",
    "COMPRESS_MIN_BYTES",
    "COMPRESS_MIN_SAVING",
    "HIGH_CARDINALITY_VARY",
    "Cacheability",
    "CacheVerdict",
    "cache_verdict",
    "http_cache_findings",
    "http_cache_notes",
]

#: The browser lifetime advised for a cacheable response with no caching headers:
#: short, so a change shows within a minute, yet every repeat view within it is free.
ADVISED_MAX_AGE_S: Final = 60
#: The shared-cache (CDN, reverse proxy) lifetime advised beside it.
ADVISED_S_MAXAGE_S: Final = 300
#: Text responses at least this large should be compressed (smaller ones gain
#: less than the gzip header and the CPU cost).
COMPRESS_MIN_BYTES: Final = 1024
#: Compression is advised only when gzip saves at least this share of the body.
COMPRESS_MIN_SAVING: Final = 0.2
#: Request headers with a value per client: ``Vary`` on one makes one cache entry per client.
HIGH_CARDINALITY_VARY: Final = frozenset({"user-agent", "cookie"})
#: Path endings of files that are the same for everyone until the next deploy.
STATIC_SUFFIXES: Final = frozenset(
    {".css", ".js", ".mjs", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico",
     ".woff", ".woff2", ".ttf", ".otf", ".map", ".wasm"}
)  # fmt: skip
#: Content types of such files.
STATIC_CONTENT_TYPES: Final = frozenset(
    {"text/css", "text/javascript", "application/javascript", "font/woff", "font/woff2",
     "application/wasm", "image/svg+xml"}
)  # fmt: skip
#: Content types worth compressing besides ``text/*`` (RFC 6838 suffixes included).
COMPRESSIBLE_TYPES: Final = frozenset(
    {"application/json", "application/javascript", "application/xml", "image/svg+xml",
     "application/graphql-response+json", "application/manifest+json"}
)  # fmt: skip
#: Request headers that make a response one user's (RFC 9111 §3.5).
CREDENTIAL_HEADERS: Final = frozenset({"authorization", "cookie"})
#: Cache-Control directives that let a shared cache store a response (RFC 9111 §5.2.2).
SHARED_STORE_DIRECTIVES: Final = frozenset({"public", "s-maxage"})
#: How sure a rule is when two identical answers stand for "the same every time".
TWO_SAMPLE_CONFIDENCE: Final = 0.7
#: How sure a rule is when it reads what the server said of itself (a header).
HEADER_CONFIDENCE: Final = 0.95

_SOURCE: Final = "HTTP cache audit (redline's own requests)"
_DIRECTIVE: Final = re.compile(r"\s*([A-Za-z-]+)\s*(?:=\s*(\"[^\"]*\"|[^,]*))?")


class Cacheability(enum.Enum):
    """Whether a response could be reused by a browser or a CDN."""

    #: Same body each time, no cookie, nothing forbids it.
    CACHEABLE = "cacheable"
    #: A cookie, ``no-store``/``private``, a body that changes, or not a GET.
    MUST_NOT = "must not be cached"
    #: The audit could not tell (an error, a status other than 200).
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CacheVerdict:
    """One endpoint's cacheability and why, with its caching headers as they are."""

    name: str
    cacheability: Cacheability
    reason: str
    #: The response's caching headers, ``"none"`` when it has none.
    policy: str

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "cacheability": self.cacheability.value,
            "reason": self.reason,
            "policy": self.policy,
        }


def directives(response: ObservedResponse) -> dict[str, str]:
    """The response's ``Cache-Control`` directives, names in lower case (RFC 9111 §5.2)."""
    found = {}
    for part in response.values("cache-control"):
        match = _DIRECTIVE.match(part)
        if match:
            found[match.group(1).lower()] = (match.group(2) or "").strip().strip('"')
    return found


def _policy(response: ObservedResponse | None) -> str:
    if response is None:
        return "-"
    names = ("cache-control", "expires", "etag", "last-modified", "vary", "content-encoding")
    shown = [f"{n}: {response.header(n)}" for n in names if response.has(n)]
    return "; ".join(shown) or "none"


def _credentials(audit: EndpointAudit) -> bool:
    return any(name.lower() in CREDENTIAL_HEADERS for name in audit.target.headers)


def cache_verdict(audit: EndpointAudit) -> CacheVerdict:
    """Whether the endpoint could be cached, must not be, or is unknown, and why."""
    name, first = audit.target.name, audit.first

    def verdict(cacheability: Cacheability, reason: str) -> CacheVerdict:
        return CacheVerdict(name, cacheability, reason, _policy(first))

    if audit.skipped is not None and audit.target.method not in AUDITED_METHODS:
        return verdict(Cacheability.MUST_NOT, f"{audit.target.method}: not a GET, not reused")
    if audit.skipped is not None:
        return verdict(Cacheability.UNKNOWN, audit.skipped)
    if first is None or audit.identical is None:
        return verdict(Cacheability.UNKNOWN, audit.error or "no response")
    if first.status != 200:
        return verdict(Cacheability.UNKNOWN, f"status {first.status}: judged on 200 only")
    said = directives(first)
    if first.has("set-cookie"):
        return verdict(Cacheability.MUST_NOT, "sets a cookie (Set-Cookie)")
    if "no-store" in said:
        return verdict(Cacheability.MUST_NOT, "the server forbids it (no-store)")
    if not audit.identical:
        return verdict(Cacheability.MUST_NOT, "the body differs between two requests")
    if "private" in said:
        return verdict(Cacheability.MUST_NOT, "private: the browser's cache only")
    return verdict(Cacheability.CACHEABLE, "same body twice, no cookie")


def _same_and_ok(audit: EndpointAudit) -> bool:
    """Two ``200`` answers with the same body."""
    return audit.first is not None and audit.first.status == 200 and audit.identical is True


def _rate(audit: EndpointAudit) -> float | None:
    return audit.target.rate_per_s


def _rate_evidence(audit: EndpointAudit) -> list[Evidence]:
    target = audit.target
    if target.rate_per_s is None:
        return []
    text = f"{target.rate_per_s:,.1f} req/s"
    if target.requests is not None:
        text += f" ({target.requests:,} requests)"
    return [Evidence("rate in the run", text, "the run's summary")]


def _saved_by_shared_cache(audit: EndpointAudit) -> str:
    """What a shared cache with ``s-maxage`` would save, at the run's rate when known."""
    rate = _rate(audit)
    origin_per_s = 1 / ADVISED_S_MAXAGE_S
    if rate is None:
        return (
            f"a shared cache would send the origin about 1 request per {ADVISED_S_MAXAGE_S} s "
            "per URL and cache node; give --run RUN for the saving at a run's rate"
        )
    saved = max(rate - origin_per_s, 0.0)
    text = (
        f"a shared cache (CDN) would answer all but ~1 request per {ADVISED_S_MAXAGE_S} s per "
        f"URL and cache node: about {saved:,.1f} of the run's {rate:,.1f} req/s saved"
        if rate > 0
        else "no requests in the run: nothing to save at its rate"
    )
    requests = audit.target.requests
    if requests and rate > 0:
        duration_s = requests / rate
        reaching = math.ceil(duration_s / ADVISED_S_MAXAGE_S)
        text += f"; over the run, {max(requests - reaching, 0):,} of {requests:,} requests"
    return text


def missing_headers(audit: EndpointAudit) -> list[Finding]:
    """http-cache-missing: a cacheable GET with neither Cache-Control nor Expires."""
    first = audit.first
    verdict = cache_verdict(audit)
    if first is None or verdict.cacheability is not Cacheability.CACHEABLE:
        return []
    if first.has("cache-control") or first.has("expires"):
        return []
    header = f"Cache-Control: public, max-age={ADVISED_MAX_AGE_S}, s-maxage={ADVISED_S_MAXAGE_S}"
    return [
        Finding(
            rule="http-cache-missing",
            category=Category.CACHE,
            severity=Severity.MEDIUM,
            confidence=TWO_SAMPLE_CONFIDENCE,
            title=f"{audit.target.name} could be cached but says nothing about caching",
            evidence=(
                Evidence("caching headers", "no Cache-Control, no Expires", _SOURCE),
                Evidence(
                    "two requests",
                    f"same body ({format_bytes(first.body_bytes)}), no Set-Cookie",
                    _SOURCE,
                ),  # fmt: skip
                *_rate_evidence(audit),
            ),
            location=f"{audit.target.method} {audit.target.url}",
            recommendation=(
                f"send `{header}` if the data may be up to {ADVISED_S_MAXAGE_S} s old "
                "(s-maxage is the CDN's lifetime, max-age the browser's); without it "
                "browsers guess a lifetime from Last-Modified and most CDNs do not store it"
            ),
            expected_effect=_saved_by_shared_cache(audit),
        )
    ]


def not_revalidated(audit: EndpointAudit) -> list[Finding]:
    """http-cache-not-revalidated: validators sent, but a conditional GET gets the body again."""
    first, answer = audit.first, audit.conditional
    if first is None or answer is None or first.status != 200 or answer.status == 304:
        return []
    if answer.status != 200:
        return []
    sent = "; ".join(f"{k}: {v}" for k, v in audit.conditional_headers.items())
    rate = _rate(audit)
    effect = f"{format_bytes(answer.body_bytes)} less per revalidation (a 304 has no body)"
    if rate:
        effect += f"; at {rate:,.1f} req/s, up to {format_bytes(answer.body_bytes * rate)}/s"
    return [
        Finding(
            rule="http-cache-not-revalidated",
            category=Category.CACHE,
            severity=Severity.LOW,
            confidence=HEADER_CONFIDENCE,
            title=f"{audit.target.name} sends validators but never answers 304",
            evidence=(
                Evidence("conditional request", sent, _SOURCE),
                Evidence(
                    "answer", f"{answer.status} with {format_bytes(answer.body_bytes)}", _SOURCE
                ),  # fmt: skip
            ),
            location=f"{audit.target.method} {audit.target.url}",
            recommendation=(
                "answer If-None-Match (and If-Modified-Since) with 304 Not Modified when the "
                "validator matches (RFC 9110 §13.1): most frameworks do it with a conditional-GET "
                "middleware; or stop sending an ETag that is never checked"
            ),
            expected_effect=effect,
        )
    ]


def _media_type(response: ObservedResponse) -> str:
    return (response.header("content-type") or "").split(";")[0].strip().lower()


def _compressible(media_type: str) -> bool:
    return (
        media_type.startswith("text/")
        or media_type in COMPRESSIBLE_TYPES
        or media_type.endswith(("+json", "+xml"))
    )


def uncompressed(audit: EndpointAudit) -> list[Finding]:
    """http-compression-missing: a large text response sent uncompressed to a gzip client."""
    answer = audit.compression
    if answer is None or answer.status != 200 or answer.gzip_bytes is None:
        return []
    media_type = _media_type(answer)
    size, packed = answer.body_bytes, answer.gzip_bytes
    if not _compressible(media_type) or size < COMPRESS_MIN_BYTES:
        return []
    saved = size - packed
    if saved < size * COMPRESS_MIN_SAVING:
        return []
    rate = _rate(audit)
    effect = f"{format_bytes(saved)} less per response ({saved / size:.0%})"
    if rate:
        effect += f"; at {rate:,.1f} req/s, {format_bytes(saved * rate)}/s less to send"
    return [
        Finding(
            rule="http-compression-missing",
            category=Category.NETWORK,
            severity=Severity.MEDIUM,
            confidence=HEADER_CONFIDENCE,
            title=f"{audit.target.name} sends {format_bytes(size)} of {media_type} uncompressed",
            evidence=(
                Evidence("request", "Accept-Encoding: gzip, br", _SOURCE),
                Evidence("response", f"no Content-Encoding, {format_bytes(size)}", _SOURCE),
                Evidence("gzip -6 of the body", format_bytes(packed), "redline, on the body"),
                *_rate_evidence(audit),
            ),
            location=f"{audit.target.method} {audit.target.url}",
            recommendation=(
                f"compress {media_type} responses of {format_bytes(COMPRESS_MIN_BYTES)} or more "
                "when the client accepts it (gzip or br), in the server or the proxy in front, "
                "with Vary: Accept-Encoding so caches keep each encoding apart"
            ),
            expected_effect=effect,
        )
    ]


def vary_busting(audit: EndpointAudit) -> list[Finding]:
    """http-cache-vary: Vary: * or Vary on a header with a value per client."""
    first = audit.first
    if first is None or first.status != 200 or "no-store" in directives(first):
        return []
    varied = {value.lower() for value in first.values("vary")}
    bad = sorted(varied & (HIGH_CARDINALITY_VARY | {"*"}))
    if not bad:
        return []
    never = "*" in bad
    return [
        Finding(
            rule="http-cache-vary",
            category=Category.CACHE,
            severity=Severity.MEDIUM,
            confidence=HEADER_CONFIDENCE,
            title=(
                f"{audit.target.name}: Vary: * makes every response unreusable"
                if never
                else f"{audit.target.name} varies on {', '.join(bad)}: one cache entry per client"
            ),
            evidence=(Evidence("Vary", first.header("vary") or "", _SOURCE),),
            location=f"{audit.target.method} {audit.target.url}",
            recommendation=(
                "vary only on request headers that change the body (Accept-Encoding, "
                "Accept-Language); for User-Agent, send a small device class instead; for Cookie, "
                "serve the shared part without cookies and fetch the per-user part separately"
            ),
            expected_effect=(
                "caches can reuse the response across clients: the hit ratio stops being "
                "about 0 (a cache key per browser version or session)"
            ),
        )
    ]


def _static_looking(audit: EndpointAudit, response: ObservedResponse) -> bool:
    path = urlsplit(audit.target.url).path.lower()
    return (
        path.endswith(tuple(STATIC_SUFFIXES))
        or _media_type(response) in STATIC_CONTENT_TYPES
        or (_media_type(response).startswith(("image/", "font/")))
    )


def no_store_static(audit: EndpointAudit) -> list[Finding]:
    """http-cache-no-store-static: no-store on a response that looks static and never changes."""
    first = audit.first
    if first is None or not _same_and_ok(audit) or "no-store" not in directives(first):
        return []
    if not _static_looking(audit, first):
        return []
    return [
        Finding(
            rule="http-cache-no-store-static",
            category=Category.CACHE,
            severity=Severity.MEDIUM,
            confidence=TWO_SAMPLE_CONFIDENCE,
            title=f"{audit.target.name} looks static but forbids every cache (no-store)",
            evidence=(
                Evidence("Cache-Control", first.header("cache-control") or "", _SOURCE),
                Evidence(
                    "content", f"{_media_type(first) or 'no type'}, same body twice", _SOURCE
                ),  # fmt: skip
                *_rate_evidence(audit),
            ),
            location=f"{audit.target.method} {audit.target.url}",
            recommendation=(
                "serve static files with `Cache-Control: public, max-age=31536000, immutable` "
                "and a content hash in their names (app.3f9a.css), or at least max-age=3600; "
                "no-store is for responses that must never be kept (one user's data)"
            ),
            expected_effect=_saved_by_shared_cache(audit),
        )
    ]


def set_cookie(audit: EndpointAudit) -> list[Finding]:
    """http-cache-set-cookie: Set-Cookie on a response otherwise the same for everyone."""
    first = audit.first
    if first is None or not _same_and_ok(audit) or not first.has("set-cookie"):
        return []
    said = directives(first)
    if "no-store" in said or "private" in said:
        return []  # the server already keeps it out of shared caches
    shared = bool(SHARED_STORE_DIRECTIVES & said.keys())
    cookie_names = ", ".join(v.split("=")[0] for v in _set_cookie_values(first))
    return [
        Finding(
            rule="http-cache-set-cookie",
            category=Category.CACHE,
            severity=Severity.HIGH if shared else Severity.LOW,
            confidence=HEADER_CONFIDENCE,
            title=(
                f"{audit.target.name} sets a cookie yet lets shared caches store it"
                if shared
                else f"{audit.target.name} would be cacheable but sets a cookie"
            ),
            evidence=(
                Evidence("Set-Cookie", cookie_names, _SOURCE),
                Evidence("Cache-Control", first.header("cache-control") or "none", _SOURCE),
                Evidence("two requests", "same body", _SOURCE),
            ),
            location=f"{audit.target.method} {audit.target.url}",
            recommendation=(
                "it must not be cached as it is: a shared cache would hand one client's cookie "
                "(a session) to every other client. Set the cookie only where it is needed "
                "(login, the first visit), then cache this response; until then send "
                "`Cache-Control: private` (or no-store)"
                + (". Now: drop public/s-maxage from it at once" if shared else "")
            ),
            expected_effect=(
                "no session leaks through a CDN; without the cookie the response can be cached "
                "(see http-cache-missing for the saving)"
            ),
        )
    ]


def _set_cookie_values(response: ObservedResponse) -> list[str]:
    # Not values(): a Set-Cookie's Expires attribute holds a comma (RFC 6265 §3).
    return [value for key, value in response.headers if key == "set-cookie"]


def private_shared(audit: EndpointAudit) -> list[Finding]:
    """http-cache-private: private on a response the same for all, asked without credentials."""
    first = audit.first
    if first is None or not _same_and_ok(audit) or first.has("set-cookie"):
        return []
    said = directives(first)
    if "private" not in said or "no-store" in said or _credentials(audit):
        return []
    return [
        Finding(
            rule="http-cache-private",
            category=Category.CACHE,
            severity=Severity.INFO,
            confidence=TWO_SAMPLE_CONFIDENCE,
            title=f"{audit.target.name} is private though it looks the same for everyone",
            evidence=(
                Evidence("Cache-Control", first.header("cache-control") or "", _SOURCE),
                Evidence("request", "no Authorization, no Cookie; same body twice", _SOURCE),
            ),
            location=f"{audit.target.method} {audit.target.url}",
            recommendation=(
                "private lets only the browser keep it; public (or s-maxage) lets a CDN or "
                "reverse proxy serve it to everyone. Keep private if the body depends on who "
                "asks (a session, an IP); else use public"
            ),
            expected_effect=_saved_by_shared_cache(audit),
        )
    ]


Rule = Callable[[EndpointAudit], list[Finding]]

#: Every rule, run on each endpoint.
RULES: Final[tuple[Rule, ...]] = (
    missing_headers,
    not_revalidated,
    uncompressed,
    vary_busting,
    no_store_static,
    set_cookie,
    private_shared,
)


def http_cache_findings(audit: HttpCacheAudit) -> list[Finding]:
    """Every rule on every endpoint, worst first."""
    return ranked(f for endpoint in audit.endpoints for rule in RULES for f in rule(endpoint))


def http_cache_notes(audit: HttpCacheAudit) -> list[str]:
    """What the audit could not look at, one line each."""
    notes = [
        f"http audit: {e.target.name}: {e.error}" for e in audit.endpoints if e.error is not None
    ]
    notes += [f"http audit: {e.target.name}: {e.skipped}" for e in audit.endpoints if e.skipped]
    return notes
