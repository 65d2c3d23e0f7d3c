"""Charts drawn as inline SVG, in Python: no chart library, nothing fetched.

Three shapes, all sharing one frame (axes, grid, ticks, marks):

- :func:`line_chart`: lines over a linear x axis (seconds of the run, or
  concurrency), with vertical marks (stage boundaries, a knee) and dots;
- :func:`percentile_chart`: latency against percentile on the ``1/(1-p)``
  axis HdrHistogram and wrk2 plot (0 %, 90 %, 99 %, ... evenly spaced);
- :func:`histogram_chart`: request counts in latency bins.

Each returns a ``<figure>``: the SVG (scaled by CSS to the page's width), a
legend in HTML, and for hover tooltips the values at up to
:data:`TOOLTIP_POINTS` x positions as JSON in ``data-tips`` (read by
``report.js``; the chart reads the same without it).

Glossary:
    frame: the plot area inside the margins, in SVG user units.
    decimation: a line with more points than the frame has pixels keeps, per
        pixel column, its first, lowest, highest and last point (M4), so peaks
        survive and an hour of seconds draws as fast as a minute.
"""

from __future__ import annotations

import bisect
import enum
import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from redline.units import format_bytes, format_latency

__all__ = [
    "PALETTE",
    "Bin",
    "Dot",
    "Line",
    "Mark",
    "Unit",
    "histogram_chart",
    "line_chart",
    "percentile_chart",
    "percentile_x",
]

#: Okabe–Ito colours, distinguishable under the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000")
#: The SVG's own coordinate system; CSS scales it to the page.
WIDTH = 960
HEIGHT = 240
#: Margins around the frame: room for tick labels on the left and below.
LEFT = 78
RIGHT = 34
TOP = 14
BOTTOM = 30
#: Ticks aimed at on each axis.
Y_TICKS = 5
X_TICKS = 8
#: Values kept per line for tooltips (the line itself keeps more).
TOOLTIP_POINTS = 400
#: Marks whose labels are closer than this (user units) to the last labelled one are not labelled.
MARK_LABEL_GAP = 70
#: Highest percentile the percentile chart reaches: 99.999 (1 in 100,000).
TOP_PERCENTILE = 99.999
#: Tick percentiles on the ``1/(1-p)`` axis.
PERCENTILE_TICKS = (0.0, 90.0, 99.0, 99.9, 99.99, 99.999)
#: Time-axis steps, seconds: the first giving at most :data:`X_TICKS` ticks is used.
TIME_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)


class Unit(enum.Enum):
    """What a chart's values are, for tick labels here and tooltips in ``report.js``."""

    #: Microseconds, shown as µs, ms or s.
    LATENCY = "latency"
    #: Per second.
    RATE = "rate"
    #: A share, 0..1, shown as a percentage.
    SHARE = "share"
    #: Bytes, binary units.
    BYTES = "bytes"
    #: Bytes per second.
    BYTES_RATE = "bytes_rate"
    #: A plain count (VUs, connections, descriptors).
    COUNT = "count"
    #: CPU cores busy (1.0 is one core).
    CORES = "cores"

    def text(self, value: float) -> str:
        """The value with its unit, for a tick or a tooltip (a bare ``0`` for zero)."""
        return "0" if value == 0 else _FORMATS[self](value)


def _count(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.2g}"


_FORMATS: dict[Unit, Callable[[float], str]] = {
    Unit.LATENCY: lambda v: format_latency(v).replace(".00 ", " "),
    Unit.RATE: lambda v: f"{_count(v)}/s",
    Unit.SHARE: lambda v: f"{v:.0%}",
    Unit.BYTES: format_bytes,
    Unit.BYTES_RATE: lambda v: f"{format_bytes(v)}/s",
    Unit.COUNT: _count,
    Unit.CORES: lambda v: f"{v:.2g} cores",
}


