"""The server's profiles under load, in the terminal: each window's top hotspots and cost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from redline.probes import WindowProfile, share_changes
from redline.report._cpu_profile import frame_cells

__all__ = ["render_profiles"]

#: Hotspots shown per window.
TOP_PER_WINDOW = 5


def render_profiles(profiles: Sequence[Mapping[str, Any]], console: Console) -> None:
    """One small hotspot table per profiled window, then what grew from the lowest load
    to the highest; nothing when there are no profiles."""
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
                          *frame_cells(spot.frame))  # fmt: skip
        console.print(table)
    _render_differential([w for w in profiles if w.get("stacks")], console)


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


def _render_differential(profiles: Sequence[Mapping[str, Any]], console: Console) -> None:
    by_load = sorted(profiles, key=lambda w: (float(w["level"]), float(w["start_s"])))
    if len(by_load) < 2 or by_load[0]["level"] == by_load[-1]["level"]:
        return
    low, high = by_load[0], by_load[-1]
    changes = share_changes(WindowProfile.samples_of(low), WindowProfile.samples_of(high))
    title = (
        f"what grows with load: self share at {float(low['level']):g} → "
        f"{float(high['level']):g} {high['unit']}"
    )
    table = Table(title=title, title_justify="left", box=None, padding=(0, 1, 0, 2))
    for header in ("before", "after", "change", "function", "file:line"):
        table.add_column(
            header, justify="right" if header in ("before", "after", "change") else "left"
        )
    for change in changes[:TOP_PER_WINDOW]:
        table.add_row(f"{change.before:.1%}", f"{change.after:.1%}",
                      f"{change.growth * 100:+.1f} pts", *frame_cells(change.frame))  # fmt: skip
    console.print(table)
