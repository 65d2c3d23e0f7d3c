"""``/metrics``: the Prometheus text, read back with prometheus_client's own parser."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from redline.metrics import EndpointRecorder, IntervalStats
from redline.report.dashboard import LATENCY_BUCKETS_S, RunGauges, prometheus_text
from tests.unit.report import dashboard_runs

GAUGES = RunGauges(
    plan="shop",
    status="running",
    elapsed_s=3.0,
    planned_s=10.0,
    active_vus=4,
    dropped_iterations=7,
)


def _totals() -> dict[str, IntervalStats]:
    series = dashboard_runs.series()
    return {name: series.total(name) for name in series.endpoints()}


def _samples(text: str) -> dict[str, list[Sample]]:
    """Samples by family name (the parser drops a counter's ``_total`` from its family)."""
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def _by_labels(samples: list[Sample], name: str) -> dict[tuple[str, ...], float]:
    return {
        tuple(value for _, value in sorted(s.labels.items())): s.value
        for s in samples
        if s.name == name
    }


def test_request_counters_are_the_run_totals_by_endpoint_and_status() -> None:
    totals = _totals()
    samples = _samples(prometheus_text(totals, GAUGES))
    requests = _by_labels(samples["redline_requests"], "redline_requests_total")
    assert requests == {
        ("home", "200"): 300,
        ("items", "200"): 120,
        ("items", "503"): 180,
        ("items", "timeout"): 10,
    }
    assert sum(requests.values()) == sum(s.count for s in totals.values())
    failures = _by_labels(samples["redline_request_failures"], "redline_request_failures_total")
    assert failures == {("home",): 0, ("items",): 190}
    errors = _by_labels(samples["redline_errors"], "redline_errors_total")
    assert errors == {("items", "503"): 180, ("items", "timeout"): 10}
    received = _by_labels(samples["redline_received_bytes"], "redline_received_bytes_total")
    assert received == {("home",): 300 * 50, ("items",): 300 * 60}


def test_latency_histogram_is_cumulative_in_seconds() -> None:
    samples = _samples(prometheus_text(_totals(), GAUGES))["redline_request_duration_seconds"]
    buckets = _by_labels(samples, "redline_request_duration_seconds_bucket")
    home = {float(le): count for (endpoint, le), count in buckets.items() if endpoint == "home"}
    items = {float(le): count for (endpoint, le), count in buckets.items() if endpoint == "items"}
    assert sorted(home) == [*LATENCY_BUCKETS_S, float("inf")]
    # home: 300 at 800 µs. items: 300 at 4 ms, 10 at 1 s.
    assert (home[0.0005], home[0.001], home[float("inf")]) == (0, 300, 300)
    assert (items[0.0025], items[0.005], items[0.5], items[1.0], items[float("inf")]) == (
        0,
        300,
        300,
        310,
        310,
    )
    counts = _by_labels(samples, "redline_request_duration_seconds_count")
    assert counts == {("home",): 300, ("items",): 310}
    sums = _by_labels(samples, "redline_request_duration_seconds_sum")
    assert sums[("home",)] == pytest.approx(300 * 0.0008, rel=1e-3)
    assert sums[("items",)] == pytest.approx(300 * 0.004 + 10 * 1.0, rel=1e-3)


def test_a_latency_at_a_bucket_bound_counts_in_that_bucket() -> None:
    recorder = EndpointRecorder("edge")
    for latency_us in (1000, 1001, 2500):
        recorder.record(latency_us, latency_us, 200, False, 0, 0)
    stats = recorder.snapshot_and_reset(0)
    assert stats is not None
    samples = _samples(prometheus_text({"edge": stats}, GAUGES))
    buckets = _by_labels(
        samples["redline_request_duration_seconds"], "redline_request_duration_seconds_bucket"
    )
    assert (buckets[("edge", "0.001")], buckets[("edge", "0.0025")]) == (1, 3)


def test_run_gauges() -> None:
    samples = _samples(prometheus_text(_totals(), GAUGES))
    assert samples["redline_active_vus"][0].value == 4
    assert samples["redline_dropped_iterations"][0].value == 7
    assert samples["redline_run_elapsed_seconds"][0].value == 3.0
    assert samples["redline_run_planned_seconds"][0].value == 10.0
    info = samples["redline_run_info"][0]
    assert (info.labels, info.value) == ({"plan": "shop", "status": "running"}, 1)


@pytest.mark.parametrize("name", ['say "hi"', "back\\slash", "two\nlines", "ünïcode /p?q=1"])
def test_endpoint_names_are_escaped(name: str) -> None:
    recorder = EndpointRecorder(name)
    recorder.record(100, 100, 200, False, 0, 0)
    stats = recorder.snapshot_and_reset(0)
    assert stats is not None
    samples = _samples(prometheus_text({name: stats}, GAUGES))
    assert _by_labels(samples["redline_requests"], "redline_requests_total") == {(name, "200"): 1}


def test_an_empty_run_has_every_family_and_no_series() -> None:
    families: Mapping[str, list[Sample]] = _samples(prometheus_text({}, GAUGES))
    assert families["redline_requests"] == []
    assert families["redline_request_duration_seconds"] == []
    assert families["redline_active_vus"][0].value == 4
