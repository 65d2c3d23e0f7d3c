"""Latency histograms, the hot-path recorder, per-second series and exact merging.

The flow, per worker and then in the parent process::

    EndpointRecorder.record()              every request: appends integers (~0.3 µs)
      └─ .snapshot_and_reset(second)       every second: numpy -> IntervalStats
           └─ (pickled to the parent)      histograms travel as nonzero slots
                └─ RunSeries.add()         merged exactly per (second, endpoint)
                     └─ .at() / .window() / .total() / .to_dict()

Latencies are integer microseconds, tracked from :data:`LOWEST_TRACKABLE_US`
(1 µs) to :data:`HIGHEST_TRACKABLE_US` (1 h) at :data:`SIGNIFICANT_FIGURES`
(3) digits, so every reported latency is within :data:`HISTOGRAM_RELATIVE_ERROR`
(0.1 %) of a recorded one. The counts are bit-for-bit those of
``hdrh.HdrHistogram`` and encode to the standard HdrHistogram format.

This package never reads a clock and knows nothing of HTTP: outcomes are
opaque labels (a status or an error kind) that it only counts.
"""

from __future__ import annotations

from redline.metrics._buckets import (
    HIGHEST_TRACKABLE_US,
    HISTOGRAM_RELATIVE_ERROR,
    LOWEST_TRACKABLE_US,
    SIGNIFICANT_FIGURES,
)
from redline.metrics._generator import GeneratorStats
from redline.metrics._histogram import LatencyHistogram
from redline.metrics._interval import (
    ALL_ENDPOINTS,
    SUMMARY_PERCENTILES,
    IntervalStats,
    Outcome,
    percentile_key,
)
from redline.metrics._recorder import EndpointRecorder
from redline.metrics._resources import ResourceProbe, ResourceSampler, ResourceSamples
from redline.metrics._series import RunSeries

__all__ = [
    "ResourceProbe",
    "ResourceSampler",
    "ResourceSamples",
    "ALL_ENDPOINTS",
    "HIGHEST_TRACKABLE_US",
    "HISTOGRAM_RELATIVE_ERROR",
    "LOWEST_TRACKABLE_US",
    "SIGNIFICANT_FIGURES",
    "SUMMARY_PERCENTILES",
    "EndpointRecorder",
    "GeneratorStats",
    "IntervalStats",
    "LatencyHistogram",
    "Outcome",
    "RunSeries",
    "percentile_key",
]
