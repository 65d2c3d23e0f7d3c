"""Over time, and the resources, on one time axis: seconds of the run, stages marked.

Every per-second row of the load's ``series`` covers second ``k`` of the run
from its start and is drawn at ``k + 0.5``; resource sample ``k`` covers
``[k·I, (k+1)·I)`` for the sampling interval ``I`` (``--sample-every``) and is
drawn at its middle, so the load and the server's figures line up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redline.report.html._charts import (
    PALETTE,
    Line,
    LineChartConfig,
    Mark,
    Unit,
    line_chart,
)
from redline.report.html._page import Section, esc

__all__ = ["Axis", "resources_section", "time_axis", "timeline_section"]

#: Percentiles drawn over time, with their colours (max last, in vermillion).
LATENCY_LINES = (
    ("p50", "p50", PALETTE[0]),
    ("p90", "p90", PALETTE[4]),
    ("p95", "p95", PALETTE[2]),
    ("p99", "p99", PALETTE[1]),
    ("max", "max", PALETTE[3]),
)
#: Baseline percentiles overlaid in compare mode.
BASELINE_LATENCY = ("p50", "p95", "p99")
#: Endpoint colours: every palette colour but vermillion, which marks failures.
ENDPOINT_COLOURS = (PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[4], PALETTE[5])
#: Per-endpoint throughput lines are drawn for at most this many endpoints.
MAX_ENDPOINT_LINES = len(ENDPOINT_COLOURS)
#: Error kinds drawn, the most frequent first.
MAX_ERROR_KINDS = 6
#: Database rates drawn, the busiest first.
MAX_DATABASE_RATES = 5
#: A per-second row is drawn at the middle of its second.
MID_SECOND = 0.5
#: Phase starts closer than this are one boundary (a ramp of a moment, then its level).
MERGED_MARKS_S = 1.0
#: Grey for reference lines (a limit, cores available).
REFERENCE = "#8a8f98"

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Axis:
    """The shared time axis: where it ends, and the stage boundaries on it."""

    end_s: float
    marks: tuple[Mark, ...]

    def config(self, **kwargs: Any) -> LineChartConfig:
        return LineChartConfig(x_high=self.end_s, marks=self.marks, **kwargs)


def time_axis(document: Mapping[str, Any], baseline: Mapping[str, Any] | None = None) -> Axis:
    """The run's seconds (the longer run's in compare mode) and its phases' starts."""
    ends = [_end_s(document)] + ([_end_s(baseline)] if baseline is not None else [])
    phases = (document.get("analysis") or {}).get("phases") or []
    marks: list[Mark] = []
    for phase in phases:
        start_s = float(phase["start_s"])
        if start_s <= 0:
            continue
        if marks and start_s - marks[-1].x < MERGED_MARKS_S:
            marks.pop()  # a short ramp then its level: one boundary, named by the level
        marks.append(Mark(start_s, str(phase["name"])))
    return Axis(max(ends), tuple(marks))


def _end_s(document: Mapping[str, Any]) -> float:
    rows = (document.get("series") or {}).get("overall") or []
    last = max((int(r["second"]) + 1 for r in rows), default=0)
    return max(float(last), float((document.get("run") or {}).get("elapsed_s") or 0.0), 1.0)


def column(
    rows: Sequence[Row], read: Callable[[Row], float | None], every_s: float = 1.0
) -> tuple[list[float], list[float | None]]:
    """Each row's time (the middle of its interval: row ``k`` covers ``[k·every_s,
    (k+1)·every_s)``) and ``read(row)``; None where the row lacks the figure."""
    xs = [(int(r["second"]) + MID_SECOND) * every_s for r in rows]
    ys: list[float | None] = []
    for row in rows:
        try:
            value = read(row)
        except (KeyError, TypeError):
            value = None
        ys.append(None if value is None else float(value))
    return xs, ys


def field(*path: str) -> Callable[[Row], Any]:
    """A reader of ``row[path[0]][path[1]]...``."""

    def read(row: Row) -> Any:
        value: Any = row
        for key in path:
            value = value[key]
        return value

    return read


def _line(
    label: str, rows: Sequence[Row], read: Callable[[Row], Any], colour: str, every_s: float = 1.0
) -> Line:
    xs, ys = column(rows, read, every_s)
    return Line(label, xs, ys, colour)


def _rate(row: Row) -> float:
    return float(row["count"]) / float(row.get("duration_s") or 1)


def _overall(document: Mapping[str, Any]) -> list[Row]:
    return list((document.get("series") or {}).get("overall") or [])


# -- over time ------------------------------------------------------------------


