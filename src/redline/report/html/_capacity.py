"""Capacity, for a stepped run: the load points, the USL fit, the knee, the p95 target.

Everything is :mod:`redline.diagnose`'s, as ``redline capacity`` prints it:
:func:`load_points`, :func:`fit_usl` (from :data:`USL_MIN_POINTS` points),
:func:`find_knee` of p95 against load, and the highest throughput within the
run's own p95 threshold (``measured_within_sla``, ``fitted_within_sla``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redline.diagnose import (
    USL_MIN_POINTS,
    LoadPoint,
    SlaAnswer,
    UslFit,
    find_knee,
    fit_usl,
    fitted_within_sla,
    load_points,
    measured_within_sla,
)
from redline.errors import ConfigError
from redline.plan import Metric, parse_threshold
from redline.report.html._charts import PALETTE, Dot, Line, LineChartConfig, Mark, Unit, line_chart
from redline.report.html._page import Cell, Section, esc, table
from redline.units import format_latency

__all__ = ["capacity_section", "p95_target_us"]

#: Points on the drawn USL curve.
CURVE_POINTS = 80
#: The x axis reaches this far past the highest measured concurrency.
X_HEADROOM = 1.25
#: At least this many held levels make a stepped run.
MIN_POINTS = 2


def p95_target_us(document: Mapping[str, Any]) -> float | None:
    """The run's whole-run p95 threshold (``p95<300ms``), in µs; None without one."""
    for outcome in document.get("thresholds") or []:
        try:
            threshold = parse_threshold(str(outcome["threshold"]))
        except ConfigError:
            continue
        if threshold.metric is Metric.P95 and threshold.endpoint is None:
            return threshold.value
    return None


def _fit(points: Sequence[LoadPoint]) -> tuple[UslFit | None, str]:
    if len(points) < USL_MIN_POINTS:
        return None, (
            f"USL fit: needs {USL_MIN_POINTS} load points, this run has {len(points)} "
            f"(run more steps, e.g. --steps {USL_MIN_POINTS})."
        )
    try:
        fit = fit_usl([p.concurrency for p in points], [p.rps for p in points])
    except ConfigError as exc:
        return None, f"USL fit: none: {exc.message}."
    holds = "holds" if fit.holds else "does NOT hold: its predictions are not used"
    return fit, (
        f"USL fit ({fit.points} points): σ = {fit.sigma:.4f} ± {fit.sigma_se:.4f}, "
        f"κ = {fit.kappa:.3g} ± {fit.kappa_se:.2g}, λ = {fit.lambda_:,.1f} ± "
        f"{fit.lambda_se:,.1f} req/s; R² = {fit.r_squared:.3f}, residual RMS "
        f"{fit.rmse_share:.1%} of mean throughput: the fit {holds}. "
        f"Max throughput {fit.max_throughput:,.1f} req/s. {fit.sigma_meaning()}; "
        f"{fit.kappa_meaning()}."
    )


def _throughput_chart(points: Sequence[LoadPoint], fit: UslFit | None) -> str:
    top_n = max(p.concurrency for p in points) * X_HEADROOM
    dots = [
        Dot(p.concurrency, p.rps, PALETTE[3], f"{p.name}: {p.rps:,.1f} req/s at N = "
            f"{p.concurrency:,.1f}")
        for p in points
    ]  # fmt: skip
    lines = []
    if fit is not None:
        xs = [top_n * i / CURVE_POINTS for i in range(1, CURVE_POINTS + 1)]
        ys: list[float | None] = [fit.throughput(n) for n in xs]
        lines.append(Line("USL fit", xs, ys, PALETTE[0], dashed=not fit.holds))
    measured = sorted(points, key=lambda p: p.concurrency)
    lines.append(
        Line("measured", [p.concurrency for p in measured], [p.rps for p in measured], PALETTE[3])
    )
    config = LineChartConfig(x_high=top_n, time_axis=False, x_unit="concurrent", dots=dots)
    caption = "Throughput against concurrency (Universal Scalability Law)"
    return line_chart("capacity-usl", caption, lines, Unit.RATE, config)


