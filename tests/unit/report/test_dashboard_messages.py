"""The dashboard's server-sent messages: one per merged second, and the run's summary."""

from __future__ import annotations

import json

import pytest

from redline.load import RunStatus
from redline.plan import Phase, PhaseKind
from redline.report.dashboard import errors_by_kind, second_message, stage_at, summary_message
from tests.unit.report import dashboard_runs


def _message(second: int) -> dict[str, object]:
    progress = dashboard_runs.progress(second)
    series = progress.series
    totals = {name: series.total(name) for name in series.endpoints()}
    return second_message(progress, progress.plan.phases(), totals)


def test_second_message_carries_the_last_second_for_the_charts() -> None:
    message = _message(2)
    assert message["point"] == {
        "t": 3.0,
        "rps": 210.0,
        "errors": 70,
        # 100 at 800 µs, 100 at 4 ms, 10 (4.8 %) at 1 s: only p99 is a timeout.
        "p50_ms": pytest.approx(4.0, rel=1e-3),
        "p95_ms": pytest.approx(4.0, rel=1e-3),
        "p99_ms": pytest.approx(1000.0, rel=1e-3),
        "vus": 4,
        "iterations": 200,
    }
    assert message["errors"] == {"503": 60, "timeout": 10}
    assert (message["elapsed_s"], message["planned_s"], message["left_s"]) == (3.0, 10.0, 7.0)
    assert message["plan"] == "shop"


def test_second_message_table_holds_the_run_so_far() -> None:
    rows = {row["name"]: row for row in _message(1)["endpoints"]}  # type: ignore[attr-defined]
    assert rows["home"] == {
        "name": "home",
        "count": 200,
        "rps": 100.0,
        "failures": 0,
        "error_rate": 0.0,
        "p50_ms": pytest.approx(0.8, rel=1e-3),
        "p95_ms": pytest.approx(0.8, rel=1e-3),
        "p99_ms": pytest.approx(0.8, rel=1e-3),
        "max_ms": pytest.approx(0.8, rel=1e-3),
    }
    assert rows["items"]["count"] == 200
    assert rows["items"]["failures"] == 120
    assert rows["items"]["error_rate"] == pytest.approx(0.6)
    assert _message(1)["total"] == {"count": 400, "failures": 120, "error_rate": 0.3}


def test_second_message_names_the_stage_and_its_time_left() -> None:
    assert _message(0)["stage"] == {
        "name": "stage 1",
        "kind": "ramp-up",
        "index": 1,
        "count": 2,
        "level": 4.0,
        "unit": "VUs",
        "left_s": 1.0,
    }
    stage = _message(2)["stage"]
    assert isinstance(stage, dict)
    assert (stage["name"], stage["kind"], stage["left_s"]) == ("stage 2", "hold", 7.0)


def test_second_message_is_json() -> None:
    assert json.loads(json.dumps(_message(2))) == json.loads(json.dumps(_message(2)))


@pytest.mark.parametrize(
    ("elapsed_s", "expected"),
    [(0.5, "ramp"), (2.0, "ramp"), (2.5, "hold"), (10.0, "hold"), (10.5, None), (0.0, None)],
)
def test_stage_holds_the_second_that_just_ended(elapsed_s: float, expected: str | None) -> None:
    phases = [
        Phase("ramp", PhaseKind.RAMP_UP, 0.0, 2.0, 4.0),
        Phase("hold", PhaseKind.HOLD, 2.0, 10.0, 4.0),
    ]
    stage = stage_at(phases, elapsed_s)
    assert (stage["name"] if stage else None) == expected


def test_errors_by_kind_are_error_kinds_and_statuses_from_400() -> None:
    outcomes = {200: 5, 301: 1, 404: 2, 503: 7, "timeout": 2, "connect": 9}
    assert errors_by_kind(outcomes) == {"connect": 9, "503": 7, "404": 2, "timeout": 2}


def test_summary_message_has_the_final_figures_and_thresholds() -> None:
    summary = summary_message(dashboard_runs.result(), report="out/report.html")
    assert summary["status"] == "completed"
    assert summary["partial"] is False
    assert summary["plan"] == "shop"
    assert summary["run_id"] == "20260101-000000-abcdef"
    assert summary["total"]["count"] == 610
    assert summary["total"]["failures"] == 190
    assert summary["total"]["rps"] == pytest.approx(610 / 3)
    assert summary["errors"] == {"503": 180, "timeout": 10}
    rows = {row["name"]: row for row in summary["endpoints"]}
    assert rows["home"]["rps"] == pytest.approx(100.0)  # the run's average, once it ended
    assert [(t["source"], t["passed"]) for t in summary["thresholds"]] == [
        ("p95[items]<1ms", False),
        ("error_rate<60%", True),
    ]
    assert summary["report"] == "out/report.html"
    assert summary["stopped_here"] is False


def test_summary_message_of_a_run_stopped_from_the_dashboard() -> None:
    summary = summary_message(dashboard_runs.result(RunStatus.INTERRUPTED), stopped_here=True)
    assert summary["status"] == "interrupted"
    assert summary["partial"] is True
    assert summary["stopped_here"] is True
    assert summary["status_text"] == "stopped before the plan's end (partial)"
    assert summary["report"] is None
