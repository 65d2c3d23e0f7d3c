"""A stored run in the terminal, read from its results document alone.

``redline show`` has the run's results document (:func:`results_to_dict`), not
the :class:`~redline.load.RunResult` it came from: rebuilding that would mean
validating the stored plan again, which a redacted or Python-scenario plan may
not survive. So this renders the same tables as :func:`render_summary` and
:func:`render_test_report`'s phase table from the document's figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from redline.errors import ConfigError
from redline.metrics import HISTOGRAM_RELATIVE_ERROR
from redline.plan import parse_threshold
from redline.report._terminal import (
    SUMMARY_PERCENTILES,
    endpoint_table,
    format_latency,
    format_metric_value,
)

__all__ = ["render_stored_run"]


def _latency(value: object) -> str:
    return format_latency(float(value)) if isinstance(value, int | float) else "—"


def _summary_table(document: Mapping[str, Any]) -> Table:
    run = document["run"]
    table = endpoint_table(f"{run['name']}: {run['status']}")
    endpoints: Mapping[str, Any] = document["summary"]["endpoints"]
    rows = list(endpoints.items())
    if len(rows) != 1:
        rows.append(("all", document["summary"]["total"]))
    for name, stats in rows:
        response = stats["response"]
        table.add_row(
            name,
            f"{stats['count']:,}",
            f"{stats['rps']:,.1f}",
            f"{stats['failures']:,} ({stats['error_rate']:.2%})",
            *(_latency(response[label]) for label, _ in SUMMARY_PERCENTILES),
            _latency(response["max"]),
        )
    return table


def observed_figure(source: str, value: float | None, *, missing: str = "") -> str:
    """A stored threshold's observed figure in its metric's unit (``missing`` when none)."""
    if value is None:
        return missing
    try:
        metric = parse_threshold(source).metric
    except ConfigError:  # a rule this redline no longer reads: show the bare figure
        return f"{value:g}"
    return format_metric_value(metric, value)


def _threshold_table(thresholds: list[Mapping[str, Any]]) -> Table:
    table = Table(title="thresholds", title_justify="left")
    for header in ("", "threshold", "observed"):
        table.add_column(header)
    for outcome in thresholds:
        mark = Text("✓ pass", "green") if outcome["passed"] else Text("✗ FAIL", "bold red")
        observed = observed_figure(outcome["threshold"], outcome["observed"])
        if outcome.get("failed_at_s") is not None:
            observed += f" (failed at {outcome['failed_at_s'] + 1}s)"
        table.add_row(mark, Text(outcome["threshold"]), Text(observed))
    return table


def _level(value: float, unit: str) -> str:
    return f"{value:,.1f}/s" if unit == "/s" else f"{value:,.0f} VUs"


def _phase_table(analysis: Mapping[str, Any]) -> Table:
    kind = analysis.get("type")
    table = Table(title=f"phases ({kind} test)" if kind else "phases", title_justify="left")
    table.add_column("phase")
    for header in ("time", "level", "req/s", "errors", "p50", "p95", "p99"):
        table.add_column(header, justify="right")
    for phase in analysis["phases"]:
        start_s = phase["start_s"] + phase.get("warmup_s", 0.0)
        table.add_row(
            phase["name"],
            f"{round(start_s, 1):g}–{round(phase['covered_end_s'], 1):g}s",
            _level(phase["level"], phase["unit"]),
            f"{phase['rps']:,.1f}",
            f"{phase['error_rate']:.2%}",
            _latency(phase["p50_us"]),
            _latency(phase["p95_us"]),
            _latency(phase["p99_us"]),
        )
    return table


def _breaking_point(analysis: Mapping[str, Any], console: Console) -> None:
    point = analysis.get("breaking_point")
    if not point:
        return
    unit, bad, good = analysis["unit"], point["first_bad"], point["last_good"]
    if bad is None:
        console.print("breaking point: not reached: every step held")
        return
    broken = "; ".join(bad["broken"])
    console.print(
        Text(f"first to break: {bad['name']} at {_level(bad['level'], unit)}: {broken}", "red")
    )
    if good is None:
        console.print("breaking point: below the first step (it broke at once)")
        return
    console.print(
        Text(
            f"breaking point: {_level(good['level'], unit)} ({good['name']}: "
            f"{good['rps']:,.1f} req/s, p95 {_latency(good['p95_us'])}, "
            f"errors {good['error_rate']:.2%})",
            style="bold",
        )
    )


def _run_line(document: Mapping[str, Any]) -> Text:
    run = document["run"]
    partial = " (partial)" if run["partial"] else ""
    return Text(
        f"run {run['id']} · started {run['started_at']} · {run['elapsed_s']:g}s · "
        f"{run['workers']} workers · {run['status']}{partial}"
    )


def _status_lines(document: Mapping[str, Any], console: Console) -> None:
    check = document["self_check"]
    for reason in check.get("reasons", []):
        console.print(f"[yellow]generator warning:[/] {reason}")
    console.print(
        f"latency is response time (from the intended start); histogram error "
        f"≤ {HISTOGRAM_RELATIVE_ERROR:.1%}; generator CPU {check['cpu_share']:.0%} per worker"
    )
    status = document["run"]["status"]
    if status == "interrupted":
        console.print("[yellow]partial run:[/] stopped before the plan's end")
    elif status == "aborted":
        console.print(f"[red]aborted:[/] threshold {document['run']['aborted_by']!r} failed")
    elif status == "failed":
        console.print("[red]failed:[/] the run stopped early; the figures above are up to then")


def render_stored_run(document: Mapping[str, Any], console: Console) -> None:
    """Print a stored run: header, endpoints, thresholds, phases, breaking point, status.

    A spike's recovery, a soak's drift and a baseline's spread are in the
    document (``analysis``) but not printed here.
    """
    console.print(_run_line(document))
    console.print(_summary_table(document))
    if document["thresholds"]:
        console.print(_threshold_table(document["thresholds"]))
    analysis = document.get("analysis")
    if analysis and (analysis.get("type") or len(analysis["phases"]) > 1):
        console.print(_phase_table(analysis))
        _breaking_point(analysis, console)
    _status_lines(document, console)
