"""``/metrics``: the run's counters in the Prometheus text exposition format (version 0.0.4).

Counters are the run's totals so far, exactly the figures of the results file's
``summary`` (they come from the same merged per-endpoint statistics). Latency
is a Prometheus histogram per endpoint in seconds, read from the HDR histogram:
a bucket counts every request whose response time is equivalent, within the
histogram's 0.1 %, to a value at or below its bound. ``_sum`` is made of each
value's range middle (HdrHistogram's mean), so it too is within 0.1 %.

The metric names (every one starts with ``redline_``)::

    redline_requests_total{endpoint,status}        counter: HTTP status, or the error kind
    redline_request_failures_total{endpoint}       counter: requests judged failed
    redline_errors_total{endpoint,kind}            counter: error kinds and statuses >= 400
    redline_request_duration_seconds{endpoint}     histogram: response time
    redline_received_bytes_total{endpoint}         counter
    redline_sent_bytes_total{endpoint}             counter
    redline_active_vus                             gauge: in the last merged second
    redline_dropped_iterations_total               counter
    redline_run_elapsed_seconds                    gauge
    redline_run_planned_seconds                    gauge
    redline_run_info{plan,status}                  gauge: always 1
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Final

import numpy as np

from redline.metrics import IntervalStats, LatencyHistogram
from redline.report.dashboard._messages import errors_by_kind

__all__ = ["CONTENT_TYPE", "LATENCY_BUCKETS_S", "RunGauges", "prometheus_text"]

#: The Content-Type of the text exposition format.
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
#: Upper bounds of the latency histogram's buckets, in seconds (then +Inf).
LATENCY_BUCKETS_S: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
    0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
#: Microseconds per second (histograms count microseconds).
US_PER_S: Final = 1_000_000


@dataclasses.dataclass(frozen=True)
class RunGauges:
    """The run-wide figures beside the per-endpoint counters."""

    #: The plan's name.
    plan: str
    #: ``running`` until the run ends, then its status (``completed``, ``interrupted``...).
    status: str
    #: Seconds since the run's start (merged seconds while it runs).
    elapsed_s: float
    #: How long the plan was to last.
    planned_s: float
    #: VUs active in the last merged second.
    active_vus: int
    #: Iterations the schedule wanted but no VU was free to start, so far.
    dropped_iterations: int


def _escape(value: str) -> str:
    """A label value, escaped as the exposition format asks (backslash, quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


def _family(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def _bucket_counts(histogram: LatencyHistogram) -> list[int]:
    """How many values are at or below each of :data:`LATENCY_BUCKETS_S` (cumulative)."""
    hdr = histogram.to_hdrh()
    cumulative = np.cumsum(np.ctypeslib.as_array(hdr.counts), dtype=np.uint64)
    last = len(cumulative) - 1
    return [
        int(cumulative[min(hdr.get_counts_array_index(round(bound * US_PER_S)), last)])
        for bound in LATENCY_BUCKETS_S
    ]


def _counters(totals: Mapping[str, IntervalStats]) -> Iterator[str]:
    yield from _family(
        "redline_requests_total",
        "counter",
        "Requests that ended, by endpoint and status: the HTTP status, or the error kind "
        "when no response came.",
    )
    for name, stats in totals.items():
        for outcome, count in sorted(stats.outcomes.items(), key=lambda item: str(item[0])):
            yield f"redline_requests_total{_labels(endpoint=name, status=str(outcome))} {count}"
    yield from _family(
        "redline_request_failures_total",
        "counter",
        "Requests the run judged failed (errors and unexpected statuses), by endpoint.",
    )
    for name, stats in totals.items():
        yield f"redline_request_failures_total{_labels(endpoint=name)} {stats.failures}"
    yield from _family(
        "redline_errors_total",
        "counter",
        "Errors by endpoint and kind: an error kind (timeout, connect...) or an HTTP status "
        "of 400 or more.",
    )
    for name, stats in totals.items():
        for kind, count in errors_by_kind(stats.outcomes).items():
            yield f"redline_errors_total{_labels(endpoint=name, kind=kind)} {count}"
    for metric, field, what in (
        ("redline_received_bytes_total", "bytes_in", "Bytes received (heads and bodies)"),
        ("redline_sent_bytes_total", "bytes_out", "Bytes sent (heads and bodies)"),
    ):
        yield from _family(metric, "counter", f"{what}, by endpoint.")
        for name, stats in totals.items():
            yield f"{metric}{_labels(endpoint=name)} {getattr(stats, field)}"


def _histograms(totals: Mapping[str, IntervalStats]) -> Iterator[str]:
    metric = "redline_request_duration_seconds"
    yield from _family(
        metric,
        "histogram",
        "Response time (from the intended start), by endpoint; within 0.1 % (HdrHistogram).",
    )
    for name, stats in totals.items():
        histogram = stats.response
        counts = _bucket_counts(histogram)
        for bound, count in zip(LATENCY_BUCKETS_S, counts, strict=True):
            yield f"{metric}_bucket{_labels(endpoint=name, le=repr(bound))} {count}"
        yield f"{metric}_bucket{_labels(endpoint=name, le='+Inf')} {histogram.count}"
        total_s = histogram.mean * histogram.count / US_PER_S
        yield f"{metric}_sum{_labels(endpoint=name)} {_number(total_s)}"
        yield f"{metric}_count{_labels(endpoint=name)} {histogram.count}"


def _gauges(gauges: RunGauges) -> Iterator[str]:
    yield from _family("redline_active_vus", "gauge", "Virtual users active in the last second.")
    yield f"redline_active_vus {gauges.active_vus}"
    yield from _family(
        "redline_dropped_iterations_total",
        "counter",
        "Iterations the schedule wanted but no virtual user was free to start.",
    )
    yield f"redline_dropped_iterations_total {gauges.dropped_iterations}"
    yield from _family("redline_run_elapsed_seconds", "gauge", "Seconds since the run started.")
    yield f"redline_run_elapsed_seconds {_number(float(gauges.elapsed_s))}"
    yield from _family("redline_run_planned_seconds", "gauge", "How long the plan was to last.")
    yield f"redline_run_planned_seconds {_number(float(gauges.planned_s))}"
    yield from _family("redline_run_info", "gauge", "The run: its plan and status; always 1.")
    info = _labels(plan=gauges.plan, status=gauges.status)
    yield f"redline_run_info{info} 1"


def prometheus_text(totals: Mapping[str, IntervalStats], gauges: RunGauges) -> str:
    """The exposition text for the run so far.

    Args:
        totals: each endpoint's statistics over the run so far (``series.total(name)``).
        gauges: the run-wide figures.

    Example::

        text = prometheus_text({"home": series.total("home")}, gauges)
    """
    lines = [*_counters(totals), *_histograms(totals), *_gauges(gauges)]
    return "\n".join(lines) + "\n"
