"""Connection on an in-memory transport: byte streams in, handler calls out.

No sockets and no event loop: the test plays asyncio's part, calling
``data_received`` and ``connection_lost`` with the bytes and endings it wants.
"""

from __future__ import annotations

import errno
import ssl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.load._connection import _error_kind_of
from redline.load._http import Connection, Endpoint, ErrorKind, PreparedRequest
from tests.unit.load.http_fakes import FakeTransport, Recorder, connected

ENDPOINT = Endpoint.from_url("http://127.0.0.1:8080/")

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nhel\r\n2;ext=1\r\nlo\r\n0\r\nTrailer: x\r\n\r\n"
)
CLOSE = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
HTTP10 = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
HTTP10_KEEP_ALIVE = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
UNTIL_CLOSE = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nread until close"


def prepared(method: str = "GET", *, keep_body: bool = False) -> PreparedRequest:
    return PreparedRequest.build(
        name="r", method=method, url="/", headers=None, body=None, endpoint=ENDPOINT,
        keep_body=keep_body,
    )  # fmt: skip


GET = prepared()
GET_BODY = prepared(keep_body=True)
HEAD = prepared("HEAD")


def exchange(
    response_pieces: list[bytes], request: PreparedRequest = GET
) -> tuple[Connection, FakeTransport, Recorder]:
    connection, transport = connected()
    recorder = Recorder(connection)
    connection.send(request, recorder, now_ns=123)
    for piece in response_pieces:
        connection.data_received(piece)
    return connection, transport, recorder


# -- complete responses ---------------------------------------------------------


def test_content_length_response() -> None:
    connection, transport, recorder = exchange([OK])
    assert recorder.only == ("response", 200, None, len(OK))
    assert transport.written == [GET.wire]
    assert connection.is_open and not connection.in_flight
    assert (connection.bytes_out, connection.bytes_in, connection.requests_done) == (
        len(GET.wire),
        len(OK),
        1,
    )
    assert connection.sent_at_ns == 123
    assert not transport.closed


def test_kept_body_is_handed_over() -> None:
    _, _, recorder = exchange([OK], GET_BODY)
    assert recorder.only == ("response", 200, b"hello", len(OK))


def test_chunked_body_is_decoded() -> None:
    connection, _, recorder = exchange([CHUNKED], GET_BODY)
    assert recorder.only == ("response", 200, b"hello", len(CHUNKED))
    assert connection.is_open


@pytest.mark.parametrize(
    "response", [OK, CHUNKED, CLOSE, HTTP10], ids=["cl", "chunked", "close", "1.0"]
)
def test_every_split_point_gives_the_same_result(response: bytes) -> None:
    _, _, whole = exchange([response], GET_BODY)
    for cut in range(1, len(response)):
        _, _, split = exchange([response[:cut], response[cut:]], GET_BODY)
        assert split.calls == whole.calls, cut


def test_byte_at_a_time() -> None:
    _, _, recorder = exchange([bytes([byte]) for byte in CHUNKED], GET_BODY)
    assert recorder.only == ("response", 200, b"hello", len(CHUNKED))


