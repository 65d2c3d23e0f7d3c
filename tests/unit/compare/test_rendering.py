"""The comparison's Rich table, Markdown and JSON forms."""

from __future__ import annotations

import json

import numpy as np
from rich.console import Console

from redline.compare import ComparedRun, Comparison, NotComparable, compare_runs
from redline.report import comparison_markdown, render_comparison
from tests.unit.compare.synthetic import synthetic_series


def _comparison(endpoints: tuple[str, ...] = ("a",)) -> Comparison:
    rng = np.random.default_rng(1)
    base = ComparedRun(series=synthetic_series(rng, endpoints=endpoints), label="v1")
    cand = ComparedRun(series=synthetic_series(rng, endpoints=endpoints, shift=0.2), label="v2")
    result = compare_runs(base, cand, resamples=200)
    assert isinstance(result, Comparison)
    return result


def _text(renderable: object) -> str:
    console = Console(width=140, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_the_table_shows_each_verdict_beside_its_interval() -> None:
    text = _text(render_comparison(_comparison()))
    assert "compare baseline 'v1' (54 steady s) vs candidate 'v2' (54 steady s) · regressed" in text
    assert "95% interval" in text
    p95_row = next(line for line in text.splitlines() if " p95 " in line)
    assert "regressed" in p95_row and "…" in p95_row and "%" in p95_row
    assert "all = a" in text  # one endpoint is all the traffic: shown once
    assert "Worsened response time by" in text


def test_several_endpoints_each_get_their_rows() -> None:
    text = _text(render_comparison(_comparison(("a", "b"))))
    labels = [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")]
    assert [label for label in labels if label] == ["all", "a", "b"]


def test_markdown_is_a_table_for_a_pull_request() -> None:
    markdown = comparison_markdown(_comparison())
    lines = markdown.splitlines()
    assert lines[0] == "### redline compare: 🔴 **regressed**"
    assert "| endpoint | metric | baseline | candidate | change | interval | verdict |" in lines
    rows = [line for line in lines if line.startswith("| `")]
    assert len(rows) == 6 and all(row.count("|") == 8 for row in rows)
    assert any("| error_rate |" in row for row in rows)


def test_a_refusal_lists_its_reasons() -> None:
    refused = NotComparable("v1", "v2", ["the plans differ"], ["a note"])
    text = _text(render_comparison(refused))
    assert "not comparable: baseline 'v1' vs candidate 'v2'" in text
    assert "• the plans differ" in text and "note: a note" in text
    markdown = comparison_markdown(refused)
    assert markdown.startswith("### redline compare: not comparable\n")
    assert "- the plans differ" in markdown


def test_the_json_form_is_plain_data_with_the_four_improvement_figures() -> None:
    data = json.loads(json.dumps(_comparison().to_dict(), allow_nan=False))
    assert data["schema_version"] == 1 and data["comparable"] is True
    assert data["verdict"] == "regressed"
    assert set(data["improvement"]) == {
        "response_time_improvement",
        "throughput_increase",
        "resource_reduction",
        "cost_savings",
    }
    assert data["improvement"]["response_time_improvement"].endswith("%")
    assert data["improvement"]["resource_reduction"] is None
    p95 = next(d for d in data["endpoints"][0]["deltas"] if d["metric"] == "p95")
    assert p95["verdict"] == "regressed" and len(p95["interval"]) == 2
    assert data["settings"]["resamples"] == 200
