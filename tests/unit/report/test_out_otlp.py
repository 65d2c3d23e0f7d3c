"""``--out otlp=URL``: the run's figures as OpenTelemetry metrics, checked against what the
SDK's own instruments and ``InMemoryMetricReader`` make of the same requests."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.metrics")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View

from redline.clock import FakeClock
from redline.errors import ReportError
from redline.metrics import LatencyHistogram
from redline.report.outputs import PeriodicFlusher, RunInfo, RunningTotals
from redline.report.outputs._otlp import (
    DURATION_BUCKETS_MS,
    OtlpOutput,
    duration_buckets,
    metrics_data,
)
from tests.unit.report.out_intervals import SECOND, intervals

URL = "http://127.0.0.1:4318/v1/metrics"
RUN = RunInfo(run_id="20260101-000000-abcdef", plan_name="shop")
START_NS, NOW_NS = 1_767_225_600_000_000_000, 1_767_225_603_000_000_000


@pytest.fixture(autouse=True)
def no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_* variables change the SDK's resource and exporter: none in these tests."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


def _totals(seconds: int = 3) -> RunningTotals:
    totals = RunningTotals()
    for interval in intervals(seconds):
        totals.add(interval)
    return totals


def _by_name(data: MetricsData) -> dict[str, Any]:
    (resource_metrics,) = data.resource_metrics
    (scope,) = resource_metrics.scope_metrics
    return {metric.name: metric for metric in scope.metrics}


def _points(metric: Any) -> dict[frozenset[tuple[str, Any]], Any]:
    return {frozenset(p.attributes.items()): p for p in metric.data.data_points}


def test_metric_names_units_and_resource() -> None:
    data = metrics_data(_totals(), RUN, start_unix_ns=START_NS, now_unix_ns=NOW_NS)
    attributes = data.resource_metrics[0].resource.attributes
    assert attributes["service.name"] == "redline"
    assert attributes["redline.run_id"] == RUN.run_id
    assert attributes["redline.plan"] == "shop"
    metrics = _by_name(data)
    assert {name: m.unit for name, m in metrics.items()} == {
        "redline.requests": "{request}",
        "redline.errors": "{error}",
        "redline.request.duration": "ms",
        "redline.vus.active": "{vu}",
    }
    assert data.resource_metrics[0].scope_metrics[0].scope.name == "redline"


def test_counters_equal_the_runs_totals_by_endpoint_and_status() -> None:
    totals = _totals(3)
    metrics = _by_name(metrics_data(totals, RUN, start_unix_ns=START_NS, now_unix_ns=NOW_NS))
    requests = metrics["redline.requests"].data
    assert requests.is_monotonic
    assert {
        (p.attributes["endpoint"], p.attributes["status"]): p.value for p in requests.data_points
    } == {
        ("home", "200"): 300,
        ("items", "200"): 15,
        ("items", "503"): 9,
        ("items", "timeout"): 6,
    }
    assert sum(p.value for p in requests.data_points) == totals.overall.count == 330
    errors = metrics["redline.errors"].data
    assert {
        (p.attributes["endpoint"], p.attributes["kind"]): p.value for p in errors.data_points
    } == {
        ("items", "503"): 9,
        ("items", "timeout"): 6,
    }
    for point in requests.data_points:
        assert (point.start_time_unix_nano, point.time_unix_nano) == (START_NS, NOW_NS)


def test_the_gauge_is_the_last_seconds_active_vus() -> None:
    totals = RunningTotals()
    for vus, interval in zip(
        (3, 7), [intervals(1, active_vus=3)[0], intervals(2, active_vus=7)[1]], strict=True
    ):
        assert interval.active_vus == vus
        totals.add(interval)
    gauge = _by_name(metrics_data(totals, RUN, start_unix_ns=START_NS, now_unix_ns=NOW_NS))
    assert [p.value for p in gauge["redline.vus.active"].data.data_points] == [7]


def _sdk_reading(seconds: int) -> MetricsData:
    """The same requests through the SDK's instruments, read by its InMemoryMetricReader."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        views=[
            View(
                instrument_name="redline.request.duration",
                aggregation=ExplicitBucketHistogramAggregation(DURATION_BUCKETS_MS),
            )
        ],
        shutdown_on_exit=False,
    )
    meter = provider.get_meter("redline")
    requests = meter.create_counter("redline.requests", unit="{request}")
    errors = meter.create_counter("redline.errors", unit="{error}")
    duration = meter.create_histogram("redline.request.duration", unit="ms")
    vus = meter.create_gauge("redline.vus.active", unit="{vu}")
    for _ in range(seconds):
        for name, rows in SECOND.items():
            for latency_us, outcome, _failed, count in rows:
                requests.add(count, {"endpoint": name, "status": str(outcome)})
                if isinstance(outcome, str) or outcome >= 400:
                    errors.add(count, {"endpoint": name, "kind": str(outcome)})
                for _ in range(count):
                    duration.record(latency_us / 1000, {"endpoint": name})
        vus.set(4)
    data = reader.get_metrics_data()
    provider.shutdown()
    assert data is not None
    return data