@given(cuts=st.lists(st.integers(min_value=1, max_value=len(CHUNKED) - 1), max_size=12))
def test_any_split_of_chunked(cuts: list[int]) -> None:
    bounds = [0, *sorted(set(cuts)), len(CHUNKED)]
    pieces = [CHUNKED[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]
    _, _, recorder = exchange(pieces, GET_BODY)
    assert recorder.only == ("response", 200, b"hello", len(CHUNKED))


def test_keep_alive_reuse_with_mixed_requests() -> None:
    connection, transport = connected()
    recorder = Recorder()
    script = [
        (GET, OK),
        (GET_BODY, CHUNKED),
        (HEAD, b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
    ]
    for request, response in script * 3:
        connection.send(request, recorder, now_ns=0)
        connection.data_received(response)
    assert [call[:3] for call in recorder.calls] == [
        ("response", 200, None),
        ("response", 200, b"hello"),
        ("response", 200, None),
    ] * 3
    assert connection.is_open and connection.requests_done == 9
    assert len(transport.written) == 9


def test_handler_may_send_the_next_request_from_on_response() -> None:
    connection, transport = connected()

    class Again(Recorder):
        def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
            super().on_response(status, body, bytes_in)
            if len(self.calls) < 3:
                connection.send(GET, self, now_ns=0)

    handler = Again()
    connection.send(GET, handler, now_ns=0)
    for _ in range(3):
        connection.data_received(OK)
    assert len(handler.calls) == 3 and len(transport.written) == 3


def test_interim_responses_are_skipped() -> None:
    response = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK
    _, _, recorder = exchange([response], GET_BODY)
    assert recorder.only == ("response", 200, b"hello", len(response))


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_statuses(status: int) -> None:
    connection, _, recorder = exchange([f"HTTP/1.1 {status} X\r\n\r\n".encode()], GET_BODY)
    assert recorder.only[:3] == ("response", status, b"")
    assert connection.is_open


def test_head_response_ends_at_its_head_and_the_connection_is_reused() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    connection, _, recorder = exchange([head], HEAD)
    assert recorder.only == ("response", 200, None, len(head))
    assert connection.is_open
    second = Recorder()
    connection.send(GET, second, now_ns=0)
    connection.data_received(OK)
    assert second.only == ("response", 200, None, len(OK))


def test_head_with_kept_body_gets_an_empty_body() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    _, _, recorder = exchange([head], prepared("HEAD", keep_body=True))
    assert recorder.only == ("response", 200, b"", len(head))


# -- the server ends the connection ------------------------------------------------


@pytest.mark.parametrize("response", [CLOSE, HTTP10], ids=["connection-close", "http-1.0"])
def test_server_asks_to_close(response: bytes) -> None:
    connection, transport, recorder = exchange([response])
    assert recorder.only[0] == "response"
    assert recorder.open_when_called == [False]
    assert transport.closed and not connection.is_open
    connection.connection_lost(None)
    assert len(recorder.calls) == 1


def test_http10_keep_alive_stays_open() -> None:
    connection, transport, recorder = exchange([HTTP10_KEEP_ALIVE])
    assert recorder.only[0] == "response"
    assert connection.is_open and not transport.closed


def test_body_read_until_close() -> None:
    connection, _, recorder = exchange([UNTIL_CLOSE[:40], UNTIL_CLOSE[40:]], GET_BODY)
    assert recorder.calls == []
    connection.connection_lost(None)
    assert recorder.only == ("response", 200, b"read until close", len(UNTIL_CLOSE))
    assert not connection.is_open and connection.requests_done == 1


def test_body_read_until_close_after_interim_response() -> None:
    response = b"HTTP/1.1 100 Continue\r\n\r\n" + UNTIL_CLOSE
    connection, _, recorder = exchange([response], GET_BODY)
    connection.connection_lost(None)
    assert recorder.only[:3] == ("response", 200, b"read until close")


@pytest.mark.parametrize(
    "partial",
    [
        OK[:-2],  # keep-alive, Content-Length
        CLOSE[:-1],  # Connection: close, Content-Length
        CHUNKED[:-5],  # chunked
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhe",
        OK[:20],  # inside the head
    ],
)
def test_close_mid_response_is_closed(partial: bytes) -> None:
    connection, _, recorder = exchange([partial])
    connection.connection_lost(None)
    kind, detail = recorder.only[1:]
    assert kind is ErrorKind.CLOSED
    assert f"after {len(partial)} bytes of an incomplete response" in detail
    assert connection.requests_done == 0


def test_close_before_any_byte() -> None:
    connection, _, recorder = exchange([])
    connection.connection_lost(None)
    assert recorder.only == (
        "error",
        ErrorKind.CLOSED,
        "the server closed the connection before responding",
    )


def test_keep_alive_race_on_a_reused_connection_is_closed_and_says_so() -> None:
    connection, _, first = exchange([OK])
    second = Recorder()
    connection.send(GET, second, now_ns=0)
    connection.eof_received()
    assert not connection.is_open
    connection.connection_lost(None)
    kind, detail = second.only[1:]
    assert kind is ErrorKind.CLOSED
    assert "reused keep-alive connection before responding (after 1 responses)" in detail


def test_reset_on_a_reused_connection_before_any_byte_is_the_keep_alive_race() -> None:
    connection, _, _ = exchange([OK])
    second = Recorder()
    connection.send(GET, second, now_ns=0)
    connection.connection_lost(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"))
    kind, detail = second.only[1:]
    assert kind is ErrorKind.CLOSED
    assert detail.startswith("the server reset a reused keep-alive connection before responding")
    assert "ConnectionResetError" in detail


def test_reset_mid_response_on_a_reused_connection_is_a_reset() -> None:
    connection, _, _ = exchange([OK])
    second = Recorder()
    connection.send(GET, second, now_ns=0)
    connection.data_received(OK[:5])
    connection.connection_lost(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"))
    assert second.only[1] is ErrorKind.RESET


@pytest.mark.parametrize(
    ("exc", "kind", "text"),
    [
        (
            ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
            ErrorKind.RESET,
            "reset",
        ),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), ErrorKind.RESET, "Broken pipe"),
        (
            ssl.SSLError(1, "[SSL: DECRYPTION_FAILED] bad record"),
            ErrorKind.TLS,
            "DECRYPTION_FAILED",
        ),
        (OSError(errno.EHOSTUNREACH, "No route to host"), ErrorKind.OTHER, "[Errno 113] No route"),
        (TimeoutError(errno.ETIMEDOUT, "Connection timed out"), ErrorKind.OTHER, "timed out"),
    ],
)
def test_connection_lost_with_an_error(exc: Exception, kind: ErrorKind, text: str) -> None:
    connection, _, recorder = exchange([OK[:10]])
    connection.connection_lost(exc)
    assert recorder.only[1] is kind
    assert text in recorder.only[2]
    assert not connection.is_open


# -- garbage and misuse -----------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        b"SPLAT\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello to a plain client
    ],
)
def test_garbage_is_a_protocol_error_and_drops_the_connection(garbage: bytes) -> None:
    connection, transport, recorder = exchange([garbage])
    kind, detail = recorder.only[1:]
    assert kind is ErrorKind.PROTOCOL
    assert detail.startswith("invalid HTTP response (")
    assert transport.aborted and not connection.is_open
    connection.data_received(b"more junk")  # no handler: ignored
    connection.connection_lost(None)
    assert len(recorder.calls) == 1


