"""The results file written by ``redline run --out FILE``.

schema_version history:
    1: first version: run, plan, summary (total and per endpoint), thresholds,
       self_check and the per-second series.
    2: ``analysis``: the run's phases with their figures and the test type's
       verdict (breaking point, spike recovery, soak drift, baseline spread);
       ``windows``: the stress steps or breakpoint windows judged during the run;
       ``run.id``: the run's id, as ``${run_id}`` in test data.
       ``resources`` (added later in version 2, optional): host and server
       per-second samples and notes (see docs/resources.md); null when not sampled.
       ``resources.host_info`` (added later in version 2, optional): the
       machine's fixed figures (cores, memory, ephemeral ports, somaxconn).
       ``diagnosis`` (added later in version 2, optional): the findings of
       ``redline run --diagnose`` (see docs/diagnose.md); absent without it.
       ``profiles`` (added later in version 2, optional): the server's CPU
       profile in each steady window, as collapsed stacks (``redline run
       --profile``, see docs/profile.md); absent without it.
       ``database`` (added later in version 2, optional): the statements the run
       caused on the database named by ``--db`` (see docs/database.md), and
       ``resources.database``: its activity per sample. ``database.samples``
       (added later, optional): statements its sessions ran, with their values
       (PostgreSQL), for ``redline db analyze --samples``.
       ``cache`` (added later in version 2, optional): the cache named by
       ``--cache``: its settings, and for Redis the slowlog entries logged
       during the run; ``resources.cache``: its activity per sample (see
       docs/resources.md). Absent without ``--cache``.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from redline.diagnose import Diagnosis, TestReport
from redline.load import RunResult
from redline.metrics import HISTOGRAM_RELATIVE_ERROR, IntervalStats
from redline.report._files import write_report

__all__ = ["SCHEMA_VERSION", "results_to_dict", "write_results"]

#: Version of the results file layout; see the module docstring for history.
SCHEMA_VERSION = 2
#: Header names whose values never leave the process.
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})


def redline_version() -> str:
    """The installed redline version."""
    try:
        return version("redline")
    except PackageNotFoundError:  # pragma: no cover - only in a source tree without install
        return "0+unknown"


def _endpoint_summary(stats: IntervalStats, elapsed_s: float) -> dict[str, Any]:
    summary = stats.to_dict()
    summary["rps"] = stats.count / elapsed_s if elapsed_s > 0 else 0.0
    return summary


def _redacted_plan(result: RunResult) -> dict[str, Any]:
    plan: dict[str, Any] = result.plan.model_dump(mode="json")
    for request in plan.get("requests", []):
        headers = request.get("headers") or {}
        for name in headers:
            if name.lower() in SECRET_HEADERS:
                headers[name] = "***"
    return plan


def results_to_dict(
    result: RunResult, analysis: TestReport | None = None, diagnosis: Diagnosis | None = None
) -> dict[str, Any]:
    """Everything a run measured, and its analysis and diagnosis when given, as JSON-ready data."""
    series = result.series
    elapsed = result.elapsed_s
    return {
        "schema_version": SCHEMA_VERSION,
        "redline_version": redline_version(),
        "run": {
            "id": result.run_id,
            "name": result.plan.name,
            "started_at": result.started_at.isoformat(),
            "elapsed_s": round(elapsed, 3),
            "status": result.status.value,
            "partial": result.partial,
            "workers": result.workers,
            "aborted_by": result.aborted_by,
            "interrupted_requests": result.interrupted_requests,
            "lost_workers": result.lost_workers,
            "script_errors": result.script_errors,
        },
        "plan": _redacted_plan(result),
        "summary": {
            "histogram_relative_error": HISTOGRAM_RELATIVE_ERROR,
            "total": _endpoint_summary(series.total(), elapsed),
            "endpoints": {
                name: _endpoint_summary(series.total(name), elapsed) for name in series.endpoints()
            },
            "dropped_iterations": result.self_check.dropped_iterations,
        },
        "thresholds": [t.to_dict() for t in result.thresholds],
        "self_check": result.self_check.to_dict(),
        "windows": [w.to_dict() for w in result.windows],
        "analysis": analysis.to_dict() if analysis is not None else None,
        "series": series.to_dict(),
        "resources": result.resources.to_dict() if result.resources is not None else None,
        **({"profiles": result.profiles} if result.profiles else {}),
        **({"database": result.database} if result.database is not None else {}),
        **({"cache": result.cache} if result.cache is not None else {}),
        **({"diagnosis": diagnosis.to_dict()} if diagnosis is not None else {}),
    }


def write_results(
    result: RunResult,
    path: Path,
    analysis: TestReport | None = None,
    diagnosis: Diagnosis | None = None,
) -> None:
    """Write the results file; a ReportError says why when it cannot be written."""
    document = results_to_dict(result, analysis, diagnosis)
    write_report(path, json.dumps(document, indent=1) + "\n", flag="--out")
