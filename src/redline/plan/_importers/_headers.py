"""Which recorded request headers an imported plan sends again.

Dropped always:

- hop-by-hop headers, which describe one connection, not the request (RFC 9110
  section 7.6.1), and any header the ``Connection`` header names;
- HTTP/2 and HTTP/3 pseudo-headers (``:authority``, ``:path``...; RFC 9113 section 8.3),
  which are not headers in HTTP/1.1;
- ``Host`` and ``Content-Length``, which redline's client writes from the URL and body.

Dropped unless asked to keep them: ``Cookie`` and ``Authorization``. A recording's
session and tokens expire, and a plan file is shared more widely than a HAR should be.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Headers about one connection (RFC 9110 section 7.6.1), plus the old Proxy-Connection.
HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: Headers redline's client writes itself.
CLIENT_HEADERS = frozenset({"host", "content-length"})
#: Headers that carry credentials; kept only when asked.
CREDENTIAL_HEADERS = frozenset({"cookie", "authorization"})
#: How repeated fields are joined into one (RFC 9110 section 5.3; cookies: RFC 6265 section 5.4).
_SEPARATORS = {"cookie": "; "}
_DEFAULT_SEPARATOR = ", "


def _named_by_connection(headers: Iterable[tuple[str, str]]) -> set[str]:
    return {
        option.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for option in value.split(",")
    }


def replayable_headers(
    headers: Iterable[tuple[str, str]], *, keep_credentials: bool
) -> dict[str, str]:
    """The headers to send again, repeated names joined into one field.

    Args:
        headers: name and value pairs as recorded, in order.
        keep_credentials: keep ``Cookie`` and ``Authorization``.

    Returns:
        Header name (as first recorded) -> value.

    Example::

        replayable_headers([(":authority", "a.test"), ("Accept", "*/*")], keep_credentials=False)
        # {"Accept": "*/*"}
    """
    pairs = list(headers)
    dropped = HOP_BY_HOP_HEADERS | CLIENT_HEADERS | _named_by_connection(pairs)
    if not keep_credentials:
        dropped |= CREDENTIAL_HEADERS
    kept: dict[str, str] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if name.startswith(":") or key in dropped:
            continue
        if key in spelling:
            first = spelling[key]
            kept[first] += _SEPARATORS.get(key, _DEFAULT_SEPARATOR) + value
        else:
            spelling[key] = name
            kept[name] = value
    return kept
