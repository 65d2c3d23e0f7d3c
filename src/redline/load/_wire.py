"""HTTP/1.1 requests on the wire: where to send them, their bytes, and how they fail.

This module holds the data of the client hot path; the I/O is in
:mod:`redline.load._connection` and the timeouts in :mod:`redline.load._timeouts`;
:mod:`redline.load._http` gathers all three.

Glossary:

- **endpoint**: a scheme, host and port to connect to, with the TLS context for
  ``https`` (:class:`Endpoint`).
- **prepared request**: a request serialized once, before the run, into the
  exact bytes sent on every repetition (:class:`PreparedRequest`). The hot path
  never formats a request.
- **error kind**: why a request got no usable response (:class:`ErrorKind`).
  An HTTP error status such as 500 is a *response*, not an error kind.
"""

from __future__ import annotations

import enum
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Protocol
from urllib.parse import SplitResult, quote, urlsplit

from redline.errors import ConfigError

__all__ = [
    "DEFAULT_PORTS",
    "USER_AGENT",
    "ConnectFailed",
    "Endpoint",
    "ErrorKind",
    "PreparedRequest",
    "ResponseHandler",
]

#: The port each supported scheme uses when the URL names none.
DEFAULT_PORTS: Mapping[str, int] = {"http": 80, "https": 443}


def _package_version() -> str:
    try:
        return metadata.version("redline")
    except metadata.PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
        return "0"


#: The ``User-Agent`` header every request carries unless the plan gives its own.
USER_AGENT = f"redline/{_package_version()}"

#: Methods that define a meaning for enclosed content: they always carry a
#: ``Content-Length``, even with no body (RFC 9110 §8.6), because servers such as
#: nginx answer 411 without one.
_METHODS_WITH_CONTENT = frozenset({"POST", "PUT", "PATCH"})

#: Headers redline computes itself from the body; the plan may not set them.
_COMPUTED_HEADERS = frozenset({"content-length", "transfer-encoding"})

#: Characters allowed in a method or header name (``tchar``, RFC 9110 §5.6.2).
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

#: Characters left as they are when percent-encoding a path or query: the
#: reserved and unreserved sets of RFC 3986 plus ``%``, so an already-encoded
#: URL is not encoded twice.
_URL_SAFE_CHARS = "/?#[]@!$&'()*+,;=-._~%:"


class ErrorKind(enum.Enum):
    """Why a request got no usable response.

    Every failure below the HTTP layer maps to exactly one kind, so reports can
    count errors by kind. The value is the kind's name in reports and files.
    """

    #: The target refused the connection: nothing listens on the port.
    REFUSED = "refused"
    #: The connection was reset by the peer (``ECONNRESET``, ``EPIPE``).
    RESET = "reset"
    #: A request was sent but the response was not complete in time.
    TIMEOUT = "timeout"
    #: The TCP (and TLS) connection was not established in time.
    CONNECT_TIMEOUT = "connect_timeout"
    #: The TLS handshake or TLS record layer failed (certificate, protocol).
    TLS = "tls"
    #: The server sent bytes that are not a valid HTTP/1.x response.
    PROTOCOL = "protocol"
    #: The server closed the connection before the response was complete.
    CLOSED = "closed"
    #: Any other operating-system error; the detail keeps the errno text.
    OTHER = "other"


class ConnectFailed(Exception):
    """A connection could not be opened; raised by ``open_connection``.

    Internal to the load engine: executors count it as an error of ``kind``
    and never let it reach users, who see :class:`redline.errors.TargetError`
    only when a run cannot go on at all.

    Args:
        kind: why the connection failed.
        detail: one line for humans, with the OS error text when there is one.
    """

    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.detail = detail


