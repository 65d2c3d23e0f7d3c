"""Threads and the event loop in the terminal: who waits for the GIL, what blocks the loop."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from redline.probes import BlockingReport, GilReport
from redline.report._cpu_profile import frame_cells

__all__ = ["render_blocking", "render_gil"]


def render_gil(report: GilReport, console: Console) -> None:
    """The verdict line, then one row per thread: samples, holding, waiting, CPU."""
    console.print(f"GIL: {report.summary()}", highlight=False)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    table = Table(title="threads and the GIL", title_justify="left")
    for header in ("thread", "samples", "holding the GIL", "waiting for it", "CPU"):
        table.add_column(header, justify="left" if header == "thread" else "right")
    for thread in report.threads:
        cpu = "?" if thread.cpu_share is None else f"{thread.cpu_share:.0%} of a core"
        shares = (f"{thread.holding_share:.0%}", f"{thread.waiting_share:.0%}")
        table.add_row(f"{thread.name} ({thread.thread_id})", f"{thread.samples:,}", *shares, cpu)
    console.print(table)


def render_blocking(report: BlockingReport, console: Console) -> None:
    """What blocked the event loop longer than the threshold, worst total first."""
    console.print(
        f"event loop: {len(report.stalls):,} iterations over {report.threshold_ms:g} ms of "
        f"{report.iterations:,} ({report.stalled_ms:,.0f} ms blocked in all)",
        highlight=False,
    )
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    if not report.blockers:
        return
    table = Table(title="what blocked the event loop", title_justify="left")
    for header in ("function", "file:line", "stalls", "total", "max"):
        table.add_column(header, justify="left" if header in ("function", "file:line") else "right")
    for blocker in report.blockers:
        table.add_row(*frame_cells(blocker.frame), f"{blocker.count:,}",
                      f"{blocker.total_ms:,.0f} ms", f"{blocker.max_ms:,.0f} ms")  # fmt: skip
    console.print(table)
