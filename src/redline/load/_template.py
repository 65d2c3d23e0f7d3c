"""A request with ``${name}`` placeholders, or a cookie jar, made into bytes per send.

Only requests that need it are rendered: a request without placeholders, on a
plan without cookies, is sent as its :class:`PreparedRequest`, unchanged. A
:class:`RequestTemplate` is compiled once, before the run, into literal byte
pieces and variable slots, so rendering is a join, not a format.

Values are bytes (as ``VirtualUser.variables`` holds them) and are inserted as
they are, except in the request target, where they are percent-encoded like
the rest of the URL (RFC 3986 section 2.1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

# The wire module's own rules, so a rendered request is byte for byte what
# PreparedRequest.build would make of the same text.
from redline.load._wire import _URL_SAFE_CHARS, Endpoint, PreparedRequest, _header_lines
from redline.plan import RequestSpec
from redline.plan._template import Variable, template_parts

__all__ = ["MissingVariable", "RequestTemplate"]

#: Methods that always carry a Content-Length (see ``redline.load._wire``).
_METHODS_WITH_CONTENT = frozenset({"POST", "PUT", "PATCH"})
#: Characters that would end a header line early (RFC 9110 section 5.5).
_FORBIDDEN_IN_HEADER_VALUE = (b"\r", b"\n", b"\0")


class MissingVariable(Exception):
    """A placeholder names a variable the virtual user does not have (or cannot use)."""

    def __init__(self, name: str, reason: str = "is not set") -> None:
        super().__init__(f"${{{name}}} {reason}")
        self.name = name


def _quoted(value: bytes) -> bytes:
    return quote(value, safe=_URL_SAFE_CHARS).encode("ascii")


def _header_safe(value: bytes) -> bytes:
    if any(char in value for char in _FORBIDDEN_IN_HEADER_VALUE):
        raise ValueError("a line break or NUL in a header value")
    return value


def _as_is(value: bytes) -> bytes:
    return value


def _latin1(text: str) -> bytes:
    return text.encode("latin-1")


def _utf8(text: str) -> bytes:
    return text.encode()


def _quoted_text(text: str) -> bytes:
    return _quoted(text.encode())


#: One piece of a template: literal bytes, or (variable name, how to encode its value).
Piece = bytes | tuple[str, Callable[[bytes], bytes]]


def _pieces(
    text: str, encode: Callable[[str], bytes], value: Callable[[bytes], bytes]
) -> list[Piece]:
    return [
        (part.name, value) if isinstance(part, Variable) else encode(part)
        for part in template_parts(text)
    ]


def _render(pieces: tuple[Piece, ...], variables: Mapping[str, bytes]) -> bytes:
    out: list[bytes] = []
    for piece in pieces:
        if isinstance(piece, bytes):
            out.append(piece)
            continue
        name, encode = piece
        value = variables.get(name)
        if value is None:
            raise MissingVariable(name)
        try:
            out.append(encode(value))
        except ValueError as exc:
            raise MissingVariable(name, f"cannot be used: {exc}") from None
    return b"".join(out)


@dataclass(frozen=True, slots=True)
class RequestTemplate:
    """A request's head and body as pieces, rendered per send.

    Build it with :meth:`compile` from the request's spec (already validated as
    a :class:`PreparedRequest`).

    Attributes:
        prepared: the request as prepared before the run (name, method, flags).
        head: the request line and header lines, each ending CRLF, without
            ``Content-Length`` and without the blank line that ends the head.
        body: the body's pieces, or None for no body.
        has_variables: whether any piece is a variable (else only cookies render).
    """

    prepared: PreparedRequest
    head: tuple[Piece, ...]
    body: tuple[Piece, ...] | None
    has_variables: bool

    @classmethod
    def compile(
        cls, spec: RequestSpec, prepared: PreparedRequest, endpoint: Endpoint
    ) -> RequestTemplate:
        """Split ``spec``'s URL path and query, header values and body into pieces."""
        head: list[Piece] = [f"{prepared.method} ".encode("latin-1")]
        head += _pieces(_target_text(spec.url), _quoted_text, _quoted)
        head.append(b" HTTP/1.1\r\n")
        for name, value in _header_lines(spec.headers, endpoint):
            head.append(f"{name}: ".encode("latin-1"))
            head += _pieces(value, _latin1, _header_safe)
            head.append(b"\r\n")
        body = None
        if spec.body is not None:
            body = tuple(_pieces(spec.body, _utf8, _as_is))
        elif prepared.method in _METHODS_WITH_CONTENT:
            body = ()
        pieces = [*head, *(body or ())]
        return cls(
            prepared=prepared,
            head=_merged(head),
            body=None if body is None else _merged(list(body)),
            has_variables=any(not isinstance(piece, bytes) for piece in pieces),
        )

    def render(self, variables: Mapping[str, bytes], cookie: bytes | None) -> PreparedRequest:
        """The request to send now, with ``variables`` filled in and ``cookie`` as ``Cookie``.

        Raises:
            MissingVariable: a placeholder's variable is not set (or holds a
                line break, in a header).
        """
        head = _render(self.head, variables)
        if cookie is not None:
            head += b"Cookie: " + cookie + b"\r\n"
        if self.body is not None:
            body = _render(self.body, variables)
            wire = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        else:
            wire = head + b"\r\n"
        prepared = self.prepared
        return PreparedRequest(
            name=prepared.name,
            method=prepared.method,
            path=prepared.path,
            wire=wire,
            keep_body=prepared.keep_body,
            keep_headers=prepared.keep_headers,
        )


def _target_text(url: str) -> str:
    """The path and query of an absolute URL, as written (the fragment dropped)."""
    rest = url.partition("://")[2]
    slash = rest.find("/")
    question = rest.find("?")
    cut = min(i for i in (slash, question, len(rest)) if i >= 0)
    target = rest[cut:].partition("#")[0]
    path, mark, query = target.partition("?")
    return (path or "/") + (mark + query if query else "")


def _merged(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Adjacent literal pieces joined into one, so rendering joins fewer parts."""
    merged: list[Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if isinstance(piece, bytes) and isinstance(last, bytes):
            merged[-1] = last + piece
        else:
            merged.append(piece)
    return tuple(merged)
