"""How the endpoints a plan loads answer caches: headers, validators, compression.

An **audit phase** of a few requests per endpoint, sent with the load engine's own
client (:func:`~redline.load._http.open_connection`), never from the hot path: the
engine keeps no headers during a run, and stays as fast as it is. For each GET
endpoint, at most :data:`MAX_REQUESTS_PER_ENDPOINT` requests, each bounded by a timeout:

1. **first**: the request as the plan sends it;
2. **second**: the same again, to see whether the body is the same for the same URL;
3. **conditional**: the same with ``If-None-Match`` / ``If-Modified-Since`` from the
   first response's ``ETag`` / ``Last-Modified`` (only when it has one), to see
   whether the server answers ``304 Not Modified`` (RFC 9110 §13.1);
4. **compression**: the same with ``Accept-Encoding: gzip, br``, to see whether a
   large text response is compressed (RFC 9110 §8.4).

Other methods get no request: an audit must not repeat a write. What the figures
mean is for :mod:`redline.diagnose._http_cache_rules`.

Glossary:

- **validator**: ``ETag`` or ``Last-Modified``, which lets a client ask "has it
  changed?" and get an empty ``304`` instead of the body again.
- **identical**: two responses to the same request with the same status and the
  same body bytes (compared by SHA-256).

Example::

    targets = [AuditTarget(name="/items", method="GET", url="http://127.0.0.1:8080/items")]
    audit = audit_http_cache(targets, timeout_s=5.0)
    audit.endpoints[0].identical  # True, False, or None when unknown
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from redline.load._http import (
    ConnectFailed,
    Connection,
    Endpoint,
    ErrorKind,
    PreparedRequest,
    open_connection,
)

if TYPE_CHECKING:
    from redline.plan import Plan

__all__ = [
    "AUDITED_METHODS",
    "AUDIT_ACCEPT_ENCODING",
    "DEFAULT_AUDIT_TIMEOUT_S",
    "MAX_REQUESTS_PER_ENDPOINT",
    "AuditTarget",
    "EndpointAudit",
    "HttpCacheAudit",
    "ObservedResponse",
    "audit_http_cache",
    "audit_http_cache_async",
    "target_name",
    "targets_from_plan",
]

#: The most requests the audit sends to one endpoint (first, second, conditional, compression).
MAX_REQUESTS_PER_ENDPOINT = 4
#: The limit for each audit request, connect included, unless the caller gives one.
DEFAULT_AUDIT_TIMEOUT_S = 5.0
#: What the compression request accepts: what browsers send.
AUDIT_ACCEPT_ENCODING = "gzip, br"
#: Methods whose responses the audit requests (safe methods, RFC 9110 §9.2.1).
AUDITED_METHODS = frozenset({"GET", "HEAD"})
#: The gzip level used to estimate what compression would save (zlib's default).
ESTIMATE_GZIP_LEVEL = 6
#: Request headers the audit replaces with its own on the compression and
#: conditional requests (lower case).
_AUDIT_HEADERS = frozenset({"accept-encoding", "if-none-match", "if-modified-since"})


@dataclass(frozen=True)
class AuditTarget:
    """One endpoint to audit: what the plan sends, and what the run saw of it.

    Attributes:
        name: the endpoint's name in the plan (the path for a bare URL).
        method: the HTTP method.
        url: the absolute URL.
        headers: the plan's request headers, sent with every audit request.
        rate_per_s: the endpoint's requests per second in a run, when one is given.
        requests: the endpoint's requests in that run.
        verify_tls: check the server's certificate (``https``).
        skip: why the audit sends it no request (a templated URL); None to audit it.
    """

    name: str
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    rate_per_s: float | None = None
    requests: int | None = None
    verify_tls: bool = True
    skip: str | None = None


@dataclass(frozen=True)
class ObservedResponse:
    """One response the audit received: its head and a fingerprint of its body.

    Attributes:
        status: the status code.
        headers: the header fields in order, names in lower case.
        body_bytes: the body's length as received (compressed, if it was).
        body_sha256: the body's SHA-256, hex.
        gzip_bytes: the body's length after gzip (level :data:`ESTIMATE_GZIP_LEVEL`)
            when it came uncompressed and not empty; else None.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body_bytes: int
    body_sha256: str
    gzip_bytes: int | None = None

    def values(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), each comma-separated list split."""
        wanted = name.lower()
        found: list[str] = []
        for key, value in self.headers:
            if key == wanted:
                found.extend(part.strip() for part in value.split(",") if part.strip())
        return found

    def header(self, name: str) -> str | None:
        """The field value of ``name`` (several fields joined by ``", "``), or None."""
        wanted = name.lower()
        values = [value for key, value in self.headers if key == wanted]
        return ", ".join(values) if values else None

    def has(self, name: str) -> bool:
        """Whether the response has a header field ``name``."""
        wanted = name.lower()
        return any(key == wanted for key, _ in self.headers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": [list(pair) for pair in self.headers],
            "body_bytes": self.body_bytes,
            "body_sha256": self.body_sha256,
            "gzip_bytes": self.gzip_bytes,
        }


@dataclass(frozen=True)
class EndpointAudit:
    """What the audit saw of one endpoint.

    Attributes:
        target: the endpoint and its run figures.
        first: the response to the plan's request.
        second: the same request again.
        conditional: the conditional request's response; None when the first had
            no validator (or the audit stopped before it).
        conditional_headers: what the conditional request sent.
        compression: the response to the request with ``Accept-Encoding``.
        requests_sent: how many requests the audit sent to the endpoint.
        error: why the audit could not finish, one line; None when it did.
        skipped: why no request was sent (a method that is not safe); None when audited.
    """

    target: AuditTarget
    first: ObservedResponse | None = None
    second: ObservedResponse | None = None
    conditional: ObservedResponse | None = None
    conditional_headers: Mapping[str, str] = field(default_factory=dict)
    compression: ObservedResponse | None = None
    requests_sent: int = 0
    error: str | None = None
    skipped: str | None = None

    @property
    def identical(self) -> bool | None:
        """Whether the first two responses had the same status and body; None if unknown."""
        if self.first is None or self.second is None:
            return None
        return (self.first.status, self.first.body_sha256) == (
            self.second.status,
            self.second.body_sha256,
        )

    def to_dict(self) -> dict[str, Any]:
        def part(response: ObservedResponse | None) -> dict[str, Any] | None:
            return response.to_dict() if response is not None else None

        target = self.target
        return {
            "name": target.name,
            "method": target.method,
            "url": target.url,
            "rate_per_s": target.rate_per_s,
            "requests": target.requests,
            "identical": self.identical,
            "first": part(self.first),
            "second": part(self.second),
            "conditional": part(self.conditional),
            "conditional_headers": dict(self.conditional_headers),
            "compression": part(self.compression),
            "requests_sent": self.requests_sent,
            "error": self.error,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class HttpCacheAudit:
    """The audit of every endpoint, in the plan's order."""

    endpoints: list[EndpointAudit]

    @property
    def unreachable(self) -> list[EndpointAudit]:
        """The endpoints the audit could not get a first response from."""
        return [e for e in self.endpoints if e.error is not None and e.first is None]

    def to_dict(self) -> dict[str, Any]:
        return {"endpoints": [e.to_dict() for e in self.endpoints]}


