"""``redline investigate [redline.toml]``: the whole loop, from the Context to a report.

Thin: read the Context, check it before any load, start (or attach to) the
server, run :class:`~redline.investigate.Investigation`'s phases, print the
delivery summary, stop what was started.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.status import Status as Spinner

from redline.cli._exit import ExitCode
from redline.cli._history import PIPE_WIDTH, DbOption, db_path
from redline.cli._run import _default_workers, stop_on_signals
from redline.cli._server import resource_sampling
from redline.clock import MonotonicClock
from redline.errors import ConfigError
from redline.investigate import (
    BUDGET_S_RANGE,
    BudgetConfig,
    FanOut,
    InvestigateConfig,
    Investigation,
    JsonLinesProgress,
    PhaseName,
    ProgressEvent,
    RunMeasurer,
    check_context,
    run_phases,
    stored_run,
)
from redline.metrics import ResourceSampler
from redline.optimize import PidRegistry, pid_registry_path
from redline.plan import Plan, check_seconds, load_context
from redline.plan._context import Context

__all__ = ["investigate", "investigate_context"]


def investigate(
    context_file: Annotated[
        Path, typer.Argument(help="The Context: redline.toml (see redline init).")
    ] = Path("redline.toml"),
    optimize: Annotated[
        bool,
        typer.Option("--optimize", help="Apply advised indexes, re-measure, keep what helps."),
    ] = False,
    rollback_after: Annotated[
        bool, typer.Option("--rollback-after", help="Undo every change at the end, and verify.")
    ] = False,
    quick: Annotated[
        bool, typer.Option("--quick", help="Short budgets: the whole loop in under 3 minutes.")
    ] = False,
    progress_json: Annotated[
        Path | None,
        typer.Option(help="Write each phase's progress here, one JSON object per line."),
    ] = None,
    budget: Annotated[
        list[str] | None,
        typer.Option(help="A phase's time budget, PHASE=DURATION (e.g. scalability=2m)."),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option(help="Where report.html and investigation.json are written.")
    ] = Path("."),
    queries: Annotated[
        Path | None,
        typer.Option(help="A SQLite database's statements, for its index advice (a .sql file)."),
    ] = None,
    history: DbOption = None,
) -> None:
    """Baseline, scale to the SLA breach, profile, analyse, diagnose, optimize, report."""
    context = load_context(context_file)
    budgets = parse_budgets(budget or [], quick=quick)
    stop = threading.Event()
    stop_on_signals(stop)
    summary = investigate_context(
        context, budgets=budgets, optimize=optimize, rollback_after=rollback_after,
        progress_json=progress_json, out_dir=out_dir, history=db_path(history),
        console=_console(), stop=stop, queries=queries,
    )  # fmt: skip
    raise typer.Exit(int(ExitCode.OK if summary else ExitCode.TARGET))


def parse_budgets(texts: list[str], *, quick: bool) -> BudgetConfig:
    """``--budget PHASE=DURATION`` over the default (or ``--quick``) budgets.

    Raises:
        ConfigError: not PHASE=DURATION, an unknown phase, or a duration out of range.
    """
    base = BudgetConfig.quick() if quick else BudgetConfig()
    overrides = {}
    names = ", ".join(p.value for p in PhaseName)
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or name.strip() not in PhaseName.__members__.values():
            raise ConfigError(f"--budget: {text!r} is not PHASE=DURATION; phases: {names}")
        overrides[PhaseName(name.strip())] = check_seconds(
            value.strip(), BUDGET_S_RANGE, field=f"--budget {name.strip()}"
        )
    config = base.with_overrides(overrides)
    for error in config.validate():
        raise error
    return config


def investigate_context(
    context: Context,
    *,
    budgets: BudgetConfig,
    history: Path,
    out_dir: Path,
    optimize: bool = False,
    rollback_after: bool = False,
    progress_json: Path | None = None,
    console: Console | None = None,
    stop: threading.Event | None = None,
    queries: Path | None = None,
) -> dict[str, Any]:
    """Investigate ``context``; the summary written to ``out_dir``.

    Raises:
        ConfigError, TargetError: before any load, when the Context cannot work.
    """
    console = console or _console()
    jsonl = JsonLinesProgress(progress_json) if progress_json is not None else None
    if jsonl is not None:
        jsonl.start()
    out_dir.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    pids = PidRegistry(pid_registry_path(history))
    server = context.server
    with resource_sampling(
        context.plan, server_cmd=server.command if server else None,
        server_pid=server.pid if server else None, stop=stop, pids=pids,
    ) as started:  # fmt: skip
        check_context(context)  # the server listens by now; nothing was sent
        measurer = _measurer(context, started.server_pid, history, stop, pids)
        config = InvestigateConfig(budgets, history, out_dir, optimize, rollback_after,
                                   queries=queries)  # fmt: skip
        work = Investigation(context, config, measure=measurer,
                             read_run=lambda run_id: stored_run(history, run_id))  # fmt: skip
        with _LiveProgress(console) as live:
            records = run_phases(work.steps(), budgets=budgets, clock=MonotonicClock(),
                                 progress=FanOut(live, jsonl))  # fmt: skip
    work.write_summary(records)
    summary = work.summary(records)
    print_delivery(summary, console)
    return summary


def _measurer(
    context: Context, pid: int | None, history: Path, stop: threading.Event, pids: PidRegistry
) -> RunMeasurer:
    database = next((d for d in context.databases if d.scheme != "sqlite"), None)
    cache = context.caches[0] if context.caches else None

    def sampling(plan: Plan) -> AbstractContextManager[ResourceSampler]:
        return resource_sampling(plan, server_cmd=None, server_pid=pid, stop=stop,
                                 database=database, cache=cache, pids=pids)  # fmt: skip

    return RunMeasurer(sampling=sampling, history=history, workers=_default_workers(), stop=stop,
                       database=database, cache=cache, pids=pids,
                       profile_possible=pid is not None)  # fmt: skip


class _LiveProgress:
    """The phase and the figures so far: a spinner on a terminal, a line per phase elsewhere."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._spinner: Spinner | None = None

    def __enter__(self) -> _LiveProgress:
        if self._console.is_terminal:
            self._spinner = self._console.status("starting")
            self._spinner.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._spinner is not None:
            self._spinner.stop()

    def emit(self, event: ProgressEvent) -> None:
        line = _progress_line(event)
        if self._spinner is not None:
            self._spinner.update(line)
        self._console.print(f"[dim]·[/] {line}", highlight=False, markup=True)


