"""``--out otlp=URL``: OpenTelemetry metrics over OTLP/HTTP (protobuf) to a collector.

Imported only when ``otlp=`` is used: it needs the ``otel`` extra
(``pip install 'redline[otel]'``).

Every export sends the run's totals so far (cumulative temporality, from the run's
start), built from redline's own merged figures as the SDK's metric data and sent by
the SDK's ``OTLPMetricExporter``:

- ``redline.requests`` (sum, ``{request}``): by ``endpoint`` and ``status`` (an HTTP
  status such as ``"200"``, or an engine error kind such as ``"timeout"``);
- ``redline.errors`` (sum, ``{error}``): by ``endpoint`` and ``kind`` (an engine error
  kind, or an HTTP status >= 400);
- ``redline.request.duration`` (histogram, ``ms``): response time by ``endpoint``, in
  the buckets :data:`DURATION_BUCKETS_MS`;
- ``redline.vus.active`` (gauge, ``{vu}``): virtual users active in the last second.

Why not the SDK's instruments: a histogram instrument takes one value per call (about
6 µs each, measured), so feeding it every request would cost the parent process a
core's tenth at 20,000 requests a second. The HDR histograms already hold every
request, so the buckets are read from them: exact to the histogram's 0.1 %, in
microseconds per export.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from redline.errors import ReportError
from redline.metrics import IntervalStats, LatencyHistogram
from redline.report._results_json import redline_version
from redline.report.outputs._interval import Interval, RunningTotals, errors_by_kind
from redline.report.outputs._output import RunInfo

__all__ = [
    "DURATION_BUCKETS_MS",
    "OTLP_TIMEOUT_S",
    "OtlpOutput",
    "duration_buckets",
    "metrics_data",
]

#: Upper bounds of the latency histogram's buckets, in milliseconds (the last bucket
#: counts everything above 30 s). Loopback services answer in well under a millisecond,
#: hence the fine low end.
DURATION_BUCKETS_MS = (
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0,
    250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
)  # fmt: skip
#: How long one export may take, retries included (the exporter's default is 10 s).
OTLP_TIMEOUT_S = 2.0
#: The instrumentation scope the metrics are reported under.
SCOPE_NAME = "redline"
#: The loggers of the exporter, whose lines are kept out of the terminal (the reason of a
#: failed export is in the one-line note instead).
EXPORTER_LOGGER = "opentelemetry.exporter.otlp"
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^\"')]+)")
_US_PER_MS = 1000.0


def duration_buckets(
    histogram: LatencyHistogram, bounds_ms: Sequence[float] = DURATION_BUCKETS_MS
) -> list[int]:
    """Counts per explicit bucket (OTLP: ``(bound[i-1], bound[i]]``, then one above the last).

    Read from the HDR histogram's slots: a value within its 0.1 % of a bound may fall
    either side of it.
    """
    hdr = histogram.to_hdrh()
    cumulative = np.cumsum(np.ctypeslib.as_array(hdr.counts))
    total = int(cumulative[-1]) if len(cumulative) else 0
    at_or_below = []
    for bound_ms in bounds_ms:
        index = hdr.get_counts_array_index(int(bound_ms * _US_PER_MS))
        at_or_below.append(int(cumulative[min(index, len(cumulative) - 1)]))
    edges = [0, *at_or_below, total]
    return [edges[i + 1] - edges[i] for i in range(len(edges) - 1)]


def _sum_metric(name: str, unit: str, description: str, points: list[NumberDataPoint]) -> Metric:
    data = Sum(points, AggregationTemporality.CUMULATIVE, is_monotonic=True)
    return Metric(name=name, description=description, unit=unit, data=data)


#: Counts of one endpoint's statistics by some key (status, error kind).
Counts = Callable[[IntervalStats], dict[str, int]]


def _count_points(
    endpoints: dict[str, IntervalStats], label: str, counts: Counts, times: tuple[int, int]
) -> list[NumberDataPoint]:
    return [
        NumberDataPoint({"endpoint": name, label: key}, times[0], times[1], count)
        for name, stats in endpoints.items()
        for key, count in counts(stats).items()
    ]


def _outcomes(stats: IntervalStats) -> dict[str, int]:
    return {str(outcome): count for outcome, count in sorted(stats.outcomes.items(), key=str)}


def _duration_point(name: str, stats: IntervalStats, times: tuple[int, int]) -> HistogramDataPoint:
    histogram = stats.response
    return HistogramDataPoint(
        attributes={"endpoint": name},
        start_time_unix_nano=times[0],
        time_unix_nano=times[1],
        count=histogram.count,
        sum=histogram.mean * histogram.count / _US_PER_MS,
        bucket_counts=duration_buckets(histogram),
        explicit_bounds=DURATION_BUCKETS_MS,
        min=histogram.min / _US_PER_MS,
        max=histogram.max / _US_PER_MS,
    )


def metrics_data(
    totals: RunningTotals, run: RunInfo, *, start_unix_ns: int, now_unix_ns: int
) -> MetricsData:
    """The run's totals so far as OpenTelemetry metric data (see the module docstring)."""
    times = (start_unix_ns, now_unix_ns)
    endpoints = totals.endpoints()
    metrics = [
        _sum_metric(
            "redline.requests", "{request}", "Requests that ended, by endpoint and status.",
            _count_points(endpoints, "status", _outcomes, times),
        ),
        _sum_metric(
            "redline.errors", "{error}", "Errors by endpoint and kind.",
            _count_points(endpoints, "kind", errors_by_kind, times),
        ),
        Metric(
            name="redline.request.duration",
            description="Response time (from the intended start), by endpoint.",
            unit="ms",
            data=Histogram(
                [_duration_point(n, s, times) for n, s in endpoints.items() if s.count],
                AggregationTemporality.CUMULATIVE,
            ),
        ),
        Metric(
            name="redline.vus.active",
            description="Virtual users active in the last second.",
            unit="{vu}",
            data=Gauge([NumberDataPoint({}, times[0], times[1], _active_vus(totals))]),
        ),
    ]  # fmt: skip
    resource = Resource.create(
        {
            "service.name": "redline",
            "service.version": redline_version(),
            "redline.run_id": run.run_id,
            "redline.plan": run.plan_name,
        }
    )
    kept = [m for m in metrics if m.data.data_points]
    scope = ScopeMetrics(InstrumentationScope(SCOPE_NAME, redline_version()), kept, "")
    return MetricsData([ResourceMetrics(resource, [scope], "")])


