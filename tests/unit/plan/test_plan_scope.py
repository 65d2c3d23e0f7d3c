"""Scope: loopback by default, listed hosts only, no DNS, never production."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from redline.errors import ConfigError, ScopeError
from redline.plan import (
    Environment,
    check_scope,
    is_loopback,
    parse_environment,
    parse_url_target,
    plan_from_mapping,
)


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scope checks must never resolve names: fail the test if anything tries."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("scope checks must not resolve DNS")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/",
        "http://127.255.0.9/",
        "https://[::1]:8443/x",
        "http://localhost/",
        "http://LOCALHOST.:80/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_loopback_is_always_in_scope(url: str) -> None:
    check_scope([url], [])


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://10.0.0.1/", "10.0.0.1"),
        ("http://example.com/", "example.com"),
        ("https://[2001:db8::1]/", "2001:db8::1"),
        ("http://0.0.0.0:8080/", "0.0.0.0"),
        ("http://127.0.0.1@evil.example/", "evil.example"),
        ("http://localhost.evil.example/", "localhost.evil.example"),
        ("http://127.1/", "127.1"),  # a shorthand only a resolver would read as loopback
    ],
)
def test_other_hosts_are_refused_unless_listed(url: str, host: str) -> None:
    with pytest.raises(ScopeError, match=rf"^url: host '{host}' is out of scope; allowed loopback"):
        check_scope([url], [])
    check_scope([url], [host.upper()])


def test_every_host_out_of_scope_is_named_once() -> None:
    urls = ["http://example.com/a", "http://10.0.0.1/", "http://example.com/b", "http://[::1]/"]
    with pytest.raises(
        ScopeError, match=r"^url: hosts '10\.0\.0\.1', 'example\.com' are out of scope"
    ) as caught:
        check_scope(urls, ["api.internal"])
    assert "allowed_hosts ['api.internal']" in str(caught.value)
    assert caught.value.hint is not None and "allowed_hosts" in caught.value.hint


def test_listed_hosts_match_exactly_not_by_suffix() -> None:
    with pytest.raises(ScopeError, match="'api.example.com' is out of scope"):
        check_scope(["http://api.example.com/"], ["example.com"])


def test_listed_ipv6_matches_in_any_spelling() -> None:
    check_scope(["http://[2001:db8::1]/"], ["2001:0db8:0:0:0:0:0:1"])


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("[::1]", True), ("localhost", True), ("10.0.0.1", False), ("x", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_plan_validate_scope_checks_every_request() -> None:
    data = {
        "requests": [
            {"name": "local", "url": "http://127.0.0.1/"},
            {"name": "remote", "url": "http://staging.internal/"},
        ]
    }
    with pytest.raises(ScopeError, match="'staging.internal' is out of scope"):
        plan_from_mapping(data).validate_scope()
    plan_from_mapping({**data, "allowed_hosts": ["staging.internal"]}).validate_scope()


@pytest.mark.parametrize("host", ["http://a.b", "a.b:80", "a/b", "", "a b", "-a.b"])
def test_allowed_hosts_must_be_bare_hosts(host: str) -> None:
    data = {"requests": [{"name": "a", "url": "http://127.0.0.1/"}], "allowed_hosts": [host]}
    with pytest.raises(
        ConfigError, match=r"^allowed_hosts\[0\]: .* is not a host name; write a bare host"
    ):
        plan_from_mapping(data)


@pytest.mark.parametrize(
    ("text", "environment"),
    [("local", Environment.LOCAL), ("dev", Environment.DEV), (" Staging ", Environment.STAGING)],
)
def test_environments(text: str, environment: Environment) -> None:
    assert parse_environment(text) is environment


@pytest.mark.parametrize("text", ["production", "prod", "PROD", "Production", "prd", "live"])
def test_production_is_refused_with_a_clear_message(text: str) -> None:
    with pytest.raises(
        ScopeError,
        match=rf"^environment: '{text}' is refused: redline never loads production; "
        "allowed local, dev, staging$",
    ) as caught:
        parse_environment(text)
    assert caught.value.hint is not None and "staging" in caught.value.hint


def test_production_in_a_plan_file_is_refused() -> None:
    data = {"requests": [{"name": "a", "url": "http://127.0.0.1/"}], "environment": "production"}
    with pytest.raises(ScopeError, match=r"^environment: 'production' is refused"):
        plan_from_mapping(data)


def test_unknown_environment() -> None:
    with pytest.raises(
        ConfigError, match=r"^--env: 'qa' is not an environment; allowed local, dev, staging$"
    ):
        parse_environment("qa", field="--env")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/x?y=1", "HTTPS://Example.com", " http://h/ "]
)
def test_url_targets(url: str) -> None:
    assert parse_url_target(url) == url.strip()


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (
            "ftp://127.0.0.1/",
            r"'ftp://127\.0\.0\.1/' is not an http\(s\) URL; expected an absolute",
        ),
        ("127.0.0.1:8080", r"'127\.0\.0\.1:8080' is not an http\(s\) URL"),
        ("/path", r"'/path' is not an http\(s\) URL"),
        ("http://", r"'http://' has no host"),
        ("http://h:99999/", r"'http://h:99999/' has a bad port; allowed 1\.\.65535"),
        ("http://h:x/", r"'http://h:x/' has a bad port"),
        ("http://h:0/", r"'http://h:0/' has a bad port"),
        ("http://h/a b", r"'http://h/a b' is not a URL"),
        ("", r"'' is not a URL"),
    ],
)
def test_bad_url_targets_name_the_field(url: str, error: str) -> None:
    with pytest.raises(ConfigError, match=rf"^base_url: {error}"):
        parse_url_target(url, field="base_url")