class _Outcome:
    """A :class:`~redline.load._wire.ResponseHandler` that resolves a future."""

    def __init__(self, future: asyncio.Future[tuple[int, bytes]]) -> None:
        self._future = future

    def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
        if not self._future.done():
            self._future.set_result((status, body or b""))

    def on_error(self, kind: ErrorKind, detail: str) -> None:
        if not self._future.done():
            self._future.set_exception(ConnectFailed(kind, detail))


class _Session:
    """One keep-alive connection to an endpoint's origin, reopened when the server closes it."""

    def __init__(self, endpoint: Endpoint, timeout_s: float) -> None:
        self._endpoint = endpoint
        self._timeout_s = timeout_s
        self._connection: Connection | None = None

    async def fetch(self, request: PreparedRequest) -> ObservedResponse:
        """Send ``request`` and wait for its response, at most the timeout in all.

        Raises:
            ConnectFailed: no response, with why.
        """
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._fetch(request)
        except TimeoutError:
            # Ours: open_connection turns its own timeouts into ConnectFailed.
            self.close()
            raise ConnectFailed(
                ErrorKind.TIMEOUT, f"no response within {self._timeout_s:g} s"
            ) from None

    async def _fetch(self, request: PreparedRequest) -> ObservedResponse:
        connection = self._connection
        if connection is None or not connection.is_open:
            connection = await open_connection(self._endpoint, timeout_s=self._timeout_s)
            self._connection = connection
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        connection.send(request, _Outcome(future), 0)
        status, body = await future
        pairs = tuple(
            (name.decode("latin-1").lower(), value.decode("latin-1").strip())
            for name, value in connection.response_headers or ()
        )
        return _observed(status, pairs, body)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    async def aclose(self) -> None:
        connection = self._connection
        if connection is not None:
            connection.close()
            await connection.wait_closed()
            self._connection = None


def _observed(status: int, headers: tuple[tuple[str, str], ...], body: bytes) -> ObservedResponse:
    encoded = any(name == "content-encoding" and value.lower() != "identity"
                  for name, value in headers)  # fmt: skip
    gzip_bytes = None
    if body and not encoded:
        gzip_bytes = len(gzip.compress(body, compresslevel=ESTIMATE_GZIP_LEVEL, mtime=0))
    return ObservedResponse(
        status=status,
        headers=headers,
        body_bytes=len(body),
        body_sha256=hashlib.sha256(body).hexdigest(),
        gzip_bytes=gzip_bytes,
    )


