"""A run's per-second series as CSV: one row per second per endpoint."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

__all__ = ["CSV_COLUMNS", "series_csv"]

#: The CSV's columns; latencies are response times in microseconds.
CSV_COLUMNS = (
    "second",
    "endpoint",
    "count",
    "rps",
    "errors",
    "p50_us",
    "p90_us",
    "p95_us",
    "p99_us",
    "max_us",
)


def _cell(value: object) -> object:
    return "" if value is None else value


def series_csv(document: Mapping[str, Any]) -> str:
    """The ``series.intervals`` of a results document as CSV text, with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in document["series"]["intervals"]:
        response = row["response"]
        writer.writerow(
            [
                row["second"],
                row["endpoint"],
                row["count"],
                row["rate_per_s"],
                row["failures"],
                *(_cell(response[key]) for key in ("p50", "p90", "p95", "p99", "max")),
            ]
        )
    return out.getvalue()
