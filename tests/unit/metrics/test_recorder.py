"""EndpointRecorder: cheap appends, exact snapshots, clean resets."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.metrics import EndpointRecorder, IntervalStats
from tests.unit.metrics.hdr_oracle import (
    assert_same_as_hdrh,
    hdr_of,
    histogram_of,
    oracle_settings,
)


def test_nothing_recorded_gives_none() -> None:
    assert EndpointRecorder("GET /").snapshot_and_reset(0) is None


def test_snapshot_holds_everything_recorded() -> None:
    recorder = EndpointRecorder("GET /users")
    recorder.record(100, 150, 200, False, 1_000, 80)
    recorder.record(2_000, 9_000, 503, True, 20, 80)
    recorder.record(50, 50, "timeout", True, 0, 80)
    recorder.record(120, 130, 200, False, 1_000, 80)
    assert recorder.count == 4

    stats = recorder.snapshot_and_reset(second=7)

    assert stats is not None
    assert (stats.endpoint, stats.second, stats.duration_s) == ("GET /users", 7, 1)
    assert (stats.count, stats.failures, stats.error_rate) == (4, 2, 0.5)
    assert stats.outcomes == {200: 2, 503: 1, "timeout": 1}
    assert (stats.bytes_in, stats.bytes_out) == (2_020, 320)
    assert stats.service == histogram_of([100, 2_000, 50, 120])
    assert stats.response == histogram_of([150, 9_000, 50, 130])


def test_snapshot_resets_for_the_next_interval() -> None:
    recorder = EndpointRecorder("e")
    recorder.record(1, 1, 200, True, 1, 1)
    first = recorder.snapshot_and_reset(0)
    assert recorder.count == 0
    assert recorder.snapshot_and_reset(1) is None
    recorder.record(5, 6, 404, False, 2, 3)
    second = recorder.snapshot_and_reset(2)
    assert first is not None and second is not None
    assert (second.count, second.failures, second.outcomes) == (1, 0, {404: 1})
    assert (second.bytes_in, second.bytes_out) == (2, 3)
    assert first.outcomes == {200: 1}  # the earlier snapshot is not touched


@oracle_settings
@given(st.lists(st.tuples(st.integers(-10, 2**40), st.integers(-10, 2**40)), min_size=1))
def test_snapshot_histograms_equal_hdrh(latencies: list[tuple[int, int]]) -> None:
    recorder = EndpointRecorder("e")
    for service, response in latencies:
        recorder.record(service, response, 200, False, 0, 0)
    stats = recorder.snapshot_and_reset(0)
    assert stats is not None
    assert_same_as_hdrh(stats.service, hdr_of(s for s, _ in latencies))
    assert_same_as_hdrh(stats.response, hdr_of(r for _, r in latencies))


def test_snapshot_pickles_small() -> None:
    recorder = EndpointRecorder("GET /")
    for i in range(1_000):
        recorder.record(1_000 + i, 1_000 + i, 200, False, 100, 100)
    stats = recorder.snapshot_and_reset(3)
    payload = pickle.dumps(stats)
    assert len(payload) < 8_000
    assert pickle.loads(payload) == stats


def test_float_latency_is_refused_at_record_time() -> None:
    recorder = EndpointRecorder("e")
    with pytest.raises(TypeError):
        recorder.record(1.5, 2, 200, False, 0, 0)  # type: ignore[arg-type]


def test_recorder_has_no_instance_dict() -> None:
    assert not hasattr(EndpointRecorder("e"), "__dict__")


def test_snapshot_type() -> None:
    recorder = EndpointRecorder("e")
    recorder.record(1, 1, 200, False, 0, 0)
    assert isinstance(recorder.snapshot_and_reset(0), IntervalStats)
