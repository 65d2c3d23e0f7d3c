"""``--out json=FILE`` and ``--out csv=FILE``: their content, from synthetic seconds."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from redline.errors import ReportError
from redline.metrics import IntervalStats
from redline.report.outputs import (
    JSON_SCHEMA_VERSION,
    STREAM_CSV_COLUMNS,
    CsvOutput,
    Interval,
    JsonLinesOutput,
    RunInfo,
)
from tests.unit.report.out_intervals import PER_SECOND, intervals

RUN = RunInfo(run_id="20260101-000000-abcdef", plan_name="shop")


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_json_lines_are_a_run_line_one_line_per_second_and_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "run.ndjson"
    output = JsonLinesOutput(path)
    output.open(RUN)
    seconds = intervals(3)
    output.write(seconds[:2])
    output.write([])
    output.write(seconds[2:])
    output.close()
    lines = _lines(path)
    assert [line["type"] for line in lines] == ["run", *["interval"] * 3, "summary"]
    assert lines[0] == {
        "type": "run",
        "run_id": RUN.run_id,
        "schema_version": JSON_SCHEMA_VERSION,
        "plan": "shop",
    }
    assert all(line["run_id"] == RUN.run_id for line in lines)
    assert [line["second"] for line in lines[1:4]] == [0, 1, 2]


def test_a_json_interval_holds_overall_and_per_endpoint_figures(tmp_path: Path) -> None:
    path = tmp_path / "run.ndjson"
    output = JsonLinesOutput(path)
    output.open(RUN)
    output.write(intervals(1))
    output.close()
    second = _lines(path)[1]
    assert second["active_vus"] == 4
    assert second["iterations"] == PER_SECOND
    assert second["dropped_iterations"] == 0
    overall = second["overall"]
    assert overall["count"] == PER_SECOND == 110
    assert overall["rps"] == 110.0
    assert overall["failures"] == 5
    assert overall["errors"] == {"503": 3, "timeout": 2}
    assert overall["statuses"] == {"200": 105, "503": 3}
    assert set(second["endpoints"]) == {"home", "items"}
    home = second["endpoints"]["home"]
    assert home["count"] == 100 and home["failures"] == 0 and home["errors"] == {}
    assert home["latency_us"]["p50"] == 800
    assert home["latency_us"]["p95"] == 5_000 - 5_000 % 4 + 3  # HDR: highest equivalent value
    assert home["latency_us"]["max"] == home["latency_us"]["p99.9"]
    assert set(home["latency_us"]) == {"mean", "p50", "p90", "p95", "p99", "p99.9", "max"}
    assert home["service_us"]["p50"] == 800
    items = second["endpoints"]["items"]
    assert items["errors"] == {"503": 3, "timeout": 2}
    assert items["latency_us"]["max"] >= 60_000_000


def test_the_json_summary_is_every_second_merged(tmp_path: Path) -> None:
    path = tmp_path / "run.ndjson"
    output = JsonLinesOutput(path)
    output.open(RUN)
    output.write(intervals(3))
    output.close()
    lines = _lines(path)
    summary = lines[-1]
    assert summary["seconds"] == 3
    assert summary["overall"]["count"] == sum(line["overall"]["count"] for line in lines[1:-1])
    assert summary["overall"]["count"] == 3 * PER_SECOND
    assert summary["overall"]["rps"] == PER_SECOND
    assert summary["overall"]["errors"] == {"503": 9, "timeout": 6}
    assert summary["endpoints"]["home"]["count"] == 300


def test_json_lines_are_on_disk_after_each_write(tmp_path: Path) -> None:
    path = tmp_path / "run.ndjson"
    output = JsonLinesOutput(path)
    output.open(RUN)
    output.write(intervals(1))
    assert [line["type"] for line in _lines(path)] == ["run", "interval"]
    output.close()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_csv_has_the_header_then_all_and_each_endpoint_per_second(tmp_path: Path) -> None:
    path = tmp_path / "run.csv"
    output = CsvOutput(path)
    output.open(RUN)
    output.write(intervals(2))
    output.close()
    assert path.read_text().splitlines()[0] == ",".join(STREAM_CSV_COLUMNS)
    rows = _rows(path)
    assert [(r["second"], r["endpoint"]) for r in rows] == [
        ("0", "*"),
        ("0", "home"),
        ("0", "items"),
        ("1", "*"),
        ("1", "home"),
        ("1", "items"),
    ]
    overall, home, items = rows[:3]
    assert overall["count"] == "110" and overall["rps"] == "110.0"
    assert overall["failures"] == "5" and overall["errors"] == "503=3;timeout=2"
    assert (overall["active_vus"], overall["iterations"], overall["dropped_iterations"]) == (
        "4",
        "110",
        "0",
    )
    assert home["errors"] == "" and home["p50_us"] == "800" and home["active_vus"] == ""
    assert int(items["max_us"]) >= 60_000_000
    assert sum(int(r["count"]) for r in rows if r["endpoint"] != "*") == 220


def test_a_csv_row_without_requests_leaves_latencies_blank(tmp_path: Path) -> None:
    path = tmp_path / "run.csv"
    busy = intervals(1)[0]
    idle = Interval(0, busy.overall, {**busy.endpoints, "home": IntervalStats("home", 0)})
    output = CsvOutput(path)
    output.open(RUN)
    output.write([idle])
    output.close()
    home = _rows(path)[1]
    assert home["endpoint"] == "home" and home["count"] == "0"
    assert home["p50_us"] == home["max_us"] == home["mean_us"] == ""


def test_a_file_that_cannot_be_written_is_a_report_error(tmp_path: Path) -> None:
    output = JsonLinesOutput(tmp_path)  # a folder, not a file
    with pytest.raises(ReportError, match=r"cannot write '.*': Is a directory"):
        output.open(RUN)


def test_a_full_disk_is_a_report_error_and_the_file_is_released(tmp_path: Path) -> None:
    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full here")
    output = CsvOutput(full)
    with pytest.raises(ReportError, match=r"cannot write '/dev/full': No space left on device"):
        output.open(RUN)  # the header row is written, and flushed, on open
