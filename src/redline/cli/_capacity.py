"""``redline capacity RUN``: capacity planning from a stored stepped run.

The run's held levels are the load points: a table of them (with Little's-law
checks), the Universal Scalability Law fit (6 points or more), the knee of p95
against load, the highest throughput within ``--sla``, and with ``--peak`` and
``--growth`` the month the SLA breaks and the instances needed then.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from redline.cli._history import PIPE_WIDTH, DbOption, run_document
from redline.diagnose import (
    USL_MIN_POINTS,
    LoadPoint,
    SlaAnswer,
    UslFit,
    find_knee,
    fit_usl,
    fitted_within_sla,
    forecast,
    load_points,
    measured_within_sla,
)
from redline.errors import ConfigError
from redline.plan import Comparison, Metric, parse_threshold
from redline.report import format_latency

__all__ = ["capacity", "parse_growth", "parse_peak", "parse_sla"]

#: ``--growth``: a percentage a month, e.g. ``10%/month`` (``/month`` may be left out).
GROWTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*(?:/\s*(?:month|mo))?\s*$")
#: ``--peak``: requests per second, e.g. ``1200/s`` (``/s`` may be left out).
PEAK = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*s)?\s*$")
#: The comparisons an SLA may use.
SLA_COMPARISONS = (Comparison.LT, Comparison.LE)


def parse_sla(text: str) -> float:
    """``--sla``: the p95 limit in microseconds, from ``p95<300ms`` (or ``<=``).

    Raises:
        ConfigError: the text is not ``p95<DURATION`` or ``p95<=DURATION``.
    """
    allowed = "allowed p95<DURATION or p95<=DURATION (e.g. p95<300ms)"
    try:
        threshold = parse_threshold(text, field="--sla")
    except ConfigError as exc:
        raise ConfigError(f"--sla: {text!r} is not an SLA; {allowed}", hint=exc.message) from None
    plain = threshold.endpoint is None and threshold.window_s is None and not threshold.abort
    if threshold.metric is not Metric.P95 or threshold.op not in SLA_COMPARISONS or not plain:
        raise ConfigError(f"--sla: {text!r} is not an SLA; {allowed}")
    return threshold.value


def parse_growth(text: str) -> float:
    """``--growth``: a fraction a month, from ``10%/month`` (0.10).

    Raises:
        ConfigError: the text is not a percentage a month.
    """
    match = GROWTH.match(text)
    if match is None:
        raise ConfigError(
            f"--growth: {text!r} is not a growth rate; allowed PERCENT%/month (e.g. 10%/month)"
        )
    return float(match.group(1)) / 100


def parse_peak(text: str) -> float:
    """``--peak``: today's peak load in requests per second, from ``1200/s``.

    Raises:
        ConfigError: the text is not a rate above 0.
    """
    match = PEAK.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(
            f"--peak: {text!r} is not a peak load; allowed a rate above 0 as N/s (e.g. 1200/s)"
        )
    return float(match.group(1))


def capacity(
    run: Annotated[str, typer.Argument(help="A run id, a unique prefix of one, or a baseline.")],
    sla: Annotated[
        str | None, typer.Option(help="The latency objective, e.g. 'p95<300ms'.")
    ] = None,
    growth: Annotated[
        str | None, typer.Option(help="Load growth for the forecast, e.g. '10%/month'.")
    ] = None,
    peak: Annotated[
        str | None, typer.Option(help="Today's peak load for the forecast, e.g. '1200/s'.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Capacity planning from a stored stepped run: USL fit, knee, SLA, forecast."""
    limit_us = parse_sla(sla) if sla is not None else None
    growth_share = parse_growth(growth) if growth is not None else None
    peak_rps = parse_peak(peak) if peak is not None else None
    points = load_points(run_document(db, run))
    console = Console()
    console = console if console.is_terminal else Console(width=PIPE_WIDTH)
    console.print(_points_table(points))
    fit = _print_fit(console, points)
    _print_knee(console, points)
    if limit_us is None:
        console.print("highest throughput within an SLA: give --sla (e.g. --sla 'p95<300ms')")
        return
    capacity_rps = _print_sla(console, points, fit, limit_us)
    _print_forecast(console, capacity_rps, peak_rps, growth_share)


