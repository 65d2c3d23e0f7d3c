"""A database's analysis in the terminal: top statements, index advice, then the findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from redline.units import one_line

__all__ = ["render_index_advice", "render_run_statements", "render_top_statements"]

#: Shown of a statement's text in a table.
QUERY_CHARS = 90
#: Statements shown after a run with ``--db``.
RUN_STATEMENTS = 10


def render_run_statements(database: Mapping[str, Any], console: Console) -> None:
    """The statements a run caused (``redline run --db``), the most time first."""
    statements = list(database.get("statements") or [])[:RUN_STATEMENTS]
    render_top_statements(
        statements, console, title=f"statements during the run ({database['dsn']})"
    )


def render_top_statements(
    statements: Sequence[Mapping[str, Any]], console: Console, *, title: str
) -> None:
    """Statements by total time: calls, total and mean time, rows, cache hits, temp blocks."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    for header in ("total", "calls", "mean", "rows", "cache hit", "temp blocks"):
        table.add_column(header, justify="right")
    table.add_column("statement")
    for rank, s in enumerate(statements, 1):
        hit, read = int(s.get("shared_hit") or 0), int(s.get("shared_read") or 0)
        ratio = f"{hit / (hit + read):.1%}" if hit + read else "–"
        temp = int(s.get("temp_read") or 0) + int(s.get("temp_written") or 0)
        table.add_row(
            str(rank), f"{float(s['total_ms']):,.1f} ms", f"{int(s['calls']):,}",
            f"{float(s['mean_ms']):,.3f} ms", f"{int(s.get('rows') or 0):,}", ratio,
            f"{temp:,}", Text(one_line(str(s["query"]), QUERY_CHARS)),
        )  # fmt: skip
    console.print(table)


def render_index_advice(advice: Sequence[Mapping[str, Any]], console: Console) -> None:
    """Each recommended index: its statement, the cost before and after, the queries it serves."""
    if not advice:
        console.print("index advice: none (no candidate cut a statement's cost by half)")
        return
    for item in advice:
        before, after = float(item["cost_before"]), float(item["cost_after"])
        console.print(
            Text(f"index: {item['ddl']}", "bold"),
            Text(f"   cost {before:,.0f} → {after:,.0f} ({after / before - 1:+.0%})"),
            sep="\n",
            highlight=False,
        )
        for query in item.get("queries") or []:
            console.print(Text(f"   serves: {one_line(str(query), QUERY_CHARS)}"), highlight=False)
