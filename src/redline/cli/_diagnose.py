"""``redline diagnose RUN``: the bottlenecks and risks a run shows, ranked, with evidence."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from redline.cli._history import PIPE_WIDTH, DbOption, run_document
from redline.diagnose import diagnose as diagnose_document
from redline.report import render_diagnosis

__all__ = ["diagnose"]


def diagnose(
    run: Annotated[
        str,
        typer.Argument(help="A run id, a unique prefix of one, a baseline, or a results file."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Name the run's bottlenecks: ranked findings with evidence and recommendations."""
    diagnosis = diagnose_document(run_document(db, run))
    if as_json:
        typer.echo(json.dumps(diagnosis.to_dict(), indent=1, ensure_ascii=False))
        return
    console = Console()
    render_diagnosis(diagnosis, console if console.is_terminal else Console(width=PIPE_WIDTH))
