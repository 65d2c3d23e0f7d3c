"""Connection limits: loopback source addresses and the open-files limit."""

from __future__ import annotations

import resource

import pytest

from redline.errors import ConfigError
from redline.load._limits import (
    LOOPBACK_SPREAD_MIN_CONNECTIONS,
    loopback_sources,
    raise_open_files_limit,
)


def test_few_connections_use_the_default_source() -> None:
    assert loopback_sources("127.0.0.1", LOOPBACK_SPREAD_MIN_CONNECTIONS - 1) == ()


def test_many_loopback_connections_spread_over_distinct_addresses_per_worker() -> None:
    first = loopback_sources("127.0.0.1", 50_000, worker=0)
    second = loopback_sources("127.0.0.1", 50_000, worker=1)
    assert len(set(first)) == len(first) >= 100
    assert not set(first) & set(second)
    assert all(address.startswith("127.") for address in first + second)


@pytest.mark.parametrize("host", ["::1", "localhost", "10.0.0.1", "example.test"])
def test_only_ipv4_loopback_literals_are_spread(host: str) -> None:
    assert loopback_sources(host, 50_000) == ()


def test_a_limit_that_fits_is_left_alone() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert raise_open_files_limit(10) == soft


def test_more_than_the_hard_limit_is_a_config_error_or_raises_it() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        got = raise_open_files_limit(hard + 1000)
    except ConfigError as exc:
        assert "open files" in str(exc) and exc.hint is not None
    else:  # this process may raise its hard limit (CAP_SYS_RESOURCE)
        assert got >= hard + 1000
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, max(hard, soft)))
