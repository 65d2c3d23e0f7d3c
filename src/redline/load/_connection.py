"""One keep-alive HTTP/1.1 connection: the client hot path.

A :class:`Connection` is an :class:`asyncio.Protocol` driven by callbacks, with
no coroutine, future or timer per request: :meth:`Connection.send` writes the
prepared bytes, ``httptools`` parses what comes back, and the handler is called
once the response is complete. Timeouts are enforced from outside by a
periodic sweep (:class:`redline.load._timeouts.TimeoutSweeper`), which reads
:attr:`Connection.sent_at_ns`.

Glossary:

- **in flight**: a request has been sent and its handler not yet called. At
  most one request is in flight per connection (no pipelining).
- **reused**: the connection has completed at least one response before
  (:attr:`Connection.requests_done` > 0). A reused connection that the server
  closes (FIN or RST) before the first byte of a response is the keep-alive
  race (RFC 9112 §9.3.1): it is reported as :attr:`ErrorKind.CLOSED` with
  "reused keep-alive connection" in the detail, and the caller decides
  whether to retry.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import re
import socket
import ssl
from collections.abc import Callable

import httptools

from redline.load._wire import ConnectFailed, Endpoint, ErrorKind, PreparedRequest, ResponseHandler

__all__ = ["Connection", "open_connection"]

#: The end of a response head (RFC 9112 §2.1).
_HEAD_END = b"\r\n\r\n"

#: How interim (1xx) response heads start.
_INTERIM_PREFIXES = frozenset({b"HTTP/1.1 1", b"HTTP/1.0 1"})

#: Finds the errno values in asyncio's "Multiple exceptions: ..." message, raised
#: when every address of a host name failed (Python 3.11 has no ``all_errors``).
_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")


# How far the response in flight has been parsed: bit flags in ``_state``, 0
# while the head is still arriving (its bytes are then kept for
# ``_has_no_length``). Plain ints, not an Enum: an Enum member lookup costs
# ~0.2 µs in Python 3.11, and these are read several times per request.
#: The head is complete; the body (if any) is arriving.
_HEAD_SEEN = 1
#: The response is complete; the handler is called once parsing stops. Sticky:
#: a second response in the same read (a server answering twice) cannot undo it.
_DONE = 2


class _ParseMode(enum.IntEnum):
    """Which parser a request needs: each has only the callbacks its mode uses."""

    #: The common case: the body is counted, not kept (no ``on_body`` callback).
    PLAIN = 0
    #: The body is kept for the handler.
    KEEP_BODY = 1
    #: A HEAD request: the response ends with its head.
    HEAD_ONLY = 2
    #: The header fields and the body are kept (header and cookie extraction, cookies).
    KEEP_HEADERS = 3
    #: A HEAD request whose header fields are kept.
    HEAD_KEEP_HEADERS = 4


#: The modes whose response ends with its head.
_HEAD_MODES = frozenset({_ParseMode.HEAD_ONLY, _ParseMode.HEAD_KEEP_HEADERS})
#: The modes that keep the header fields.
_HEADER_MODES = frozenset({_ParseMode.KEEP_HEADERS, _ParseMode.HEAD_KEEP_HEADERS})


class _HeadResponseEnd(Exception):
    """Raised from a parser callback to stop parsing after a HEAD response's head."""


class _ParserHooks:
    """The callbacks ``httptools`` looks up once, when a parser is made.

    A separate object, so the parser sees only the callbacks the connection
    needs (``httptools`` skips the ones that are missing) and the connection
    does not expose ``on_*`` methods of its own.
    """

    __slots__ = ("on_body", "on_header", "on_headers_complete", "on_message_complete")

    on_body: Callable[[bytes], None]
    on_header: Callable[[bytes, bytes], None]
    on_headers_complete: Callable[[], None]
    on_message_complete: Callable[[], None]


