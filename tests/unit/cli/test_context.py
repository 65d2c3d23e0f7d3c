"""redline init and redline context: the example, the JSON from stored runs, bad stdin."""

from __future__ import annotations

import copy
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from redline.cli import main
from redline.diagnose import analyze_run
from redline.plan import load_context
from redline.report import results_to_dict
from redline.store import RunStore
from tests.unit.diagnose.diagnose_docs import server
from tests.unit.diagnose.test_capacity_points import phase, second
from tests.unit.store.test_store import make_result

CONFIG = """
databases = ["postgresql://shop:hunter2@127.0.0.1:5432/shop"]
[target]
urls = ["http://127.0.0.1:8080/home"]
[sla]
p95 = "300ms"
error_rate = "1%"
[capacity]
expected_peak_rps = 100
growth_per_month = "10%"
"""
FINDING = {
    "rule": "cpu-bound", "category": "cpu", "severity": "high", "confidence": 0.9,
    "title": "the server is CPU-bound", "evidence": [], "location": "python",
    "recommendation": "profile it", "expected_effect": "more throughput",
}  # fmt: skip


def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["redline", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as exit_:
        main()
    out = capsys.readouterr()
    return int(exit_.value.code or 0), out.out, out.err


def stored_history(tmp_path: Path) -> Path:
    base = make_result("20260301-120000-aaaaaa")
    scalability = results_to_dict(base, analyze_run(base))
    scalability["analysis"]["type"] = "scalability"
    scalability["analysis"]["phases"] = [
        phase(level, rps, p95, start) for level, rps, p95, start in
        [(2, 40, 50_000, 0.0), (4, 80, 120_000, 10.0), (8, 100, 400_000, 20.0)]
    ]  # fmt: skip
    scalability["series"]["intervals"] += [
        second(s, rps, p95 / 1.5) for start, rps, p95 in
        [(0, 40, 50_000), (10, 80, 120_000), (20, 100, 400_000)]
        for s in range(start + 2, start + 10)
    ]  # fmt: skip
    latest_run = make_result("20260301-130000-bbbbbb", minutes=60, latency_us=2000)
    latest = results_to_dict(latest_run, analyze_run(latest_run))
    latest["resources"] = {
        "server": [{"second": 0, "processes": 1, "threads": 4, **server(0.5)}],
        "host_info": {"cpus": 2},
    }
    latest["diagnosis"] = {"run_id": "x", "findings": [copy.deepcopy(FINDING)], "notes": []}
    latest["database"] = {"dsn": "postgresql://shop:***@127.0.0.1:5432/shop", "version": "16.2"}
    history = tmp_path / "h.db"
    with RunStore.open(history) as store:
        store.save_document(scalability)
        store.save_document(latest)
    return history


def test_init_writes_a_file_that_loads_and_refuses_to_overwrite(
    monkeypatch, capsys, tmp_path
) -> None:
    path = tmp_path / "redline.toml"
    code, out, _ = cli(monkeypatch, capsys, "init", str(path))
    assert code == 0 and "wrote" in out
    assert load_context(path).plan.requests
    path.write_text("mine")
    code, _, err = cli(monkeypatch, capsys, "init", str(path))
    assert code == 2 and "already exists; not overwritten" in err
    assert path.read_text() == "mine"
    code, _, _ = cli(monkeypatch, capsys, "init", str(path), "--force")
    assert code == 0 and "[target]" in path.read_text()


def test_context_with_an_empty_history(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(monkeypatch, capsys, "context", "--history", str(tmp_path / "none.db"))
    assert code == 0
    answer = json.loads(out)
    assert answer["current_metrics"] is None and answer["slas"] == []
    assert answer["load_patterns"]["runs"] == 0
    assert len(answer["notes"]) == 2
    assert not (tmp_path / "none.db").exists()


def test_context_from_stored_runs_has_every_field(monkeypatch, capsys, tmp_path) -> None:
    config = tmp_path / "redline.toml"
    config.write_text(CONFIG)
    request = {"requesting_agent": "planner", "request_type": "get_performance_context",
               "payload": {"query": "is checkout slow?"}}  # fmt: skip
    code, out, err = cli(
        monkeypatch, capsys, "context", "--config", str(config),
        "--history", str(stored_history(tmp_path)), stdin=json.dumps(request),
    )  # fmt: skip
    assert code == 0, err
    assert "hunter2" not in out
    answer = json.loads(out)
    assert answer["requesting_agent"] == "planner" and answer["query"] == "is checkout slow?"
    assert [s["threshold"] for s in answer["slas"]] == ["p95<=300ms", "error_rate<=1%"]
    assert answer["slas"][0]["latest"] == 2000 and answer["slas"][0]["met"] is True
    current = answer["current_metrics"]
    assert current["run_id"] == "20260301-130000-bbbbbb"
    assert current["latency_us"]["p99"] == 2000 and current["rps"] == 50
    assert len(current["recent"]) == 2
    arch = answer["architecture"]
    assert arch["targets"] == ["http://127.0.0.1:8080/home"]
    assert arch["server"]["threads"] == 4 and arch["server"]["cores_available"] == 2.0
    assert arch["databases"] == [
        {
            "dsn": "postgresql://shop:***@127.0.0.1:5432/shop",
            "kind": "postgresql",
            "version": "16.2",
        }
    ]
    patterns = answer["load_patterns"]
    assert patterns["runs"] == 2 and patterns["test_types"] == {"scalability": 1, "plain": 1}
    assert patterns["rps_by_endpoint"] == {"home": 50.0}
    assert answer["pain_points"]["findings"][0]["rule"] == "cpu-bound"
    scale = answer["scalability"]
    assert scale["capacity_run_id"] == "20260301-120000-aaaaaa"
    # p95 crosses 300 ms between 80 and 100 req/s; the measured answer interpolates.
    assert 80 <= scale["capacity_rps"] < 100 and scale["capacity_source"].startswith("measured")
    assert scale["headroom"] == pytest.approx(scale["capacity_rps"] / 100)
    assert scale["months_of_headroom"] == 0


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("not json", "stdin: not a JSON request"),
        ("[1]", "stdin: the request is not a JSON object"),
        ('{"request_type": "get_weather"}', "stdin: request_type: 'get_weather' is not a request"),
        ('{"payload": {"query": 5}}', "stdin: payload.query: 5 is not a string"),
    ],
)
def test_bad_request_exits_2(monkeypatch, capsys, tmp_path, stdin: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(monkeypatch, capsys, "context", stdin=stdin)
    assert code == 2 and message in err
