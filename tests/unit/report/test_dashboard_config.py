"""The dashboard's address and token: loopback by default, anything else only with a token."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.report.dashboard import AUTO_TOKEN, DashboardConfig, is_loopback

GOOD_TOKEN = "s3cret-token-of-24-chars"


def _messages(config: DashboardConfig) -> list[str]:
    return [problem.message for problem in config.validate()]


def test_the_default_is_a_free_port_on_loopback() -> None:
    config = DashboardConfig()
    assert (config.host, config.port, config.token, config.loopback) == ("127.0.0.1", 0, None, True)
    assert config.validate() == []


@pytest.mark.parametrize("port", [1, 8089, 65535])
def test_ports_in_range(port: int) -> None:
    assert DashboardConfig(port=port).validate() == []


@pytest.mark.parametrize("port", [-1, 65536, 100_000])
def test_port_out_of_range(port: int) -> None:
    (problem,) = DashboardConfig(port=port).validate()
    with pytest.raises(
        ConfigError, match=rf"^--dashboard-port: {port} is out of range; allowed 1\.\.65535$"
    ):
        raise problem


def test_a_host_other_than_loopback_needs_a_token() -> None:
    (problem,) = DashboardConfig(host="192.0.2.10").validate()
    with pytest.raises(ConfigError, match=r"^--dashboard-host: '192\.0\.2\.10' is not loopback"):
        raise problem
    assert problem.hint is not None
    assert DashboardConfig(host="192.0.2.10", token=GOOD_TOKEN).validate() == []
    assert DashboardConfig(host="0.0.0.0", token=AUTO_TOKEN).validate() == []


def test_a_host_must_be_an_address() -> None:
    assert _messages(DashboardConfig(host="example.com", token=GOOD_TOKEN)) == [
        "--dashboard-host: must be an IP address or localhost, got 'example.com'"
    ]


def test_a_short_token_is_refused_without_repeating_it() -> None:
    (message,) = _messages(DashboardConfig(token="hunter2"))
    assert message == "--dashboard-token: must be at least 16 characters, got 7"
    assert "hunter2" not in message


def test_every_problem_is_reported() -> None:
    assert len(DashboardConfig(host="10.0.0.1", port=0 - 5).validate()) == 2


def test_auto_generates_a_token() -> None:
    first = DashboardConfig(token=AUTO_TOKEN).with_token()
    second = DashboardConfig(token=AUTO_TOKEN).with_token()
    assert first.token is not None and len(first.token) >= 32
    assert first.token != second.token
    assert DashboardConfig(token=GOOD_TOKEN).with_token().token == GOOD_TOKEN
    assert DashboardConfig().with_token().token is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("::", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
