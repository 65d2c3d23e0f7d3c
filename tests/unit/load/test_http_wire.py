"""Endpoints and prepared requests: URL parsing and the exact bytes on the wire."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.load._http import USER_AGENT, Endpoint, ErrorKind, PreparedRequest

HTTP = Endpoint.from_url("http://127.0.0.1:8080/ignored?path=yes")


def build(
    method: str = "GET",
    url: str = "/",
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    endpoint: Endpoint = HTTP,
) -> PreparedRequest:
    return PreparedRequest.build(
        name="r", method=method, url=url, headers=headers, body=body, endpoint=endpoint
    )


# -- Endpoint.from_url ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "host_header"),
    [
        ("http://example.test/", "http", "example.test", 80, "example.test"),
        ("https://example.test", "https", "example.test", 443, "example.test"),
        ("HTTP://Example.test:8080/x", "http", "example.test", 8080, "example.test:8080"),
        ("http://127.0.0.1:80/", "http", "127.0.0.1", 80, "127.0.0.1"),
        ("https://127.0.0.1:8443/", "https", "127.0.0.1", 8443, "127.0.0.1:8443"),
        ("http://[::1]:8080/", "http", "::1", 8080, "[::1]:8080"),
        ("http://[::1]/", "http", "::1", 80, "[::1]"),
    ],
)
def test_from_url_parses_origin(
    url: str, scheme: str, host: str, port: int, host_header: str
) -> None:
    endpoint = Endpoint.from_url(url)
    assert (endpoint.scheme, endpoint.host, endpoint.port) == (scheme, host, port)
    assert endpoint.host_header == host_header
    assert (endpoint.ssl is not None) == (scheme == "https")
    assert endpoint.origin == f"{scheme}://{host_header}"


def test_https_verifies_by_default() -> None:
    context = Endpoint.from_url("https://127.0.0.1/").ssl
    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


def test_https_without_verification() -> None:
    context = Endpoint.from_url("https://127.0.0.1/", verify_tls=False).ssl
    assert context is not None
    assert context.verify_mode is ssl.CERT_NONE
    assert not context.check_hostname


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("ftp://example.test/", r"url must start with http:// or https://, got 'ftp://"),
        ("example.test:8080", r"url must start with http:// or https://"),
        ("/just/a/path", r"url must start with http:// or https://"),
        ("", r"url must start with http:// or https://, got ''"),
        ("http:///path", r"url has no host: 'http:///path'"),
        (
            "http://example.test:99999/",
            r"url port must be 1-65535, got 'http://example.test:99999/'",
        ),
        ("http://example.test:0/", r"url port must be 1-65535"),
        ("http://example.test:http/", r"url port must be 1-65535"),
    ],
)
def test_from_url_rejects_bad_urls(url: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as caught:
        Endpoint.from_url(url)
    assert caught.value.hint is None or caught.value.hint


def test_from_url_rejects_credentials_without_echoing_them() -> None:
    with pytest.raises(ConfigError, match="must not contain credentials") as caught:
        Endpoint.from_url("http://user:hunter2@example.test/")
    assert "hunter2" not in str(caught.value)
    assert caught.value.hint is not None and "Authorization" in caught.value.hint


def test_from_url_rejects_unreadable_ca_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(ConfigError, match="ca_file could not be loaded: '.*missing.pem'"):
        Endpoint.from_url("https://127.0.0.1/", ca_file=missing)


# -- PreparedRequest.build ------------------------------------------------------


def test_get_wire_is_exact() -> None:
    request = build("GET", "/search?q=shoes")
    assert request.wire == (
        b"GET /search?q=shoes HTTP/1.1\r\n"
        b"Host: 127.0.0.1:8080\r\n"
        b"User-Agent: " + USER_AGENT.encode() + b"\r\n"
        b"\r\n"
    )
    assert (request.name, request.method, request.path) == ("r", "GET", "/search?q=shoes")
    assert not request.keep_body
    assert not request.head_only


def test_user_agent_names_redline() -> None:
    assert USER_AGENT.startswith("redline/")
    assert len(USER_AGENT) > len("redline/")


def test_post_body_gets_content_length_after_headers() -> None:
    request = build("POST", "/items", headers={"Content-Type": "application/json"}, body=b'{"a":1}')
    head, _, body = request.wire.partition(b"\r\n\r\n")
    assert body == b'{"a":1}'
    assert head.split(b"\r\n")[3:] == [b"Content-Type: application/json", b"Content-Length: 7"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_methods_with_content_always_send_a_length(method: str) -> None:
    assert build(method, "/").wire.endswith(b"Content-Length: 0\r\n\r\n")


def test_get_without_body_sends_no_length_but_empty_body_does() -> None:
    assert b"Content-Length" not in build("GET").wire
    assert build("GET", body=b"").wire.endswith(b"Content-Length: 0\r\n\r\n")


def test_given_host_and_user_agent_replace_the_defaults() -> None:
    request = build(headers={"host": "api.example.test", "USER-AGENT": "probe/1"})
    assert request.wire == (
        b"GET / HTTP/1.1\r\nhost: api.example.test\r\nUSER-AGENT: probe/1\r\n\r\n"
    )


def test_header_values_are_stripped_and_latin1() -> None:
    request = build(headers={"X-Name": "  caf\u00e9 "})
    assert b"X-Name: caf\xe9\r\n" in request.wire


def test_host_header_omits_default_port() -> None:
    endpoint = Endpoint.from_url("https://example.test/")
    assert b"Host: example.test\r\n" in build(endpoint=endpoint).wire


def test_head_request_is_head_only() -> None:
    assert build("HEAD").head_only


def test_keep_body_is_carried() -> None:
    request = PreparedRequest.build(
        name="r", method="GET", url="/", headers=None, body=None, endpoint=HTTP, keep_body=True
    )
    assert request.keep_body


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/", "/"),
        ("/a b", "/a%20b"),
        ("/caf\u00e9?q=\u00e9t\u00e9", "/caf%C3%A9?q=%C3%A9t%C3%A9"),
        ("/already%20encoded?x=%2F", "/already%20encoded?x=%2F"),
        ("/p?a=1&b=2", "/p?a=1&b=2"),
        ("/frag#ment", "/frag"),
        ("//double/slash", "//double/slash"),
        ("http://127.0.0.1:8080/abs?x=1", "/abs?x=1"),
        ("http://127.0.0.1:8080", "/"),
    ],
)
def test_request_target(url: str, path: str) -> None:
    request = build("GET", url)
    assert request.path == path
    assert request.wire.startswith(f"GET {request.path} HTTP/1.1\r\n".encode())


def test_default_port_in_absolute_url_matches_endpoint() -> None:
    endpoint = Endpoint.from_url("http://example.test/")
    assert build("GET", "http://example.test:80/x", endpoint=endpoint).path == "/x"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "GE T"}, r"method must be an HTTP token .*, got 'GE T'"),
        ({"method": ""}, r"method must be an HTTP token .*, got ''"),
        ({"headers": {"Bad Name": "x"}}, r"header name must be an HTTP token .*, got 'Bad Name'"),
        ({"headers": {"X-A": "1\r\nX-Injected: 2"}}, r"header 'X-A' value must not contain CR"),
        ({"headers": {"X-A": "snow \u2603"}}, r"header 'X-A' value must be Latin-1 text"),
        ({"headers": {"Content-Length": "5"}}, r"header 'Content-Length' is computed"),
        ({"headers": {"transfer-encoding": "chunked"}}, r"header 'transfer-encoding' is computed"),
        ({"url": "http://other.test:8080/"}, r"url 'http://other.test:8080/' is not on the target"),
        ({"url": "https://127.0.0.1:8080/"}, r"is not on the target 'http://127.0.0.1:8080'"),
        ({"url": "http://127.0.0.1:9090/"}, r"is not on the target"),
        ({"url": "ftp://127.0.0.1:8080/"}, r"url must start with http:// or https://"),
    ],
)
def test_build_rejects_bad_input(kwargs: dict[str, object], match: str) -> None:
    arguments: dict[str, object] = {"method": "GET", "url": "/", "headers": None, "body": None}
    arguments.update(kwargs)
    with pytest.raises(ConfigError, match=match):
        PreparedRequest.build(name="r", endpoint=HTTP, **arguments)  # type: ignore[arg-type]


def test_error_kinds_have_distinct_report_names() -> None:
    values = [kind.value for kind in ErrorKind]
    assert len(set(values)) == len(values) == 8
    assert ErrorKind.CONNECT_TIMEOUT.value == "connect_timeout"
