"""``redline verify``: the validation checklist after an experiment, as a pass/fail table.

Exit 0 when every check passes; on any failure 99
(:attr:`ExitCode.THRESHOLDS_FAILED`: a check is a threshold the system must
meet), so CI sees it. The checks are :mod:`redline.optimize._verify`'s; this
module finds their inputs and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from redline.cli._exit import ExitCode
from redline.cli._history import PIPE_WIDTH, DbOption, db_path, run_document
from redline.cli._short_load import load_short_plan, short_load
from redline.compare import ComparedRun
from redline.errors import ConfigError
from redline.optimize import JournalEntry
from redline.optimize._pids import PidRegistry, pid_registry_path
from redline.optimize._test_data import TestDataApplier
from redline.optimize._verify import (
    Check,
    check_baseline,
    check_health,
    check_journal,
    check_processes,
    check_test_data,
)
from redline.plan import parse_dsn

__all__ = ["verify"]


def verify(
    plan: Annotated[
        Path | None,
        typer.Option(help="Run this plan (at most 60 s) and match it with --baseline."),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="The stored baseline (name or run id) the plan's run must match."),
    ] = None,
    health: Annotated[
        list[str] | None,
        typer.Option(
            help="A health URL that must answer 200 (loopback or the plan's "
            "allowed hosts); repeatable."
        ),  # fmt: skip
    ] = None,
    database: Annotated[
        list[str] | None,
        typer.Option(
            "--db",
            help="A database's DSN with its password, to count its test data's rows "
            "(the journal keeps no password); repeatable.",
        ),
    ] = None,
    history: DbOption = None,
) -> None:
    """Check the system is back as it was: health, baseline, processes, test data, journal."""
    if (plan is None) != (baseline is None):
        raise ConfigError("--plan and --baseline: give both (the run is matched with the "
                          "baseline) or neither")  # fmt: skip
    short_plan = load_short_plan(plan) if plan is not None else None
    allowed = short_plan.allowed_hosts if short_plan is not None else ()
    checks: list[Check] = check_health(health or [], allowed_hosts=allowed)
    if short_plan is not None and baseline is not None:
        stored = ComparedRun.from_results(run_document(history, baseline), label=baseline)
        checks.append(check_baseline(stored, short_load(short_plan, label="verify")))
    checks.append(check_processes(PidRegistry(pid_registry_path(db_path(history)))))
    entries = _journal_entries(history)
    dsns = [parse_dsn(text, field="--db") for text in database or []]
    checks.append(check_test_data(entries, rows_now=TestDataApplier(dsns).rows_now))
    checks.append(check_journal(entries))
    _print(checks)
    failed = sum(not c.passed for c in checks)
    raise typer.Exit(int(ExitCode.THRESHOLDS_FAILED if failed else ExitCode.OK))


def _journal_entries(history: Path | None) -> list[JournalEntry]:
    from redline.optimize._sqlite_journal import SqliteJournal, default_journal_path

    return SqliteJournal(default_journal_path(db_path(history))).entries()


def _print(checks: list[Check]) -> None:
    console = Console()
    console = console if console.is_terminal else Console(width=PIPE_WIDTH)
    table = Table(title="redline verify", title_justify="left")
    for header in ("check", "result", "figure"):
        table.add_column(header)
    for check in checks:
        mark = "[green]pass[/]" if check.passed else "[bold red]FAIL[/]"
        table.add_row(escape(check.name), mark, escape(check.figure))
    console.print(table)
    failed = sum(not c.passed for c in checks)
    console.print(f"{len(checks) - failed} of {len(checks)} checks passed")
