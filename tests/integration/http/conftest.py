"""The cache server for the HTTP cache audit's tests: started per test, always stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.http.cache_server import CacheServer


@pytest.fixture
def cache_server() -> Iterator[CacheServer]:
    """A fresh :class:`CacheServer` on 127.0.0.1 (its request log starts empty)."""
    with CacheServer() as server:
        yield server
