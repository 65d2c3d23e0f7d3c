"""A virtual user's cookie jar, for plans with ``cookies = true``.

Deliberately small: cookies are kept per host (not per port, RFC 6265 section
8.5) by name, and sent back on every later request to that host. ``Path``,
``Domain``, ``Secure``, ``HttpOnly`` and ``Expires`` are not applied; a
``Max-Age`` of 0 or less removes the cookie. That is what a load test of one
service needs: log in once, stay logged in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["CookieJar", "set_cookies"]

#: The response header that sets a cookie (RFC 6265 section 4.1), lower case.
SET_COOKIE = b"set-cookie"


def set_cookies(headers: Iterable[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, bytes, bool]]:
    """``(name, value, removed)`` for each ``Set-Cookie`` in ``headers``, in order.

    ``removed`` is True when the cookie asks to be deleted (``Max-Age=0`` or less).
    A header without ``name=`` is skipped (RFC 6265 section 5.2 says to ignore it).
    """
    for field, line in headers:
        if field.lower() != SET_COOKIE:
            continue
        pair, *attributes = line.split(b";")
        name, equals, value = pair.partition(b"=")
        name = name.strip()
        if not equals or not name:
            continue
        yield name, value.strip(), _expired(attributes)


def _expired(attributes: list[bytes]) -> bool:
    for attribute in attributes:
        key, _, value = attribute.partition(b"=")
        if key.strip().lower() == b"max-age":
            try:
                return int(value.strip()) <= 0
            except ValueError:
                return False  # an unparseable Max-Age is ignored (RFC 6265 section 5.2.2)
    return False


class CookieJar:
    """Cookies by host, as one VU's browser would keep them.

    Example::

        jar = CookieJar()
        jar.update("127.0.0.1", [(b"Set-Cookie", b"sid=abc; Path=/; HttpOnly")])
        jar.header_for("127.0.0.1")  # b"sid=abc"
    """

    __slots__ = ("_by_host", "_headers")

    def __init__(self) -> None:
        self._by_host: dict[str, dict[bytes, bytes]] = {}
        #: The ``Cookie`` value per host, made once after each change.
        self._headers: dict[str, bytes | None] = {}

    def update(self, host: str, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """Keep the cookies a response from ``host`` sets (and drop those it deletes)."""
        cookies = self._by_host.get(host)
        changed = False
        for name, value, removed in set_cookies(headers):
            if cookies is None:
                cookies = self._by_host[host] = {}
            if removed:
                cookies.pop(name, None)
            else:
                cookies[name] = value
            changed = True
        if changed and cookies is not None:
            self._headers[host] = b"; ".join(n + b"=" + v for n, v in cookies.items()) or None

    def header_for(self, host: str) -> bytes | None:
        """The ``Cookie`` header value for a request to ``host``, or None when there is none."""
        return self._headers.get(host)

    def clear(self) -> None:
        """Forget every cookie."""
        self._by_host.clear()
        self._headers.clear()