def _throughput(document: Mapping[str, Any], baseline: Mapping[str, Any] | None, axis: Axis) -> str:
    overall = _overall(document)
    lines = [_line("all endpoints", overall, _rate, PALETTE[6])]
    endpoints = (document.get("series") or {}).get("endpoints") or []
    if 1 < len(endpoints) <= MAX_ENDPOINT_LINES:
        intervals = (document.get("series") or {}).get("intervals") or []
        for i, name in enumerate(endpoints):
            rows = [r for r in intervals if r["endpoint"] == name]
            lines.append(_line(str(name), rows, _rate, ENDPOINT_COLOURS[i]))
    lines.append(_line("failed", overall, lambda r: r["failures"], PALETTE[3]))
    if baseline is not None:
        base = _line("baseline: all endpoints", _overall(baseline), _rate, PALETTE[6])
        lines.append(Line(base.label, base.xs, base.ys, base.colour, dashed=True))
    return line_chart("throughput", "Throughput (requests/s)", lines, Unit.RATE, axis.config())


def _load(document: Mapping[str, Any], axis: Axis) -> str:
    generator = list((document.get("series") or {}).get("generator") or [])
    if not generator:
        return ""
    charts = [
        line_chart(
            "load",
            "Active virtual users",
            [_line("active VUs", generator, lambda r: r["active_vus"], PALETTE[0])],
            Unit.COUNT,
            axis.config(),
        )
    ]
    executor = str(((document.get("plan") or {}).get("executor") or {}).get("type", ""))
    if "arrival" in executor:
        lines = [
            _line("iterations started", generator, lambda r: r["iterations"], PALETTE[0]),
            _line("dropped", generator, lambda r: r["dropped_iterations"], PALETTE[3]),
        ]
        charts.append(line_chart("arrivals", "Arrival rate", lines, Unit.RATE, axis.config()))
    return "".join(charts)


def error_kinds(rows: Sequence[Row]) -> list[str]:
    """Outcomes that are errors (an error kind, or a status of 400 and up), most frequent first."""
    totals: Counter[str] = Counter()
    for row in rows:
        for outcome, count in (row.get("outcomes") or {}).items():
            if not outcome.isdecimal() or int(outcome) >= 400:
                totals[outcome] += int(count)
    return [kind for kind, _ in totals.most_common(MAX_ERROR_KINDS)]


def _outcome(kind: str) -> Callable[[Row], int]:
    return lambda row: int((row.get("outcomes") or {}).get(kind, 0))


def _errors(document: Mapping[str, Any], axis: Axis) -> str:
    overall = _overall(document)
    kinds = error_kinds(overall)
    if not kinds:
        return ""
    lines = [_line(kind, overall, _outcome(kind), PALETTE[i]) for i, kind in enumerate(kinds)]
    return line_chart("errors", "Errors by kind (per second)", lines, Unit.RATE, axis.config())


def _latency(document: Mapping[str, Any], baseline: Mapping[str, Any] | None, axis: Axis) -> str:
    overall = _overall(document)
    lines = [
        _line(label, overall, field("response", key), colour)
        for label, key, colour in LATENCY_LINES
    ]
    if baseline is not None:
        base_rows = _overall(baseline)
        for label, key, colour in LATENCY_LINES:
            if label in BASELINE_LATENCY:
                base = _line(f"baseline {label}", base_rows, field("response", key), colour)
                lines.append(Line(base.label, base.xs, base.ys, colour, dashed=True))
    caption = "Response time percentiles, each second"
    return line_chart("latency", caption, lines, Unit.LATENCY, axis.config())


def timeline_section(
    document: Mapping[str, Any], baseline: Mapping[str, Any] | None, axis: Axis
) -> Section | None:
    """Throughput, load, errors by kind and latency percentiles; None without a series."""
    if not _overall(document):
        return None
    charts = [
        _throughput(document, baseline, axis),
        _load(document, axis),
        _errors(document, axis),
        _latency(document, baseline, axis),
    ]
    note = (
        '<p class="note">Dashed vertical lines mark where each stage starts; in compare mode '
        "the baseline is dashed, its seconds counted from its own start.</p>"
        if axis.marks or baseline is not None
        else ""
    )
    return Section("over-time", "Over time", note + "".join(charts))


# -- resources ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Chart:
    """One resource chart: which sample list, and the lines read from it."""

    name: str
    caption: str
    unit: Unit
    lines: tuple[tuple[str, Callable[[Row], Any]], ...]


def _sum_values(key: str) -> Callable[[Row], float]:
    return lambda row: float(sum((row.get(key) or {}).values()))


