"""Synthetic run series for analysis tests: seconds with chosen counts, latencies and errors."""

from __future__ import annotations

from redline.metrics import IntervalStats, LatencyHistogram, RunSeries


def second_of(second: int, count: int, latency_us: int, failures: int = 0) -> IntervalStats:
    """``count`` requests in ``second``, all at ``latency_us``, ``failures`` of them failed."""
    histogram = LatencyHistogram()
    histogram.record_many([latency_us] * count)
    return IntervalStats(
        endpoint="a",
        second=second,
        count=count,
        failures=failures,
        outcomes={200: count - failures, 503: failures} if failures else {200: count},
        bytes_in=100 * count,
        bytes_out=50 * count,
        service=histogram,
        response=histogram.copy(),
    )


def series_of(seconds: list[tuple[int, int] | tuple[int, int, int]]) -> RunSeries:
    """A series from ``(count, latency_us[, failures])`` per second, from second 0."""
    series = RunSeries()
    for index, figures in enumerate(seconds):
        series.add(second_of(index, *figures))
    return series
