"""``redline investigate``: the whole loop, from a system's description to a proven fix.

It joins the other parts and belongs to none of them (docs/decisions.md):

- :func:`run_plan`: one measured run, with its sampler and watchers (shared with ``redline run``);
  :class:`RunMeasurer` runs and stores one for the investigation.
- :func:`baseline_plan`, :func:`scalability_plan`: the load phases' plans, from a Context.
- :class:`Investigation`: the phases (baseline, scalability, profile, analysis,
  diagnosis, optimize, validate, report, rollback), each a function of its budget.
- :func:`run_phases`: the phases in order, each with its budget (:class:`BudgetConfig`),
  telling a :class:`ProgressSink` (:class:`JsonLinesProgress` for ``--progress-json``).
- :func:`check_context`: the checks before any load.
"""

from redline.investigate._assembly import profile_schedule, run_plan
from redline.investigate._budget import (
    BUDGET_S_RANGE,
    DEFAULT_BUDGETS_S,
    QUICK_BUDGETS_S,
    BudgetConfig,
    PhaseName,
)
from redline.investigate._investigation import (
    SUMMARY_FILE,
    SUMMARY_SCHEMA_VERSION,
    InvestigateConfig,
    Investigation,
    MeasureRun,
)
from redline.investigate._measure import RunMeasurer, Sampling, stored_run
from redline.investigate._plans import baseline_plan, plan_level, scalability_plan
from redline.investigate._preflight import check_context, check_targets
from redline.investigate._progress import (
    AGENT,
    FanOut,
    JsonLinesProgress,
    ProgressEvent,
    ProgressSink,
    Status,
)
from redline.investigate._sequence import PhaseRecord, PhaseStep, run_phases

__all__ = [
    "AGENT",
    "BUDGET_S_RANGE",
    "DEFAULT_BUDGETS_S",
    "QUICK_BUDGETS_S",
    "SUMMARY_FILE",
    "SUMMARY_SCHEMA_VERSION",
    "BudgetConfig",
    "FanOut",
    "InvestigateConfig",
    "Investigation",
    "JsonLinesProgress",
    "MeasureRun",
    "PhaseName",
    "PhaseRecord",
    "PhaseStep",
    "ProgressEvent",
    "ProgressSink",
    "RunMeasurer",
    "Sampling",
    "Status",
    "baseline_plan",
    "check_context",
    "check_targets",
    "plan_level",
    "profile_schedule",
    "run_phases",
    "run_plan",
    "scalability_plan",
    "stored_run",
]
