"""Streaming outputs of ``redline run --out``: JSON lines, CSV and OTLP, fed each second.

The flow, all in the parent process (never on a worker's hot path)::

    LoadRunner merges a second from every worker
      └─ OutputFeed.on_second()          builds an Interval, appends a copy per output
           └─ PeriodicFlusher (a thread)  every period, and once more on stop
                └─ Output.write()         JsonLinesOutput, CsvOutput, OtlpOutput

An output that fails (a full disk, a collector that is down) is noted in one line and
dropped; the run and its results go on. The formats are documented in docs/outputs.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from redline.report.outputs._csv import STREAM_CSV_COLUMNS, CsvOutput
from redline.report.outputs._feed import OutputFeed, fan_out
from redline.report.outputs._flusher import PeriodicFlusher
from redline.report.outputs._interval import Interval, RunningTotals, errors_by_kind, figures
from redline.report.outputs._json import JSON_SCHEMA_VERSION, JsonLinesOutput
from redline.report.outputs._output import Output, RunInfo
from redline.report.outputs._spec import (
    OTEL_INSTALL_HINT,
    OutputConfig,
    OutputKind,
    Outputs,
    parse_outputs,
)

__all__ = [
    "FILE_FLUSH_PERIOD_S",
    "JSON_SCHEMA_VERSION",
    "OTEL_INSTALL_HINT",
    "OTLP_EXPORT_PERIOD_S",
    "STREAM_CSV_COLUMNS",
    "CsvOutput",
    "Interval",
    "JsonLinesOutput",
    "Output",
    "OutputConfig",
    "OutputFeed",
    "OutputKind",
    "Outputs",
    "PeriodicFlusher",
    "RunInfo",
    "RunningTotals",
    "build_output",
    "build_outputs",
    "errors_by_kind",
    "fan_out",
    "figures",
    "parse_outputs",
]

#: How often the JSON-lines and CSV files are written to (k6's JSON output: 200 ms; a
#: second is redline's resolution).
FILE_FLUSH_PERIOD_S = 1.0
#: How often the run's totals are exported over OTLP (k6's OpenTelemetry output: 10 s).
OTLP_EXPORT_PERIOD_S = 5.0


def build_output(config: OutputConfig) -> tuple[Output, float]:
    """The output ``config`` asks for, with its flush period in seconds.

    ``otlp`` imports the OpenTelemetry SDK here, not before (``parse_outputs`` has
    checked that it is installed).
    """
    if config.kind is OutputKind.OTLP:
        from redline.report.outputs._otlp import OtlpOutput  # the optional 'otel' extra

        return OtlpOutput(config.target), OTLP_EXPORT_PERIOD_S
    if config.kind is OutputKind.CSV:
        return CsvOutput(Path(config.target)), FILE_FLUSH_PERIOD_S
    return JsonLinesOutput(Path(config.target)), FILE_FLUSH_PERIOD_S


def build_outputs(configs: Sequence[OutputConfig]) -> list[tuple[Output, float]]:
    """Every output of ``configs``, in order (see :func:`build_output`)."""
    return [build_output(config) for config in configs]
