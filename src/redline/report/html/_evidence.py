"""Profiles and the database: flame graphs of each profiled window, the top statements.

The flame graphs are :func:`redline.report.flamegraph_svg`'s SVG, inlined; the
statements are those ``redline run --db`` kept, the most total time first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redline.probes import WindowProfile
from redline.report._flamegraph import flamegraph_svg
from redline.report.html._page import Cell, Section, esc, table
from redline.units import one_line

__all__ = ["database_section", "profiles_section"]

#: Width of each flame graph (CSS scales it to the page).
FLAME_WIDTH_PX = 1100
#: Statements listed.
TOP_STATEMENTS = 10
#: Characters of a statement shown in the table (the whole text is its title).
QUERY_CHARS = 160


def _window_heading(window: Mapping[str, Any]) -> str:
    return (
        f"{window['name']} ({float(window['level']):g} {window['unit']}, "
        f"{float(window['start_s']):g}–{float(window['end_s']):g} s)"
    )


def _flame(window: Mapping[str, Any], is_first: bool) -> str:
    heading = _window_heading(window)
    if window.get("error"):
        return f"<p>Profile of {esc(heading)}: none: {esc(window['error'])}</p>"
    samples = WindowProfile.samples_of(window)
    svg = flamegraph_svg(samples, title=f"{heading} · {window.get('method', '')}",
                         width_px=FLAME_WIDTH_PX)  # fmt: skip
    svg = svg.split("?>", 1)[1] if svg.startswith("<?xml") else svg  # inline: no XML prolog
    partial = " (partial)" if window.get("partial") else ""
    summary = f"{heading}: {samples.total:,.0f} {samples.unit}{partial}"
    opened = " open" if is_first else ""
    return (
        f'<details class="flame"{opened}><summary>{esc(summary)}</summary>'
        f'<div class="flame">{svg}</div></details>'
    )


def profiles_section(profiles: Sequence[Mapping[str, Any]]) -> Section | None:
    """One flame graph per profiled window, the highest load open; None without profiles."""
    if not profiles:
        return None
    ordered = list(profiles)
    drawn = [w for w in ordered if not w.get("error")]
    highest = max(drawn, key=lambda w: float(w["level"])) if drawn else None
    parts = [_flame(w, w is highest) for w in ordered]
    note = (
        '<p class="note">Each rectangle is a function on a call path, as wide as its share of '
        "the samples; the root is at the bottom. Hover for the figures.</p>"
    )
    return Section("profiles", "Flame graphs", note + "".join(parts))


def _statement_row(rank: int, s: Mapping[str, Any]) -> list[Cell | str]:
    hit, read = int(s.get("shared_hit") or 0), int(s.get("shared_read") or 0)
    ratio = f"{hit / (hit + read):.1%}" if hit + read else "–"
    temp = int(s.get("temp_read") or 0) + int(s.get("temp_written") or 0)
    query = str(s["query"])
    return [
        Cell(str(rank), rank, numeric=True),
        Cell(f"{float(s['total_ms']):,.1f} ms", float(s["total_ms"]), numeric=True),
        Cell(f"{int(s['calls']):,}", int(s["calls"]), numeric=True),
        Cell(f"{float(s['mean_ms']):,.3f} ms", float(s["mean_ms"]), numeric=True),
        Cell(f"{int(s.get('rows') or 0):,}", int(s.get("rows") or 0), numeric=True),
        Cell(ratio, numeric=True),
        Cell(f"{temp:,}", temp, numeric=True),
        Cell(one_line(query, QUERY_CHARS), css="mono"),
    ]


def database_section(database: Mapping[str, Any] | None) -> Section | None:
    """The statements the run caused, most total time first; None without ``--db``."""
    if not database:
        return None
    statements = list(database.get("statements") or [])[:TOP_STATEMENTS]
    source = database.get("source")
    said = f"Database {database.get('dsn', '')}" + (f" ({source})" if source else "")
    headings = ("#", "total", "calls", "mean", "rows", "cache hit", "temp blocks", "statement")
    numeric = (True, True, True, True, True, True, True, False)
    if not statements:
        body = "<p>No statements were recorded during the run.</p>"
    else:
        rows = [_statement_row(rank, s) for rank, s in enumerate(statements, 1)]
        body = table(headings, rows, numeric=numeric, sortable=True)
    return Section("database", "Database: top statements", f"<p>{esc(said)}</p>{body}")