@dataclass(frozen=True)
class Line:
    """One line: ``ys[i]`` at ``xs[i]``; a None leaves a gap."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class Mark:
    """A vertical line across the frame at ``x`` (a stage boundary, a knee)."""

    x: float
    label: str


@dataclass(frozen=True)
class Dot:
    """One measured point, drawn as a circle with a hover title."""

    x: float
    y: float
    colour: str
    title: str


@dataclass(frozen=True)
class Bin:
    """Requests whose latency fell in ``[low_us, high_us)``."""

    low_us: float
    high_us: float
    count: int


@dataclass(frozen=True)
class _Axis:
    """Data range ``low..high`` on screen ``start..end``, through ``transform``."""

    low: float
    high: float
    start: float
    end: float
    ticks: tuple[tuple[float, str], ...]
    transform: Callable[[float], float] = field(default=float)

    def at(self, value: float) -> float:
        low, high = self.transform(self.low), self.transform(self.high)
        share = (self.transform(value) - low) / (high - low) if high > low else 0.0
        return self.start + share * (self.end - self.start)


def percentile_x(percentile: float) -> float:
    """Where a percentile lies on the ``1/(1-p)`` axis: log10 of 1/(1-p); 0 at 0 %."""
    return math.log10(1.0 / (1.0 - min(percentile, TOP_PERCENTILE) / 100.0))


def nice_step(span: float, count: int) -> float:
    """A 1, 2 or 5 times a power of ten, giving about ``count`` steps over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _value_ticks(high: float, unit: Unit) -> tuple[float, tuple[tuple[float, str], ...]]:
    """Ticks from 0 up to at least ``high``; returns the axis's top and the ticks."""
    step = nice_step(high, Y_TICKS)
    top = step * max(1, math.ceil(high / step - 1e-9))
    ticks = tuple((step * i, unit.text(step * i)) for i in range(round(top / step) + 1))
    return top, ticks


def time_label(seconds: float) -> str:
    """``45s``, ``2m``, ``1m30s``, ``1h``, ``1h15m``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    parts.append(f"{secs}s" if secs or not (hours or minutes) else "")
    return "".join(parts)


def _time_ticks(high: float) -> tuple[tuple[float, str], ...]:
    step = next((s for s in TIME_STEPS_S if high / s <= X_TICKS), TIME_STEPS_S[-1])
    return tuple((step * i, time_label(step * i)) for i in range(int(high // step) + 1))


def _linear_ticks(high: float) -> tuple[tuple[float, str], ...]:
    step = nice_step(high, X_TICKS)
    return tuple((step * i, f"{step * i:g}") for i in range(int(high / step + 1e-9) + 1))


# -- drawing --------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _frame(x: _Axis, y: _Axis) -> list[str]:
    """Grid lines, tick labels and the frame's outline."""
    parts = ['<g class="grid">']
    for value, label in y.ticks:
        py = y.at(value)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py:.1f}" y2="{py:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end">'
            f"{_esc(label)}</text>"
        )
    for value, label in x.ticks:
        px = x.at(value)
        parts.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>')
        parts.append(
            f'<text class="tick" x="{px:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{_esc(label)}</text>"
        )
    parts.append(
        f'<rect class="outline" x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}"/></g>'
    )
    return parts


def _marks(marks: Sequence[Mark], x: _Axis) -> list[str]:
    parts = ['<g class="marks">']
    last_labelled = -math.inf
    for mark in marks:
        px = x.at(mark.x)
        parts.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}">'
            f"<title>{_esc(mark.label)}</title></line>"
        )
        if px - last_labelled >= MARK_LABEL_GAP:
            parts.append(f'<text x="{px + 3:.1f}" y="{TOP + 11}">{_esc(mark.label)}</text>')
            last_labelled = px
    parts.append("</g>")
    return parts


def decimate(xs: Sequence[float], ys: Sequence[float | None], columns: int) -> list[int]:
    """Indexes to draw: all of them when they fit in ``columns``, else M4 per column."""
    if len(xs) <= 2 * columns:
        return list(range(len(xs)))
    low, high = xs[0], xs[-1]
    width = (high - low) / columns or 1.0
    kept: list[int] = []
    start = 0
    while start < len(xs):
        column = int((xs[start] - low) / width)
        end = start
        while end < len(xs) and int((xs[end] - low) / width) == column:
            end += 1
        kept.extend(_m4(ys, start, end))
        start = end
    return kept


