"""``redline compare`` and ``redline trend``: stored runs judged against each other.

A run is named by its id (or a unique prefix), by a baseline's name, or by a
results file (``redline run --out FILE``). The statistics are
:mod:`redline.compare`'s; this module only finds the runs and prints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from redline.cli._exit import ExitCode
from redline.cli._history import DbOption, db_path, results_file
from redline.compare import (
    ComparedRun,
    Comparison,
    NotComparable,
    Verdict,
    change_points,
    compare_runs,
    sparkline,
)
from redline.errors import ConfigError
from redline.plan import TREND_LIMIT_RANGE, check_count
from redline.report import (
    GateCase,
    comparison_markdown,
    format_latency,
    render_comparison,
    shown_endpoints,
    write_report,
)
from redline.store import RunStore, RunSummary

__all__ = [
    "add_compare_commands",
    "check_baseline",
    "compare_with_baseline",
    "comparison_cases",
    "gate_exit_code",
]

#: Width of the output when it is not a terminal.
PIPE_WIDTH = 140

#: Runs on each side of a change point, at least (``change_points``' ``min_size``).
TREND_MIN_SEGMENT = 3

#: ``redline trend --metric``: how each figure is read from a stored run, and shown.
TREND_METRICS: dict[str, tuple[Callable[[RunSummary], float | None], Callable[[float], str]]] = {
    "p95": (lambda r: None if r.p95_us is None else float(r.p95_us), format_latency),
    "rps": (lambda r: r.rps, lambda v: f"{v:,.1f}/s"),
    "error_rate": (lambda r: r.error_rate, lambda v: f"{v:.2%}"),
}


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=PIPE_WIDTH)


def _load(store: RunStore, ref: str) -> ComparedRun:
    """A run to compare: a results file, a baseline's name, or a stored run's id."""
    data = results_file(ref)
    if data is not None:
        return ComparedRun.from_results(data, label=Path(ref).name)
    names = {b.name: b.run_id for b in store.baselines()}
    run_id = names.get(ref, ref)
    stored = store.get(run_id)
    label = f"{ref} ({stored.summary.id})" if ref in names else stored.summary.id
    return ComparedRun.from_results(stored.document, label=label)


def _latest_baseline_for(store: RunStore, candidate_id: str) -> str:
    """With one argument: the baseline named as the run's plan, else its previous run."""
    stored = store.get(candidate_id)
    name = stored.summary.name
    if name in {b.name for b in store.baselines()}:
        return name
    earlier = [r for r in store.list(name=name) if r.started_at < stored.summary.started_at]
    if not earlier:
        raise ConfigError(
            f"run {stored.summary.id}: no baseline named {name!r} and no earlier run of "
            f"{name!r} to compare with; name one: redline compare BASELINE RUN"
        )
    return earlier[0].id


def _min_effect(text: str) -> float:
    stripped = text.strip()
    try:
        value = float(stripped[:-1]) / 100 if stripped.endswith("%") else float(stripped)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise ConfigError(f"--min-effect: {text!r} is out of range; allowed 0%..100% (e.g. 5%)")
    return value


def comparison_cases(result: Comparison | NotComparable) -> list[GateCase]:
    """The comparison's verdicts as CI cases: every compared figure, failed if it regressed."""
    if isinstance(result, NotComparable):
        return [GateCase("comparable", "regressions", False, "; ".join(result.reasons))]
    cases = []
    for label, endpoint in shown_endpoints(result):
        for metric, delta in endpoint.deltas.items():
            change = "" if delta.change is None else f"{delta.change:+.1%}"
            cases.append(
                GateCase(
                    name=f"{metric.value} of {label}",
                    classname="regressions",
                    passed=delta.verdict is not Verdict.REGRESSED,
                    message=f"{delta.verdict.value} {change}".strip(),
                )
            )
    return cases


def gate_exit_code(result: Comparison | NotComparable) -> ExitCode | None:
    """The exit code a ``--fail-on-regression`` gate gives, or None when it passes."""
    if isinstance(result, NotComparable):
        return ExitCode.NOT_COMPARABLE
    return ExitCode.REGRESSED if result.regressions() else None


def check_baseline(db: Path | None, baseline: str) -> None:
    """Refuse an unknown baseline (name or run id) with one line, before a run is spent."""
    with RunStore.open(db_path(db)) as store:
        names = sorted(b.name for b in store.baselines())
        if baseline in names:
            return
        try:
            store.resolve(baseline)
        except ConfigError:
            allowed = ", ".join(names) or "none set yet (redline baseline set RUN --name NAME)"
            raise ConfigError(
                f"--baseline: {baseline!r} is neither a baseline nor a stored run id; "
                f"baselines: {allowed}"
            ) from None


