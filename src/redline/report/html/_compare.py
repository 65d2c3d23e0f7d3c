"""Compare mode: the statistical verdict table of ``redline compare``, as HTML.

The statistics are :func:`redline.compare.compare_runs`'s and the cells are
worded by the terminal/Markdown renderer's own helpers, so the three forms say
the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redline.compare import ComparedRun, Comparison, NotComparable, Verdict, compare_runs
from redline.report._comparison import _cells, _settings_line, _versus, shown_endpoints
from redline.report.html._page import Cell, Section, esc, table

__all__ = ["compare_documents", "compare_section"]

#: The CSS class of each verdict (the words are always printed too).
VERDICT_CLASSES = {
    Verdict.REGRESSED: "regressed",
    Verdict.IMPROVED: "improved",
    Verdict.NO_CHANGE: "muted",
}


def compare_documents(
    baseline: Mapping[str, Any], candidate: Mapping[str, Any], *, baseline_label: str
) -> Comparison | NotComparable:
    """Judge ``candidate`` against ``baseline`` as ``redline compare`` does."""
    base = ComparedRun.from_results(baseline, label=baseline_label)
    label = str((candidate.get("run") or {}).get("id") or "candidate")
    return compare_runs(base, ComparedRun.from_results(candidate, label=label))


def compare_section(result: Comparison | NotComparable) -> Section:
    """The verdict, one row per endpoint and figure, the summary and notes."""
    if isinstance(result, NotComparable):
        reasons = "".join(f"<li>{esc(r)}</li>" for r in result.reasons)
        notes = "".join(f'<p class="note">Note: {esc(n)}</p>' for n in result.notes)
        said = (
            f'<p><span class="verdict bad">not comparable</span> {esc(_versus(result))}</p>'
            f"<ul>{reasons}</ul>{notes}"
        )
        return Section("compare", "Compared with the baseline", said)
    rows: list[list[Cell | str]] = []
    for label, endpoint in shown_endpoints(result):
        for delta in endpoint.deltas.values():
            *cells, verdict = _cells(delta)
            rows.append([
                Cell(label, css="mono"), cells[0],
                *(Cell(c, numeric=True) for c in cells[1:]),
                Cell(verdict, css=VERDICT_CLASSES[delta.verdict]),
            ])  # fmt: skip
    interval = f"{result.settings.confidence:.0%} interval"
    headings = ("endpoint", "metric", "baseline", "candidate", "change", interval, "verdict")
    numeric = (False, False, True, True, True, True, False)
    good = result.verdict is not Verdict.REGRESSED
    body = [
        f'<p><span class="verdict{"" if good else " bad"}">{esc(result.verdict.value)}</span> '
        f"{esc(_versus(result))}</p>",
        f'<p class="note">{esc(_settings_line(result))}</p>',
        table(headings, rows, numeric=numeric),
        f"<p>{esc(result.summary())}</p>",
        *(f'<p class="note">Note: {esc(n)}</p>' for n in result.notes),
    ]
    return Section("compare", "Compared with the baseline", "".join(body))
