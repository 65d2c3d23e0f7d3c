"""The per-endpoint table: requests, throughput, errors and response-time percentiles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redline.report.html._page import Cell, Section, table
from redline.units import format_latency

__all__ = ["endpoints_section"]

#: The response-time columns, as (heading, summary key).
LATENCY_COLUMNS = (("p50", "p50"), ("p95", "p95"), ("p99", "p99"), ("max", "max"))
HEADINGS = ("endpoint", "requests", "req/s", "errors", *(h for h, _ in LATENCY_COLUMNS))


def _row(name: str, stats: Mapping[str, Any]) -> list[Cell]:
    response = stats.get("response") or {}
    cells = [
        Cell(name, css="mono"),
        Cell(f"{stats['count']:,}", stats["count"], numeric=True),
        Cell(f"{stats['rps']:,.1f}", round(float(stats["rps"]), 3), numeric=True),
        Cell(
            f"{stats['failures']:,} ({stats['error_rate']:.2%})",
            round(float(stats["error_rate"]), 6),
            numeric=True,
        ),
    ]
    for _, key in LATENCY_COLUMNS:
        value = response.get(key)
        text = "—" if value is None else format_latency(float(value))
        cells.append(Cell(text, value, numeric=True))
    return cells


def endpoints_section(document: Mapping[str, Any]) -> Section | None:
    """One row per endpoint (sortable by any column), the whole run in the footer."""
    endpoints: Mapping[str, Any] = (document.get("summary") or {}).get("endpoints") or {}
    if not endpoints:
        return None
    rows = [_row(str(name), stats) for name, stats in sorted(endpoints.items())]
    footer = _row("all endpoints", document["summary"]["total"])
    numeric = (False, *([True] * (len(HEADINGS) - 1)))
    body = table(HEADINGS, rows, numeric=numeric, sortable=True, footer=footer)
    note = '<p class="note">Click a heading to sort. Response time, from the intended start.</p>'
    return Section("endpoints", "Endpoints", body + note)
