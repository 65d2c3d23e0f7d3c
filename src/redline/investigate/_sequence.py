"""Phases run in order, each with its budget, each telling the progress sink.

:func:`run_phases` is the loop and nothing else: what a phase does is its
function's business (:mod:`._phases`), so tests sequence fake phases on a
fake clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redline.clock import Clock
from redline.investigate._budget import BudgetConfig, PhaseName
from redline.investigate._progress import ProgressEvent, ProgressSink, Status

__all__ = ["PhaseRecord", "PhaseStep", "run_phases"]

#: Nanoseconds in a second.
NS_PER_S = 1_000_000_000

#: A phase: given its budget in seconds, does its work and returns the figures it measured.
PhaseFn = Callable[[float], Mapping[str, Any]]


@dataclass(frozen=True)
class PhaseStep:
    """One phase to run: its name, the status a watcher sees, and its function."""

    name: PhaseName
    status: Status
    run: PhaseFn


@dataclass(frozen=True)
class PhaseRecord:
    """How one phase went."""

    name: PhaseName
    budget_s: float
    elapsed_s: float
    figures: Mapping[str, Any]

    @property
    def over_budget(self) -> bool:
        return self.elapsed_s > self.budget_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.name.value,
            "budget_s": self.budget_s,
            "elapsed_s": round(self.elapsed_s, 3),
            "over_budget": self.over_budget,
        }


def run_phases(
    steps: Sequence[PhaseStep],
    *,
    budgets: BudgetConfig,
    clock: Clock,
    progress: ProgressSink,
) -> list[PhaseRecord]:
    """Run ``steps`` in order; one event as each starts, one ``done`` event at the end.

    Each event's progress holds every figure the phases before it measured. An
    error in a phase ends the sequence (the caller's ``finally`` cleans up).
    """
    figures: dict[str, Any] = {}
    records = []
    for step in steps:
        budget_s = budgets.budget_s(step.name)
        event = ProgressEvent(step.status, step.name.value, {**figures, "budget_s": budget_s})
        progress.emit(event)
        start_ns = clock.now_ns()
        measured = step.run(budget_s)
        elapsed_s = (clock.now_ns() - start_ns) / NS_PER_S
        figures.update(measured)
        records.append(PhaseRecord(step.name, budget_s, elapsed_s, dict(measured)))
    progress.emit(ProgressEvent(Status.DONE, "done", figures))
    return records