class Connection(asyncio.Protocol):
    """A keep-alive HTTP/1.1 client connection with one request in flight at a time.

    Made by :func:`open_connection`. The caller sends a request with
    :meth:`send`; the handler gets ``on_response`` or ``on_error`` exactly once.
    After ``on_response``, check :attr:`is_open`: the server may have asked to
    close (``Connection: close``, HTTP/1.0), and the caller then opens a new
    connection.

    Counters (:attr:`bytes_in`, :attr:`bytes_out`, :attr:`requests_done`) cover
    the connection's whole life.
    """

    # The hot path is send() -> data_received() -> _complete(): a handful of
    # attribute writes and three parser callbacks per request. Everything else
    # (HEAD, kept bodies, errors, bodies read until close) is off to the side.
    __slots__ = (
        "_body",
        "_bytes_in",
        "_bytes_in_at_send",
        "_bytes_out",
        "_closed_waiter",
        "_handler",
        "_head",
        "_headers",
        "_keep_alive",
        "_lost",
        "_open",
        "_parser",
        "_parsers",
        "_plain_parser",
        "_requests_done",
        "_sent_at_ns",
        "_state",
        "_status",
        "_transport",
    )

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._open = False
        self._lost = False
        self._closed_waiter: asyncio.Future[None] | None = None
        self._handler: ResponseHandler | None = None
        self._sent_at_ns = 0
        self._bytes_in = 0
        self._bytes_out = 0
        self._requests_done = 0
        # One parser per _ParseMode, made on first use; the parser of the
        # request in flight is _parser, and the common one has a fast path.
        self._parsers: list[httptools.HttpResponseParser | None] = [None] * len(_ParseMode)
        self._plain_parser = self._parser_for(_ParseMode.PLAIN)
        self._parser = self._plain_parser
        # The response in flight.
        self._state = 0
        self._bytes_in_at_send = 0
        self._head = b""
        self._body: list[bytes] | None = None
        self._headers: list[tuple[bytes, bytes]] | None = None
        self._status = 0
        self._keep_alive = True

    # -- the caller's side -------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the connection can take another request once idle."""
        return self._open

    @property
    def in_flight(self) -> bool:
        """Whether a request is waiting for its response."""
        return self._handler is not None

    @property
    def sent_at_ns(self) -> int:
        """The ``now_ns`` given to the last :meth:`send`."""
        return self._sent_at_ns

    @property
    def bytes_in(self) -> int:
        """Bytes received over the connection's life (after TLS decryption)."""
        return self._bytes_in

    @property
    def bytes_out(self) -> int:
        """Bytes sent over the connection's life (before TLS encryption)."""
        return self._bytes_out

    @property
    def response_headers(self) -> list[tuple[bytes, bytes]] | None:
        """The header fields of the last response, as (name, value) pairs in order.

        Kept only for a request with ``keep_headers`` (else None, or stale):
        read it in the handler's ``on_response``, before the next :meth:`send`.
        """
        return self._headers

    @property
    def requests_done(self) -> int:
        """Complete responses received over the connection's life."""
        return self._requests_done

    def send(self, request: PreparedRequest, handler: ResponseHandler, now_ns: int) -> None:
        """Send ``request``; ``handler`` gets its outcome.

        Args:
            request: the prepared request; its bytes are written unchanged.
            handler: called once with the response or the error.
            now_ns: the clock's time now, kept for the timeout sweep.

        Raises:
            RuntimeError: the connection is not open or a request is already in
                flight (a bug in the caller, not in the target).
        """
        if self._handler is not None or not self._open:
            raise RuntimeError(
                "Connection.send() needs an open, idle connection "
                f"(is_open={self._open}, in_flight={self._handler is not None})"
            )
        self._handler = handler
        self._sent_at_ns = now_ns
        if request.special:
            self._prepare_special(request)
        else:
            self._parser = self._plain_parser
        self._state = 0
        self._head = b""
        self._bytes_in_at_send = self._bytes_in
        wire = request.wire
        self._bytes_out += len(wire)
        self._transport.write(wire)  # type: ignore[union-attr]  # open implies a transport

    def abort(self, kind: ErrorKind, detail: str) -> None:
        """Fail the request in flight with ``kind`` and drop the connection at once.

        The timeout sweep calls this with :attr:`ErrorKind.TIMEOUT`. Without a
        request in flight it only drops the connection.

        Args:
            kind: the error the handler receives.
            detail: one line for humans.
        """
        self._fail(kind, detail)

    def close(self) -> None:
        """Close the connection; a request in flight is abandoned without a callback."""
        self._handler = None
        self._open = False
        if self._transport is not None:
            self._transport.close()

    async def wait_closed(self) -> None:
        """Wait until the transport is gone: after :meth:`close`, an abort, or the server's close.

        Closing a TLS connection takes a few round trips (``close_notify``);
        await this before the event loop ends so no socket is left behind.
        Only for connections made by :func:`open_connection`.
        """
        if self._lost:
            return
        if self._closed_waiter is None or self._closed_waiter.done():  # done: cancelled
            self._closed_waiter = asyncio.get_running_loop().create_future()
        await self._closed_waiter

    # -- asyncio.Protocol --------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Called by asyncio: the connection (and its TLS handshake) is up."""
        self._transport = transport  # type: ignore[assignment]  # always a stream transport
        self._open = True
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Each request is one write and we wait for its answer: Nagle's
            # delay would only add latency (asyncio sets it too; uvloop may not).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        """Called by asyncio with bytes from the server."""
        self._bytes_in += len(data)
        if self._handler is None:
            # Bytes nobody asked for (for example a 408 on an idle connection):
            # the stream can no longer be trusted.
            self._drop()
            return
        if not self._state:
            self._head += data
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ErrorKind.PROTOCOL, "the server switched protocols (101); not supported")
            return
        except httptools.HttpParserError as exc:
            if not self._state & _DONE:
                self._fail(ErrorKind.PROTOCOL, _protocol_detail(exc, self._head))
                return
            self._after_stopped_parse()
        if self._state & _DONE:
            self._complete()

    def eof_received(self) -> None:
        """Called by asyncio when the server half-closes; the transport then closes."""
        self._open = False

    def connection_lost(self, exc: Exception | None) -> None:
        """Called by asyncio when the connection is gone; fails the request in flight."""
        self._open = False
        self._transport = None
        self._lost = True
        waiter = self._closed_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._handler is None:
            return
        if exc is None and self._ends_at_close():
            # A body delimited by the end of the connection (RFC 9112 §6.3 rule 8).
            self._status = self._parser.get_status_code()
            self._keep_alive = False
            self._complete()
            return
        kind, detail = self._loss_reason(exc)
        self._fail(kind, detail)

    # -- parser callbacks --------------------------------------------------

    def _on_headers_complete(self) -> None:
        if self._state:
            # A second head after a complete response: the server answered
            # twice, and the stream cannot be trusted past this response.
            self._keep_alive = False
        self._state |= _HEAD_SEEN

    def _on_head_only_headers_complete(self) -> None:
        self._state |= _HEAD_SEEN
        parser = self._parser
        status = parser.get_status_code()
        if status >= 200:
            # A HEAD response ends with its head whatever Content-Length says
            # (RFC 9110 §9.3.2); the parser cannot know, so stop it here.
            self._status = status
            self._keep_alive = parser.should_keep_alive()
            self._state |= _DONE
            raise _HeadResponseEnd

    def _on_header(self, name: bytes, value: bytes) -> None:
        if not self._state & _DONE:  # not a header of a second response
            self._headers.append((name, value))  # type: ignore[union-attr]  # this parser has a list

    def _on_body(self, body: bytes) -> None:
        if not self._state & _DONE:  # not the body of a second response
            self._body.append(body)  # type: ignore[union-attr]  # this parser runs with a list

    def _on_message_complete(self) -> None:
        if self._state & _DONE:
            self._keep_alive = False  # a second response: see _on_headers_complete
            return
        parser = self._parser
        status = parser.get_status_code()
        if status < 200:
            # An interim 1xx response; the final one follows (RFC 9110 §15.2).
            self._state = 0
            if self._body:
                self._body.clear()
            if self._headers:
                self._headers.clear()
            return
        self._status = status
        self._keep_alive = parser.should_keep_alive()
        self._state = _HEAD_SEEN | _DONE

    # -- internals ---------------------------------------------------------

    def _complete(self) -> None:
        handler = self._handler
        self._handler = None
        self._requests_done += 1
        kept = self._body
        body = None
        if kept is not None:
            body = b"".join(kept)
            self._body = None
        if not self._keep_alive and self._open:
            self._open = False
            self._transport.close()  # type: ignore[union-attr]  # open implies a transport
        handler.on_response(  # type: ignore[union-attr]  # DONE implies a handler
            self._status, body, self._bytes_in - self._bytes_in_at_send
        )

    def _fail(self, kind: ErrorKind, detail: str) -> None:
        handler = self._handler
        self._handler = None
        self._body = None
        self._drop()
        if handler is not None:
            handler.on_error(kind, detail)

    def _drop(self) -> None:
        self._open = False
        if self._transport is not None:
            self._transport.abort()

    def _prepare_special(self, request: PreparedRequest) -> None:
        if request.keep_headers:
            mode = _ParseMode.HEAD_KEEP_HEADERS if request.head_only else _ParseMode.KEEP_HEADERS
            self._headers = []
        else:
            mode = _ParseMode.HEAD_ONLY if request.head_only else _ParseMode.KEEP_BODY
        self._parser = self._parser_for(mode)
        # The header mode's parser has on_body too: it always keeps the body.
        self._body = [] if request.keep_body or mode is _ParseMode.KEEP_HEADERS else None

    def _parser_for(self, mode: _ParseMode) -> httptools.HttpResponseParser:
        parser = self._parsers[mode]
        if parser is None:
            # httptools looks the callbacks up once, here, and skips missing ones.
            hooks = _ParserHooks()
            hooks.on_message_complete = self._on_message_complete
            if mode in _HEAD_MODES:
                hooks.on_headers_complete = self._on_head_only_headers_complete
            else:
                hooks.on_headers_complete = self._on_headers_complete
            if mode in (_ParseMode.KEEP_BODY, _ParseMode.KEEP_HEADERS):
                hooks.on_body = self._on_body
            if mode in _HEADER_MODES:
                hooks.on_header = self._on_header
            parser = httptools.HttpResponseParser(hooks)
            self._parsers[mode] = parser
        return parser

    def _after_stopped_parse(self) -> None:
        """The response is complete but the parser stopped with an error after it.

        Either a HEAD response was cut at its head on purpose, or junk followed
        the response; the parser is unusable either way and is replaced. Junk
        also means the stream cannot be trusted, so the connection closes.
        """
        mode = _ParseMode(self._parsers.index(self._parser))
        self._parsers[mode] = None
        if mode is _ParseMode.PLAIN:
            self._plain_parser = self._parser_for(mode)
        if mode not in _HEAD_MODES:
            self._keep_alive = False

    def _ends_at_close(self) -> bool:
        """Whether the response in flight has a complete head and a body read until close."""
        if self._state != _HEAD_SEEN:
            return False
        if self._parser.should_keep_alive():
            # A length-delimited body on a keep-alive connection: it is truncated.
            return False
        return _has_no_length(self._head)

    def _loss_reason(self, exc: Exception | None) -> tuple[ErrorKind, str]:
        received = self._bytes_in - self._bytes_in_at_send
        race = not received and self._requests_done > 0
        if exc is not None:
            kind = _error_kind_of(exc)
            if race and kind is ErrorKind.RESET:
                # The keep-alive race again: a server closing an idle connection
                # with our request unread in its buffer sends RST, not FIN.
                return ErrorKind.CLOSED, (
                    "the server reset a reused keep-alive connection before responding "
                    f"(after {self._requests_done} responses): {_describe(exc)}"
                )
            # ETIMEDOUT after the handshake is the kernel giving up on the peer,
            # not a connect timeout: keep its errno text under OTHER.
            if kind is ErrorKind.CONNECT_TIMEOUT:
                kind = ErrorKind.OTHER
            return kind, _describe(exc)
        if received:
            return ErrorKind.CLOSED, (
                f"the server closed the connection after {received} bytes of an incomplete response"
            )
        if race:
            return ErrorKind.CLOSED, (
                "the server closed a reused keep-alive connection before responding "
                f"(after {self._requests_done} responses)"
            )
        return ErrorKind.CLOSED, "the server closed the connection before responding"


