"""``redline db analyze DSN``: a database's heaviest statements, their plans, indexes, health."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from redline.cli._history import PIPE_WIDTH, DbOption, run_document
from redline.diagnose import Diagnosis
from redline.errors import ConfigError
from redline.plan import DB_TOP_RANGE, Dsn, check_count, check_dsn_scope, parse_dsn
from redline.report import render_diagnosis, render_index_advice, render_top_statements

if TYPE_CHECKING:
    from redline.probes import QuerySamples

__all__ = ["db_app"]

db_app = typer.Typer(name="db", help="Analyze a database: statements, plans, indexes, health.",
                     no_args_is_help=True)  # fmt: skip
#: ``--top`` and ``--plans`` bounds.
MAX_TOP = int(DB_TOP_RANGE.high)


@db_app.command("analyze")
def analyze(
    dsn_text: Annotated[
        str, typer.Argument(metavar="DSN", help="postgresql://, mysql:// or sqlite:///")
    ],
    top: Annotated[int, typer.Option(help="Statements to list (1..500).")] = 20,
    plans: Annotated[int, typer.Option(help="Heaviest statements to plan and advise on.")] = 5,
    explain_analyze: Annotated[
        bool, typer.Option("--analyze", help="PostgreSQL: EXPLAIN ANALYZE, rolled back.")
    ] = False,
    allow_writes: Annotated[
        bool, typer.Option("--allow-writes", help="With --analyze: statements that write too.")
    ] = False,
    no_advise: Annotated[bool, typer.Option("--no-advise", help="No index advice.")] = False,
    try_indexes: Annotated[
        bool,
        typer.Option(
            "--try-indexes",
            help="MySQL: build each candidate index online, EXPLAIN again, drop it.",
        ),
    ] = False,
    queries: Annotated[
        Path | None, typer.Option(help="SQLite: a file of the statements to analyze.")
    ] = None,
    samples: Annotated[
        list[str] | None,
        typer.Option(
            "--samples",
            metavar="LOG|RUN",
            help="PostgreSQL: plan statements for real values seen in a server log, "
            "a run with --db (id or results file); repeatable.",
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            metavar="HOST",
            help="With --analyze or --try-indexes: a host besides loopback (repeatable).",
        ),
    ] = None,
    history: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Top statements, their plans and the rules over them, index advice and health.

    --analyze runs statements and --try-indexes builds indexes, so with either the
    server must be on loopback or given with --allow-host.
    """
    dsn = parse_dsn(dsn_text, field="DSN", schemes=("postgresql", "mysql", "sqlite"))
    if explain_analyze or try_indexes:
        check_dsn_scope(dsn, allow_host or [], field="DSN")
    _check(dsn, top, plans, queries, explain_analyze)
    if samples and dsn.scheme != "postgresql":
        raise ConfigError("--samples: for PostgreSQL only")
    if try_indexes and dsn.scheme != "mysql":
        raise ConfigError("--try-indexes: for MySQL/MariaDB only (PostgreSQL tries them as "
                          "hypothetical indexes, SQLite in a rolled-back transaction)")  # fmt: skip
    # Here, not at the top: the drivers and the SQL parser are half of every command's start-up.
    from redline.diagnose import database_findings
    from redline.probes import analyze_mysql, analyze_postgres, analyze_sqlite

    if dsn.scheme == "postgresql":
        options = {"analyze": explain_analyze, "allow_writes": allow_writes}
        book = _samples(samples or [], history)
        analysis: Any = analyze_postgres(
            dsn, top=top, plans=plans, advise=not no_advise, samples=book, **options
        )
        statements = [q.to_dict() for q in analysis.top]
        advice = [a.to_dict() for a in analysis.advice]
        planned = _plans(analysis)
    elif dsn.scheme == "mysql":
        analysis = analyze_mysql(dsn, top=top, plans=plans, try_indexes=try_indexes)
        statements, advice, planned = analysis.statements(), [], []
    else:
        analysis = analyze_sqlite(dsn, queries or Path())
        statements, advice, planned = [], [], []
    diagnosis = Diagnosis(str(dsn), database_findings(analysis), False, analysis.notes)
    if as_json:
        out = {"dsn": str(dsn), "statements": statements, "plans": planned, "advice": advice,
               **diagnosis.to_dict()}  # fmt: skip
        typer.echo(json.dumps(out, indent=1, ensure_ascii=False, default=str))
        return
    console = Console()
    console = console if console.is_terminal else Console(width=PIPE_WIDTH)
    if statements:
        render_top_statements(statements, console, title=f"top statements by time ({dsn})")
    if dsn.scheme == "postgresql" and not no_advise:
        render_index_advice(advice, console)
    render_diagnosis(diagnosis, console, title=f"diagnosis of database {dsn}")


def _plans(analysis: Any) -> list[dict[str, Any]]:
    """PostgreSQL's plans for ``--json``: each with its statement and what it was made for."""
    return [
        {"queryid": queryid, "planned_for": analysis.plan_sources.get(queryid), "plan": plan}
        for queryid, plan in analysis.plans.items()
    ]


def _samples(sources: list[str], history: Path | None) -> QuerySamples | None:
    """The samples of every ``--samples`` source: a results file or stored run, else a log.

    Raises:
        ConfigError: a source that is neither a readable file nor a stored run.
    """
    from redline.probes import QuerySamples, samples_from_document, samples_from_log

    if not sources:
        return None
    book = QuerySamples()
    for source in sources:
        path = Path(source)
        if path.is_file() and not source.endswith(".json"):
            book.update(samples_from_log(path))
        else:
            book.update(samples_from_document(run_document(history, source), f"run {source}"))
    return book


def _check(dsn: Dsn, top: int, plans: int, queries: Path | None, explain_analyze: bool) -> None:
    check_count(top, DB_TOP_RANGE, field="--top")
    if not 0 <= plans <= top:
        raise ConfigError(f"--plans: {plans!r} is out of range; allowed 0..--top ({top})")
    if dsn.scheme == "sqlite" and queries is None:
        raise ConfigError("--queries: SQLite keeps no statement statistics; give a file of them")
    if queries is not None and not queries.is_file():
        raise ConfigError(f"--queries: {str(queries)!r} is not a file")
    if explain_analyze and dsn.scheme != "postgresql":
        raise ConfigError("--analyze: for PostgreSQL only")
