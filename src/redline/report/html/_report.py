"""One results document in, one self-contained HTML page out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redline.compare import Comparison
from redline.report.html._capacity import capacity_section
from redline.report.html._compare import compare_documents, compare_section
from redline.report.html._endpoints import endpoints_section
from redline.report.html._evidence import database_section, profiles_section
from redline.report.html._findings import diagnosis_of, findings_section
from redline.report.html._headline import headline_section
from redline.report.html._latency import latency_section
from redline.report.html._page import PageText, Section, page
from redline.report.html._timeline import resources_section, time_axis, timeline_section

__all__ = ["Baseline", "render_html_report"]


@dataclass(frozen=True)
class Baseline:
    """The run to compare with (``--compare``): its results document and how to name it."""

    document: Mapping[str, Any]
    label: str


def _page_text(document: Mapping[str, Any], baseline: Baseline | None) -> PageText:
    run = document["run"]
    plan = document.get("plan") or {}
    targets = sorted({str(r.get("url", "")) for r in plan.get("requests") or []} - {""})
    target = targets[0] + (f" and {len(targets) - 1} more" if len(targets) > 1 else "")
    versus = f" · compared with {baseline.label}" if baseline is not None else ""
    return PageText(
        title=f"redline report: {run['name']} ({run['id']})",
        heading=f"Run {run['id']}",
        subtitle=(
            f"plan {run['name']} · started {run['started_at']} · "
            f"{float(run['elapsed_s']):,.1f} s · "
            f"{run.get('workers', '?')} workers · {target or 'no target'}{versus}"
        ),
        footer=(
            f"Written by redline {document.get('redline_version', '?')} from results schema "
            f"{document.get('schema_version', '?')}. Self-contained: this file needs no network."
        ),
        version=str(document.get("redline_version", "")),
    )


def render_html_report(document: Mapping[str, Any], *, baseline: Baseline | None = None) -> str:
    """The report of a results document as one HTML page (CSS, JS and SVG charts inlined).

    Sections whose data the document lacks are left out: resources without
    sampling, capacity without held levels, flame graphs without ``profiles``,
    the database without ``database``. The document's stored diagnosis is shown;
    without one, :func:`redline.diagnose.diagnose` runs on it. With ``baseline``
    the over-time and percentile charts overlay it (dashed) and the verdict
    table of :func:`redline.compare.compare_runs` is added.

    Raises:
        ReportError: a histogram in the document cannot be read.

    Example::

        html = render_html_report(json.loads(Path("run.json").read_text()))
    """
    diagnosis = diagnosis_of(document)
    base_doc = baseline.document if baseline is not None else None
    comparison = (
        compare_documents(baseline.document, document, baseline_label=baseline.label)
        if baseline is not None
        else None
    )
    said = None
    if comparison is not None:
        said = comparison.verdict.value if isinstance(comparison, Comparison) else "not comparable"
    axis = time_axis(document, base_doc)
    candidates: list[Section | None] = [
        headline_section(document, inconclusive=diagnosis.inconclusive, comparison_verdict=said),
        compare_section(comparison) if comparison is not None else None,
        timeline_section(document, base_doc, axis),
        latency_section(document, base_doc),
        endpoints_section(document),
        resources_section(document, axis),
        findings_section(diagnosis),
        capacity_section(document),
        profiles_section(document.get("profiles") or []),
        database_section(document.get("database")),
    ]
    return page(_page_text(document, baseline), [s for s in candidates if s is not None])
