"""A stored run rendered from its results document, and its per-second CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from redline.diagnose import analyze_run
from redline.load import RunResult, RunStatus
from redline.load._selfcheck import self_check
from redline.load._thresholds import ThresholdWatch
from redline.metrics import EndpointRecorder, RunSeries
from redline.plan import plan_from_mapping
from redline.report import results_to_dict
from redline.report._csv import CSV_COLUMNS, series_csv
from redline.report._stored import render_stored_run


def _document(status: RunStatus = RunStatus.COMPLETED) -> dict[str, Any]:
    plan = plan_from_mapping(
        {
            "name": "shop",
            "base_url": "http://127.0.0.1:8080",
            "requests": [{"name": "home", "url": "/"}, {"name": "items", "url": "/items"}],
            "thresholds": ["p95<1ms", "error_rate<60%"],
        }
    )
    series = RunSeries()
    for second in range(3):
        for name, latency_us, status_code in (("home", 800, 200), ("items", 4000, 503)):
            recorder = EndpointRecorder(name)
            for _ in range(100):
                recorder.record(latency_us, latency_us, status_code, status_code >= 400, 5, 5)
            stats = recorder.snapshot_and_reset(second)
            assert stats is not None
            series.add(stats)
    result = RunResult(
        plan=plan,
        workers=1,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        elapsed_s=3.0,
        status=status,
        series=series,
        thresholds=ThresholdWatch(list(plan.thresholds)).final(series, 3.0, 0),
        self_check=self_check([], 1),
        run_id="20260101-000000-abcdef",
    )
    return results_to_dict(result, analyze_run(result))


def _render(document: dict[str, Any]) -> str:
    console = Console(record=True, width=160)
    render_stored_run(document, console)
    return console.export_text()


def test_a_stored_run_shows_its_endpoints_and_thresholds() -> None:
    text = _render(_document())
    assert "run 20260101-000000-abcdef · started 2026-01-01T00:00:00+00:00" in text
    assert "shop: completed" in text
    assert "home" in text and "items" in text and "all" in text
    assert "800 µs" in text and "4.00 ms" in text
    assert "300 (50.00%)" in text
    assert "✗ FAIL │ p95<1ms" in text and "✓ pass │ error_rate<60%" in text
    assert "50.00%" in text


def test_a_partial_run_says_so() -> None:
    text = _render(_document(RunStatus.INTERRUPTED))
    assert "interrupted (partial)" in text
    assert "partial run: stopped before the plan's end" in text


def test_a_stress_run_shows_its_phases_and_breaking_point() -> None:
    document = _document()
    step = {"name": "step 1", "level": 10, "rps": 120.0, "p95_us": 900, "error_rate": 0.0}
    broke = {**step, "name": "step 2", "level": 20, "broken": ["error_rate<5%: 0.31"]}
    document["analysis"] = {
        "type": "stress",
        "unit": "VUs",
        "phases": [
            {
                "name": "step 1", "start_s": 0.0, "warmup_s": 1.0, "covered_end_s": 3.0,
                "level": 10, "unit": "VUs", "rps": 120.0, "error_rate": 0.0,
                "p50_us": 500, "p95_us": 900, "p99_us": 1000,
            }
        ],
        "breaking_point": {"last_good": step, "first_bad": broke},
    }  # fmt: skip
    text = _render(document)
    assert "phases (stress test)" in text and "1–3s" in text and "10 VUs" in text
    assert "first to break: step 2 at 20 VUs: error_rate<5%: 0.31" in text
    assert "breaking point: 10 VUs (step 1: 120.0 req/s, p95 900 µs, errors 0.00%)" in text


def test_the_csv_has_one_row_per_second_per_endpoint() -> None:
    rows = list(csv.DictReader(io.StringIO(series_csv(_document()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["second"], r["endpoint"]) for r in rows] == [
        (str(s), e) for s in range(3) for e in ("home", "items")
    ]
    items = rows[1]
    assert items["count"] == "100" and items["errors"] == "100" and items["rps"] == "100.0"
    assert int(items["p50_us"]) == int(items["max_us"]) == 4001  # 3 significant digits
