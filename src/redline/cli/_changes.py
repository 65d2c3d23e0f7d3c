"""``redline changes`` and ``redline rollback``: the journal of Changes, and undoing them.

The journal is ``journal.db`` beside the run history (``--history``, else
``$REDLINE_DB``, else ``.redline/redline.db``); a ``kernel-changes.jsonl``
that ``system tune --apply`` wrote there before is imported on first use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from redline.cli._exit import ExitCode
from redline.cli._history import PIPE_WIDTH, DbOption, db_path
from redline.errors import ConfigError, ScopeError
from redline.optimize import (
    ChangeKind,
    ChangeOutcome,
    JournalEntry,
    SqliteJournal,
    appliers,
    check_permitted,
    default_journal_path,
    import_jsonl,
    pending,
    rollback,
)
from redline.optimize._sqlite_journal import LEGACY_JSONL_NAME
from redline.optimize._test_data import matching_dsn
from redline.plan import Dsn, check_dsn
from redline.plan._dsn import REDACTED
from redline.probes import LiveSystem, read_system

__all__ = ["add_changes_commands", "open_journal"]

#: Kinds whose target is a database, undone only with its DSN (the journal keeps no password).
DATABASE_KINDS = (ChangeKind.INDEX, ChangeKind.SETTING, ChangeKind.TEST_DATA)
#: Columns of the ``redline changes`` table.
COLUMNS = ("id", "time (UTC)", "kind", "summary", "target", "status", "detail")

RunOption = Annotated[
    str | None, typer.Option("--run", metavar="RUN", help="Only the changes made by this run.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def open_journal(history: Path | None) -> SqliteJournal:
    """The journal beside the run history, with a legacy ``kernel-changes.jsonl`` imported."""
    journal = SqliteJournal(default_journal_path(db_path(history)))
    import_jsonl(journal, journal.path.with_name(LEGACY_JSONL_NAME))
    return journal


def changes(run: RunOption = None, as_json: JsonOption = False, history: DbOption = None) -> None:
    """Every Change in the journal (or one run's), oldest first, with its status."""
    journal = open_journal(history)
    entries = journal.entries(run_id=run)
    if as_json:
        typer.echo(json.dumps([_entry_dict(e) for e in entries], indent=1, ensure_ascii=False))
        return
    console = _console()
    if not entries:
        console.print(f"no changes in {journal.path}" + (f" for run {run}" if run else ""))
        return
    table = Table(title=f"changes ({journal.path})")
    for header in COLUMNS:
        table.add_column(header, overflow="fold")
    for entry in entries:
        table.add_row(
            entry.id, entry.at[:19].replace("T", " "), entry.change.kind.value,
            entry.change.summary, entry.change.target, entry.status.value, entry.detail,
        )  # fmt: skip
    console.print(table)


def rollback_command(
    entry_id: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="One change: its id or a unique prefix.")
    ] = None,
    run: RunOption = None,
    everything: Annotated[bool, typer.Option("--all", help="Every change not yet undone.")] = False,
    db: Annotated[
        list[str] | None,
        typer.Option("--db", metavar="DSN", help="A database's DSN with its password (repeat)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before undoing.")] = False,
    as_json: JsonOption = False,
    history: DbOption = None,
) -> None:
    """Undo journaled changes, newest first: one (ID), one run's (--run) or all (--all)."""
    if sum((entry_id is not None, run is not None, everything)) != 1:
        raise ConfigError("rollback: choose one of ID, --run RUN or --all")
    dsns = [check_dsn(text, field="--db") for text in db or ()]
    journal = open_journal(history)
    todo = pending(journal, entry_id=entry_id, run_id=run)
    if not todo:
        _console().print("nothing to roll back")
        return
    _confirm(todo, yes)
    skip = _skip_reasons(todo, dsns)
    outcomes = rollback(
        journal, appliers(dsns=dsns, system=_system()), entry_id=entry_id, run_id=run,
        skip=lambda entry: skip.get(entry.id),
    )  # fmt: skip
    _report(outcomes, as_json)
    if any(not o.ok for o in outcomes):
        raise typer.Exit(int(ExitCode.TARGET))


def add_changes_commands(app: typer.Typer) -> None:
    """Register ``changes`` and ``rollback`` on the root app."""
    app.command("changes")(changes)
    app.command("rollback")(rollback_command)


def _system() -> LiveSystem:
    from redline.cli import _system as system_cli  # it imports this module

    return system_cli.live_system()


def _confirm(todo: list[JournalEntry], yes: bool) -> None:
    if yes:
        return
    console = _console()
    if not console.is_terminal:
        raise ConfigError(
            f"rollback: {len(todo)} change(s) to undo; add --yes to undo them without asking"
        )
    for entry in todo:
        console.print(f"  {entry.id}  {entry.change.kind.value}: {entry.change.summary}")
    if not typer.confirm(f"undo these {len(todo)} change(s), newest first?"):
        raise typer.Exit(int(ExitCode.BAD_INPUT))


def _skip_reasons(todo: list[JournalEntry], dsns: list[Dsn]) -> dict[str, str]:
    """Entries to leave as they are this time, with why: a database without its --db,
    kernel parameters where they cannot be changed."""
    reasons = {}
    for entry in todo:
        target = entry.change.target
        kind = entry.change.kind
        if kind in DATABASE_KINDS and f":{REDACTED}@" in target:
            if matching_dsn(target, dsns) is None:
                reasons[entry.id] = f"needs --db {target} (with its password)"
    kernel = [e for e in todo if e.change.kind is ChangeKind.KERNEL_PARAMETER]
    if kernel:
        try:
            check_permitted(read_system(_system()), action="rollback")
        except ScopeError as exc:
            reasons.update({e.id: exc.message for e in kernel})
    return reasons


def _report(outcomes: list[ChangeOutcome], as_json: bool) -> None:
    if as_json:
        rows = [
            {"id": o.entry_id, "change": o.change.to_dict(), "ok": o.ok, "detail": o.detail}
            for o in outcomes
        ]
        typer.echo(json.dumps({"undone": rows}, indent=1, ensure_ascii=False))
        return
    console = _console()
    for o in outcomes:
        mark = "undone" if o.ok else ("SKIPPED" if _skipped(o) else "FAILED")
        console.print(f"{mark}: {o.entry_id} {o.change.kind.value}: {o.change.summary}: {o.detail}",
                      highlight=False, soft_wrap=True)  # fmt: skip
    failed = sum(1 for o in outcomes if not o.ok)
    console.print(f"{len(outcomes) - failed} undone, {failed} not", highlight=False)


def _skipped(outcome: ChangeOutcome) -> bool:
    return outcome.detail.startswith(("needs --db", "skipped:", "rollback: refused"))


def _entry_dict(entry: JournalEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "at": entry.at,
        "run_id": entry.run_id,
        "status": entry.status.value,
        "detail": entry.detail,
        "change": entry.change.to_dict(),
        "state": dict(entry.state),
    }


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=PIPE_WIDTH)
