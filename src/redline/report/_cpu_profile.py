"""A CPU profile in the terminal: how it was taken, then the hotspots.

Frames are shown with :func:`frame_cells` everywhere, so a name like
``[kernel.kallsyms]`` is printed as it is, never read as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from redline.probes import CpuProfile, Frame

__all__ = ["frame_cells", "render_cpu_profile"]


def frame_cells(frame: Frame) -> tuple[Text, Text]:
    """A frame's function and ``file:line`` as table cells, literally."""
    return Text(frame.function), Text(frame.short_location)


def render_cpu_profile(result: CpuProfile, console: Console, *, top: int) -> None:
    """The method, the amount sampled, whether it is whole, its notes, and the hotspots."""
    samples = result.samples
    whole = "PARTIAL" if result.partial else "complete"
    if samples.unit == "samples":
        amount = f"{samples.total:,.0f} samples"
    else:
        amount = f"{samples.total / 1e6:,.2f} s sampled"
    console.print(f"method: {result.method}; {amount}; {whole}", highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    table = Table(title=f"hotspots (top {top}, by self time)", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("function")
    table.add_column("file:line")
    table.add_column("self", justify="right")
    table.add_column("total", justify="right")
    for rank, spot in enumerate(samples.hotspots(top), 1):
        table.add_row(str(rank), *frame_cells(spot.frame),
                      f"{spot.self_share:.1%}", f"{spot.total_share:.1%}")  # fmt: skip
    console.print(table)
