"""The terminal view of a run's analysis: its phases, then its test type's verdict."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from redline.diagnose import TestReport, Trend
from redline.plan import TestType
from redline.report._terminal import format_latency

__all__ = ["render_test_report"]


def _level(value: float, unit: str) -> str:
    return f"{value:,.1f}/s" if unit == "/s" else f"{value:,.0f} VUs"


def _phase_table(report: TestReport) -> Table:
    volume = report.test_type is TestType.VOLUME
    title = f"phases ({report.test_type.value} test)" if report.test_type else "phases"
    table = Table(title=title, title_justify="left")
    table.add_column("phase")
    for header in ("time", "level", "req/s", "errors", "p50", "p95", "p99", "steady from"):
        table.add_column(header, justify="right")
    if volume:
        table.add_column("in/s", justify="right")
        table.add_column("out/s", justify="right")
    for stats in report.phases:
        phase = stats.phase
        row = [
            phase.name,
            f"{round(phase.steady_start_s, 1):g}–{round(stats.covered_end_s, 1):g}s",
            _level(phase.level, phase.unit),
            f"{stats.rps:,.1f}",
            f"{stats.error_rate:.2%}",
            format_latency(stats.p50_us),
            format_latency(stats.p95_us),
            format_latency(stats.p99_us),
            "" if stats.steady_from_s is None else f"{stats.steady_from_s}s",
        ]
        if volume:
            row += [_bytes(stats.bytes_in_per_s), _bytes(stats.bytes_out_per_s)]
        table.add_row(*row)
    return table


def _bytes(per_s: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if per_s >= size:
            return f"{per_s / size:,.1f} {unit}"
    return f"{per_s:,.0f} B"


def _windows_table(report: TestReport) -> Table:
    table = Table(title="judged steps", title_justify="left")
    table.add_column("")
    table.add_column("step")
    for header in ("time", "level", "req/s", "errors", "p95"):
        table.add_column(header, justify="right")
    for verdict in report.windows:
        window = verdict.window
        mark = Text("✓ held", "green") if verdict.passed else Text("✗ broke", "bold red")
        table.add_row(
            mark,
            window.name,
            f"{round(window.start_s, 1):g}–{round(window.end_s, 1):g}s",
            _level(window.level, report.unit),
            f"{verdict.rps:,.1f}",
            f"{verdict.error_rate:.2%}",
            format_latency(verdict.p95_us),
        )
    return table


def _breaking_point(report: TestReport, console: Console) -> None:
    point = report.breaking_point
    if point is None:
        return
    console.print(_windows_table(report))
    if point.first_bad is None:
        console.print("breaking point: not reached: every step held")
        return
    bad = point.first_bad
    console.print(
        Text(
            f"first to break: {bad.window.name} at {_level(bad.window.level, report.unit)}: "
            + "; ".join(bad.broken),
            style="red",
        )
    )
    if point.last_good is None:
        console.print("breaking point: below the first step (it broke at once)")
    else:
        good = point.last_good
        console.print(
            Text(
                f"breaking point: {_level(good.window.level, report.unit)} ({good.window.name}: "
                f"{good.rps:,.1f} req/s, p95 {format_latency(good.p95_us)}, "
                f"errors {good.error_rate:.2%})",
                style="bold",
            )
        )


def _spike(report: TestReport, console: Console) -> None:
    spike = report.spike
    if spike is None:
        return
    recovery = (
        "not within the run" if spike.recovery_s is None else f"{spike.recovery_s} s after the drop"
    )
    console.print(
        f"spike: p95 {format_latency(spike.before_p95_us)} before, "
        f"{format_latency(spike.spike_p95_us)} during; {spike.spike_errors:,} errors during the "
        f"spike ({spike.spike_error_rate:.2%}); recovered (p95 within 10% of before): {recovery}"
    )


def _trend_line(name: str, trend: Trend | None, show: Callable[[float], str]) -> str:
    if trend is None:
        return f"{name}: too few seconds to fit a trend"
    per_h = 3600.0
    verdict = "drifting" if trend.significant else "no significant drift"
    return (
        f"{name}: {verdict}: {show(trend.slope_per_s * per_h)}/h "
        f"(95% CI {show(trend.low_per_s * per_h)} .. {show(trend.high_per_s * per_h)}, "
        f"{trend.points} s)"
    )


def _signed_latency(us: float) -> str:
    return ("-" if us < 0 else "+") + format_latency(abs(us))


def _soak(report: TestReport, console: Console) -> None:
    soak = report.soak
    if soak is None:
        return
    console.print(_trend_line("p95 drift", soak.p95_trend, _signed_latency))
    console.print(_trend_line("error-rate drift", soak.error_rate_trend, lambda v: f"{v:+.3%}"))
    if soak.server_memory_trend is None:
        console.print(
            "server memory drift: not measured (no server process sampled: --server-pid or "
            "--server-cmd, or too few samples for a trend)"
        )
    else:
        mib = float(2**20)
        trend = soak.server_memory_trend
        console.print(_trend_line("server RSS drift", trend, lambda b: f"{b / mib:+,.1f} MiB"))


def _baseline(report: TestReport, console: Console) -> None:
    spread = report.repeat_spread
    if not spread:
        return
    rps, p95 = spread["rps"], spread["p95_us"]
    console.print(
        f"repeats: req/s median {rps.median:,.1f} ({rps.low:,.1f}–{rps.high:,.1f}, "
        f"CV {rps.cv:.1%}); p95 median {format_latency(p95.median)} "
        f"({format_latency(p95.low)}–{format_latency(p95.high)}, CV {p95.cv:.1%})"
    )


#: What each test type adds under the phase table.
VERDICTS: dict[TestType, Callable[[TestReport, Console], None]] = {
    TestType.STRESS: _breaking_point,
    TestType.BREAKPOINT: _breaking_point,
    TestType.SPIKE: _spike,
    TestType.SOAK: _soak,
    TestType.BASELINE: _baseline,
}


def _scenario_table(report: TestReport) -> Table:
    table = Table(title="scenarios", title_justify="left")
    table.add_column("scenario")
    table.add_column("requests")
    for header in ("time", "count", "req/s", "errors", "p50", "p95", "p99"):
        table.add_column(header, justify="right")
    for stats in report.scenarios:
        table.add_row(
            stats.name,
            ", ".join(stats.requests),
            f"{round(stats.start_s, 1):g}–{round(stats.end_s, 1):g}s",
            f"{stats.count:,}",
            f"{stats.rps:,.1f}",
            f"{stats.error_rate:.2%}",
            format_latency(stats.p50_us),
            format_latency(stats.p95_us),
            format_latency(stats.p99_us),
        )
    return table


def render_test_report(report: TestReport, console: Console) -> None:
    """Print the scenarios, the phase table (when there is more than one phase), the verdict."""
    if report.scenarios:
        console.print(_scenario_table(report))
    if report.test_type is None and len(report.phases) < 2:
        return
    console.print(_phase_table(report))
    if report.test_type is not None and report.test_type in VERDICTS:
        VERDICTS[report.test_type](report, console)
