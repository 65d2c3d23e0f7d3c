"""The SVG charts: axes, the 1/(1-p) percentile axis, decimation, histogram bins, tooltips."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from redline.metrics import LatencyHistogram
from redline.report.html._charts import (
    Line,
    LineChartConfig,
    Mark,
    Unit,
    decimate,
    line_chart,
    nice_step,
    percentile_chart,
    percentile_x,
    time_label,
)
from redline.report.html._latency import curve_percentiles, histogram_bins


@pytest.mark.parametrize(
    ("percentile", "x"), [(0.0, 0.0), (90.0, 1.0), (99.0, 2.0), (99.9, 3.0), (99.999, 5.0)]
)
def test_percentiles_are_evenly_spaced_by_nines(percentile: float, x: float) -> None:
    assert percentile_x(percentile) == pytest.approx(x)


def test_the_curve_runs_from_0_to_99_999_percent() -> None:
    percentiles = curve_percentiles()
    assert percentiles[0] == 0.0
    assert percentiles[-1] == pytest.approx(99.999)
    assert percentiles == sorted(percentiles)


@pytest.mark.parametrize(
    ("seconds", "label"), [(0, "0s"), (45, "45s"), (90, "1m30s"), (3600, "1h"), (4500, "1h15m")]
)
def test_time_labels(seconds: int, label: str) -> None:
    assert time_label(seconds) == label


@pytest.mark.parametrize(("span", "step"), [(7.3, 2.0), (1_000, 200.0), (0.04, 0.01), (0, 1.0)])
def test_nice_steps(span: float, step: float) -> None:
    assert nice_step(span, 5) == pytest.approx(step)


def test_units_word_values_for_people() -> None:
    assert Unit.LATENCY.text(20_000) == "20 ms"
    assert Unit.LATENCY.text(1_500) == "1.50 ms"
    assert Unit.SHARE.text(0.25) == "25%"
    assert Unit.BYTES.text(3 * 1024 * 1024) == "3.0 MiB"
    assert Unit.RATE.text(1200) == "1,200/s"
    assert Unit.COUNT.text(0) == "0"


def test_decimation_keeps_every_point_that_fits_and_the_peaks_of_the_rest() -> None:
    xs = [float(i) for i in range(3600)]
    ys: list[float | None] = [1.0] * 3600
    ys[1234] = 99.0
    assert decimate(xs[:100], ys[:100], 800) == list(range(100))
    kept = decimate(xs, ys, 800)
    assert len(kept) < 3600 and 1234 in kept and kept == sorted(kept)
    assert kept[0] == 0 and kept[-1] == 3599


def test_a_line_chart_draws_gaps_marks_and_tooltip_data() -> None:
    line = Line("p95 <b>", [0.5, 1.5, 2.5, 3.5], [10.0, None, 30.0, 40.0], "#0072B2")
    figure = line_chart(
        "x", "Latency <i>", [line], Unit.LATENCY,
        LineChartConfig(x_high=4.0, marks=[Mark(2.0, "step 2")]),
    )  # fmt: skip
    path = re.search(r'<path class="line" d="([^"]+)"', figure)
    assert path is not None and path.group(1).count("M") == 2  # the gap lifts the pen
    assert "step 2" in figure and "Latency &lt;i&gt;" in figure and "p95 &lt;b&gt;" in figure
    match = re.search(r'data-tips="([^"]+)"', figure)
    assert match is not None
    tips = json.loads(html.unescape(match.group(1)))
    assert tips["unit"] == "latency" and tips["x"] == [0.5, 1.5, 2.5, 3.5]
    assert tips["s"][0]["v"] == [10.0, None, 30.0, 40.0]


def test_the_percentile_chart_ticks_the_nines() -> None:
    figure = percentile_chart("p", "curve", [Line("all", [0.0, 99.0], [100.0, 900.0], "#000")])
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)</text>', figure)
    assert ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"] == [t for t in ticks if "%" in t]


def test_histogram_bins_hold_every_request() -> None:
    histogram = LatencyHistogram()
    histogram.record_many(np.array([100] * 50 + [1_000] * 30 + [50_000] * 20))
    bins = histogram_bins(histogram, bins=10)
    assert sum(b.count for b in bins) == 100
    assert bins[0].count == 50 and bins[-1].count == 20
    assert all(a.high_us == pytest.approx(b.low_us) for a, b in zip(bins, bins[1:], strict=False))