def _points_table(points: list[LoadPoint]) -> Table:
    table = Table(title="load points (held levels)", title_justify="left")
    table.add_column("level", justify="right")
    for header in ("concurrency", "req/s", "p95", "mean", "errors"):
        table.add_column(header, justify="right")
    table.add_column("Little's law")
    for point in points:
        table.add_row(
            f"{point.level:g} {point.unit}",
            f"{point.concurrency:,.1f}",
            f"{point.rps:,.1f}",
            format_latency(point.p95_us),
            format_latency(point.mean_response_s * 1e6),
            f"{point.error_rate:.2%}",
            _little_cell(point),
        )
    return table


def _little_cell(point: LoadPoint) -> Text:
    if point.little is None:
        return Text("N = X·R (rate level)", "dim")
    little = point.little
    said = f"X·(R+Z) = {little.implied_vus:,.1f} ({little.deviation:+.0%})"
    if little.broken:
        busy = "fewer busy: generator-bound or idle VUs" if little.deviation < 0 else "miscounted"
        return Text(f"✗ {said}: broken, {busy}", "bold red")
    return Text(f"✓ {said}", "green")


def _print_fit(console: Console, points: list[LoadPoint]) -> UslFit | None:
    if len(points) < USL_MIN_POINTS:
        console.print(
            f"USL fit: needs {USL_MIN_POINTS} load points, this run has {len(points)} "
            f"(run more steps, e.g. --steps {USL_MIN_POINTS})"
        )
        return None
    fit = fit_usl([p.concurrency for p in points], [p.rps for p in points])
    peak = (
        "infinite (κ = 0)" if math.isinf(fit.peak_concurrency) else f"{fit.peak_concurrency:,.1f}"
    )
    ceiling = "" if fit.kappa > 0 else " (approached, never reached: κ = 0)"
    holds = "holds" if fit.holds else "does NOT hold: its predictions are not used"
    console.print(
        f"USL fit ({fit.points} points): σ = {fit.sigma:.4f} ± {fit.sigma_se:.4f}, "
        f"κ = {fit.kappa:.3g} ± {fit.kappa_se:.2g}, λ = {fit.lambda_:,.1f} ± {fit.lambda_se:,.1f} "
        f"req/s; R² = {fit.r_squared:.3f}, residual RMS {fit.rmse_share:.1%} of mean "
        f"throughput: the fit {holds}",
        highlight=False,
    )
    console.print(
        f"  peak concurrency N* = {peak}; max throughput {fit.max_throughput:,.1f} req/s{ceiling}",
        highlight=False,
    )
    console.print(f"  {fit.sigma_meaning()}", highlight=False)
    console.print(f"  {fit.kappa_meaning()}", highlight=False)
    return fit


def _print_knee(console: Console, points: list[LoadPoint]) -> None:
    knee = find_knee([p.level for p in points], [float(p.p95_us) for p in points])
    unit = points[0].unit
    if knee is None:
        console.print(
            "knee (Kneedle, p95 vs load): none: p95 does not bend upward", highlight=False
        )
        return
    console.print(
        f"knee (Kneedle, p95 vs load): at {knee.x:g} {unit} (p95 {format_latency(knee.y)}): "
        "latency bends upward past this load",
        highlight=False,
    )


def _print_sla(
    console: Console, points: list[LoadPoint], fit: UslFit | None, limit_us: float
) -> float | None:
    """Both answers; returns the one the forecast uses (the fit's where it holds)."""
    limit = f"p95 ≤ {format_latency(limit_us)}"
    measured = measured_within_sla(points, limit_us)
    console.print(f"highest throughput with {limit}:", highlight=False)
    console.print(f"  {_answer(measured)}", highlight=False)
    fitted = fitted_within_sla(fit, points, limit_us) if fit is not None else None
    if fitted is not None and fit is not None and fit.holds:
        console.print(f"  {_answer(fitted)}", highlight=False)
        if fitted.rps is not None:
            return fitted.rps
    else:
        console.print("  USL fit: not used (no fit, or it does not hold)", highlight=False)
    return measured.rps


def _answer(answer: SlaAnswer) -> str:
    figure = "none" if answer.rps is None else f"{answer.rps:,.1f} req/s"
    return f"{answer.source.value}: {figure}: {answer.explanation}"


def _print_forecast(
    console: Console, capacity_rps: float | None, peak_rps: float | None, growth: float | None
) -> None:
    if peak_rps is None or growth is None:
        console.print("forecast: give --peak (e.g. 1200/s) and --growth (e.g. 10%/month)")
        return
    if capacity_rps is None:
        console.print("forecast: none: no load met the SLA, so one instance serves nothing")
        return
    result = forecast(peak_rps=peak_rps, growth=growth, capacity_rps=capacity_rps)
    console.print(f"forecast: {result.explanation()}", highlight=False)
