"""A memory profile in the terminal: peak, what was not freed, growth, the collector."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from redline.probes import MemoryProfile, StackSamples
from redline.report._cpu_profile import frame_cells
from redline.units import format_bytes

__all__ = ["render_memory_profile"]


def render_memory_profile(profile: MemoryProfile, console: Console, *, top: int) -> None:
    """The figures, then the biggest stacks not freed, the lines that grew and the GC."""
    whole = "PARTIAL" if profile.partial else "complete"
    counted = ""
    if profile.total_allocated_bytes is not None and profile.allocations is not None:
        counted = (f"; {format_bytes(profile.total_allocated_bytes)} allocated in "
                   f"{profile.allocations:,} allocations")  # fmt: skip
    console.print(f"method: {profile.method}; peak {format_bytes(profile.peak_bytes)}"
                  f"{counted}; {whole}", highlight=False)  # fmt: skip
    for note in profile.notes:
        console.print(f"note: {note}", highlight=False)
    _growth(profile, console)
    console.print(_by_place("not freed at the end, by where it was allocated",
                            profile.not_freed, top))  # fmt: skip
    if profile.top_growth:
        console.print(_lines(profile, top))
    if profile.gc:
        console.print(_gc(profile))


def _growth(profile: MemoryProfile, console: Console) -> None:
    rss = [p for p in profile.growth if p.rss_bytes is not None]
    if len(rss) < 2:
        return
    first, last = rss[0], rss[-1]
    span_s = last.t_s - first.t_s
    change = (last.rss_bytes or 0) - (first.rss_bytes or 0)
    rate = f" ({format_bytes(change / span_s)}/s)" if span_s > 0 else ""
    console.print(f"RSS {format_bytes(first.rss_bytes or 0)} → {format_bytes(last.rss_bytes or 0)} "
                  f"over {span_s:.0f} s{rate}", highlight=False)  # fmt: skip


def _by_place(title: str, samples: StackSamples, top: int) -> Table:
    table = Table(title=title, title_justify="left")
    for header in ("#", "function", "file:line", "bytes", "share"):
        table.add_column(header, justify="right" if header in ("#", "bytes", "share") else "left")
    for rank, spot in enumerate(samples.hotspots(top), 1):
        table.add_row(str(rank), *frame_cells(spot.frame),
                      format_bytes(spot.self_weight), f"{spot.self_share:.1%}")  # fmt: skip
    return table


def _lines(profile: MemoryProfile, top: int) -> Table:
    table = Table(title="lines whose memory grew (tracemalloc, last vs first snapshot)",
                  title_justify="left")  # fmt: skip
    for header in ("line", "grew", "now", "blocks", "in the program at"):
        table.add_column(
            header, justify="left" if header in ("line", "in the program at") else "right"
        )
    for growth in profile.top_growth[:top]:
        app = f"{growth.app_file}:{growth.app_line}" if growth.app_file else ""
        table.add_row(growth.location, format_bytes(growth.size_diff_bytes),
                      format_bytes(growth.size_bytes), f"{growth.count_diff:+,}", app)  # fmt: skip
    return table


def _gc(profile: MemoryProfile) -> Table:
    table = Table(title="garbage collector, by generation", title_justify="left")
    for header in ("generation", "collections", "collected", "pause total", "pause max"):
        table.add_column(header, justify="right")
    for gen in profile.gc:
        table.add_row(str(gen.generation), f"{gen.collections:,}", f"{gen.collected:,}",
                      f"{gen.pause_ms_total:,.1f} ms", f"{gen.pause_ms_max:,.2f} ms")  # fmt: skip
    return table