def test_the_mapping_equals_the_sdks_own_instruments_on_the_same_requests() -> None:
    ours = _by_name(metrics_data(_totals(3), RUN, start_unix_ns=START_NS, now_unix_ns=NOW_NS))
    sdk = _by_name(_sdk_reading(3))
    assert set(ours) == set(sdk)
    for name in ("redline.requests", "redline.errors", "redline.vus.active"):
        assert {k: p.value for k, p in _points(ours[name]).items()} == {
            k: p.value for k, p in _points(sdk[name]).items()
        }, name
    assert type(ours["redline.requests"].data) is type(sdk["redline.requests"].data)
    assert ours["redline.requests"].data.aggregation_temporality == (
        sdk["redline.requests"].data.aggregation_temporality
    )
    ours_hist, sdk_hist = (
        _points(ours["redline.request.duration"]),
        _points(sdk["redline.request.duration"]),
    )
    assert set(ours_hist) == set(sdk_hist)
    for key, point in ours_hist.items():
        expected = sdk_hist[key]
        assert point.count == expected.count
        assert list(point.bucket_counts) == list(expected.bucket_counts)
        assert list(point.explicit_bounds) == list(expected.explicit_bounds)
        # Within the HDR histogram's 0.1 %: it keeps equivalent values, not the exact ones.
        assert point.sum == pytest.approx(expected.sum, rel=1e-3)
        assert point.min == pytest.approx(expected.min, rel=1e-3)
        assert point.max == pytest.approx(expected.max, rel=1e-3)


@pytest.mark.parametrize(
    ("values_us", "expected"),
    [
        ([], [0] * (len(DURATION_BUCKETS_MS) + 1)),
        ([100], [1] + [0] * len(DURATION_BUCKETS_MS)),  # at a bound: in its bucket (le)
        ([101, 250], [0, 2] + [0] * (len(DURATION_BUCKETS_MS) - 1)),
        ([31_000_000], [0] * len(DURATION_BUCKETS_MS) + [1]),  # above the last bound
    ],
)
def test_duration_buckets_count_up_to_each_bound(values_us: list[int], expected: list[int]) -> None:
    histogram = LatencyHistogram()
    for value in values_us:
        histogram.record(value)
    assert duration_buckets(histogram) == expected


class FakeExporter(MetricExporter):
    """Keeps what it is given; answers with the results it is told to."""

    def __init__(self, results: Sequence[MetricExportResult] = ()) -> None:
        super().__init__()
        self.results = list(results)
        self.exported: list[MetricsData] = []
        self.shut_down = False

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.exported.append(metrics_data)
        if self.results:
            result = self.results.pop(0)
            if result is MetricExportResult.FAILURE:
                logging.getLogger("opentelemetry.exporter.otlp.proto.http").error(
                    "Failed to export: [Errno 111] Connection refused"
                )
            return result
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.shut_down = True


