"""``redline optimize db DSN``: try each advised index for real, keep the ones that help.

Without ``--apply`` a dry run: each Change (its apply and undo SQL) and the
statements it serves. With ``--apply`` each is applied through the journal,
measured before and after, and kept or undone
(:mod:`redline.optimize._optimize_db` states the rule).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from redline.cli._compare import _min_effect
from redline.cli._db import _samples
from redline.cli._history import PIPE_WIDTH, DbOption, db_path
from redline.cli._short_load import load_short_plan, short_load
from redline.errors import ConfigError
from redline.optimize._optimize_db import (
    DEFAULT_REPETITIONS,
    MAX_REPETITIONS,
    MIN_REPETITIONS,
    ChangeTrial,
    IndexCandidate,
    LoadCheck,
    Timing,
)
from redline.plan import Dsn, Range, Unit, check_count, check_dsn_scope, parse_dsn
from redline.units import one_line

__all__ = ["optimize_app"]

optimize_app = typer.Typer(
    name="optimize", no_args_is_help=True, help="Apply advised changes, measure, keep what helps."
)
#: How much of a statement a table shows.
STATEMENT_CHARS = 70
#: ``--repetitions``: timed runs of each statement, before and after.
REPETITIONS_RANGE = Range(MIN_REPETITIONS, MAX_REPETITIONS, Unit.COUNT)


@optimize_app.command("db")
def optimize_db(
    dsn_text: Annotated[str, typer.Argument(metavar="DSN", help="postgresql://...")],
    apply: Annotated[
        bool, typer.Option("--apply", help="Apply each index, measure, keep or undo it.")
    ] = False,
    plan: Annotated[
        Path | None,
        typer.Option(help="Also run this plan (at most 60 s) before and after each change."),
    ] = None,
    samples: Annotated[
        list[str] | None,
        typer.Option(
            "--samples",
            metavar="LOG|RUN",
            help="Real values for $1... : a server log, or a run with --db; repeatable.",
        ),
    ] = None,
    min_effect: Annotated[
        str, typer.Option(help="The smallest fall in execution time that keeps a change.")
    ] = "10%",
    repetitions: Annotated[
        int, typer.Option(help="Timed runs of each statement, before and after (3..50).")
    ] = DEFAULT_REPETITIONS,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            metavar="HOST",
            help="With --apply: a server besides loopback that may be changed (repeatable).",
        ),
    ] = None,
    history: DbOption = None,
) -> None:
    """Try the index advisor's indexes: apply, measure, keep only a real speed-up.

    With --apply it builds indexes, so the server must be on loopback or given with
    --allow-host.
    """
    dsn = parse_dsn(dsn_text, field="DSN", schemes=("postgresql", "mysql", "sqlite"))
    if dsn.scheme != "postgresql":
        raise ConfigError(
            f"optimize db: {dsn.scheme} is not supported yet; PostgreSQL only",
            hint=f"redline db analyze {dsn} shows its advice",
        )
    if apply:
        check_dsn_scope(dsn, allow_host or [], field="DSN")
    effect = _min_effect(min_effect)
    check_count(repetitions, REPETITIONS_RANGE, field="--repetitions")
    short_plan = load_short_plan(plan) if plan is not None else None
    from redline.optimize._optimize_db import index_candidates
    from redline.probes import analyze_postgres

    book = _samples(samples or [], history)
    analysis = analyze_postgres(dsn, advise=True, samples=book)
    candidates = index_candidates(analysis.advice, book)
    console = Console()
    console = console if console.is_terminal else Console(width=PIPE_WIDTH)
    for note in (n for n in analysis.notes if n.startswith("index advice")):
        console.print(f"note: {note}", markup=False, highlight=False)
    if not apply:
        _dry_run(console, dsn, candidates)
        return
    load = None
    if short_plan is not None:
        load = _load_check(short_plan)
    _apply(console, dsn, candidates, effect, repetitions, load, history)


def _dry_run(console: Console, dsn: Dsn, candidates: list[IndexCandidate]) -> None:
    console.print(
        f"{dsn}: {len(candidates)} index(es) advised; dry run, nothing changed "
        "(--apply tries each)", markup=False, highlight=False,
    )  # fmt: skip
    for number, candidate in enumerate(candidates, 1):
        _print_candidate(console, number, candidate)


def _print_candidate(console: Console, number: int, candidate: IndexCandidate) -> None:
    change = candidate.change
    lines = [f"{number}. {change.summary}", f"   apply: {change.apply}", f"   undo:  {change.undo}"]
    for statement in candidate.runnable:
        values = f" (timed with values from {statement.source})" if statement.source else ""
        lines.append(f"   serves: {one_line(statement.served, STATEMENT_CHARS)}{values}")
    lines.extend(f"   serves: {one_line(q, STATEMENT_CHARS)} (not timed: $1 with no values; "
                 "give --samples)" for q in candidate.skipped)  # fmt: skip
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


def _apply(
    console: Console,
    dsn: Dsn,
    candidates: list[IndexCandidate],
    effect: float,
    repetitions: int,
    load: LoadCheck | None,
    history: Path | None,
) -> None:
    from psycopg.rows import tuple_row

    from redline.optimize._optimize_db import explain_measure, try_change
    from redline.optimize._registry import appliers
    from redline.optimize._sqlite_journal import SqliteJournal, default_journal_path
    from redline.probes._postgres import connect

    journal = SqliteJournal(default_journal_path(db_path(history)))
    table = appliers(dsns=[dsn])
    console.print(f"{dsn}: trying {len(candidates)} index(es); keep rule: median execution time "
                  f"down {effect:.0%} or more and the runs' spreads apart"
                  + ("; the load must not regress" if load else ""),
                  markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    conn: Any = connect(dsn)
    conn.row_factory = tuple_row  # what explain reads
    try:
        measure = explain_measure(conn)
        for number, candidate in enumerate(candidates, 1):
            _print_candidate(console, number, candidate)
            trial = try_change(candidate, measure=measure, journal=journal, appliers=table,
                               min_effect=effect, repetitions=repetitions, load=load)  # fmt: skip
            _print_trial(console, trial)
    finally:
        conn.close()


def _load_check(plan: Any) -> LoadCheck:
    runs = iter(range(1, 1_000))
    return lambda: short_load(plan, label=f"{plan.name} check {next(runs)}")


def _print_trial(console: Console, trial: ChangeTrial) -> None:
    if trial.timings:
        table = Table(title_justify="left", show_edge=False)
        for header in ("statement", "before (median, range)", "after (median, range)",
                       "speed-up"):  # fmt: skip
            table.add_column(header, justify="left" if header == "statement" else "right")
        for timing in trial.timings:
            table.add_row(escape(one_line(timing.statement.text, STATEMENT_CHARS)),
                          _timing(timing.before), _timing(timing.after),
                          f"{timing.speedup:,.1f}x")  # fmt: skip
        console.print(table)
    if trial.load is not None and trial.load.comparable:
        console.print(f"   load: {trial.load.summary()}", markup=False, highlight=False,
                      soft_wrap=True)  # fmt: skip
    console.print(f"   {trial.decision.value}: {trial.reason}", markup=False, highlight=False,
                  soft_wrap=True)  # fmt: skip


def _timing(timing: Timing) -> str:
    return f"{timing.median_ms:,.2f} ms ({timing.fastest_ms:,.2f}–{timing.slowest_ms:,.2f})"
