"""The run history commands: ``runs``, ``show``, ``export``, ``rm``, ``gc``, ``baseline``.

Every command takes ``--history PATH``; without it, ``REDLINE_DB``, then
``.redline/redline.db`` under the working directory (:func:`db_path`).
``redline run`` saves through :func:`save_run` with the same resolution.
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from redline.diagnose import TestReport
from redline.errors import ConfigError
from redline.load import RunResult
from redline.report import format_latency, render_stored_run, series_csv, write_report
from redline.store import RunStore, RunSummary

__all__ = [
    "DbOption",
    "add_history_commands",
    "db_path",
    "results_file",
    "run_document",
    "save_run",
]

#: The environment variable naming the history database.
DB_ENV = "REDLINE_DB"
#: The history database, under the working directory, without --history or REDLINE_DB.
DEFAULT_DB = Path(".redline") / "redline.db"
#: Width of tables when the output is not a terminal.
PIPE_WIDTH = 140
#: An age for --since: a number and a unit (minutes, hours, days).
AGE = re.compile(r"^(\d+)([mhd])$")
#: Each age unit as a timedelta keyword.
AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days"}

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--history",
        help=f"The run history database (default: ${DB_ENV}, else {DEFAULT_DB}).",
        show_default=False,
    ),
]
RunArgument = Annotated[str, typer.Argument(help="A run id, or a unique prefix of one.")]


def db_path(db: Path | None) -> Path:
    """The history database: ``--history``, else ``$REDLINE_DB``, else ``.redline/redline.db``."""
    if db is not None:
        return db
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


def save_run(
    db: Path | None, result: RunResult, analysis: TestReport, *, tags: list[str] | None = None
) -> str:
    """Save a finished (or partial) run in the history; return its id."""
    with RunStore.open(db_path(db)) as store:
        return store.save(result, analysis, tags=tags or ())


def results_file(ref: str) -> dict[str, Any] | None:
    """The results document in the file ``ref`` names (``*.json``); None when it names no file.

    Raises:
        ConfigError: the file cannot be read as JSON.
    """
    path = Path(ref)
    if not (ref.endswith(".json") and path.is_file()):
        return None
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{ref}: cannot read it as a results file: {exc}") from None
    return document


def run_document(db: Path | None, ref: str) -> dict[str, Any]:
    """The results document of a stored run (id, unique prefix or baseline name) or a file.

    Raises:
        ConfigError: no such run, or the file is not a results document.
    """
    document = results_file(ref)
    if document is not None:
        return document
    with RunStore.open(db_path(db)) as store:
        names = {b.name: b.run_id for b in store.baselines()}
        return store.get(names.get(ref, ref)).document


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=PIPE_WIDTH)


def parse_since(text: str, now: datetime) -> datetime:
    """An ISO date or time (local when it names no zone), or an age (``7d``) before ``now``."""
    age = AGE.match(text)
    if age is not None:
        return now - timedelta(**{AGE_UNITS[age.group(2)]: int(age.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since: {text!r} is not a date; allowed an ISO date or time "
            "(2026-03-01, 2026-03-01T12:00) or an age (30m, 12h, 7d)"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _runs_table(runs: list[RunSummary]) -> Table:
    table = Table()
    for header in ("id", "start", "name", "target", "type", "verdict"):
        table.add_column(header, no_wrap=header in ("id", "start"))
    for header in ("req/s", "p95", "errors"):
        table.add_column(header, justify="right")
    for run in runs:
        table.add_row(
            run.id,
            _local(run.started_at),
            run.name,
            run.target,
            run.test_type or "",
            (run.verdict or run.status.value) + (" (partial)" if run.partial else ""),
            f"{run.rps:,.1f}",
            "—" if run.p95_us is None else format_latency(run.p95_us),
            f"{run.error_rate:.2%}",
        )
    return table


def runs(
    name: Annotated[str | None, typer.Option(help="Only runs of the plan with this name.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only runs with this tag.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only runs started since: 2026-03-01, 2026-03-01T12:00, or 12h, 7d."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many runs, newest first.")] = 20,
    db: DbOption = None,
) -> None:
    """List stored runs, newest first."""
    console = _console()
    start = None if since is None else parse_since(since, datetime.now().astimezone())
    path = db_path(db)
    with RunStore.open(path) as store:
        found = store.list(name=name, tag=tag, since=start, limit=limit)
    if not found:
        console.print(f"no stored runs in {path}")
        return
    console.print(_runs_table(found))


def show(run: RunArgument, db: DbOption = None) -> None:
    """Show a stored run's summary, thresholds and phases."""
    with RunStore.open(db_path(db)) as store:
        stored = store.get(run)
    render_stored_run(stored.document, _console())


#: How ``export`` writes a stored run, by --format.
EXPORTERS = {
    "json": lambda document: json.dumps(document, indent=1) + "\n",
    "csv": series_csv,
}


def export(
    run: RunArgument,
    format_: Annotated[
        str, typer.Option("--format", help="json (the results file) or csv (per second).")
    ] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Export a stored run: its results document (json) or its per-second figures (csv)."""
    exporter = EXPORTERS.get(format_)
    if exporter is None:
        raise ConfigError(f"--format: {format_!r} is not a format; allowed {', '.join(EXPORTERS)}")
    with RunStore.open(db_path(db)) as store:
        text = exporter(store.get(run).document)
    if output is None:
        sys.stdout.write(text)
        return
    write_report(output, text, flag="--output")
    _console().print(f"run written to {output}")


def rm(
    run: RunArgument,
    force: Annotated[
        bool, typer.Option("--force", help="Also delete the baselines that name the run.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Delete a stored run."""
    with RunStore.open(db_path(db)) as store:
        deleted = store.delete(run, force=force)
    _console().print(f"deleted run {deleted}")


def gc(
    keep: Annotated[int, typer.Option(help="Runs to keep per plan name, newest first.")],
    db: DbOption = None,
) -> None:
    """Delete old runs: keep the newest of each plan name, and every baseline's run."""
    with RunStore.open(db_path(db)) as store:
        deleted = store.gc(keep=keep)
    console = _console()
    for run_id in deleted:
        console.print(f"deleted run {run_id}")
    console.print(
        f"deleted {len(deleted)} runs; kept the {keep} newest of each plan and every baseline's"
    )


baseline_app = typer.Typer(
    name="baseline", help="Name stored runs as baselines.", no_args_is_help=True
)


@baseline_app.command("set")
def baseline_set(
    run: RunArgument,
    name: Annotated[str, typer.Option(help="The baseline's name.")],
    force: Annotated[
        bool, typer.Option("--force", help="Point an existing baseline at this run.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Name a stored run as a baseline."""
    with RunStore.open(db_path(db)) as store:
        baseline = store.set_baseline(name, run, force=force)
    _console().print(f"baseline {baseline.name!r} is run {baseline.run_id}")


@baseline_app.command("list")
def baseline_list(db: DbOption = None) -> None:
    """List the baselines."""
    path = db_path(db)
    with RunStore.open(path) as store:
        found = store.baselines()
    console = _console()
    if not found:
        console.print(f"no baselines in {path}")
        return
    table = Table()
    for header in ("name", "run", "set at"):
        table.add_column(header, no_wrap=True)
    for baseline in found:
        table.add_row(baseline.name, baseline.run_id, _local(baseline.created_at))
    console.print(table)


def add_history_commands(app: typer.Typer) -> None:
    """Register the history commands on the root app."""
    app.command()(runs)
    app.command()(show)
    app.command()(export)
    app.command()(rm)
    app.command()(gc)
    app.add_typer(baseline_app)