def _p95_chart(points: Sequence[LoadPoint], target_us: float | None) -> tuple[str, str]:
    ordered = sorted(points, key=lambda p: p.level)
    unit = ordered[0].unit
    knee = find_knee([p.level for p in ordered], [float(p.p95_us) for p in ordered])
    levels = [p.level for p in ordered]
    lines = [Line("p95", levels, [float(p.p95_us) for p in ordered], PALETTE[2])]
    if target_us is not None:
        lines.append(Line("p95 target", [0.0, levels[-1] * X_HEADROOM], [target_us] * 2,
                          PALETTE[3], dashed=True))  # fmt: skip
    marks = []
    if knee is None:
        said = "Knee (Kneedle, p95 against load): none: p95 does not bend upward."
    else:
        marks.append(Mark(knee.x, f"knee {knee.x:g} {unit}"))
        said = (
            f"Knee (Kneedle, p95 against load): at {knee.x:g} {unit} (p95 "
            f"{format_latency(knee.y)}): latency bends upward past this load."
        )
    dots = [Dot(p.level, float(p.p95_us), PALETTE[2], f"{p.name}: p95 {format_latency(p.p95_us)}")
            for p in ordered]  # fmt: skip
    config = LineChartConfig(
        x_high=levels[-1] * X_HEADROOM, time_axis=False, x_unit=unit, marks=marks, dots=dots
    )
    chart = line_chart("capacity-p95", f"p95 against load ({unit})", lines, Unit.LATENCY, config)
    return chart, said


def _answer(answer: SlaAnswer) -> str:
    figure = "none" if answer.rps is None else f"{answer.rps:,.1f} req/s"
    return f"{answer.source.value}: {figure}: {answer.explanation}"


def _target(points: Sequence[LoadPoint], fit: UslFit | None, target_us: float | None) -> str:
    if target_us is None:
        return (
            '<p class="note">Max throughput at a p95 target: the run has no p95 threshold '
            "(give one, e.g. --threshold 'p95<300ms', or see redline capacity --sla).</p>"
        )
    answers = [measured_within_sla(points, target_us)]
    if fit is not None and fit.holds:
        answers.append(fitted_within_sla(fit, points, target_us))
    items = "".join(f"<li>{esc(_answer(a))}</li>" for a in answers)
    return (
        f"<h3>Highest throughput with p95 ≤ {esc(format_latency(target_us))}</h3><ul>{items}</ul>"
    )


def _points_table(points: Sequence[LoadPoint]) -> str:
    rows: list[list[Cell | str]] = [
        [
            p.name,
            Cell(f"{p.level:g} {p.unit}", numeric=True),
            Cell(f"{p.concurrency:,.1f}", numeric=True),
            Cell(f"{p.rps:,.1f}", numeric=True),
            Cell(format_latency(p.p95_us), numeric=True),
            Cell(f"{p.error_rate:.2%}", numeric=True),
        ]
        for p in points
    ]
    headings = ("level", "load", "concurrency", "req/s", "p95", "errors")
    return table(headings, rows, numeric=(False, *([True] * 5)))


def capacity_section(document: Mapping[str, Any]) -> Section | None:
    """The held levels, the USL curve and fit, the knee and the p95 target; None unless stepped."""
    try:
        points = load_points(document)
    except ConfigError:
        return None  # no held levels: not a stepped run
    if len(points) < MIN_POINTS:
        return None
    fit, fit_said = _fit(points)
    target_us = p95_target_us(document)
    p95_chart, knee_said = _p95_chart(points, target_us)
    body = [
        _throughput_chart(points, fit),
        f"<p>{esc(fit_said)}</p>",
        p95_chart,
        f"<p>{esc(knee_said)}</p>",
        _target(points, fit, target_us),
        "<h3>Load points (held levels)</h3>",
        _points_table(points),
    ]
    return Section("capacity", "Capacity", "".join(body))