def _conditional_headers(first: ObservedResponse) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` from the first response's validators."""
    headers = {}
    etag = first.header("etag")
    if etag:
        headers["If-None-Match"] = etag
    modified = first.header("last-modified")
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


def _request(target: AuditTarget, endpoint: Endpoint, extra: Mapping[str, str]) -> PreparedRequest:
    """The plan's request with the audit's ``extra`` headers (which replace the plan's)."""
    replaced = {name.lower() for name in extra} | {"if-none-match", "if-modified-since"}
    headers = {k: v for k, v in target.headers.items() if k.lower() not in replaced}
    headers.update(extra)
    return PreparedRequest.build(
        name=target.name, method=target.method, url=target.url, headers=headers, body=None,
        endpoint=endpoint, keep_headers=True,
    )  # fmt: skip


async def _audit_one(target: AuditTarget, *, timeout_s: float) -> EndpointAudit:
    if target.skip is not None:
        return EndpointAudit(target, skipped=target.skip)
    if target.method not in AUDITED_METHODS:
        return EndpointAudit(
            target, skipped=f"{target.method} is not a safe method: no request is repeated"
        )
    endpoint = Endpoint.from_url(target.url, verify_tls=target.verify_tls)
    session = _Session(endpoint, timeout_s)
    responses: list[ObservedResponse] = []
    conditional: dict[str, str] = {}
    error = None
    try:
        plain = _request(target, endpoint, {})
        responses.append(await session.fetch(plain))
        responses.append(await session.fetch(plain))
        conditional = _conditional_headers(responses[0])
        if conditional:
            responses.append(await session.fetch(_request(target, endpoint, conditional)))
        encoding = {"Accept-Encoding": AUDIT_ACCEPT_ENCODING}
        responses.append(await session.fetch(_request(target, endpoint, encoding)))
    except ConnectFailed as exc:
        error = f"{target.url}: {_reason(exc)}"
    finally:
        await session.aclose()
    return _endpoint_audit(target, responses, conditional, error)


def _endpoint_audit(
    target: AuditTarget,
    responses: list[ObservedResponse],
    conditional: dict[str, str],
    error: str | None,
) -> EndpointAudit:
    """Name the responses received, in the order they were asked for."""
    names = ["first", "second", *(["conditional"] if conditional else []), "compression"]
    named: dict[str, ObservedResponse] = dict(zip(names, responses, strict=False))
    return EndpointAudit(
        target,
        first=named.get("first"),
        second=named.get("second"),
        conditional=named.get("conditional"),
        conditional_headers=conditional,
        compression=named.get("compression"),
        requests_sent=len(responses) + (error is not None),
        error=error,
    )


def _reason(exc: ConnectFailed) -> str:
    """One line: the error kind, and the detail without the origin the caller names already."""
    detail = (
        exc.detail.split(": ", 1)[1]
        if exc.detail.startswith(("http://", "https://"))
        else exc.detail
    )
    return f"{exc.kind.value} ({detail})"


async def audit_http_cache_async(
    targets: Iterable[AuditTarget], *, timeout_s: float = DEFAULT_AUDIT_TIMEOUT_S
) -> HttpCacheAudit:
    """Audit each target in turn (one at a time: the audit adds no load); see the module doc.

    Args:
        targets: the endpoints, in the order to report them.
        timeout_s: the limit for each request, connect included.

    Returns:
        What was seen; an endpoint that failed has its ``error``, the others go on.
    """
    return HttpCacheAudit([await _audit_one(t, timeout_s=timeout_s) for t in targets])


def audit_http_cache(
    targets: Sequence[AuditTarget], *, timeout_s: float = DEFAULT_AUDIT_TIMEOUT_S
) -> HttpCacheAudit:
    """:func:`audit_http_cache_async` on an event loop of its own (for callers without one)."""
    return asyncio.run(audit_http_cache_async(targets, timeout_s=timeout_s))


def target_name(url: str) -> str:
    """The name a bare URL is reported under: its path, as ``redline run`` names it."""
    return urlsplit(url).path or "/"


def targets_from_plan(
    plan: Plan, endpoints: Mapping[str, Mapping[str, Any]] | None = None
) -> list[AuditTarget]:
    """One target per request of ``plan``, with its rate from a run's per-endpoint summary.

    Args:
        plan: a validated plan (absolute URLs).
        endpoints: a results document's ``summary.endpoints`` (``rps``, ``count`` by
            request name), or None without a run.
    """
    found = endpoints or {}
    targets = []
    for spec in plan.requests:
        summary = found.get(spec.name) or {}
        targets.append(
            AuditTarget(
                name=spec.name,
                method=spec.method,
                url=spec.url,
                headers=dict(spec.headers),
                rate_per_s=float(summary["rps"]) if "rps" in summary else None,
                requests=int(summary["count"]) if "count" in summary else None,
                verify_tls=plan.verify_tls,
                skip="templated (${...}): the values are the run's" if spec.templated else None,
            )
        )
    return targets
