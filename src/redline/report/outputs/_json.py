"""``--out json=FILE``: newline-delimited JSON, one object per second, then a summary.

The lines, in order (every object has ``type`` and ``run_id``)::

    {"type": "run", "schema_version": 1, "run_id": ..., "plan": ...}
    {"type": "interval", "second": 0, "overall": {...}, "endpoints": {"name": {...}},
     "active_vus": 4, "iterations": 812, "dropped_iterations": 0}
    ...
    {"type": "summary", "seconds": 5, "overall": {...}, "endpoints": {...}}

Each ``{...}`` holds :func:`~redline.report.outputs.figures`. Documented in docs/outputs.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redline.report.outputs._file import TextFile
from redline.report.outputs._interval import Interval, RunningTotals, figures
from redline.report.outputs._output import RunInfo

__all__ = ["JSON_SCHEMA_VERSION", "JsonLinesOutput", "interval_line"]

#: Version of the JSON-lines layout.
#: 1: run, interval and summary lines (redline 0.1).
JSON_SCHEMA_VERSION = 1


def interval_line(interval: Interval, run_id: str) -> dict[str, Any]:
    """The ``interval`` object of one second."""
    generator = interval.generator
    return {
        "type": "interval",
        "run_id": run_id,
        "second": interval.second,
        "overall": figures(interval.overall),
        "endpoints": {name: figures(stats) for name, stats in interval.endpoints.items()},
        "active_vus": interval.active_vus,
        "iterations": 0 if generator is None else generator.iterations,
        "dropped_iterations": 0 if generator is None else generator.dropped_iterations,
    }


def summary_line(totals: RunningTotals, run_id: str) -> dict[str, Any]:
    """The ``summary`` object: every second streamed, merged."""
    return {
        "type": "summary",
        "run_id": run_id,
        "seconds": totals.seconds,
        "overall": figures(totals.overall),
        "endpoints": {name: figures(stats) for name, stats in totals.endpoints().items()},
    }


class JsonLinesOutput:
    """Writes one JSON object per completed second to a file, and a summary at the end."""

    def __init__(self, path: Path) -> None:
        self._file = TextFile(path)
        self._totals = RunningTotals()
        self._run_id = ""

    @property
    def label(self) -> str:
        return f"json={self._file.path}"

    def open(self, run: RunInfo) -> None:
        self._run_id = run.run_id
        self._file.open()
        head = {
            "type": "run",
            "run_id": run.run_id,
            "schema_version": JSON_SCHEMA_VERSION,
            "plan": run.plan_name,
        }
        self._file.write(_line(head))

    def write(self, intervals: Sequence[Interval]) -> None:
        lines = []
        for interval in intervals:
            self._totals.add(interval)
            lines.append(_line(interval_line(interval, self._run_id)))
        if lines:
            self._file.write("".join(lines))

    def close(self) -> None:
        try:
            self._file.write(_line(summary_line(self._totals, self._run_id)))
        finally:
            self._file.close()


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":")) + "\n"