def _m4(ys: Sequence[float | None], start: int, end: int) -> list[int]:
    """First, lowest, highest and last index of ``ys[start:end]``, in order; gaps kept."""
    present = [i for i in range(start, end) if ys[i] is not None]
    if len(present) < end - start:
        return list(range(start, end))  # a gap: keep the column whole so it stays a gap
    lowest = min(present, key=lambda i: ys[i] or 0.0)
    highest = max(present, key=lambda i: ys[i] or 0.0)
    return sorted({start, lowest, highest, end - 1})


def _path(line: Line, x: _Axis, y: _Axis) -> str:
    commands: list[str] = []
    pen_down = False
    for i in decimate(line.xs, line.ys, WIDTH - LEFT - RIGHT):
        value = line.ys[i]
        if value is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{x.at(line.xs[i]):.1f} {y.at(value):.1f}")
        pen_down = True
    dash = ' stroke-dasharray="6 4"' if line.dashed else ""
    return (
        f'<path class="line" d="{"".join(commands)}" stroke="{line.colour}"{dash}>'
        f"<title>{_esc(line.label)}</title></path>"
    )


def _dots(dots: Sequence[Dot], x: _Axis, y: _Axis) -> list[str]:
    return [
        f'<circle class="dot" cx="{x.at(d.x):.1f}" cy="{y.at(d.y):.1f}" r="4.5" '
        f'fill="{d.colour}"><title>{_esc(d.title)}</title></circle>'
        for d in dots
    ]


def _legend(lines: Sequence[Line]) -> str:
    items = [
        f'<li><span class="swatch{" dashed" if line.dashed else ""}" '
        f'style="border-color:{line.colour}"></span>{_esc(line.label)}</li>'
        for line in lines
    ]
    return f'<ul class="legend">{"".join(items)}</ul>'


def _tips(lines: Sequence[Line], x: _Axis, unit: Unit, x_unit: str) -> str:
    """The values at up to :data:`TOOLTIP_POINTS` x positions, as JSON for ``report.js``."""
    xs = sorted({v for line in lines for v in line.xs})
    if len(xs) > TOOLTIP_POINTS:
        xs = [xs[round(i * (len(xs) - 1) / (TOOLTIP_POINTS - 1))] for i in range(TOOLTIP_POINTS)]
    series = [{"l": line.label, "c": line.colour, "v": _values_at(line, xs)} for line in lines]
    tips = {
        "unit": unit.value,
        "xunit": x_unit,
        "w": WIDTH,
        "x": [round(v, 4) for v in xs],
        "px": [round(x.at(v), 1) for v in xs],
        "s": series,
    }
    return json.dumps(tips, separators=(",", ":"), ensure_ascii=False)


def _values_at(line: Line, xs: Sequence[float]) -> list[float | None]:
    """The line's value at each x (its nearest point at or before it; None where it has none)."""
    values: list[float | None] = []
    for value in xs:
        i = bisect.bisect_right(line.xs, value) - 1
        found = line.ys[i] if i >= 0 and abs(line.xs[i] - value) < 1e-9 else None
        values.append(None if found is None else round(found, 4))
    return values


def _figure(name: str, caption: str, svg_parts: list[str], legend: str, tips: str | None) -> str:
    data = f' data-tips="{_esc(tips)}"' if tips is not None else ""
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{_esc(caption)}">' + "".join(svg_parts) + "</svg>"
    )
    return (
        f'<figure class="chart" data-chart="{_esc(name)}"{data}>'
        f"<figcaption>{_esc(caption)}</figcaption>{svg}{legend}</figure>"
    )


def _top(lines: Sequence[Line], dots: Sequence[Dot], floor: float) -> float:
    values = [v for line in lines for v in line.ys if v is not None]
    values += [d.y for d in dots]
    return max([floor, *values]) if values else floor


