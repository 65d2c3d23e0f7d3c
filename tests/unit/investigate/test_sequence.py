"""The investigation's phase loop: order, budgets, progress events, on a fake clock."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from redline.clock import FakeClock
from redline.errors import ConfigError
from redline.investigate import (
    DEFAULT_BUDGETS_S,
    QUICK_BUDGETS_S,
    BudgetConfig,
    FanOut,
    JsonLinesProgress,
    PhaseName,
    PhaseStep,
    ProgressEvent,
    Status,
    run_phases,
)

NS = 1_000_000_000


class Recorder:
    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []

    def emit(self, event: ProgressEvent) -> None:
        self.events.append(event)


def fake_phase(clock: FakeClock, took_s: float, figures: Mapping[str, Any], ran: list[float]):
    def run(budget_s: float) -> Mapping[str, Any]:
        ran.append(budget_s)
        clock.advance(int(took_s * NS))
        return figures

    return run


def test_phases_run_in_order_with_their_budgets_and_figures_accumulate() -> None:
    clock, sink, budgets_seen = FakeClock(), Recorder(), []
    steps = [
        PhaseStep(PhaseName.BASELINE, Status.BASELINING,
                  fake_phase(clock, 30, {"baseline_p95_ms": 12.5}, budgets_seen)),
        PhaseStep(PhaseName.SCALABILITY, Status.LOAD_TESTING,
                  fake_phase(clock, 200, {"max_rps": 900.0}, budgets_seen)),
    ]  # fmt: skip
    records = run_phases(steps, budgets=BudgetConfig(), clock=clock, progress=sink)

    assert budgets_seen == [60.0, 150.0]
    assert [(r.name, r.elapsed_s, r.over_budget) for r in records] == [
        (PhaseName.BASELINE, 30.0, False),
        (PhaseName.SCALABILITY, 200.0, True),
    ]
    assert [e.to_dict() for e in sink.events] == [
        {"agent": "redline", "status": "baselining",
         "progress": {"phase": "baseline", "budget_s": 60.0}},
        {"agent": "redline", "status": "load-testing",
         "progress": {"phase": "scalability", "budget_s": 150.0, "baseline_p95_ms": 12.5}},
        {"agent": "redline", "status": "done",
         "progress": {"phase": "done", "baseline_p95_ms": 12.5, "max_rps": 900.0}},
    ]  # fmt: skip


def test_a_failing_phase_stops_the_sequence() -> None:
    clock, sink, ran = FakeClock(), Recorder(), []

    def broken(_budget_s: float) -> Mapping[str, Any]:
        raise ConfigError("broken")

    steps = [
        PhaseStep(PhaseName.BASELINE, Status.BASELINING, broken),
        PhaseStep(PhaseName.SCALABILITY, Status.LOAD_TESTING, fake_phase(clock, 1, {}, ran)),
    ]
    with pytest.raises(ConfigError, match="broken"):
        run_phases(steps, budgets=BudgetConfig(), clock=clock, progress=sink)
    assert ran == []
    assert [e.status for e in sink.events] == [Status.BASELINING]


def test_json_lines_progress_writes_one_object_per_line(tmp_path: Path) -> None:
    path = tmp_path / "progress.jsonl"
    path.write_text("stale\n")
    sink = JsonLinesProgress(path)
    sink.start()
    both = FanOut(sink, None, Recorder())
    both.emit(ProgressEvent(Status.BASELINING, "baseline", {"budget_s": 40.0}))
    both.emit(ProgressEvent(Status.DONE, "done", {"response_time_improvement": "50%"}))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [
        {"agent": "redline", "status": "baselining",
         "progress": {"phase": "baseline", "budget_s": 40.0}},
        {"agent": "redline", "status": "done",
         "progress": {"phase": "done", "response_time_improvement": "50%"}},
    ]  # fmt: skip


def test_json_lines_progress_that_cannot_be_written_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--progress-json: cannot write '.*missing/p.jsonl'"):
        JsonLinesProgress(tmp_path / "missing" / "p.jsonl").start()


def test_status_values_are_the_ones_watchers_read() -> None:
    assert [s.value for s in Status] == [
        "baselining", "load-testing", "profiling", "analyzing", "optimizing", "validating", "done",
    ]  # fmt: skip


def test_default_budgets_stay_under_10_minutes_and_quick_under_3() -> None:
    assert sum(DEFAULT_BUDGETS_S.values()) < 600
    assert sum(QUICK_BUDGETS_S.values()) < 180
    assert BudgetConfig().validate() == [] and BudgetConfig.quick().validate() == []


def test_budget_validation_names_every_problem() -> None:
    budgets = {p: 1.0 for p in PhaseName if p is not PhaseName.REPORT}
    errors = BudgetConfig({**budgets, PhaseName.BASELINE: 0.0}).validate()
    assert [e.message for e in errors] == [
        "budget: baseline is 0.0 s; allowed a number of seconds above 0",
        "budget: phase 'report' has no budget",
    ]


def test_overrides_replace_one_budget() -> None:
    budgets = BudgetConfig.quick().with_overrides({PhaseName.SCALABILITY: 90.0})
    assert budgets.budget_s(PhaseName.SCALABILITY) == 90.0
    assert budgets.budget_s(PhaseName.BASELINE) == QUICK_BUDGETS_S[PhaseName.BASELINE]