SERVER_CHARTS = (
    _Chart("server-cpu", "Server CPU (cores busy)", Unit.CORES, (
        ("process tree", lambda r: r["cpu"]),
        ("busiest thread", lambda r: r["max_thread_cpu"]),
        ("cores available", lambda r: r["cores_available"]),
    )),
    _Chart("server-memory", "Server memory", Unit.BYTES, (
        ("RSS", lambda r: r["rss_bytes"]),
        ("USS (private)", lambda r: r["uss_bytes"]),
    )),
    _Chart("server-sockets", "Server file descriptors and connections", Unit.COUNT, (
        ("open fds", lambda r: r["open_fds"]),
        ("inbound connections", _sum_values("tcp_inbound_by_local_port")),
        ("outbound connections", _sum_values("tcp_outbound_by_remote_port")),
    )),
)  # fmt: skip
HOST_CHARTS = (
    _Chart("host-cpu", "Host CPU (share of all cores)", Unit.SHARE, (
        ("user", lambda r: r["cpu_user"]),
        ("system", lambda r: r["cpu_system"]),
        ("iowait", lambda r: r["cpu_iowait"]),
        ("steal", lambda r: r["cpu_steal"]),
        ("busiest core", lambda r: r["cpu_busiest_core"]),
    )),
    _Chart("host-memory", "Host memory", Unit.BYTES, (
        ("used", lambda r: r["mem_used_bytes"]),
        ("swap used", lambda r: r["swap_used_bytes"]),
    )),
    _Chart("host-network", "Host network (every interface)", Unit.BYTES_RATE, (
        ("in", lambda r: r["net_in_bytes_per_s"]),
        ("out", lambda r: r["net_out_bytes_per_s"]),
    )),
    _Chart("host-tcp", "Host TCP connections", Unit.COUNT, (
        ("established", lambda r: r["tcp_established"]),
        ("TIME_WAIT", lambda r: r["tcp_time_wait"]),
    )),
)  # fmt: skip
DATABASE_SESSIONS = _Chart("database-sessions", "Database sessions", Unit.COUNT, (
    ("connections", lambda r: r["connections"]),
    ("active", lambda r: r["active"]),
    ("waiting on locks", lambda r: r["waiting_on_locks"]),
))  # fmt: skip


def _draw(chart: _Chart, rows: Sequence[Row], axis: Axis, every_s: float) -> str:
    lines = []
    for i, (label, read) in enumerate(chart.lines):
        line = _line(label, rows, read, PALETTE[i], every_s)
        if any(v is not None for v in line.ys):
            dashed = label == "cores available"
            colour = REFERENCE if dashed else line.colour
            lines.append(Line(line.label, line.xs, line.ys, colour, dashed=dashed))
    if not lines:
        return ""
    return line_chart(chart.name, chart.caption, lines, chart.unit, axis.config())


def _generator(document: Mapping[str, Any], axis: Axis) -> str:
    rows = list((document.get("series") or {}).get("generator") or [])
    if not rows or "cpu_s" not in rows[0]:
        return ""
    workers = float((document.get("run") or {}).get("workers") or 1)
    cpu = _line("CPU per worker", rows, lambda r: r["cpu_s"] / workers, PALETTE[0])
    lag = _line("event-loop lag p99", rows, lambda r: r["loop_lag_p99_us"], PALETTE[1])
    send = _line("send lag p99", rows, lambda r: r["send_lag_p99_us"], PALETTE[2])
    return line_chart(
        "generator-cpu", "Load generator: CPU per worker (self-check)", [cpu], Unit.SHARE,
        axis.config(y_floor=1.0),
    ) + line_chart(
        "generator-lag", "Load generator: event-loop and send lag", [lag, send], Unit.LATENCY,
        axis.config(),
    )  # fmt: skip


def _database_rates(rows: Sequence[Row], axis: Axis, every_s: float) -> str:
    peaks: dict[str, float] = {}
    for row in rows:
        for key, value in row.items():
            if key.endswith("_per_s") and isinstance(value, int | float):
                peaks[key] = max(peaks.get(key, 0.0), float(value))
    busiest = sorted(peaks, key=lambda k: -peaks[k])[:MAX_DATABASE_RATES]
    keys = [k for k in busiest if peaks[k] > 0]
    if not keys:
        return ""
    lines = [
        _line(key.removesuffix("_per_s").replace("_", " "), rows, field(key), PALETTE[i], every_s)
        for i, key in enumerate(keys)
    ]
    return line_chart("database-rates", "Database activity", lines, Unit.RATE, axis.config())


def resources_section(document: Mapping[str, Any], axis: Axis) -> Section | None:
    """Server, host, generator and database figures on the run's time axis; None without any."""
    resources = document.get("resources") or {}
    every_s = float(resources.get("interval_s") or 1.0)
    parts = [
        *(_draw(c, resources.get("server") or [], axis, every_s) for c in SERVER_CHARTS),
        *(_draw(c, resources.get("host") or [], axis, every_s) for c in HOST_CHARTS),
    ]
    parts.append(_generator(document, axis))
    database = resources.get("database") or []
    if database:
        parts += [
            _draw(DATABASE_SESSIONS, database, axis, every_s),
            _database_rates(database, axis, every_s),
        ]
    if not any(parts):
        return None
    notes = "".join(f"<li>{esc(n)}</li>" for n in resources.get("notes") or [])
    if notes:
        parts.append(f"<h3>Notes</h3><ul>{notes}</ul>")
    return Section("resources", "Resources", "".join(parts))
