"""The terminal summary, the live view and the results file, from a recorded run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from redline.errors import ReportError
from redline.load import Progress, RunResult, RunStatus
from redline.load._selfcheck import self_check
from redline.load._thresholds import ThresholdWatch
from redline.metrics import EndpointRecorder, GeneratorStats, RunSeries
from redline.plan import plan_from_mapping
from redline.report import (
    SCHEMA_VERSION,
    LiveView,
    format_latency,
    render_summary,
    results_to_dict,
    write_results,
)

PLAN = {
    "name": "shop",
    "base_url": "http://127.0.0.1:8080",
    "requests": [
        {"name": "home", "url": "/", "headers": {"Authorization": "Bearer secret-token"}},
        {"name": "items", "url": "/items"},
    ],
    "thresholds": ["p95[items]<1ms", "error_rate<60%"],
}


def _series() -> RunSeries:
    series = RunSeries()
    for second in range(3):
        for name, latency_us, status in (("home", 800, 200), ("items", 4000, 503)):
            recorder = EndpointRecorder(name)
            for _ in range(100):
                recorder.record(latency_us, latency_us, status, status >= 400, 50, 40)
            stats = recorder.snapshot_and_reset(second)
            assert stats is not None
            series.add(stats)
        series.add_generator(second, GeneratorStats(cpu_s=0.5, active_vus=4))
    return series


def _result(status: RunStatus = RunStatus.COMPLETED) -> RunResult:
    plan = plan_from_mapping(PLAN)
    series = _series()
    watch = ThresholdWatch(list(plan.thresholds))
    generators = [g for g in (series.generator_at(s) for s in series.seconds()) if g]
    return RunResult(
        plan=plan,
        workers=1,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        elapsed_s=3.0,
        status=status,
        series=series,
        thresholds=watch.final(series, 3.0, 0),
        self_check=self_check(generators, 1),
    )


def _render(result: RunResult) -> str:
    console = Console(record=True, width=160)
    render_summary(result, console)
    return console.export_text()


def test_summary_lists_each_endpoint_errors_and_thresholds() -> None:
    text = _render(_result())
    assert "home" in text and "items" in text and "all" in text
    assert "800 µs" in text and "4.00 ms" in text
    assert "errors in items: 503 300" in text
    assert "✗ FAIL │ p95[items]<1ms" in text
    assert "✓ pass │ error_rate<60%" in text
    assert "histogram error ≤ 0.1%" in text


def test_summary_says_a_run_was_partial() -> None:
    assert "partial run" in _render(_result(RunStatus.INTERRUPTED))


def test_results_file_is_versioned_and_redacts_secrets(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    write_results(_result(), path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["summary"]["total"]["count"] == 600
    assert data["summary"]["endpoints"]["items"]["outcomes"] == {"503": 300}
    assert data["summary"]["total"]["rps"] == pytest.approx(200.0)
    assert "secret-token" not in path.read_text()
    assert data["plan"]["requests"][0]["headers"]["Authorization"] == "***"
    assert len(data["series"]["intervals"]) == 6


def test_unwritable_results_file_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="--out: cannot write"):
        write_results(_result(), tmp_path / "missing" / "out.json")


def test_results_dict_of_an_empty_run() -> None:
    result = _result()
    result.series = RunSeries()
    data = results_to_dict(result)
    assert data["summary"]["total"]["count"] == 0


def test_live_view_shows_the_last_second() -> None:
    console = Console(record=True, width=200, force_terminal=True)
    result = _result()
    with LiveView(console) as view:
        view.on_second(Progress(result.plan, result.series, 1, 2.0, 10.0, 1))
    text = console.export_text()
    assert "2s elapsed, 8s remaining" in text
    assert "200 req/s" in text and "VUs 4" in text


@pytest.mark.parametrize(
    ("us", "text"), [(0, "0 µs"), (999, "999 µs"), (1500, "1.50 ms"), (2_500_000, "2.50 s")]
)
def test_format_latency(us: float, text: str) -> None:
    assert format_latency(us) == text
