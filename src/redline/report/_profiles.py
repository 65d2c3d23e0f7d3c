"""The server's profiles under load, in the terminal: each window's top hotspots and cost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from redline.probes import WindowProfile

__all__ = ["render_profiles"]

#: Hotspots shown per window.
TOP_PER_WINDOW = 5


def render_profiles(profiles: Sequence[Mapping[str, Any]], console: Console) -> None:
    """One small hotspot table per profiled window; nothing when there are none."""
    for window in profiles:
        console.print(_heading(window), highlight=False)
        if window.get("error"):
            continue
        samples = WindowProfile.samples_of(window)
        table = Table(box=None, padding=(0, 1, 0, 2), show_header=True)
        for header in ("self", "total", "function", "file:line"):
            table.add_column(header, justify="right" if header in ("self", "total") else "left")
        for spot in samples.hotspots(TOP_PER_WINDOW):
            table.add_row(f"{spot.self_share:.1%}", f"{spot.total_share:.1%}",
                          spot.frame.function, spot.frame.short_location)  # fmt: skip
        console.print(table)


def _heading(window: Mapping[str, Any]) -> str:
    span_s = float(window["end_s"]) - float(window["start_s"])
    where = (
        f"profile of {window['name']} ({float(window['level']):g} {window['unit']}, "
        f"{float(window['start_s']):g}–{float(window['end_s']):g}s)"
    )
    if window.get("error"):
        return f"{where}: none: {window['error']}"
    samples = WindowProfile.samples_of(window)
    cost = float(window.get("profiler_cpu_s", 0.0))
    partial = "; PARTIAL" if window.get("partial") else ""
    return (
        f"{where}: {samples.total:,.0f} {samples.unit} by {window['method']}{partial}; "
        f"the profiler used {cost:.2f} s of CPU ({cost / span_s:.1%} of a core)"
    )
