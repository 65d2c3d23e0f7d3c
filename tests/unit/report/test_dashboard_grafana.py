"""docs/grafana-dashboard.json asks only for metrics that ``/metrics`` serves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from redline.report.dashboard import RunGauges, prometheus_text
from tests.unit.report import dashboard_runs

GRAFANA = Path(__file__).parents[3] / "docs" / "grafana-dashboard.json"
#: A metric name in a PromQL expression.
METRIC_NAME = re.compile(r"\bredline_[a-z_]+\b")


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GRAFANA.read_text())
    return data


def _served_names() -> set[str]:
    series = dashboard_runs.series()
    totals = {name: series.total(name) for name in series.endpoints()}
    gauges = RunGauges("shop", "running", 3.0, 10.0, 4, 0)
    text = prometheus_text(totals, gauges)
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def _queries(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    variables = [
        v["query"]["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"
    ]
    return exprs + variables


def test_every_metric_the_dashboard_queries_is_served() -> None:
    used = {name for query in _queries(_dashboard()) for name in METRIC_NAME.findall(query)}
    assert used, "the dashboard queries redline's metrics"
    assert used <= _served_names(), used - _served_names()


def test_every_panel_reads_the_chosen_prometheus() -> None:
    dashboard = _dashboard()
    (source,) = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert (source["name"], source["query"]) == ("datasource", "prometheus")
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]


def test_panels_do_not_overlap() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in _dashboard()["panels"]:
        grid = panel["gridPos"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, panel["title"]
        assert grid["x"] + grid["w"] <= 24
        taken |= cells
