"""RunSeries: many workers' seconds merged exactly, queried by second, window and run."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import ReportError
from redline.metrics import (
    ALL_ENDPOINTS,
    EndpointRecorder,
    GeneratorStats,
    IntervalStats,
    RunSeries,
)
from tests.unit.metrics.hdr_oracle import assert_same_as_hdrh, hdr_of, histogram_of

ENDPOINTS = ("GET /a", "POST /b")

#: One request: (worker, second, endpoint index, service µs, response extra µs, failed).
requests = st.tuples(
    st.integers(0, 2),
    st.integers(0, 4),
    st.integers(0, 1),
    st.integers(-5, 10**10),
    st.integers(0, 10**6),
    st.booleans(),
)


def _run(trace: list[tuple[int, int, int, int, int, bool]]) -> RunSeries:
    """Replay requests through per-worker recorders, snapshotting every second."""
    recorders = {(w, e): EndpointRecorder(ENDPOINTS[e]) for w in range(3) for e in range(2)}
    series = RunSeries()
    for second in range(5):
        for worker, at, endpoint, service, extra, failed in trace:
            if at == second:
                recorders[worker, endpoint].record(
                    service, service + extra, 500 if failed else 200, failed, 10, 1
                )
        for recorder in recorders.values():
            stats = recorder.snapshot_and_reset(second)
            if stats is not None:
                # Across a process boundary, as the engine sends them.
                series.add(pickle.loads(pickle.dumps(stats)))
    return series


@settings(max_examples=40, deadline=None)
@given(st.lists(requests, max_size=60))
def test_merged_workers_equal_one_histogram_of_all_requests(
    trace: list[tuple[int, int, int, int, int, bool]],
) -> None:
    series = _run(trace)
    total = series.total()
    assert total.count == len(trace)
    assert total.failures == sum(r[5] for r in trace)
    assert_same_as_hdrh(total.service, hdr_of(r[3] for r in trace))
    assert_same_as_hdrh(total.response, hdr_of(r[3] + r[4] for r in trace))
    for e, name in enumerate(ENDPOINTS):
        mine = [r for r in trace if r[2] == e]
        assert_same_as_hdrh(series.total(name).service, hdr_of(r[3] for r in mine))
        for second in range(5):
            here = [r[3] for r in mine if r[1] == second]
            assert series.at(second, name).service == histogram_of(here)
    first, last = 1, 3
    windowed = [r[3] for r in trace if first <= r[1] <= last]
    assert_same_as_hdrh(series.window(first, last).service, hdr_of(windowed))
    # The window over the whole run is the run's total.
    assert series.window(0, 4).service.encode() == total.service.encode()


def _stats(endpoint: str, second: int, values: list[int], outcome: int = 200) -> IntervalStats:
    return IntervalStats(
        endpoint=endpoint,
        second=second,
        count=len(values),
        outcomes={outcome: len(values)},
        service=histogram_of(values),
        response=histogram_of(values),
    )


def _series() -> RunSeries:
    series = RunSeries()
    series.add(_stats("b", 0, [10, 20]))
    series.add(_stats("a", 0, [30]))
    series.add(_stats("a", 2, [40, 50], outcome=503))
    series.add(_stats("a", 2, [60]))  # a second worker, same second
    series.add_generator(0, GeneratorStats(cpu_s=0.5, iterations=3))
    series.add_generator(0, GeneratorStats(cpu_s=0.25, iterations=1))
    series.add_generator(5, GeneratorStats(active_vus=2))
    return series


def test_endpoints_and_seconds() -> None:
    series = _series()
    assert series.endpoints() == ["a", "b"]
    assert series.seconds() == [0, 2, 5]  # 5 has only generator figures


def test_at_one_endpoint_and_all() -> None:
    series = _series()
    a2 = series.at(2, "a")
    assert (a2.endpoint, a2.second, a2.count, a2.outcomes) == ("a", 2, 3, {503: 2, 200: 1})
    assert a2.service == histogram_of([40, 50, 60])
    every = series.at(0)
    assert (every.endpoint, every.count) == (ALL_ENDPOINTS, 3)
    assert every.service == histogram_of([10, 20, 30])


def test_missing_second_or_endpoint_is_empty() -> None:
    series = _series()
    for stats in (series.at(1), series.at(0, "nope"), series.window(10, 20, "a")):
        assert stats.count == 0
        assert stats.service.count == 0


def test_window_is_labelled_and_spans_its_seconds() -> None:
    window = _series().window(0, 3, "a")
    assert (window.endpoint, window.second, window.duration_s) == ("a", 0, 4)
    assert window.count == 4
    assert window.rate_per_s == 1.0
    assert window.service == histogram_of([30, 40, 50, 60])


def test_window_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match=r"window must not end before it starts, got 3 \.\. 2"):
        _series().window(3, 2)


def test_total_spans_the_run() -> None:
    total = _series().total()
    assert (total.endpoint, total.second, total.duration_s, total.count) == ("*", 0, 3, 6)
    assert total.service == histogram_of([10, 20, 30, 40, 50, 60])
    assert _series().total("b").service == histogram_of([10, 20])


def test_empty_series() -> None:
    series = RunSeries()
    assert series.endpoints() == [] and series.seconds() == []
    assert series.total().count == 0
    assert series.generator_at(0) is None
    assert series.to_dict() == {"endpoints": [], "intervals": [], "overall": [], "generator": []}


def test_queries_return_copies() -> None:
    series = _series()
    series.at(0, "a").merge(_stats("a", 0, [1]))
    series.total().merge(_stats("a", 0, [1]))
    series.total("a").service.record(1)
    generator = series.generator_at(0)
    assert generator is not None
    generator.merge(GeneratorStats(iterations=100))
    assert series.at(0, "a").count == 1
    assert series.total().count == 6
    assert series.total("a").service.count == 4
    assert series.generator_at(0) == GeneratorStats(cpu_s=0.75, iterations=4, workers=2)


def test_add_neither_keeps_nor_changes_its_argument() -> None:
    series = RunSeries()
    stats = _stats("a", 0, [5])
    series.add(stats)
    series.add(stats)
    assert stats == _stats("a", 0, [5])
    stats.service.record(7)
    assert series.at(0, "a").service == histogram_of([5, 5])


def test_stored_histograms_are_compact() -> None:
    series = RunSeries()
    big = np.arange(1, 10_001, dtype=np.int64)
    stats = _stats("a", 0, [])
    stats.service.record_many(big)
    series.add(stats)
    stored = series._by_second[0]["a"].service
    assert stored._dense is None  # only nonzero slots are kept


def test_to_dict_rows() -> None:
    data = _series().to_dict()
    json.dumps(data)
    assert data["endpoints"] == ["a", "b"]
    assert [(r["second"], r["endpoint"]) for r in data["intervals"]] == [
        (0, "a"),
        (0, "b"),
        (2, "a"),
    ]
    assert [(r["second"], r["endpoint"], r["count"]) for r in data["overall"]] == [
        (0, "*", 3),
        (2, "*", 3),
    ]
    assert "hdr" in data["intervals"][0]["service"]
    assert "hdr" not in data["overall"][0]["service"]
    assert data["generator"][0] == {
        "second": 0,
        **GeneratorStats(cpu_s=0.75, iterations=4, workers=2).to_dict(),
    }


def test_to_dict_without_histograms() -> None:
    data = _series().to_dict(histograms=False)
    assert all("hdr" not in row["service"] for row in data["intervals"])
    assert data["intervals"][0]["service"]["p50"] == 30


def test_json_round_trip_is_exact() -> None:
    original = _series()
    restored = RunSeries.from_dict(json.loads(json.dumps(original.to_dict())))
    assert restored.to_dict() == original.to_dict()
    assert restored.total() == original.total()
    assert restored.generator_at(5) == original.generator_at(5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "list of objects under 'intervals'"),
        ({"intervals": [1], "generator": []}, "list of objects under 'intervals'"),
        ({"intervals": []}, "list of objects under 'generator'"),
        ({"intervals": [], "generator": [{"cpu_s": 1}]}, "lacks an integer 'second'"),
    ],
)
def test_from_dict_rejects_bad_data(data: dict[str, object], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        RunSeries.from_dict(data)