class ResponseHandler(Protocol):
    """Receives the outcome of one request; exactly one method is called, once.

    (Unless the caller closes the connection first: then neither is.)

    Both methods run inside the event loop's I/O callback, so they must be quick
    and must not raise. They may send the next request on the same connection
    (check ``Connection.is_open`` first).
    """

    def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
        """A complete response arrived.

        Args:
            status: the HTTP status code (interim 1xx responses are skipped).
            body: the decoded body (chunked framing removed) when the request
                has ``keep_body``; otherwise ``None``.
            bytes_in: bytes received for this response, headers included.
        """
        ...

    def on_error(self, kind: ErrorKind, detail: str) -> None:
        """The request failed without a complete response.

        Args:
            kind: why it failed.
            detail: one line for humans.
        """
        ...


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to connect: scheme, host, port and, for ``https``, the TLS context.

    Build it with :meth:`from_url`; one endpoint serves every connection to the
    same origin, so the TLS context (and its session cache) is shared. Build it
    once per origin: ``https`` endpoints compare equal (and hash alike, as dict
    keys) only when they share the same TLS context object.

    Attributes:
        scheme: ``"http"`` or ``"https"``.
        host: the host name or IP address to connect to (no brackets for IPv6).
        port: the TCP port.
        ssl: the TLS context for ``https``, ``None`` for ``http``.
        host_header: the value of the ``Host`` header (RFC 9112 §3.2).
    """

    scheme: str
    host: str
    port: int
    ssl: ssl.SSLContext | None
    host_header: str

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        verify_tls: bool = True,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Endpoint:
        """Parse the origin of ``url`` (its path and query are ignored).

        Example::

            endpoint = Endpoint.from_url("https://127.0.0.1:8443/api", verify_tls=False)
            assert endpoint.port == 8443 and endpoint.ssl is not None

        Args:
            url: an absolute ``http://`` or ``https://`` URL.
            verify_tls: check the server's certificate and host name. Turn it
                off only for test servers with self-signed certificates.
            ca_file: a PEM file of extra certificate authorities to trust, for
                example a test CA; used only when ``verify_tls`` is on.

        Returns:
            The endpoint.

        Raises:
            ConfigError: the URL has an unsupported scheme, no host, a bad
                port, or credentials.
        """
        parts = _split_url(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = _port_of(parts, url) or DEFAULT_PORTS[scheme]
        context = (
            _tls_context(verify_tls=verify_tls, ca_file=ca_file) if scheme == "https" else None
        )
        return cls(
            scheme=scheme,
            host=host,
            port=port,
            ssl=context,
            host_header=_host_header(host, port, scheme),
        )

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``, as it appears in URLs (for messages and reports)."""
        return f"{self.scheme}://{self.host_header}"


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request serialized once into the exact bytes sent on each repetition.

    Build it with :meth:`build`. The wire form is ``HTTP/1.1`` with ``Host``,
    ``User-Agent`` (unless the plan sets its own), the plan's headers, and
    ``Content-Length`` when there is a body (or the method is POST, PUT or PATCH).

    Attributes:
        name: the name the results are reported under.
        method: the HTTP method, as sent.
        path: the request target: path and query, percent-encoded.
        wire: the full serialized request.
        keep_body: whether the response body is handed to the handler (for
            checks and extraction); otherwise it is only counted.
        keep_headers: whether the connection keeps the response's header
            fields (for header and cookie extraction, and the cookie jar).
        head_only: whether the response ends with its head (a ``HEAD``
            request, RFC 9110 §9.3.2); derived from ``method``.
        special: whether the response needs more than the plain parser
            (``keep_body``, ``keep_headers`` or ``head_only``); derived.
    """

    name: str
    method: str
    path: str
    wire: bytes
    keep_body: bool = False
    keep_headers: bool = False
    head_only: bool = field(init=False, repr=False, compare=False)
    special: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        head_only = self.method == "HEAD"
        object.__setattr__(self, "head_only", head_only)
        object.__setattr__(self, "special", head_only or self.keep_body or self.keep_headers)

    @classmethod
    def build(
        cls,
        *,
        name: str,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        endpoint: Endpoint,
        keep_body: bool = False,
        keep_headers: bool = False,
    ) -> PreparedRequest:
        """Validate and serialize a request.

        Example::

            endpoint = Endpoint.from_url("http://127.0.0.1:8080")
            request = PreparedRequest.build(
                name="search", method="GET", url="/search?q=shoes",
                headers={"Accept": "application/json"}, body=None, endpoint=endpoint,
            )
            assert request.wire.startswith(b"GET /search?q=shoes HTTP/1.1\\r\\n")

        Args:
            name: the name results are reported under.
            method: the HTTP method, case-sensitive (``"GET"``, ``"POST"``...).
            url: a path (``/items?id=1``) or an absolute URL on ``endpoint``'s origin.
            headers: extra headers; ``Host`` and ``User-Agent`` here replace
                redline's own.
            body: the request body, or ``None`` for none.
            endpoint: the endpoint the request is sent to (for ``Host``).
            keep_body: hand the response body to the handler.
            keep_headers: keep the response's header fields
                (:attr:`Connection.response_headers`).

        Returns:
            The prepared request.

        Raises:
            ConfigError: a bad method, header, or URL, or a URL on another origin.
        """
        _check_token(method, what="method")
        path = _request_target(url, endpoint)
        head = [f"{method} {path} HTTP/1.1"]
        head.extend(f"{name}: {value}" for name, value in _header_lines(headers, endpoint))
        if body is not None or method in _METHODS_WITH_CONTENT:
            head.append(f"Content-Length: {len(body or b'')}")
        wire = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b"")
        return cls(
            name=name,
            method=method,
            path=path,
            wire=wire,
            keep_body=keep_body,
            keep_headers=keep_headers,
        )


def _split_url(url: str) -> SplitResult:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigError(
            f"url must start with http:// or https://, got {url!r}",
            hint="write the full URL, for example http://127.0.0.1:8080/",
        )
    if not parts.hostname:
        raise ConfigError(f"url has no host: {url!r}", hint="for example http://127.0.0.1:8080/")
    if parts.username is not None or parts.password is not None:
        # The URL is not echoed: it holds a secret.
        raise ConfigError(
            "url must not contain credentials (user:password@)",
            hint="send them in an Authorization header instead",
        )
    return parts


def _port_of(parts: SplitResult, url: str) -> int | None:
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"url port must be 1-65535, got {url!r}")
    return port


def _tls_context(*, verify_tls: bool, ca_file: str | os.PathLike[str] | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if verify_tls:
        if ca_file is not None:
            try:
                context.load_verify_locations(cafile=os.fspath(ca_file))
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"ca_file could not be loaded: {os.fspath(ca_file)!r} ({exc})",
                    hint="give a PEM file of CA certificates",
                ) from exc
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    # HTTP/1.1 only: say so, so servers that speak h2 do not pick it.
    context.set_alpn_protocols(["http/1.1"])
    return context


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == DEFAULT_PORTS[scheme] else f"{shown}:{port}"


def _request_target(url: str, endpoint: Endpoint) -> str:
    if url.startswith("/"):
        # Split by hand: urlsplit would read "//x/y" as a host.
        path, _, query = url.partition("#")[0].partition("?")
    else:
        parts = _split_url(url)
        scheme = parts.scheme.lower()
        origin = (scheme, parts.hostname, _port_of(parts, url) or DEFAULT_PORTS[scheme])
        if origin != (endpoint.scheme, endpoint.host, endpoint.port):
            raise ConfigError(
                f"url {url!r} is not on the target {endpoint.origin!r}",
                hint="use a path such as /items, or a URL on the target's origin",
            )
        path, query = parts.path, parts.query
    target = quote(path or "/", safe=_URL_SAFE_CHARS)
    if query:
        target += "?" + quote(query, safe=_URL_SAFE_CHARS)
    return target


def _header_lines(headers: Mapping[str, str] | None, endpoint: Endpoint) -> list[tuple[str, str]]:
    given = dict(headers or {})
    lowered = {field.lower() for field in given}
    lines: list[tuple[str, str]] = []
    if "host" not in lowered:
        lines.append(("Host", endpoint.host_header))
    if "user-agent" not in lowered:
        lines.append(("User-Agent", USER_AGENT))
    for name, value in given.items():
        _check_token(name, what="header name")
        if name.lower() in _COMPUTED_HEADERS:
            raise ConfigError(
                f"header {name!r} is computed from the body and cannot be set",
                hint="remove it; redline sends Content-Length itself",
            )
        lines.append((name, _header_value(name, value)))
    return lines


def _header_value(field: str, value: str) -> str:
    if any(char in value for char in "\r\n\0"):
        raise ConfigError(f"header {field!r} value must not contain CR, LF or NUL, got {value!r}")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ConfigError(
            f"header {field!r} value must be Latin-1 text, got {value!r}",
            hint="percent-encode or base64-encode other characters",
        ) from None
    return value.strip()


def _check_token(text: str, *, what: str) -> None:
    if not text or not set(text) <= _TOKEN_CHARS:
        raise ConfigError(
            f"{what} must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~), got {text!r}"
        )
