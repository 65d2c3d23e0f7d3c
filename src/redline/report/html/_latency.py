"""The latency distribution: the HDR percentile curve and a histogram, from the run's histograms.

Both read the encoded HdrHistograms the results document keeps for the whole
run (``summary.total.response.hdr``, and each endpoint's); nothing is
estimated from the per-second summaries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from redline.metrics import LatencyHistogram
from redline.report.html._charts import (
    PALETTE,
    TOP_PERCENTILE,
    Bin,
    Line,
    histogram_chart,
    percentile_chart,
)
from redline.report.html._page import Section

__all__ = ["HISTOGRAM_BINS", "curve_percentiles", "histogram_bins", "latency_section"]

#: Points per decade of ``1/(1-p)`` on the percentile curve.
POINTS_PER_DECADE = 12
#: Bins of the latency histogram (log-spaced from the fastest to the slowest request).
HISTOGRAM_BINS = 40
#: Per-endpoint curves are drawn for at most this many endpoints.
MAX_ENDPOINT_CURVES = 6


def curve_percentiles() -> list[float]:
    """0 %, then evenly spaced on the ``1/(1-p)`` axis up to 99.999 %."""
    decades = round(-math.log10(1 - TOP_PERCENTILE / 100))
    steps = decades * POINTS_PER_DECADE
    return [100.0 * (1.0 - 10 ** (-k / POINTS_PER_DECADE)) for k in range(steps + 1)]


def _histogram(summary: Mapping[str, Any]) -> LatencyHistogram | None:
    encoded = (summary.get("response") or {}).get("hdr")
    if not encoded or not summary.get("count"):
        return None
    return LatencyHistogram.decode(str(encoded))


def _curve(label: str, histogram: LatencyHistogram, colour: str, *, dashed: bool = False) -> Line:
    percentiles = [p for p in curve_percentiles() if p <= TOP_PERCENTILE + 1e-9]
    values = histogram.percentiles(min(p, 100.0) for p in percentiles)
    ys: list[float | None] = [float(values[p]) for p in percentiles]
    return Line(label, percentiles, ys, colour, dashed)


def histogram_bins(histogram: LatencyHistogram, bins: int = HISTOGRAM_BINS) -> list[Bin]:
    """Requests in ``bins`` log-spaced latency bins from the lowest to the highest recorded."""
    low, high = float(max(histogram.min, 1)), float(max(histogram.max, 1)) + 1.0
    ratio = (high / low) ** (1.0 / bins)
    edges = [low * ratio**i for i in range(bins + 1)]
    counts = [0] * bins
    log_low, log_ratio = math.log(low), math.log(ratio)
    for item in histogram.to_hdrh().get_recorded_iterator():
        value = max(float(item.value_iterated_to), low)
        index = min(int((math.log(value) - log_low) / log_ratio), bins - 1)
        counts[index] += int(item.count_added_in_this_iter_step)
    return [Bin(edges[i], edges[i + 1], counts[i]) for i in range(bins)]


def latency_section(
    document: Mapping[str, Any], baseline: Mapping[str, Any] | None
) -> Section | None:
    """The percentile curve (with each endpoint's and the baseline's) and the histogram."""
    summary = document["summary"]
    total = _histogram(summary["total"])
    if total is None:
        return None
    lines = [_curve("all endpoints", total, PALETTE[6])]
    endpoints = summary.get("endpoints") or {}
    if 1 < len(endpoints) <= MAX_ENDPOINT_CURVES:
        for i, (name, stats) in enumerate(sorted(endpoints.items())):
            histogram = _histogram(stats)
            if histogram is not None:
                lines.append(_curve(str(name), histogram, PALETTE[i % 6]))
    base = _histogram(baseline["summary"]["total"]) if baseline is not None else None
    if base is not None:
        lines.append(_curve("baseline: all endpoints", base, PALETTE[6], dashed=True))
    curve = percentile_chart(
        "percentiles", "Response time by percentile (HdrHistogram, 1/(1−p) axis)", lines
    )
    bars = histogram_chart(
        "histogram", "Requests by response time (log-spaced bins)", histogram_bins(total),
        PALETTE[0],
    )  # fmt: skip
    note = (
        '<p class="note">The curve reads left to right: half the requests were at or under '
        "the 50% value, 1 in 1,000 over the 99.9% value. Hover a bar for its range.</p>"
    )
    return Section("latency-distribution", "Latency distribution", curve + note + bars)
