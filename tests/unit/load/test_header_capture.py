"""Response header capture on the connection, and templates rendered to the same bytes."""

from __future__ import annotations

import pytest

from redline.load._http import Endpoint, PreparedRequest
from redline.load._template import MissingVariable, RequestTemplate
from redline.plan import plan_from_mapping
from tests.unit.load.http_fakes import Recorder, connected

ENDPOINT = Endpoint.from_url("http://127.0.0.1:9")
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nok"


def request(*, keep_headers: bool = False, method: str = "GET") -> PreparedRequest:
    return PreparedRequest.build(
        name="r",
        method=method,
        url="/",
        headers=None,
        body=None,
        endpoint=ENDPOINT,
        keep_headers=keep_headers,
    )


def test_headers_are_kept_in_order_for_requests_that_ask() -> None:
    connection, _ = connected()
    handler = Recorder()
    connection.send(request(keep_headers=True), handler, 0)
    for byte in range(len(RESPONSE)):  # split anywhere, one byte at a time
        connection.data_received(RESPONSE[byte : byte + 1])
    assert handler.only == ("response", 200, b"ok", len(RESPONSE))
    assert connection.response_headers == [
        (b"Content-Length", b"2"),
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"b=2"),
    ]


def test_plain_requests_keep_no_headers_and_no_body() -> None:
    connection, _ = connected()
    handler = Recorder()
    connection.send(request(), handler, 0)
    connection.data_received(RESPONSE)
    assert handler.only == ("response", 200, None, len(RESPONSE))
    assert connection.response_headers is None


def test_interim_response_headers_are_dropped() -> None:
    connection, _ = connected()
    handler = Recorder()
    connection.send(request(keep_headers=True), handler, 0)
    connection.data_received(b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" + RESPONSE)
    assert handler.only[1] == 200
    assert [name for name, _ in connection.response_headers or []] == [
        b"Content-Length",
        b"Set-Cookie",
        b"Set-Cookie",
    ]


def test_head_requests_can_keep_headers() -> None:
    connection, _ = connected()
    handler = Recorder()
    connection.send(request(keep_headers=True, method="HEAD"), handler, 0)
    connection.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nETag: x\r\n\r\n")
    assert handler.only[:2] == ("response", 200)
    assert connection.response_headers == [(b"Content-Length", b"99"), (b"ETag", b"x")]
    assert connection.is_open


def _template(**spec: object) -> tuple[RequestTemplate, PreparedRequest]:
    plan = plan_from_mapping(
        {"base_url": "http://127.0.0.1:9", "requests": [{"name": "r", **spec}]}
    )
    spec_ = plan.requests[0]
    prepared = PreparedRequest.build(
        name="r",
        method=spec_.method,
        url=spec_.url,
        headers=spec_.headers,
        body=spec_.body.encode() if spec_.body is not None else None,
        endpoint=ENDPOINT,
    )
    return RequestTemplate.compile(spec_, prepared, ENDPOINT), prepared


def test_a_rendered_template_is_what_build_makes_of_the_same_text() -> None:
    template, _ = _template(
        method="POST",
        url="/u/${id}/cart?x=${id}",
        headers={"Authorization": "Bearer ${token}", "Accept": "text/plain"},
        body='{"id": ${id}}',
    )
    filled, expected = _template(
        method="POST",
        url="/u/42/cart?x=42",
        headers={"Authorization": "Bearer abc", "Accept": "text/plain"},
        body='{"id": 42}',
    )
    assert template.has_variables and not filled.has_variables
    rendered = template.render({"id": b"42", "token": b"abc"}, None)
    assert rendered.wire == expected.wire


def test_without_variables_a_template_renders_the_prepared_bytes_plus_cookie() -> None:
    template, prepared = _template(url="/plain")
    assert template.render({}, None).wire == prepared.wire
    with_cookie = template.render({}, b"sid=1")
    assert with_cookie.wire == prepared.wire[:-2] + b"Cookie: sid=1\r\n\r\n"


def test_a_missing_variable_names_it() -> None:
    template, _ = _template(url="/u/${id}")
    with pytest.raises(MissingVariable, match=r"^\$\{id\} is not set$"):
        template.render({}, None)
