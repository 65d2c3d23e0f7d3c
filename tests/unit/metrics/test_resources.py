"""The resource sampler: per-second samples, a source that goes away, the thread's life."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from redline.clock import NS_PER_S
from redline.metrics._resources import ResourceSampler, ResourceSamples


class CountingProbe:
    """Returns how often it was sampled; gone (None) from sample ``gone_at`` on."""

    def __init__(self, name: str, gone_at: int | None = None, fail_at: int | None = None) -> None:
        self.name = name
        self.primed = 0
        self.calls = 0
        self._gone_at = gone_at
        self._fail_at = fail_at

    def prime(self) -> None:
        self.primed += 1

    def sample(self, elapsed_s: float) -> Mapping[str, Any] | None:
        self.calls += 1
        if self._fail_at is not None and self.calls > self._fail_at:
            raise PermissionError(13, "Permission denied")
        if self._gone_at is not None and self.calls > self._gone_at:
            return None
        return {"calls": self.calls, "elapsed": elapsed_s}


def test_sample_k_covers_second_k() -> None:
    sampler = ResourceSampler({"host": CountingProbe("host")})
    sampler.prime(0)
    for k in range(3):
        sampler.sample_once((k + 1) * NS_PER_S)
    samples = sampler.stop().of("host")
    assert [s["second"] for s in samples] == [0, 1, 2]
    assert [s["duration_s"] for s in samples] == [1.0, 1.0, 1.0]


def test_a_server_that_exits_keeps_its_samples_and_leaves_a_note() -> None:
    host, server = CountingProbe("host"), CountingProbe("server process 1234", gone_at=2)
    sampler = ResourceSampler({"host": host, "server": server}, server_pid=1234)
    sampler.prime(0)
    for k in range(5):
        sampler.sample_once((k + 1) * NS_PER_S)
    result = sampler.stop()
    assert len(result.of("server")) == 2
    assert len(result.of("host")) == 5
    assert result.notes == ["server process 1234 exited at 2 s"]
    assert server.calls == 3  # never asked again once gone


def test_a_probe_that_cannot_read_is_dropped_with_a_note() -> None:
    sampler = ResourceSampler({"server": CountingProbe("server process 7", fail_at=1)})
    sampler.prime(0)
    sampler.sample_once(NS_PER_S)
    sampler.sample_once(2 * NS_PER_S)
    result = sampler.stop()
    assert len(result.of("server")) == 1
    assert result.notes == [
        "server process 7 sampling stopped at 1 s: [Errno 13] Permission denied"
    ]


def test_round_trip() -> None:
    samples = ResourceSamples(1.0, {"host": [{"second": 0}], "server": []}, ["n"], 42)
    again = ResourceSamples.from_dict(samples.to_dict())
    assert again == samples


def test_constructor_starts_nothing_and_stop_ends_the_thread() -> None:
    before = threading.active_count()
    probe = CountingProbe("host")
    sampler = ResourceSampler({"host": probe}, interval_s=0.02)
    assert threading.active_count() == before and probe.primed == 0
    sampler.start(0)  # a start in the past: samples at once, catching up
    stopped = threading.Event()
    while probe.calls < 3 and not stopped.wait(0.01):
        pass
    sampler.stop()
    assert threading.active_count() == before
    assert probe.primed == 1 and probe.calls >= 3


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval_s must be > 0, got 0"):
        ResourceSampler({}, interval_s=0)


def test_host_info_is_taken_once_when_primed_and_round_trips() -> None:
    calls: list[int] = []

    def info() -> dict[str, int]:
        calls.append(1)
        return {"cpus": 2, "somaxconn": 4096}

    sampler = ResourceSampler({"host": CountingProbe("host")}, host_info=info)
    assert calls == []  # not at construction: the run raises its limits after
    sampler.prime(0)
    sampler.sample_once(NS_PER_S)
    result = sampler.stop()
    assert calls == [1]
    assert result.host_info == {"cpus": 2, "somaxconn": 4096}
    assert result.to_dict()["host_info"] == {"cpus": 2, "somaxconn": 4096}
    assert ResourceSamples.from_dict(result.to_dict()).host_info == result.host_info


def test_results_written_before_host_info_read_as_empty() -> None:
    old = {"interval_s": 1.0, "server_pid": None, "host": [], "server": [], "notes": []}
    assert ResourceSamples.from_dict(old).host_info == {}
