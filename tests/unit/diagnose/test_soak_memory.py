"""The soak verdict's server memory trend, fitted on the sampled RSS of the steady span."""

from __future__ import annotations

import pytest
from rich.console import Console

from redline import diagnose, plan
from redline.diagnose import SoakVerdict
from redline.diagnose._soak import server_memory_trend
from redline.diagnose._trend import Trend
from redline.plan import Phase, PhaseKind
from redline.report import render_test_report


def rss(seconds: range, *, slope: float) -> list[dict[str, object]]:
    return [{"second": s, "rss_bytes": 100e6 + slope * s} for s in seconds]


def test_a_leak_is_a_significant_slope_over_the_steady_span() -> None:
    hold = Phase("soak", PhaseKind.HOLD, 0.0, 60.0, 10.0, warmup_s=10.0)
    samples = rss(range(60), slope=1000.0)
    samples[3]["rss_bytes"] = 1e9  # in the warm-up: left out
    trend = server_memory_trend(samples, [hold], 60.0)
    assert trend is not None and trend.significant
    assert trend.slope_per_s == pytest.approx(1000.0)
    assert trend.points == 50


def test_no_hold_or_too_few_points_is_none() -> None:
    ramp = Phase("ramp", PhaseKind.RAMP_UP, 0.0, 60.0, 10.0)
    assert server_memory_trend(rss(range(60), slope=1.0), [ramp], 60.0) is None
    hold = Phase("soak", PhaseKind.HOLD, 0.0, 60.0, 10.0)
    assert server_memory_trend(rss(range(2), slope=1.0), [hold], 60.0) is None


def test_the_terminal_report_shows_the_server_rss_drift() -> None:
    leak = Trend(1000.0, 900.0, 1100.0, 50)
    report = diagnose.TestReport(plan.TestType.SOAK, "vus", [], soak=SoakVerdict(None, None, leak))
    console = Console(record=True, width=200)
    render_test_report(report, console)
    assert "server RSS drift: drifting: +3.4 MiB/h (95% CI +3.1 MiB .. +3.8 MiB, 50 s)" in (
        console.export_text()
    )


def test_server_memory_trend_reads_samples_by_their_period() -> None:
    phases = [Phase("hold", PhaseKind.HOLD, 0.0, 40.0, 10.0)]
    samples = [{"second": k, "rss_bytes": 1000 + 100 * k} for k in range(20)]  # every 2 s
    trend = server_memory_trend(samples, phases, 40.0, every_s=2.0)
    assert trend is not None
    assert trend.slope_per_s == pytest.approx(50.0)