def _clock_ns() -> Iterator[int]:
    now = START_NS
    while True:
        yield now
        now += 1_000_000_000


def test_each_write_and_the_close_export_the_totals_so_far() -> None:
    exporter = FakeExporter()
    ticks = _clock_ns()
    output = OtlpOutput(
        "http://127.0.0.1:4318/v1/metrics", exporter=exporter, wall_ns=lambda: next(ticks)
    )
    output.open(RUN)
    seconds = intervals(3)
    output.write(seconds[:2])
    output.write([])  # nothing new: nothing sent
    output.write(seconds[2:])
    output.close()
    assert output.exports == len(exporter.exported) == 3
    counts = [
        sum(p.value for p in _by_name(data)["redline.requests"].data.data_points)
        for data in exporter.exported
    ]
    assert counts == [220, 330, 330]  # cumulative
    starts = {
        p.start_time_unix_nano
        for data in exporter.exported
        for p in _by_name(data)["redline.requests"].data.data_points
    }
    assert starts == {START_NS}
    assert exporter.shut_down
    assert output.label == "otlp=http://127.0.0.1:4318/v1/metrics"


def test_a_failed_export_is_a_report_error_with_the_reason_and_releases_the_exporter() -> None:
    exporter = FakeExporter([MetricExportResult.FAILURE])
    output = OtlpOutput("http://127.0.0.1:4318/v1/metrics", exporter=exporter)
    output.open(RUN)
    with pytest.raises(
        ReportError, match=r"^the export to the collector failed \(Connection refused\)$"
    ):
        output.write(intervals(1))
    assert exporter.shut_down
    logger = logging.getLogger("opentelemetry.exporter.otlp")
    assert logger.propagate and not logger.handlers  # as it was before


def test_the_flusher_drops_an_otlp_output_that_fails_and_says_so_once() -> None:
    exporter = FakeExporter([MetricExportResult.FAILURE])
    notes: list[str] = []
    flusher = PeriodicFlusher(
        OtlpOutput("http://127.0.0.1:4318/v1/metrics", exporter=exporter),
        period_s=5.0,
        note=notes.append,
        clock=FakeClock(),
    )
    flusher.start(RUN, thread=False)
    flusher.add(intervals(1)[0])
    flusher.flush()
    flusher.add(intervals(2)[1])
    flusher.stop()
    assert notes == [
        "--out otlp=http://127.0.0.1:4318/v1/metrics: the export to the collector failed "
        "(Connection refused); this output is dropped, the run goes on and its results are kept"
    ]
    assert len(exporter.exported) == 1


def test_two_otlp_outputs_keep_the_exporter_quiet_until_both_are_closed() -> None:
    logger = logging.getLogger("opentelemetry.exporter.otlp")
    first, second = (OtlpOutput(URL, exporter=FakeExporter()) for _ in range(2))
    first.open(RUN)
    second.open(RUN)
    first.close()
    assert not logger.propagate  # the second is still open
    second.close()
    assert logger.propagate and not logger.handlers


class CrowdedExporter(FakeExporter):
    """Another thread logs a failure of its own while this export fails."""

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        other = threading.Thread(
            target=logging.getLogger("opentelemetry.exporter.otlp.proto.http").error,
            args=("another collector: [Errno 113] No route to host",),
        )
        other.start()
        other.join()
        return super().export(metrics_data, timeout_millis, **kwargs)


def test_a_failure_takes_its_reason_from_its_own_thread_only() -> None:
    output = OtlpOutput(URL, exporter=CrowdedExporter([MetricExportResult.FAILURE]))
    output.open(RUN)
    with pytest.raises(ReportError, match=r"\(Connection refused\)$"):
        output.write(intervals(1))
