"""A Markdown summary of a run: for a pull-request comment or a CI step summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from redline.load import RunResult
from redline.report._files import write_report
from redline.report._junit import GateCase
from redline.report._terminal import format_latency

__all__ = ["markdown_summary", "write_markdown"]


def _endpoint_rows(result: RunResult) -> list[str]:
    series = result.series
    names = series.endpoints()
    rows = [(name, series.total(name)) for name in names]
    if len(names) != 1:
        rows.append(("all", series.total()))
    lines = []
    for name, stats in rows:
        rps = stats.count / result.elapsed_s if result.elapsed_s else 0.0
        p = [format_latency(stats.response.value_at_percentile(q)) for q in (50.0, 95.0, 99.0)]
        lines.append(
            f"| {name} | {stats.count:,} | {rps:,.1f} | {stats.error_rate:.2%} | "
            f"{p[0]} | {p[1]} | {p[2]} |"
        )
    return lines


def _case_lines(cases: Sequence[GateCase]) -> list[str]:
    lines = ["", "| | check | |", "|---|---|---|"]
    for case in cases:
        mark = "✅" if case.passed else "❌"
        lines.append(f"| {mark} | `{case.name}` | {case.message} |")
    return lines


def markdown_summary(result: RunResult, cases: Sequence[GateCase]) -> str:
    """The run's summary: status, one row per endpoint, and every check with its verdict."""
    failed = [case for case in cases if not case.passed]
    verdict = "passed" if not failed else f"{len(failed)} of {len(cases)} checks failed"
    lines = [
        f"### redline: {result.plan.name} — {result.status.value}, {verdict}",
        "",
        f"{result.elapsed_s:.1f} s, {result.workers} worker(s); response time from the "
        "intended start.",
        "",
        "| endpoint | requests | req/s | errors | p50 | p95 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *_endpoint_rows(result),
    ]
    if cases:
        lines += _case_lines(cases)
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, result: RunResult, cases: Sequence[GateCase]) -> None:
    """Write :func:`markdown_summary` to ``path``; a ReportError says why when it cannot."""
    write_report(path, markdown_summary(result, cases), flag="--markdown")