async def open_connection(
    endpoint: Endpoint,
    *,
    timeout_s: float,
    local_addr: tuple[str, int] | None = None,
) -> Connection:
    """Open a connection to ``endpoint`` (TCP, then TLS for ``https``).

    Example::

        endpoint = Endpoint.from_url("http://127.0.0.1:8080")
        connection = await open_connection(endpoint, timeout_s=5.0)

    Args:
        endpoint: where to connect.
        timeout_s: the limit for TCP connect and TLS handshake together.
        local_addr: the local address to bind, for spreading connections over
            several source addresses.

    Returns:
        An open, idle connection.

    Raises:
        ConnectFailed: with the :class:`ErrorKind` of the failure.
    """
    loop = asyncio.get_running_loop()
    tls = endpoint.ssl
    try:
        async with asyncio.timeout(timeout_s):
            _, connection = await loop.create_connection(
                Connection,
                endpoint.host,
                endpoint.port,
                ssl=tls,
                server_hostname=endpoint.host if tls is not None else None,
                local_addr=local_addr,
            )
    except TimeoutError as exc:
        if exc.errno is None:  # asyncio.timeout expired, not the kernel's ETIMEDOUT
            raise ConnectFailed(
                ErrorKind.CONNECT_TIMEOUT,
                f"no connection to {endpoint.origin} within {timeout_s:g} s",
            ) from None
        raise ConnectFailed(ErrorKind.CONNECT_TIMEOUT, _describe(exc)) from None
    except OSError as exc:  # includes ssl.SSLError
        kind = _error_kind_of(exc)
        raise ConnectFailed(kind, f"{endpoint.origin}: {_describe(exc)}") from None
    return connection


