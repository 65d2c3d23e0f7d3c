"""IntervalStats: exact merging, copies, and the JSON form."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from redline.errors import ReportError
from redline.metrics import SUMMARY_PERCENTILES, IntervalStats, percentile_key
from tests.unit.metrics.hdr_oracle import histogram_of


def _stats(
    endpoint: str = "GET /", second: int = 0, values: list[int] | None = None
) -> IntervalStats:
    values = [100, 200, 300] if values is None else values
    return IntervalStats(
        endpoint=endpoint,
        second=second,
        count=len(values),
        failures=1,
        outcomes={200: len(values) - 1, "timeout": 1},
        bytes_in=10 * len(values),
        bytes_out=2 * len(values),
        service=histogram_of(values),
        response=histogram_of([v + 5 for v in values]),
    )


def test_merge_adds_everything_and_keeps_labels() -> None:
    merged = _stats("a", 3, [100, 200])
    merged.merge(_stats("b", 9, [300]))
    assert (merged.endpoint, merged.second, merged.duration_s) == ("a", 3, 1)
    assert (merged.count, merged.failures) == (3, 2)
    assert merged.outcomes == {200: 1, "timeout": 2}
    assert (merged.bytes_in, merged.bytes_out) == (30, 6)
    assert merged.service == histogram_of([100, 200, 300])
    assert merged.response == histogram_of([105, 205, 305])


def test_copy_is_deep() -> None:
    original = _stats()
    twin = original.copy()
    twin.merge(_stats())
    assert original == _stats()
    assert twin != original


def test_rates() -> None:
    empty = IntervalStats(endpoint="e", second=0)
    assert (empty.error_rate, empty.rate_per_s) == (0.0, 0.0)
    five_seconds = IntervalStats(endpoint="e", second=0, count=10, failures=1, duration_s=5)
    assert (five_seconds.error_rate, five_seconds.rate_per_s) == (0.1, 2.0)


def test_to_dict_summarises_both_latencies() -> None:
    data = _stats().to_dict()
    json.dumps(data)  # JSON-ready
    assert data["outcomes"] == {"200": 2, "timeout": 1}
    assert data["error_rate"] == pytest.approx(1 / 3)
    service = data["service"]
    assert [k for k in service if k.startswith("p")] == [
        percentile_key(p) for p in SUMMARY_PERCENTILES
    ]
    assert {"p50", "p90", "p95", "p99", "p99.9", "p99.99"} <= service.keys()
    assert (service["count"], service["min"], service["p50"], service["max"]) == (3, 100, 200, 300)
    assert service["mean"] == histogram_of([100, 200, 300]).mean
    assert data["response"]["min"] == 105


def test_to_dict_of_empty_stats_has_no_fake_zeros() -> None:
    service = IntervalStats(endpoint="e", second=0).to_dict()["service"]
    assert service["count"] == 0
    assert service["min"] is service["max"] is service["p99"] is service["mean"] is None


def test_to_dict_without_histograms() -> None:
    assert "hdr" not in _stats().to_dict(histograms=False)["service"]


def test_json_round_trip_is_exact() -> None:
    original = _stats()
    restored = IntervalStats.from_dict(json.loads(json.dumps(original.to_dict())))
    assert restored == original
    assert restored.outcomes == {200: 2, "timeout": 1}  # statuses are ints again


def test_pickle_round_trip() -> None:
    original = _stats()
    assert pickle.loads(pickle.dumps(original)) == original


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("count"), "lack the field 'count'"),
        (lambda d: d.update(second="3"), "field 'second' must be int, got '3'"),
        (lambda d: d.update(failures=True), "field 'failures' must be int"),
        (lambda d: d["service"].pop("hdr"), "lack the field 'hdr'"),
        (lambda d: d["service"].update(hdr="junk"), "not an encoded HdrHistogram"),
        (lambda d: d.update(outcomes={"200": "2"}), "field '200' must be int"),
        (lambda d: d.update(outcomes=[]), "field 'outcomes' must be dict"),
    ],
)
def test_from_dict_rejects_bad_data(change: Any, message: str) -> None:
    data = _stats().to_dict()
    change(data)
    with pytest.raises(ReportError, match=message):
        IntervalStats.from_dict(data)


def test_from_dict_rejects_non_string_outcome_keys() -> None:
    data = _stats().to_dict()
    data["outcomes"] = {200: 3}
    with pytest.raises(ReportError, match="outcome keys must be strings, got 200"):
        IntervalStats.from_dict(data)


def test_from_dict_rejects_a_non_mapping() -> None:
    with pytest.raises(ReportError, match="lack the field"):
        IntervalStats.from_dict([])  # type: ignore[arg-type]


def test_percentile_key() -> None:
    assert [percentile_key(p) for p in (50.0, 99.0, 99.9, 99.99)] == [
        "p50",
        "p99",
        "p99.9",
        "p99.99",
    ]
