"""``redline report RUN -o FILE``: a run's HTML report, one self-contained file.

The run is a stored run (id, unique prefix or baseline name) or a results file
(``redline run --out``); ``--compare`` names a baseline the same ways. The page
is :func:`redline.report.html.render_html_report`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from redline.cli._history import DbOption, results_file, run_document
from redline.diagnose import Diagnosis, TestReport
from redline.load import RunResult
from redline.report import results_to_dict, write_report
from redline.report.html import Baseline, render_html_report

__all__ = ["ReportOption", "baseline_of", "report", "write_run_report"]

#: ``redline run --report FILE``.
ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report",
        help="Write the run's HTML report (see redline report) here when it ends; with "
        "--baseline it overlays the baseline.",
    ),
]


def baseline_of(db: Path | None, ref: str) -> Baseline:
    """The run ``--compare`` names, labelled as ``redline compare`` labels it."""
    document = run_document(db, ref)
    run_id = str((document.get("run") or {}).get("id", ""))
    if results_file(ref) is not None:
        return Baseline(document, Path(ref).name)
    return Baseline(document, run_id if ref == run_id else f"{ref} ({run_id})")


def write_run_report(
    path: Path | None,
    result: RunResult,
    analysis: TestReport,
    diagnosis: Diagnosis | None,
    console: Console,
    *,
    db: Path | None = None,
    baseline: str | None = None,
) -> None:
    """``redline run --report``: the finished run's report, compared with ``baseline`` if any.

    Does nothing without a path.
    """
    if path is None:
        return
    document = results_to_dict(result, analysis, diagnosis)
    compared = baseline_of(db, baseline) if baseline is not None else None
    write_report(path, render_html_report(document, baseline=compared), flag="--report")
    console.print(f"report written to {path}", highlight=False, soft_wrap=True)


def report(
    run: Annotated[
        str,
        typer.Argument(help="A run id, a unique prefix of one, a baseline, or a results file."),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Write the HTML report to this file.")
    ],
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            help="Overlay this baseline (name, run id or results file) and add the verdict table.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a run's HTML report: charts, endpoints, resources, findings; works offline."""
    document = run_document(db, run)
    baseline = baseline_of(db, compare) if compare is not None else None
    write_report(output, render_html_report(document, baseline=baseline), flag="--output")
    Console().print(f"report written to {output}", highlight=False, soft_wrap=True)