def _error_kind_of(exc: BaseException) -> ErrorKind:
    """Map an exception from a socket or TLS operation to an :class:`ErrorKind`.

    Args:
        exc: the exception, usually an :class:`OSError`.

    Returns:
        The kind; :attr:`ErrorKind.OTHER` for anything unrecognised.
    """
    if isinstance(exc, ssl.SSLError):
        return ErrorKind.TLS
    if isinstance(exc, ConnectionRefusedError):
        return ErrorKind.REFUSED
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return ErrorKind.RESET
    if isinstance(exc, TimeoutError):
        return ErrorKind.CONNECT_TIMEOUT
    if isinstance(exc, OSError) and exc.errno is None:
        found = {int(number) for number in _ERRNO_IN_TEXT.findall(str(exc))}
        if found == {errno.ECONNREFUSED}:
            return ErrorKind.REFUSED
    return ErrorKind.OTHER


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _protocol_detail(exc: Exception, head: bytes) -> str:
    return f"invalid HTTP response ({exc}); first bytes: {head[:40]!r}"


def _has_no_length(head: bytes) -> bool:
    """Whether the final response head in ``head`` has no Content-Length or Transfer-Encoding.

    ``head`` is every byte received for the response up to the end of its head:
    interim 1xx heads first, then the final head, then perhaps some body.
    """
    start = 0
    end = head.find(_HEAD_END)
    while end >= 0 and head[start : start + 10] in _INTERIM_PREFIXES:
        start = end + len(_HEAD_END)
        end = head.find(_HEAD_END, start)
    lines = head[start : end if end >= 0 else len(head)].split(b"\r\n")[1:]
    names = {line.partition(b":")[0].strip().lower() for line in lines}
    return not names & {b"content-length", b"transfer-encoding"}
