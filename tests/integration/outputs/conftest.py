"""Fixtures for the streaming outputs: a collector stand-in on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.integration.outputs.collector import Collector


@pytest.fixture
def collector() -> Iterator[Collector]:
    """A fresh OTLP/HTTP collector stand-in (its received exports start empty)."""
    pytest.importorskip("opentelemetry.proto.collector.metrics.v1.metrics_service_pb2")
    from tests.integration.outputs.collector import Collector

    with Collector() as stand_in:
        yield stand_in