def test_protocol_switch_is_a_protocol_error() -> None:
    response = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )
    _, transport, recorder = exchange([response])
    assert recorder.only[1] is ErrorKind.PROTOCOL
    assert "101" in recorder.only[2]
    assert transport.aborted


def test_junk_after_a_complete_response_closes_the_connection() -> None:
    connection, transport, recorder = exchange([OK + b"JUNK\r\n\r\n"])
    assert recorder.only == ("response", 200, None, len(OK) + len(b"JUNK\r\n\r\n"))
    assert transport.closed and not connection.is_open


def test_bytes_on_an_idle_connection_drop_it() -> None:
    connection, transport, recorder = exchange([OK])
    connection.data_received(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert len(recorder.calls) == 1
    assert transport.aborted and not connection.is_open


def test_send_needs_an_open_idle_connection() -> None:
    connection, _ = connected()
    connection.send(GET, Recorder(), now_ns=0)
    with pytest.raises(
        RuntimeError, match=r"open, idle connection \(is_open=True, in_flight=True\)"
    ):
        connection.send(GET, Recorder(), now_ns=0)
    connection.close()
    with pytest.raises(RuntimeError, match=r"is_open=False, in_flight=False"):
        connection.send(GET, Recorder(), now_ns=0)
    with pytest.raises(RuntimeError, match="is_open=False"):
        Connection().send(GET, Recorder(), now_ns=0)


def test_abort_fails_the_request_once() -> None:
    connection, transport, recorder = exchange([OK[:10]])
    connection.abort(ErrorKind.TIMEOUT, "too slow")
    assert recorder.only == ("error", ErrorKind.TIMEOUT, "too slow")
    assert transport.aborted and not connection.in_flight and not connection.is_open
    connection.connection_lost(None)
    connection.abort(ErrorKind.TIMEOUT, "again")
    assert len(recorder.calls) == 1


def test_close_abandons_the_request_without_a_callback() -> None:
    connection, transport, recorder = exchange([OK[:10]])
    connection.close()
    connection.connection_lost(None)
    assert recorder.calls == []
    assert transport.closed and not connection.is_open


def test_part_of_a_second_response_in_the_same_read_fails_the_next_request() -> None:
    connection, _, recorder = exchange([OK + CLOSE[:30]])
    assert recorder.only == ("response", 200, None, len(OK) + 30)
    # The stray bytes are only noticed when the next response cannot follow them.
    following = Recorder()
    connection.send(GET, following, now_ns=0)
    connection.data_received(OK)
    assert following.only[1] is ErrorKind.PROTOCOL
    assert not connection.is_open


def test_two_whole_responses_in_one_read_deliver_the_first() -> None:
    connection, transport, recorder = exchange([OK + CHUNKED], GET_BODY)
    assert recorder.only == ("response", 200, b"hello", len(OK) + len(CHUNKED))
    assert transport.closed and not connection.is_open


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), ErrorKind.REFUSED),
        (
            OSError(
                "Multiple exceptions: [Errno 111] Connect call failed ('::1', 8080, 0, 0), "
                "[Errno 111] Connect call failed ('127.0.0.1', 8080)"
            ),
            ErrorKind.REFUSED,
        ),
        (
            OSError(
                "Multiple exceptions: [Errno 99] Cannot assign requested address, "
                "[Errno 111] Connect call failed ('127.0.0.1', 8080)"
            ),
            ErrorKind.OTHER,
        ),
        (TimeoutError(), ErrorKind.CONNECT_TIMEOUT),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), ErrorKind.TLS),
        (ConnectionAbortedError(errno.ECONNABORTED, "aborted"), ErrorKind.RESET),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), ErrorKind.OTHER),
        (ValueError("not an OSError"), ErrorKind.OTHER),
    ],
)
def test_error_kind_of(exc: BaseException, kind: ErrorKind) -> None:
    assert _error_kind_of(exc) is kind
