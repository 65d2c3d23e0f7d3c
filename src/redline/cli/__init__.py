"""The command line: thin Typer commands over the parts of redline.

Only this package touches the process: the environment, stdout, exit codes
and signals. Errors raised by the parts are mapped to one-line messages and
to the exit codes in :class:`ExitCode`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from redline.cli._cache import cache_app
from redline.cli._capacity import capacity
from redline.cli._changes import add_changes_commands
from redline.cli._compare import add_compare_commands
from redline.cli._context import add_context_commands
from redline.cli._db import db_app
from redline.cli._demo import demo
from redline.cli._diagnose import diagnose
from redline.cli._exit import ExitCode
from redline.cli._history import add_history_commands
from redline.cli._http import http_app
from redline.cli._import import import_app
from redline.cli._investigate import investigate
from redline.cli._optimize import optimize_app
from redline.cli._profile import profile
from redline.cli._report import report
from redline.cli._run import run
from redline.cli._system import system_app
from redline.cli._verify import verify
from redline.errors import ConfigError, RedlineError, ReportError, ScopeError
from redline.report._results_json import redline_version

__all__ = ["ExitCode", "app", "main"]

app = typer.Typer(
    name="redline",
    help="A performance engineer in a box: load, measure, explain, prove.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(run)
app.add_typer(import_app)
app.add_typer(db_app)
app.add_typer(cache_app)
app.add_typer(system_app)
app.add_typer(http_app)
app.add_typer(optimize_app)
add_history_commands(app)
add_compare_commands(app)
add_changes_commands(app)
add_context_commands(app)
app.command()(capacity)
app.command()(diagnose)
app.command()(report)
app.command()(verify)
app.command()(investigate)
app.command()(demo)
app.command(
    context_settings={"allow_interspersed_args": False},
)(profile)


def _version(value: bool) -> None:
    if value:
        Console().print(f"redline {redline_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """A performance engineer in a box: load, measure, explain, prove."""


#: Exit code for each kind of error redline raises on purpose.
ERROR_EXIT_CODES: dict[type[RedlineError], ExitCode] = {
    ConfigError: ExitCode.BAD_INPUT,
    ScopeError: ExitCode.BAD_INPUT,
    ReportError: ExitCode.REPORT,
}


def main() -> None:
    """Run the CLI; turn redline's errors into one line and an exit code."""
    try:
        app(standalone_mode=True)
    except RedlineError as exc:
        console = Console(stderr=True)
        # soft_wrap: the message stays one line whatever the terminal's width.
        console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
        if exc.hint:
            console.print(f"[dim]hint:[/] {escape(exc.hint)}", highlight=False, soft_wrap=True)
        sys.exit(int(ERROR_EXIT_CODES.get(type(exc), ExitCode.TARGET)))
