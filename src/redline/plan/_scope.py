"""Where load may go: loopback by default, other hosts only when the plan lists them.

redline generates enough traffic to take a service down, so the set of targets is
closed: a URL's host must be loopback (``127.0.0.0/8``, ``::1``, ``localhost``) or
appear in the plan's ``allowed_hosts``. Names are compared as written and never
resolved: a DNS answer can change between the check and the run, and a name that
happens to resolve to ``127.0.0.1`` today is still refused unless listed.
Production is refused outright, whatever the hosts.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from redline.errors import ScopeError
from redline.plan._problem import Problem, short

#: Host names that mean this machine without asking DNS (RFC 6761 section 6.3).
LOOPBACK_NAMES = frozenset({"localhost"})

#: Environment names that mean production; redline never loads them.
REFUSED_ENVIRONMENTS = frozenset({"production", "prod", "prd", "live"})

#: A DNS name or a bare IPv4 address (IPv6 is checked by :mod:`ipaddress`).
_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")

_URL_EXPECTED = "expected an absolute http(s) URL such as 'http://127.0.0.1:8080/'"


class Environment(enum.StrEnum):
    """What kind of deployment the target is. There is deliberately no production."""

    LOCAL = "local"  # this machine: a dev server, a container, the demo
    DEV = "dev"  # a shared development deployment
    STAGING = "staging"  # a pre-production copy, the usual place for capacity tests


def environment_from_text(text: str) -> Environment:
    """The :class:`Environment` named ``text``; raises :class:`Problem` if there is none
    (one that becomes a :class:`ScopeError` for production)."""
    allowed = ", ".join(env.value for env in Environment)
    name = text.strip().lower()
    if name in REFUSED_ENVIRONMENTS:
        raise Problem(
            f"{text!r} is refused: redline never loads production; allowed {allowed}",
            hint="load a staging copy sized like production, and compare there",
            error=ScopeError,
        )
    try:
        return Environment(name)
    except ValueError:
        raise Problem(f"{text!r} is not an environment; allowed {allowed}") from None


def parse_environment(text: str, *, field: str = "environment") -> Environment:
    """The environment named ``text`` (``local``, ``dev``, ``staging``; any case).

    Raises:
        ScopeError: ``text`` names production (``production``, ``prod``, ``prd``, ``live``).
        ConfigError: ``text`` names no environment.
    """
    try:
        return environment_from_text(text)
    except Problem as problem:
        raise problem.at_field(field) from None


def url_from_text(text: str) -> str:
    """``text`` if it is an absolute http(s) URL with a host; raises :class:`Problem` if not."""
    url = text.strip()
    if not url or any(char.isspace() for char in url):
        raise Problem(f"{short(text)} is not a URL; {_URL_EXPECTED}")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise Problem(f"{short(text)} is not an http(s) URL; {_URL_EXPECTED}")
    try:
        port = parts.port  # urlsplit checks the port only when asked
    except ValueError:
        port = 0
    if port == 0:
        raise Problem(f"{short(text)} has a bad port; allowed 1..65535")
    if not parts.hostname:
        raise Problem(f"{short(text)} has no host; {_URL_EXPECTED}")
    return url


def parse_url_target(url: str, *, field: str = "url") -> str:
    """Check that ``url`` can be loaded: absolute, ``http`` or ``https``, with a host.

    Scope (which hosts are allowed) is a separate check: :func:`check_scope`.

    Returns:
        The URL without surrounding whitespace.

    Raises:
        ConfigError: the URL is not absolute http(s), has no host or has a bad port.
    """
    try:
        return url_from_text(url)
    except Problem as problem:
        raise problem.at_field(field) from None


def canonical_host(host: str) -> str:
    """One spelling per host: lower case, no brackets or trailing dot, IPs in standard form."""
    host = host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def host_from_text(text: str) -> str:
    """A bare host for ``allowed_hosts``, normalised; raises :class:`Problem` if not a host."""
    host = canonical_host(text)
    if not _HOST_NAME.fullmatch(host) and not _is_ip(host):
        raise Problem(
            f"{short(text)} is not a host name; write a bare host such as "
            "'api.staging.internal' or '10.0.0.5' (no scheme, port or path)"
        )
    return host


def is_loopback(host: str) -> bool:
    """Whether ``host`` (from a URL, brackets allowed) means this machine, without DNS."""
    host = canonical_host(host)
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback  # ::ffff:127.0.0.1 is IPv4 loopback
    return address.is_loopback


def check_scope(urls: Iterable[str], allowed_hosts: Iterable[str], *, field: str = "url") -> None:
    """Refuse any URL whose host is neither loopback nor in ``allowed_hosts``.

    Args:
        urls: every URL the run will send to.
        allowed_hosts: hosts the user has declared as theirs to load, as written
            (``"api.staging.internal"``, ``"10.0.0.5"``); matched exactly, case-insensitively.
        field: what to call the URLs in the error.

    Raises:
        ScopeError: naming every host out of scope, with a hint on how to allow one.
    """
    allowed = sorted({canonical_host(host) for host in allowed_hosts})
    hosts = {canonical_host(urlsplit(url.strip()).hostname or "") for url in urls}
    outside = sorted(host for host in hosts if host not in allowed and not is_loopback(host))
    if outside:
        named = ", ".join(repr(host) for host in outside)
        hosts_are = "host {} is" if len(outside) == 1 else "hosts {} are"
        raise ScopeError(
            f"{field}: {hosts_are.format(named)} out of scope; allowed loopback "
            f"(127.0.0.0/8, ::1, localhost) and allowed_hosts {allowed}",
            hint="add a host to allowed_hosts only if you own it and may put load on it",
        )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
