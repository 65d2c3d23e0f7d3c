"""The findings, worst first, each with its evidence, where to look and what to do.

The diagnosis stored in the document (``redline run --diagnose``) is shown as
it was; without one, :func:`redline.diagnose.diagnose` is run on the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redline.diagnose import Diagnosis, Finding, confidence_label, diagnose
from redline.report.html._page import Section, esc, table

__all__ = ["NOTHING_FOUND", "diagnosis_of", "findings_section"]

#: Said when a run has nothing to report (as ``redline diagnose`` says it).
NOTHING_FOUND = "No findings: no rule saw a bottleneck or a risk in this run."


def diagnosis_of(document: Mapping[str, Any]) -> Diagnosis:
    """The document's stored diagnosis, or a fresh one when it has none."""
    stored = document.get("diagnosis")
    if not stored:
        return diagnose(document)
    return Diagnosis(
        run_id=str(stored.get("run_id", "")),
        findings=[Finding.from_dict(f) for f in stored.get("findings") or []],
        inconclusive=bool(stored.get("inconclusive")),
        notes=[str(n) for n in stored.get("notes") or []],
    )


def _finding(number: int, finding: Finding) -> str:
    severity = finding.severity.value
    head = (
        f'<p><span class="badge {severity}">{esc(severity)}</span> '
        f"{esc(finding.category.value)} · confidence {esc(confidence_label(finding.confidence))} "
        f'({finding.confidence:.2f}) · <span class="mono">{esc(finding.rule)}</span></p>'
        f"<h3>{number}. {esc(finding.title)}</h3>"
    )
    evidence = table(
        ("evidence", "value", "source"),
        [(e.label, e.value, e.source) for e in finding.evidence],
    )
    where = (
        f'<p><strong>Where:</strong> <span class="mono">{esc(finding.location)}</span></p>'
        if finding.location
        else ""
    )
    advice = (
        f"<p><strong>Do:</strong> {esc(finding.recommendation)}</p>"
        f"<p><strong>Expect:</strong> {esc(finding.expected_effect)}</p>"
    )
    return f'<article class="finding {severity}">{head}{evidence}{where}{advice}</article>'


def findings_section(diagnosis: Diagnosis) -> Section:
    """Every finding in rank order, then the diagnosis's notes."""
    parts = []
    if diagnosis.inconclusive:
        parts.append(
            '<p class="fail">Inconclusive: the load generator was the limit, so the rules '
            "that judge the target by its latency were not run.</p>"
        )
    if not diagnosis.findings:
        parts.append(f"<p>{esc(NOTHING_FOUND)}</p>")
    parts += [_finding(number, f) for number, f in enumerate(diagnosis.findings, 1)]
    parts += [f'<p class="note">Note: {esc(note)}</p>' for note in diagnosis.notes]
    return Section("findings", "Findings", "".join(parts))
