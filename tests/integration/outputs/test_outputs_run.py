"""``redline run --out``: real short runs streaming JSON lines, CSV and OTLP, checked against
the run's results file (and, for OTLP, against what a collector stand-in decoded)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import LoopbackServer
from tests.integration.outputs.collector import Collector

#: Generous bound for one short run, including worker start-up on a busy machine.
RUN_TIMEOUT_S = 60

#: About 3.5 s of load: 300 iterations on 2 VUs, each pausing 20 ms; half get 404s.
PLAN = """
name = "outputs"
base_url = "{url}"
think_time = "20ms"
workers = 2

[executor]
type = "shared-iterations"
vus = 2
iterations = 300

[[requests]]
name = "home"
url = "/"

[[requests]]
name = "missing"
url = "/missing"
"""


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", "run", *args, "--quiet", "--no-save"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def _plan(tmp_path: Path, server: LoopbackServer) -> Path:
    path = tmp_path / "outputs.toml"
    path.write_text(PLAN.format(url=server.url))
    return path


def _attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in pairs}


def _metrics(request: Any) -> dict[str, Any]:
    (resource_metrics,) = request.resource_metrics
    (scope,) = resource_metrics.scope_metrics
    return {metric.name: metric for metric in scope.metrics}


def test_a_real_run_streams_json_csv_and_otlp_that_add_up_to_its_results(
    http_server: LoopbackServer, collector: Collector, tmp_path: Path
) -> None:
    results_path, lines_path, csv_path = (tmp_path / n for n in ("r.json", "s.ndjson", "s.csv"))
    proc = redline(
        str(_plan(tmp_path, http_server)),
        "--out", str(results_path),
        "--out", f"json={lines_path}",
        "--out", f"csv={csv_path}",
        "--out", f"otlp={collector.url}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    results = json.loads(results_path.read_text())
    total = results["summary"]["total"]
    assert total["count"] == 300
    per_second = {row["second"]: row["count"] for row in results["series"]["overall"]}

    # JSON lines: a run line, one interval per second (0, 1, 2...), then the summary.
    lines = [json.loads(line) for line in lines_path.read_text().splitlines()]
    assert lines[0]["type"] == "run" and lines[-1]["type"] == "summary"
    seconds = lines[1:-1]
    assert [line["second"] for line in seconds] == list(range(len(seconds)))
    assert 3 <= len(seconds) <= 8
    assert all(line["run_id"] == results["run"]["id"] for line in lines)
    for line in seconds:
        assert line["overall"]["count"] == per_second.get(line["second"], 0)
    assert sum(line["overall"]["count"] for line in seconds) == total["count"]
    summary = lines[-1]
    assert summary["overall"]["count"] == total["count"]
    assert summary["overall"]["failures"] == total["failures"]
    for name, endpoint in results["summary"]["endpoints"].items():
        assert summary["endpoints"][name]["count"] == endpoint["count"]
        assert summary["endpoints"][name]["errors"] == (
            {"404": endpoint["count"]} if name == "missing" else {}
        )

    # CSV: per second, the '*' row and one per endpoint; their counts add up the same.
    with csv_path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    overall = [row for row in rows if row["endpoint"] == "*"]
    assert [int(row["second"]) for row in overall] == list(range(len(seconds)))
    assert sum(int(row["count"]) for row in overall) == total["count"]
    for name, endpoint in results["summary"]["endpoints"].items():
        assert sum(int(r["count"]) for r in rows if r["endpoint"] == name) == endpoint["count"]

    # OTLP: real protobuf, decoded; the last export holds the run's totals.
    assert collector.requests, "the collector received no export"
    assert set(collector.content_types) == {"application/x-protobuf"}
    last = collector.requests[-1]
    resource = _attributes(last.resource_metrics[0].resource.attributes)
    assert resource["service.name"] == "redline"
    assert resource["redline.run_id"] == results["run"]["id"]
    assert resource["redline.plan"] == "outputs"
    metrics = _metrics(last)
    requests = metrics["redline.requests"].sum
    assert requests.is_monotonic
    assert sum(point.as_int for point in requests.data_points) == total["count"]
    by_status = {
        (a["endpoint"], a["status"]): p.as_int
        for p in requests.data_points
        for a in [_attributes(p.attributes)]
    }
    endpoints = results["summary"]["endpoints"]
    assert by_status == {
        ("home", "200"): endpoints["home"]["count"],
        ("missing", "404"): endpoints["missing"]["count"],
    }
    errors = metrics["redline.errors"].sum.data_points
    assert [(_attributes(p.attributes), p.as_int) for p in errors] == [
        ({"endpoint": "missing", "kind": "404"}, endpoints["missing"]["count"])
    ]
    durations = {
        _attributes(p.attributes)["endpoint"]: p
        for p in metrics["redline.request.duration"].histogram.data_points
    }
    for name, point in durations.items():
        assert point.count == sum(point.bucket_counts) == endpoints[name]["count"]
        assert point.max == pytest.approx(endpoints[name]["response"]["max"] / 1000, rel=1e-3)
    assert metrics["redline.vus.active"].gauge.data_points[0].as_int in (0, 1, 2)


def test_a_collector_that_is_down_is_noted_once_and_the_run_goes_on(
    http_server: LoopbackServer, unused_port: int, tmp_path: Path
) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    results_path, lines_path = tmp_path / "r.json", tmp_path / "s.ndjson"
    url = f"http://127.0.0.1:{unused_port}/v1/metrics"
    proc = redline(
        str(_plan(tmp_path, http_server)),
        "--out", f"otlp={url}",
        "--out", str(results_path),
        "--out", f"json={lines_path}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert warnings == [
        f"warning: --out otlp={url}: the export to the collector failed (Connection refused); "
        "this output is dropped, the run goes on and its results are kept"
    ]
    results = json.loads(results_path.read_text())
    assert results["summary"]["total"]["count"] == 300
    summary = json.loads(lines_path.read_text().splitlines()[-1])
    assert summary["overall"]["count"] == 300


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("xml=a.xml", "error: --out: 'xml=a.xml' has an unknown kind 'xml'; allowed PATH"),
        ("otlp=ftp://127.0.0.1/", "error: --out: 'otlp=ftp://127.0.0.1/' is not an http(s) URL"),
        ("otlp=http://collector:4318", "error: --out: 'otlp=http://collector:4318': the collector"),
    ],
)
def test_a_bad_out_stops_before_any_load_with_one_line(
    http_server: LoopbackServer, tmp_path: Path, value: str, message: str
) -> None:
    proc = redline(f"{http_server.url}/", "--vus", "1", "--iterations", "5", "--out", value)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0].startswith(message), proc.stderr
    assert http_server.requests == []
