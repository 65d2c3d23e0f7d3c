"""What a person sees in the terminal: the live view during a run and the
summary table after it (k6-like, per endpoint)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from redline.load import Progress, RunResult, RunStatus, ThresholdOutcome
from redline.metrics import HISTOGRAM_RELATIVE_ERROR, IntervalStats
from redline.plan import Metric
from redline.units import format_latency

__all__ = ["LiveView", "endpoint_table", "format_latency", "render_summary"]

#: Percentiles in the summary table, as (label, percentile).
SUMMARY_PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0), ("p99.9", 99.9))


#: Distinct scenario errors listed under the summary.
MAX_SCRIPT_ERRORS_SHOWN = 5


def _errors_by_kind(stats: IntervalStats) -> str:
    kinds = {k: n for k, n in stats.outcomes.items() if isinstance(k, str) or k >= 400}
    if not kinds:
        return ""
    return ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))


class LiveView:
    """The live terminal view; a :class:`~redline.load.RunObserver`.

    It redraws only when told a second was merged (``auto_refresh`` off), so
    it costs nothing between seconds.
    """

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = Live(console=console, auto_refresh=False, transient=True)

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(None, None, None)

    def on_second(self, progress: Progress) -> None:
        self._live.update(self._render(progress), refresh=True)

    def _render(self, progress: Progress) -> Group:
        last = progress.series.at(progress.second)
        generator = progress.series.generator_at(progress.second)
        share = min(1.0, progress.elapsed_s / progress.planned_s) if progress.planned_s else 1.0
        head = Text.assemble(
            ("redline ", "bold red"),
            f"{progress.plan.name} · {progress.plan.executor.type} · ",
            f"{progress.elapsed_s:.0f}s elapsed, "
            f"{max(0.0, progress.planned_s - progress.elapsed_s):.0f}s remaining ",
            ("━" * int(share * 30), "red"),
            ("━" * (30 - int(share * 30)), "grey37"),
        )
        if last is None or not last.count:
            return Group(head, Text("waiting for the first responses…"))
        rate = f"{last.count:,} req/s · errors {last.failures:,} ({last.error_rate:.2%})"
        latency = " · ".join(
            f"{label} {format_latency(last.response.value_at_percentile(p))}"
            for label, p in (("p50", 50.0), ("p95", 95.0), ("p99", 99.0))
        )
        body = Text(f"last second: {rate} · {latency}")
        if generator is not None:
            cpu = generator.cpu_s / progress.workers
            body.append(f" · VUs {generator.active_vus:,} · generator CPU {cpu:.0%} per worker")
        return Group(head, body)


def _latency_cells(stats: IntervalStats) -> list[str]:
    cells = [format_latency(stats.response.value_at_percentile(p)) for _, p in SUMMARY_PERCENTILES]
    return [*cells, format_latency(stats.response.max)]


def endpoint_table(title: str) -> Table:
    """The summary's empty table: endpoint, requests, req/s, errors, percentiles, max."""
    table = Table(title=title, title_justify="left")
    table.add_column("endpoint")
    for header in ("requests", "req/s", "errors"):
        table.add_column(header, justify="right")
    for label, _ in SUMMARY_PERCENTILES:
        table.add_column(label, justify="right")
    table.add_column("max", justify="right")
    return table


def _summary_table(result: RunResult) -> Table:
    table = endpoint_table(f"{result.plan.name}: {result.status.value}")
    series = result.series
    names = series.endpoints()
    rows = [(name, series.total(name)) for name in names]
    if len(names) != 1:
        rows.append(("all", series.total()))
    for name, stats in rows:
        rps = stats.count / result.elapsed_s if result.elapsed_s else 0.0
        table.add_row(
            name,
            f"{stats.count:,}",
            f"{rps:,.1f}",
            f"{stats.failures:,} ({stats.error_rate:.2%})",
            *_latency_cells(stats),
        )
    return table


def _threshold_table(result: RunResult) -> Table:
    table = Table(title="thresholds", title_justify="left")
    for header in ("", "threshold", "observed"):
        table.add_column(header)
    for outcome in result.thresholds:
        mark = Text("✓ pass", "green") if outcome.passed else Text("✗ FAIL", "bold red")
        observed = "" if outcome.observed is None else _format_observed(outcome)
        if outcome.failed_at_s is not None:
            observed += f" (failed at {outcome.failed_at_s + 1}s)"
        table.add_row(mark, Text(outcome.threshold.source), Text(observed))
    return table


def _format_observed(outcome: ThresholdOutcome) -> str:
    value = outcome.observed
    assert value is not None  # checked by the caller
    return format_metric_value(outcome.threshold.metric, value)


def format_metric_value(metric: Metric, value: float) -> str:
    """A threshold metric's figure in its unit: a latency, a share, a rate or a count."""
    if metric.is_latency:
        return format_latency(value)
    if metric == "error_rate":
        return f"{value:.2%}"
    if metric == "rps":
        return f"{value:,.1f}/s"
    return f"{value:,.0f}"


def render_summary(result: RunResult, console: Console) -> None:
    """Print the end-of-run summary: endpoints, errors, thresholds, self-check."""
    console.print(_summary_table(result))
    for name in result.series.endpoints():
        kinds = _errors_by_kind(result.series.total(name))
        if kinds:
            console.print(Text(f"errors in {name}: {kinds}"))
    if result.thresholds:
        console.print(_threshold_table(result))
    for message, count in list(result.script_errors.items())[:MAX_SCRIPT_ERRORS_SHOWN]:
        console.print(Text(f"scenario error ({count:,}x): {message}", style="red"))
    check = result.self_check
    if check.dropped_iterations:
        console.print(
            f"[yellow]{check.dropped_iterations:,} iterations dropped[/]: every VU was busy; "
            "raise --max-vus if the target can take more"
        )
    if check.pacing_misses:
        console.print(
            f"[yellow]{check.pacing_misses:,} iterations ran longer than the pacing[/]: "
            "the next one started at once; raise pacing to hold the period"
        )
    for reason in check.reasons:
        console.print(f"[yellow]generator warning:[/] {reason}")
    console.print(
        f"latency is response time (from the intended start); histogram error "
        f"≤ {HISTOGRAM_RELATIVE_ERROR:.1%}; generator CPU {check.cpu_share:.0%} per worker"
    )
    if result.status is RunStatus.INTERRUPTED:
        console.print("[yellow]partial run:[/] stopped before the plan's end")
    elif result.status is RunStatus.ABORTED:
        console.print(f"[red]aborted:[/] threshold {result.aborted_by!r} failed")
    elif result.status is RunStatus.FAILED:
        console.print("[red]failed:[/] the run stopped early; the figures above are up to then")
