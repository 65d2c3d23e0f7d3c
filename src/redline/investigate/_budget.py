"""The investigation's phases and how long each may take.

Each phase has a time budget in seconds. The load phases size their runs from
it (a baseline's repeats and their length, the scalability test's duration);
the others are bounded by their inputs and the budget is what they are held
to: a phase that ends past its budget is reported as over it.

:data:`DEFAULT_BUDGETS_S` keep a small service's whole investigation under
10 minutes and :data:`QUICK_BUDGETS_S` (``--quick``) under 3.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from redline.errors import ConfigError
from redline.plan import Range, Unit

__all__ = [
    "BUDGET_S_RANGE",
    "DEFAULT_BUDGETS_S",
    "QUICK_BUDGETS_S",
    "BudgetConfig",
    "PhaseName",
]


#: A phase's budget: 1 s to 1 h.
BUDGET_S_RANGE: Final = Range(1, 3600, Unit.SECONDS)


class PhaseName(enum.StrEnum):
    """The phases, in the order they run."""

    #: A short load, repeated, for the figures every change is compared with.
    BASELINE = "baseline"
    #: Load steps up to the knee or the SLA breach (a stress test judged by the SLAs).
    SCALABILITY = "scalability"
    #: The server's profiles from each step's steady window.
    PROFILE = "profile"
    #: The database and cache analysis, with the statements the runs caught.
    ANALYSIS = "analysis"
    #: Findings, the knee and the capacity within the SLA.
    DIAGNOSIS = "diagnosis"
    #: The advised indexes applied, kept only when they measure faster.
    OPTIMIZE = "optimize"
    #: The baseline again, compared with the first.
    VALIDATE = "validate"
    #: The HTML report and the JSON summary.
    REPORT = "report"
    #: Every journaled change undone, then checked.
    ROLLBACK = "rollback"


#: Budgets of a full investigation (at most 570 s in all).
DEFAULT_BUDGETS_S: Final[Mapping[PhaseName, float]] = {
    PhaseName.BASELINE: 60.0,
    PhaseName.SCALABILITY: 150.0,
    PhaseName.PROFILE: 10.0,
    PhaseName.ANALYSIS: 60.0,
    PhaseName.DIAGNOSIS: 20.0,
    PhaseName.OPTIMIZE: 120.0,
    PhaseName.VALIDATE: 60.0,
    PhaseName.REPORT: 30.0,
    PhaseName.ROLLBACK: 60.0,
}
#: Budgets with ``--quick`` (at most 162 s in all).
QUICK_BUDGETS_S: Final[Mapping[PhaseName, float]] = {
    PhaseName.BASELINE: 40.0,
    PhaseName.SCALABILITY: 36.0,
    PhaseName.PROFILE: 3.0,
    PhaseName.ANALYSIS: 10.0,
    PhaseName.DIAGNOSIS: 5.0,
    PhaseName.OPTIMIZE: 15.0,
    PhaseName.VALIDATE: 40.0,
    PhaseName.REPORT: 8.0,
    PhaseName.ROLLBACK: 5.0,
}


@dataclass(frozen=True)
class BudgetConfig:
    """Each phase's time budget in seconds.

    Example::

        budgets = BudgetConfig.quick().with_overrides({PhaseName.SCALABILITY: 60.0})
    """

    budgets_s: Mapping[PhaseName, float] = field(default_factory=lambda: dict(DEFAULT_BUDGETS_S))

    @classmethod
    def quick(cls) -> BudgetConfig:
        """The ``--quick`` budgets."""
        return cls(dict(QUICK_BUDGETS_S))

    def with_overrides(self, overrides: Mapping[PhaseName, float]) -> BudgetConfig:
        """These budgets with some replaced (checked by :meth:`validate`)."""
        return BudgetConfig({**self.budgets_s, **overrides})

    def budget_s(self, phase: PhaseName) -> float:
        """The phase's budget."""
        return self.budgets_s[phase]

    def total_s(self, phases: list[PhaseName]) -> float:
        """The sum of the budgets of ``phases``."""
        return sum(self.budgets_s[p] for p in phases)

    def validate(self) -> list[ConfigError]:
        """Every problem: a phase without a budget, or a budget that is not above 0."""
        errors = []
        for phase in PhaseName:
            value = self.budgets_s.get(phase)
            if value is None:
                errors.append(ConfigError(f"budget: phase {phase.value!r} has no budget"))
            elif not value > 0:
                errors.append(
                    ConfigError(
                        f"budget: {phase.value} is {value!r} s; allowed a number of seconds above 0"
                    )
                )
        return errors