def compare_with_baseline(
    db: Path | None, baseline: str, run_id: str, *, force: bool = False
) -> Comparison | NotComparable:
    """Compare stored run ``run_id`` with ``baseline`` (a baseline's name or a run id).

    A regression (or runs that cannot be compared) becomes the stored run's verdict.
    """
    with RunStore.open(db_path(db)) as store:
        result = compare_runs(_load(store, baseline), _load(store, run_id), force=force)
        if isinstance(result, NotComparable):
            store.set_verdict(run_id, "not comparable")
        elif result.regressions():
            store.set_verdict(run_id, "regressed")
        return result


def compare(
    first: Annotated[str, typer.Argument(help="The baseline (name, run id or results file).")],
    second: Annotated[
        str | None, typer.Argument(help="The run to judge; alone, FIRST is the run.")
    ] = None,
    min_effect: Annotated[
        str, typer.Option(help="The smallest change that counts, e.g. 5%.")
    ] = "5%",
    force: Annotated[
        bool, typer.Option("--force", help="Compare runs of different plans.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    markdown: Annotated[
        Path | None, typer.Option(help="Also write the comparison as Markdown to this file.")
    ] = None,
    fail_on_regression: Annotated[
        bool,
        typer.Option("--fail-on-regression", help="Exit 98 on a regression, 97 if not comparable."),
    ] = False,
    db: DbOption = None,
) -> None:
    """Judge a run against a baseline: each figure improved, regressed or unchanged."""
    effect = _min_effect(min_effect)
    with RunStore.open(db_path(db)) as store:
        if second is None:
            baseline_ref, run_ref = _latest_baseline_for(store, store.resolve(first)), first
        else:
            baseline_ref, run_ref = first, second
        result = compare_runs(
            _load(store, baseline_ref), _load(store, run_ref), min_effect=effect, force=force
        )
    if isinstance(result, NotComparable) and not fail_on_regression and not as_json:
        # Asked by hand: one line, as for any other input that cannot be used.
        raise ConfigError(
            f"cannot compare {result.baseline!r} with {result.candidate!r}: "
            + "; ".join(result.reasons),
            hint="--force compares runs of different plans; the other reasons always hold",
        )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=1))
    else:
        _console().print(render_comparison(result))
    if markdown is not None:
        write_report(markdown, comparison_markdown(result), flag="--markdown")
    code = gate_exit_code(result) if fail_on_regression else None
    raise typer.Exit(int(code or ExitCode.OK))


def trend(
    name: Annotated[str, typer.Option(help="The plan name whose runs to follow.")],
    metric: Annotated[str, typer.Option(help="p95, rps or error_rate.")] = "p95",
    limit: Annotated[int, typer.Option(help="The newest N runs (2..10000).")] = 100,
    db: DbOption = None,
) -> None:
    """A figure over a plan's stored runs: the series, where it changed, and a sparkline."""
    if metric not in TREND_METRICS:
        raise ConfigError(f"--metric: {metric!r} is unknown; allowed {', '.join(TREND_METRICS)}")
    check_count(limit, TREND_LIMIT_RANGE, field="--limit")
    read, show = TREND_METRICS[metric]
    with RunStore.open(db_path(db)) as store:
        runs = [r for r in reversed(store.list(name=name, limit=limit)) if not r.partial]
    points = [(r, v) for r in runs if (v := read(r)) is not None]
    console = _console()
    if len(points) < 2:
        console.print(
            f"{len(points)} complete run(s) of {name!r} with a {metric}: nothing to trend"
        )
        return
    values = [v for _, v in points]
    changes = set(change_points(values, min_size=TREND_MIN_SEGMENT))
    table = Table(title=f"{name}: {metric} over {len(values)} runs", title_justify="left")
    for header in ("run", "started", metric, ""):
        table.add_column(header)
    for index, (run, value) in enumerate(points):
        mark = "◀ changed here" if index in changes else ""
        table.add_row(run.id, f"{run.started_at:%Y-%m-%d %H:%M}", show(value), mark)
    console.print(table)
    console.print(f"{sparkline(values)}  {show(values[0])} → {show(values[-1])}")
    if not changes and len(values) < 2 * TREND_MIN_SEGMENT:
        console.print(f"no change point: it takes {2 * TREND_MIN_SEGMENT} runs to find one")
    elif not changes:
        console.print("no change point: the differences are within the runs' noise")


def add_compare_commands(app: typer.Typer) -> None:
    """Register ``compare`` and ``trend`` on the root app."""
    app.command()(compare)
    app.command()(trend)