@dataclass(frozen=True, kw_only=True)
class LineChartConfig:
    """How :func:`line_chart` draws its x axis and what it marks."""

    #: The x axis's end; its start is 0.
    x_high: float
    #: True: x is seconds of the run (ticks 30s, 1m, ...); False: plain numbers.
    time_axis: bool = True
    #: What x counts, for tooltips and plain ticks (``"s"``, ``"VUs"``).
    x_unit: str = "s"
    marks: Sequence[Mark] = ()
    dots: Sequence[Dot] = ()
    #: The y axis's top is at least this (so a flat zero line still has an axis).
    y_floor: float = 0.0


def line_chart(
    name: str, caption: str, lines: Sequence[Line], unit: Unit, config: LineChartConfig
) -> str:
    """Lines over a linear x axis from 0, with marks and dots: a ``<figure>``."""
    top, y_ticks = _value_ticks(_top(lines, config.dots, config.y_floor) or 1.0, unit)
    x_high = config.x_high or 1.0
    x_ticks = _time_ticks(x_high) if config.time_axis else _linear_ticks(x_high)
    x = _Axis(0.0, x_high, LEFT, WIDTH - RIGHT, x_ticks)
    y = _Axis(0.0, top, HEIGHT - BOTTOM, TOP, y_ticks)
    parts = _frame(x, y) + _marks(config.marks, x)
    parts += [_path(line, x, y) for line in lines] + _dots(config.dots, x, y)
    parts.append('<line class="cursor" x1="-10" x2="-10" y1="0" y2="0"/>')
    tips = _tips(lines, x, unit, config.x_unit) if lines else None
    return _figure(name, caption, parts, _legend(lines), tips)


def percentile_chart(name: str, caption: str, lines: Sequence[Line]) -> str:
    """Latency (µs, linear) against percentile on the ``1/(1-p)`` axis: a ``<figure>``.

    Each line's ``xs`` are percentiles (0..100); they are drawn at :func:`percentile_x`.
    """
    top, y_ticks = _value_ticks(_top(lines, (), 1.0), Unit.LATENCY)
    ticks = tuple((p, f"{p:g}%") for p in PERCENTILE_TICKS)
    x = _Axis(0.0, TOP_PERCENTILE, LEFT, WIDTH - RIGHT, ticks, transform=percentile_x)
    y = _Axis(0.0, top, HEIGHT - BOTTOM, TOP, y_ticks)
    parts = _frame(x, y) + [_path(line, x, y) for line in lines]
    parts.append('<line class="cursor" x1="-10" x2="-10" y1="0" y2="0"/>')
    return _figure(name, caption, parts, _legend(lines), _tips(lines, x, Unit.LATENCY, "p"))


def histogram_chart(name: str, caption: str, bins: Sequence[Bin], colour: str) -> str:
    """Requests per latency bin, bins side by side in order: a ``<figure>``."""
    top, y_ticks = _value_ticks(max([1, *(b.count for b in bins)]), Unit.COUNT)
    step = max(1, math.ceil(len(bins) / X_TICKS))
    x_ticks = tuple(
        (float(i), Unit.LATENCY.text(b.low_us)) for i, b in enumerate(bins) if i % step == 0
    )
    x = _Axis(0.0, float(len(bins) or 1), LEFT, WIDTH - RIGHT, x_ticks)
    y = _Axis(0.0, top, HEIGHT - BOTTOM, TOP, y_ticks)
    parts = _frame(x, y)
    bar = (WIDTH - LEFT - RIGHT) / (len(bins) or 1)
    for i, b in enumerate(bins):
        py = y.at(b.count)
        title = (
            f"{Unit.LATENCY.text(b.low_us)} – {Unit.LATENCY.text(b.high_us)}: {b.count:,} requests"
        )
        parts.append(
            f'<rect class="bar" x="{x.at(i) + 1:.1f}" y="{py:.1f}" width="{max(bar - 2, 1):.1f}" '
            f'height="{HEIGHT - BOTTOM - py:.1f}" fill="{colour}">'
            f"<title>{_esc(title)}</title></rect>"
        )
    return _figure(name, caption, parts, "", None)
