"""Baseline against candidate, with statistics: verdicts, improvement figures, trends.

:func:`compare_runs` reads two :class:`ComparedRun` (a run's per-second
series plus a little metadata, or a results file via
:meth:`ComparedRun.from_results`) and returns a :class:`Comparison` (every
endpoint's throughput, p50/p90/p95/p99 and error rate, each with its change,
the change's confidence interval and a :class:`Verdict`) or, when the runs
must not be compared, a :class:`NotComparable` with its reasons.

For a series of runs, :func:`change_points` finds where a figure moved
(E-divisive means) and :func:`sparkline` draws it in one line.

Nothing here prints; ``redline.report`` renders a comparison.
"""

from redline.compare._change_points import change_points
from redline.compare._comparison import (
    COMPARISON_SCHEMA_VERSION,
    MIN_STEADY_SECONDS,
    Comparison,
    EndpointComparison,
    NotComparable,
    RunFacts,
    Settings,
    compare_runs,
)
from redline.compare._delta import Delta, Metric, Verdict
from redline.compare._fingerprint import load_shape, plan_fingerprint
from redline.compare._improvement import (
    CostModel,
    ImprovementFigures,
    format_quantity,
    format_share,
)
from redline.compare._run import ComparedRun, SteadySpan, steady_spans_of
from redline.compare._sparkline import sparkline

__all__ = [
    "COMPARISON_SCHEMA_VERSION",
    "MIN_STEADY_SECONDS",
    "ComparedRun",
    "Comparison",
    "CostModel",
    "Delta",
    "EndpointComparison",
    "ImprovementFigures",
    "Metric",
    "NotComparable",
    "RunFacts",
    "Settings",
    "SteadySpan",
    "Verdict",
    "change_points",
    "compare_runs",
    "format_quantity",
    "format_share",
    "load_shape",
    "plan_fingerprint",
    "sparkline",
    "steady_spans_of",
]