def _active_vus(totals: RunningTotals) -> int:
    return 0 if totals.generator is None else totals.generator.active_vus


class _Quiet:
    """The exporter's logger, kept off the terminal while any OTLP output is open."""

    lock = threading.Lock()
    #: Open outputs (each has a handler on the logger).
    holders = 0
    #: The logger's ``propagate`` before the first output opened.
    propagate = True


def _quiet_exporter(handler: logging.Handler) -> None:
    logger = logging.getLogger(EXPORTER_LOGGER)
    with _Quiet.lock:
        if _Quiet.holders == 0:
            _Quiet.propagate = logger.propagate
            logger.propagate = False
        _Quiet.holders += 1
        logger.addHandler(handler)


def _unquiet_exporter(handler: logging.Handler) -> None:
    logger = logging.getLogger(EXPORTER_LOGGER)
    with _Quiet.lock:
        if handler not in logger.handlers:
            return
        logger.removeHandler(handler)
        _Quiet.holders -= 1
        if _Quiet.holders == 0:
            logger.propagate = _Quiet.propagate


class _Reasons(logging.Handler):
    """Keeps the exporter's log lines from one thread (an output's flusher), so a failure's
    reason goes in one note."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.thread: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())

    def reason(self) -> str:
        for line in self.lines:
            found = _ERRNO.search(line)
            if found:
                return found.group(1).strip()
        return self.lines[-1][:160] if self.lines else "no reason given"


class OtlpOutput:
    """Exports the run's metrics to an OTLP/HTTP collector every flush, and once at the end.

    Args:
        url: the collector's metrics endpoint (``http://127.0.0.1:4318/v1/metrics``).
        exporter: the exporter to use (tests pass their own); the SDK's
            ``OTLPMetricExporter`` for ``url`` by default, built in :meth:`open`.
        wall_ns: the wall clock in Unix nanoseconds, for the points' timestamps (OTLP's
            time base; the run's own clock is monotonic).
    """

    def __init__(
        self,
        url: str,
        *,
        exporter: MetricExporter | None = None,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.url = url
        self._exporter = exporter
        self._wall_ns = wall_ns
        self._totals = RunningTotals()
        self._run = RunInfo("", "")
        self._start_ns = 0
        self._reasons = _Reasons()
        #: How many exports succeeded.
        self.exports = 0

    @property
    def label(self) -> str:
        return f"otlp={self.url}"

    def open(self, run: RunInfo) -> None:
        self._run = run
        self._start_ns = self._wall_ns()
        _quiet_exporter(self._reasons)
        if self._exporter is None:
            self._exporter = OTLPMetricExporter(endpoint=self.url, timeout=OTLP_TIMEOUT_S)

    def write(self, intervals: Sequence[Interval]) -> None:
        for interval in intervals:
            self._totals.add(interval)
        if intervals:
            self._export()

    def close(self) -> None:
        try:
            if self._totals.intervals:
                self._export()
        finally:
            self._release()

    def _export(self) -> None:
        assert self._exporter is not None  # set by open(), which the flusher calls first
        data = metrics_data(
            self._totals, self._run, start_unix_ns=self._start_ns, now_unix_ns=self._wall_ns()
        )
        self._reasons.lines.clear()
        self._reasons.thread = threading.get_ident()
        result = self._exporter.export(data, timeout_millis=OTLP_TIMEOUT_S * 1000)
        if result is not MetricExportResult.SUCCESS:
            reason = self._reasons.reason()
            self._release()
            raise ReportError(f"the export to the collector failed ({reason})")
        self.exports += 1

    def _release(self) -> None:
        _unquiet_exporter(self._reasons)
        if self._exporter is not None:
            self._exporter.shutdown()
            self._exporter = None