def _progress_line(event: ProgressEvent) -> str:
    shown = {k: v for k, v in event.progress.items() if k in PROGRESS_SHOWN}
    figures = ", ".join(f"{k} {_figure(v)}" for k, v in shown.items())
    budget = event.progress.get("budget_s")
    within = f" (budget {budget:g} s)" if budget else ""
    return f"{event.status.value}: {event.phase}{within}" + (f"; {figures}" if figures else "")


#: The figures the live line shows.
PROGRESS_SHOWN = ("baseline_p95_ms", "baseline_rps", "max_rps", "findings", "changes_kept",
                  "response_time_improvement", "throughput_increase")  # fmt: skip


def _figure(value: object) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def print_delivery(summary: Mapping[str, Any], console: Console) -> None:
    """The delivery summary: the measured before and after, from the stored runs."""
    figures = summary["figures"]
    before, after = figures.get("baseline"), figures.get("after")
    console.print("[bold]delivery summary[/]")
    for label, run in (("before", before), ("after", after)):
        if run is not None:
            console.print(f"  {label}: run {run['run_id']}: p95 {_ms(run['p95_ms'])}, "
                          f"{run['rps']:,.1f} req/s, errors {run['error_rate']:.2%}",
                          highlight=False)  # fmt: skip
    improvement = summary.get("improvement") or {}
    said = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in improvement.items() if v)
    if said:
        console.print(f"  improvement: {said} ({summary.get('verdict')})", highlight=False)
    if "scalability" in figures:
        console.print(f"  scalability: run {figures['scalability']['run_id']}", highlight=False)
    capacity = summary.get("capacity") or {}
    if capacity.get("capacity_explanation"):
        console.print(f"  capacity: {capacity['capacity_explanation']}", highlight=False)
    for finding in summary.get("findings", [])[:5]:
        location = finding.get("location")
        where = f" at {location}" if location and location not in finding["title"] else ""
        console.print(f"  [{finding['severity']}] {finding['title']}{where}", highlight=False,
                      markup=False)  # fmt: skip
    for change in summary.get("changes", []):
        console.print(f"  change: {change['change']}: {change['decision']}", markup=False)
    for name, path in (summary.get("reports") or {}).items():
        console.print(f"  {name}: {path}", highlight=False)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f} ms"


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=PIPE_WIDTH)
