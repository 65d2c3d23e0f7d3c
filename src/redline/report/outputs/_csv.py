"""``--out csv=FILE``: one row per second per endpoint, and one for all of them.

The columns are :data:`STREAM_CSV_COLUMNS`, documented in docs/outputs.md. Each second
gives the ``*`` row (every endpoint merged) first, then one row per endpoint seen so
far, sorted. Latencies are response times in microseconds, blank when the row has no
request; ``active_vus``, ``iterations`` and ``dropped_iterations`` are on the ``*``
row only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from redline.metrics import IntervalStats
from redline.report.outputs._file import TextFile
from redline.report.outputs._interval import Interval, errors_by_kind, latency_figures
from redline.report.outputs._output import RunInfo

__all__ = ["STREAM_CSV_COLUMNS", "CsvOutput", "csv_rows"]

#: The columns, in order.
STREAM_CSV_COLUMNS = (
    "second",
    "endpoint",
    "count",
    "rps",
    "failures",
    "errors",
    "mean_us",
    "p50_us",
    "p90_us",
    "p95_us",
    "p99_us",
    "p99.9_us",
    "max_us",
    "active_vus",
    "iterations",
    "dropped_iterations",
)


def _errors_cell(stats: IntervalStats) -> str:
    """Errors by kind as ``kind=count`` pairs joined by ``;`` (``timeout=2;503=1``)."""
    return ";".join(f"{kind}={count}" for kind, count in errors_by_kind(stats).items())


def _row(second: int, stats: IntervalStats) -> list[object]:
    latency = latency_figures(stats.response)
    return [
        second,
        stats.endpoint,
        stats.count,
        round(stats.rate_per_s, 3),
        stats.failures,
        _errors_cell(stats),
        *("" if value is None else value for value in latency.values()),
    ]


def csv_rows(interval: Interval) -> list[list[object]]:
    """The rows of one second: ``*`` first (with the generator's figures), then each endpoint."""
    generator = interval.generator
    load: list[object] = (
        [generator.active_vus, generator.iterations, generator.dropped_iterations]
        if generator is not None
        else [0, 0, 0]
    )
    rows = [_row(interval.second, interval.overall) + load]
    rows += [_row(interval.second, stats) + ["", "", ""] for stats in interval.endpoints.values()]
    return rows


class CsvOutput:
    """Writes a header row, then each completed second's rows, to a CSV file."""

    def __init__(self, path: Path) -> None:
        # The csv module writes its own line endings (RFC 4180 CRLF unless told otherwise).
        self._file = TextFile(path, newline="")

    @property
    def label(self) -> str:
        return f"csv={self._file.path}"

    def open(self, run: RunInfo) -> None:
        self._file.open()
        self._file.write(_text([list(STREAM_CSV_COLUMNS)]))

    def write(self, intervals: Sequence[Interval]) -> None:
        rows = [row for interval in intervals for row in csv_rows(interval)]
        if rows:
            self._file.write(_text(rows))

    def close(self) -> None:
        self._file.close()


def _text(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
