"""The headline: the verdict, the thresholds (pass/fail), the key figures, the phases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redline.report._stored import observed_figure
from redline.report.html._page import Cell, Section, esc, figures_list, table
from redline.units import format_bytes, format_latency

__all__ = ["headline_section", "verdict"]

#: The run status that lets thresholds decide the verdict.
COMPLETED = "completed"


def verdict(document: Mapping[str, Any]) -> tuple[str, bool]:
    """The run's verdict as ``redline runs`` words it, and whether it is good.

    Its status unless it completed; then whether every threshold held.
    """
    status = str(document["run"]["status"])
    if status != COMPLETED:
        return status + (" (partial)" if document["run"].get("partial") else ""), False
    thresholds = document.get("thresholds") or []
    if not all(t.get("passed", True) for t in thresholds):
        return "thresholds failed", False
    return ("passed" if thresholds else COMPLETED), True


def _latency(value: object) -> str:
    return format_latency(float(value)) if isinstance(value, int | float) else "—"


def _thresholds(thresholds: Sequence[Mapping[str, Any]]) -> str:
    rows: list[list[Cell | str]] = []
    for outcome in thresholds:
        passed = bool(outcome["passed"])
        mark = Cell("✓ pass" if passed else "✗ FAIL", css="pass" if passed else "fail")
        failed_at = outcome.get("failed_at_s")
        when = "" if failed_at is None else f"failed at {failed_at + 1} s"
        abort = " (aborts the run)" if outcome.get("abort") else ""
        observed = observed_figure(outcome["threshold"], outcome.get("observed"), missing="—")
        rows.append([mark, Cell(outcome["threshold"] + abort, css="mono"), observed, when])
    return "<h3>Thresholds</h3>" + table(("", "threshold", "observed", "when"), rows)


def _key_figures(document: Mapping[str, Any]) -> str:
    total = document["summary"]["total"]
    response = total["response"]
    figures = [
        ("requests", f"{total['count']:,}"),
        ("throughput", f"{total['rps']:,.1f} req/s"),
        ("errors", f"{total['failures']:,} ({total['error_rate']:.2%})"),
        ("p50", _latency(response.get("p50"))),
        ("p95", _latency(response.get("p95"))),
        ("p99", _latency(response.get("p99"))),
        ("max", _latency(response.get("max"))),
        ("duration", f"{float(document['run']['elapsed_s']):,.1f} s"),
        ("received", format_bytes(total.get("bytes_in", 0))),
        ("sent", format_bytes(total.get("bytes_out", 0))),
    ]
    return figures_list(figures)


def _level(value: float, unit: str) -> str:
    return f"{value:,.1f}/s" if unit == "/s" else f"{value:,.0f} VUs"


def _phases(analysis: Mapping[str, Any]) -> str:
    phases = analysis.get("phases") or []
    if len(phases) < 2 and not analysis.get("type"):
        return ""
    rows: list[list[Cell | str]] = []
    for phase in phases:
        start_s = phase["start_s"] + phase.get("warmup_s", 0.0)
        rows.append([
            phase["name"],
            Cell(f"{round(start_s, 1):g}–{round(phase['covered_end_s'], 1):g} s", numeric=True),
            Cell(_level(phase["level"], phase["unit"]), numeric=True),
            Cell(f"{phase['rps']:,.1f}", numeric=True),
            Cell(f"{phase['error_rate']:.2%}", numeric=True),
            *(Cell(_latency(phase[k]), numeric=True) for k in ("p50_us", "p95_us", "p99_us")),
        ])  # fmt: skip
    kind = analysis.get("type")
    heading = f"Phases ({kind} test)" if kind else "Phases"
    headings = ("phase", "steady time", "level", "req/s", "errors", "p50", "p95", "p99")
    numeric = (False, *([True] * 7))
    return f"<h3>{esc(heading)}</h3>" + table(headings, rows, numeric=numeric) + _breaking(analysis)


def _breaking(analysis: Mapping[str, Any]) -> str:
    point = analysis.get("breaking_point")
    if not point:
        return ""
    unit, bad, good = analysis["unit"], point["first_bad"], point["last_good"]
    if bad is None:
        return "<p>Breaking point: not reached: every step held.</p>"
    said = f"First to break: {bad['name']} at {_level(bad['level'], unit)}: " + "; ".join(
        bad["broken"]
    )
    if good is None:
        return f"<p>{esc(said)}. Breaking point: below the first step.</p>"
    return (
        f"<p>{esc(said)}.</p><p><strong>Breaking point: {esc(_level(good['level'], unit))}"
        f"</strong> ({esc(good['name'])}: {good['rps']:,.1f} req/s, "
        f"p95 {esc(_latency(good['p95_us']))}, errors {good['error_rate']:.2%}).</p>"
    )


def _warnings(document: Mapping[str, Any], inconclusive: bool) -> str:
    check = document.get("self_check") or {}
    lines = [f"generator warning: {reason}" for reason in check.get("reasons") or []]
    if inconclusive:
        lines.append("inconclusive: the load generator was the limit, not the target")
    dropped = int(check.get("dropped_iterations") or 0)
    if dropped:
        lines.append(f"{dropped:,} iterations dropped: every VU was busy")
    if document["run"].get("aborted_by"):
        lines.append(f"aborted: threshold {document['run']['aborted_by']!r} failed")
    return "".join(f'<p class="fail">{esc(line)}</p>' for line in lines)


def headline_section(
    document: Mapping[str, Any], *, inconclusive: bool, comparison_verdict: str | None
) -> Section:
    """The verdict, thresholds, key figures and phases of the run."""
    said, good = verdict(document)
    badges = f'<span class="verdict{"" if good else " bad"}">{esc(said)}</span>'
    if comparison_verdict is not None:
        bad = comparison_verdict in ("regressed", "not comparable")
        badges += (
            f' <span class="verdict{" bad" if bad else ""}">'
            f"vs baseline: {esc(comparison_verdict)}</span>"
        )
    body = [f"<p>{badges}</p>", _warnings(document, inconclusive), _key_figures(document)]
    body.append(
        '<p class="note">Latency is response time, from the intended start (no coordinated '
        "omission); percentiles are exact to the histogram's "
        f"{float(document['summary'].get('histogram_relative_error', 0.001)):.1%}.</p>"
    )
    if document.get("thresholds"):
        body.append(_thresholds(document["thresholds"]))
    body.append(_phases(document.get("analysis") or {}))
    return Section("headline", "Headline", "\n".join(part for part in body if part))
