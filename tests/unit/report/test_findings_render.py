"""The diagnosis in the terminal and in Markdown: findings in rank order, with evidence."""

from __future__ import annotations

from rich.console import Console

from redline.diagnose import Category, Diagnosis, Evidence, Finding, Severity
from redline.report import diagnosis_markdown, render_diagnosis

FINDING = Finding(
    rule="cpu-bound",
    category=Category.CPU,
    severity=Severity.HIGH,
    confidence=0.9,
    title="CPU-bound: the server uses 1.90 of its 2 cores",
    evidence=(Evidence("server CPU", "1.90 of 2 cores (95%)", "server process tree"),),
    location="server process tree",
    recommendation="profile the hot path",
    expected_effect="throughput grows",
)


def rendered(diagnosis: Diagnosis) -> str:
    console = Console(record=True, width=160)
    render_diagnosis(diagnosis, console)
    return console.export_text()


def test_terminal_shows_rank_severity_evidence_and_advice() -> None:
    text = rendered(Diagnosis("r1", [FINDING], False, ["a note"]))
    assert "1. HIGH · cpu · confidence high (0.90) · cpu-bound" in text
    assert "1.90 of 2 cores (95%)" in text and "server process tree" in text
    assert "do: profile the hot path" in text
    assert "note: a note" in text


def test_an_inconclusive_run_says_so_and_an_empty_one_says_nothing_was_found() -> None:
    text = rendered(Diagnosis("r2", [], True, []))
    assert "INCONCLUSIVE" in text
    assert "no findings" in text


def test_markdown_has_an_evidence_table_per_finding() -> None:
    text = diagnosis_markdown(Diagnosis("r1", [FINDING], False, []))
    assert "1. **HIGH** (cpu, confidence high): CPU-bound" in text
    assert "   | server CPU | 1.90 of 2 cores (95%) | server process tree |" in text
    assert "   - do: profile the hot path" in text
