"""A diagnosis for people: the findings, worst first, each with its evidence and advice.

The terminal form (:func:`render_diagnosis`) and the Markdown form
(:func:`diagnosis_markdown`) say the same things in the same order.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from redline.diagnose import Diagnosis, Finding, Severity, confidence_label

__all__ = ["diagnosis_markdown", "render_diagnosis"]

#: Severity styles: colour-blind-safe (blue/orange), and the label always printed.
_STYLES = {
    Severity.CRITICAL: "bold white on dark_orange3",
    Severity.HIGH: "bold dark_orange3",
    Severity.MEDIUM: "bold yellow",
    Severity.LOW: "bold blue",
    Severity.INFO: "dim",
}
#: Said when a run has nothing to report.
NOTHING_FOUND = "no findings: no rule saw a bottleneck or a risk in this run"


def render_diagnosis(diagnosis: Diagnosis, console: Console, *, title: str | None = None) -> None:
    """Print the findings and the diagnosis's notes (under ``title``, by default the run's)."""
    title = title or f"diagnosis of run {diagnosis.run_id}"
    if diagnosis.inconclusive:
        title += " (INCONCLUSIVE: the generator was the limit)"
    console.print(Text(title, "bold"))
    if not diagnosis.findings:
        console.print(NOTHING_FOUND)
    for number, finding in enumerate(diagnosis.findings, 1):
        _print_finding(console, number, finding)
    for note in diagnosis.notes:
        console.print(Text(f"note: {note}", "dim"))


def _print_finding(console: Console, number: int, finding: Finding) -> None:
    head = Text(f"{number}. ")
    head.append(finding.severity.value.upper(), _STYLES[finding.severity])
    head.append(
        f" · {finding.category.value} · confidence {confidence_label(finding.confidence)}"
        f" ({finding.confidence:.2f}) · {finding.rule}\n   "
    )
    head.append(finding.title, "bold")
    console.print(head)
    table = Table(box=None, show_header=False, padding=(0, 1, 0, 3))
    for column in ("label", "value", "source"):
        table.add_column(column, style="dim" if column == "source" else None)
    for evidence in finding.evidence:
        table.add_row(evidence.label, evidence.value, evidence.source)
    console.print(table)
    if finding.location:
        console.print(f"   where: {finding.location}", highlight=False)
    console.print(f"   do: {finding.recommendation}", highlight=False)
    console.print(f"   expect: {finding.expected_effect}", highlight=False)


def diagnosis_markdown(diagnosis: Diagnosis) -> str:
    """The findings as a Markdown section."""
    lines = [f"## Diagnosis of run {diagnosis.run_id}", ""]
    if diagnosis.inconclusive:
        lines += ["**Inconclusive:** the load generator was the limit.", ""]
    if not diagnosis.findings:
        lines += [NOTHING_FOUND, ""]
    for number, finding in enumerate(diagnosis.findings, 1):
        lines += [
            f"{number}. **{finding.severity.value.upper()}** ({finding.category.value}, "
            f"confidence {confidence_label(finding.confidence)}): {finding.title}",
            "",
            "   | evidence | value | source |",
            "   |---|---|---|",
            *(f"   | {e.label} | {e.value} | {e.source} |" for e in finding.evidence),
            "",
        ]
        if finding.location:
            lines.append(f"   - where: {finding.location}")
        lines += [f"   - do: {finding.recommendation}"]
        lines += [f"   - expect: {finding.expected_effect}", ""]
    lines += [f"_note: {note}_" for note in diagnosis.notes]
    return "\n".join(lines).rstrip() + "\n"
