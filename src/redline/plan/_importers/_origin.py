"""Origins (scheme, host, port) of request URLs, and URLs written relative to one.

Two URLs share an origin when scheme, host and port match, with the default port
written or not (RFC 6454 section 4): ``https://a.test`` and ``https://A.test:443/x``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from redline.plan._problem import Problem
from redline.plan._scope import is_loopback, url_from_text

#: The port a scheme uses when a URL gives none.
DEFAULT_PORTS = {"http": 80, "https": 443}


def _hostport(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    return host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, in lower case, without a default port."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{_hostport(parts)}"


def host_of(url: str) -> str:
    """The host of ``url`` with its port, as shown to people: ``"staging.example.com:8443"``."""
    return _hostport(urlsplit(url))


def path_and_query(url: str) -> str:
    """The path and query of ``url``, without its fragment: ``"/items?page=2"``."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def relative_to(url: str, origin: str) -> str:
    """``url`` as a path when it is on ``origin``, else as it is (without its fragment)."""
    if origin_of(url) == origin:
        return path_and_query(url)
    return url.partition("#")[0]


def _bare_host(host: str) -> str:
    return urlsplit(f"//{host}").hostname or host


def checked_base_url(text: str, *, field: str = "--base-url") -> str:
    """``text`` if it is an absolute http(s) URL with a host, without a trailing ``/``.

    Raises:
        ConfigError: ``"--base-url: 'localhost:8080' is not an http(s) URL; ..."``.
    """
    try:
        return url_from_text(text).rstrip("/")
    except Problem as problem:
        raise problem.at_field(field) from None


def scope_note(hosts: Iterable[str]) -> str | None:
    """A comment line for hosts that are not loopback, or ``None`` when all are."""
    remote = [host for host in dict.fromkeys(hosts) if not is_loopback(_bare_host(host))]
    if not remote:
        return None
    return (
        f"Not loopback: {', '.join(remote)}. redline refuses to run this plan until each is "
        "in allowed_hosts (add one only if you may load it) or base_url points elsewhere "
        "(--base-url)."
    )
