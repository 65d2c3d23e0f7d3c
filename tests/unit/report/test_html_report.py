"""The HTML report from results documents: sections, figures, escaping, golden pages."""

from __future__ import annotations

import copy
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from redline.diagnose import diagnose
from redline.report.html import Baseline, render_html_report
from redline.report.html._findings import NOTHING_FOUND
from redline.units import format_latency
from tests.unit.report.html_docs import RUN_ID, results_document

GOLDEN = Path(__file__).parent / "golden"
#: Set to rewrite the golden pages after a deliberate change (then read the diff).
UPDATE_ENV = "UPDATE_GOLDEN"  # not REDLINE_*: the autouse fixture clears those
#: Run ids (20261128-120000-abc123) and ISO times in a page.
RUN_ID_PATTERN = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{6}\b")
TIMESTAMP_PATTERN = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?")


def normalized(page: str) -> str:
    """The page with run ids, times and the redline version replaced by placeholders."""
    page = RUN_ID_PATTERN.sub("RUN-ID", page)
    page = TIMESTAMP_PATTERN.sub("TIMESTAMP", page)
    return re.sub(r"redline \d+\.\d+\.\d+\S*", "redline VERSION", page)


def section_ids(page: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', page)


def section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert match is not None, f"no section {name!r}"
    return match.group(1)


class _Checker(HTMLParser):
    """Counts elements and collects every src/href, to check the page is well formed."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})
    SVG_SELF_CLOSING = frozenset({"line", "path", "rect", "circle"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.links: list[str] = []
        self.counts: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def parsed(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [], f"unclosed: {checker.stack}"
    return checker


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return results_document(errors_from_s=8)


@pytest.fixture(scope="module")
def page(document: dict[str, Any]) -> str:
    return render_html_report(document)


def test_every_section_with_data_is_there_in_order(page: str) -> None:
    assert section_ids(page) == [
        "headline", "over-time", "latency-distribution", "endpoints", "resources",
        "findings", "capacity",
    ]  # fmt: skip


def test_the_page_is_well_formed_self_contained_and_ascii(page: str) -> None:
    checker = parsed(page)
    assert all(link.startswith("#") for link in checker.links), checker.links
    # The only URLs are the target's, as text, and SVG's namespace (flame graphs).
    urls = re.findall(r"https?://[^\s\"<&]+", page)
    assert {u for u in urls if not u.startswith("http://127.0.0.1:8080")} <= {
        "http://www.w3.org/2000/svg"
    }
    assert "https://" not in page
    assert "<script src" not in page and "<link" not in page
    assert page.isascii()
    assert checker.counts["svg"] >= 10


def test_headline_says_the_verdict_and_each_threshold(page: str) -> None:
    headline = section(page, "headline")
    assert '<span class="verdict bad">thresholds failed</span>' in headline
    assert "&#10003; pass" in headline and "&#10007; FAIL" in headline
    assert "p95&lt;50ms" in headline and "30.00 ms" in headline
    assert "error_rate&lt;1%" in headline and "2.00%" in headline


def test_headline_figures_are_the_summarys(document: dict[str, Any], page: str) -> None:
    total = document["summary"]["total"]
    headline = section(page, "headline")
    assert f"{total['count']:,}" in headline
    assert f"{total['rps']:,.1f} req/s" in headline
    for key in ("p50", "p95", "p99", "max"):
        assert format_latency(total["response"][key]).replace("µ", "&#181;") in headline


def test_endpoint_rows_carry_raw_values_for_sorting(document: dict[str, Any], page: str) -> None:
    endpoints = section(page, "endpoints")
    assert '<table class="sortable">' in endpoints
    assert endpoints.count('data-sort="num"') == 7
    stats = document["summary"]["endpoints"]["/api/items"]
    assert f'data-value="{stats["count"]}"' in endpoints
    assert f'data-value="{stats["response"]["p95"]}"' in endpoints
    assert "<tfoot><tr><td" in endpoints and "all endpoints" in endpoints


def test_over_time_charts_have_a_line_per_percentile_and_the_stages(page: str) -> None:
    over_time = section(page, "over-time")
    for name in ("throughput", "load", "errors", "latency"):
        assert f'data-chart="{name}"' in over_time
    latency = over_time.split('data-chart="latency"')[1]
    assert latency.count('class="line"') == 5
    assert "step 2" in over_time and "step 3" in over_time
    assert "timeout" in over_time and "503" in over_time


def test_charts_draw_one_point_per_second(document: dict[str, Any], page: str) -> None:
    match = re.search(r'data-chart="load".*?<path class="line" d="([^"]+)"', page, re.S)
    assert match is not None
    assert match.group(1).count("L") + 1 == len(document["series"]["generator"])


def test_latency_distribution_is_drawn_from_the_histograms(page: str) -> None:
    distribution = section(page, "latency-distribution")
    assert 'data-chart="percentiles"' in distribution
    for tick in ("90%", "99%", "99.9%", "99.99%", "99.999%"):
        assert f">{tick}</text>" in distribution
    assert distribution.count('class="bar"') == 40


def test_resources_share_the_time_axis(page: str) -> None:
    resources = section(page, "resources")
    for name in ("server-cpu", "server-memory", "server-sockets", "host-cpu", "host-network"):
        assert f'data-chart="{name}"' in resources
    assert 'data-chart="generator-cpu"' in resources


def test_findings_are_the_diagnosis_of_the_document(document: dict[str, Any], page: str) -> None:
    findings = section(page, "findings")
    expected = diagnose(document)
    assert findings.count('class="finding') == len(expected.findings)
    if not expected.findings:
        assert "No findings" in findings


def test_a_stored_diagnosis_is_shown_as_it_was(document: dict[str, Any]) -> None:
    stored = copy.deepcopy(document)
    stored["diagnosis"] = {
        "run_id": RUN_ID, "inconclusive": False, "notes": ["a stored note"],
        "findings": [{
            "rule": "cpu-bound", "category": "cpu", "severity": "high", "confidence": 0.9,
            "title": "CPU-bound on one thread", "location": "thread 'python'",
            "evidence": [{"label": "server CPU", "value": "1.00 of 2 cores", "source": "/proc"}],
            "recommendation": "add workers", "expected_effect": "up to 2x",
        }],
    }  # fmt: skip
    findings = section(render_html_report(stored), "findings")
    assert findings.count('class="finding') == 1
    assert '<span class="badge high">high</span>' in findings
    assert "CPU-bound on one thread" in findings and "a stored note" in findings
    assert "<td>1.00 of 2 cores</td><td>/proc</td>" in findings


def test_capacity_shows_the_levels_knee_and_p95_target(page: str) -> None:
    capacity = section(page, "capacity")
    assert 'data-chart="capacity-usl"' in capacity and 'data-chart="capacity-p95"' in capacity
    assert "USL fit: needs 6 load points, this run has 3" in capacity
    assert "Highest throughput with p95 &#8804; 50.00 ms" in capacity
    assert capacity.count('class="dot"') == 6


def test_a_run_with_six_levels_gets_the_usl_curve() -> None:
    page = render_html_report(results_document(levels=(1, 2, 4, 6, 8, 10), per_level_s=3))
    capacity = section(page, "capacity")
    assert "USL fit (6 points)" in capacity
    assert "USL fit</li>" in capacity  # the curve's legend entry


def test_sections_without_data_are_left_out() -> None:
    page = render_html_report(results_document(levels=(4,), resources=False, thresholds=()))
    assert section_ids(page) == [
        "headline", "over-time", "latency-distribution", "endpoints", "resources", "findings",
    ]  # fmt: skip
    # Without host or server samples, resources hold only the generator's self-check.
    assert re.findall(r'data-chart="([^"]+)"', section(page, "resources")) == [
        "generator-cpu", "generator-lag",
    ]  # fmt: skip
    headline = section(page, "headline")
    assert "<h3>Thresholds</h3>" not in headline and "Phases" not in headline
    assert 'data-chart="errors"' not in page
    assert '<span class="verdict">completed</span>' in headline


def test_no_histograms_no_distribution() -> None:
    document = results_document(levels=(4,))
    del document["summary"]["total"]["response"]["hdr"]
    assert "latency-distribution" not in section_ids(render_html_report(document))


def test_profiles_and_database_sections_appear_with_their_data() -> None:
    document = results_document(levels=(4,))
    document["profiles"] = [{
        "name": "step 1", "start_s": 1.0, "end_s": 5.0, "level": 4.0, "unit": "VUs",
        "method": "py-spy", "partial": False, "notes": [], "samples_unit": "samples",
        "stacks": "main;serve;handle<b> 30\nmain;serve;render 10\n", "profiler_cpu_s": 0.1,
        "error": None,
    }]  # fmt: skip
    document["database"] = {
        "dsn": "postgresql://shop:***@127.0.0.1/shop", "source": "pg_stat_statements",
        "statements": [{
            "queryid": 1, "query": "SELECT * FROM items WHERE id = $1 AND name <> '<x>'",
            "calls": 4000, "total_ms": 812.5, "mean_ms": 0.203, "rows": 4000,
            "shared_hit": 9000, "shared_read": 1000, "temp_read": 0, "temp_written": 0,
        }],
    }  # fmt: skip
    page = render_html_report(document)
    assert section_ids(page)[-2:] == ["profiles", "database"]
    profiles = section(page, "profiles")
    assert "<?xml" not in profiles and profiles.count("<svg") == 1
    assert "handle&lt;b&gt;" in profiles and "<b>" not in profiles
    database = section(page, "database")
    assert "812.5 ms" in database and "4,000" in database and "90.0%" in database
    assert "name &lt;&gt; &#x27;&lt;x&gt;&#x27;" in database
    parsed(page)


def test_markup_in_names_is_escaped_everywhere() -> None:
    evil = "/api/<script>alert(1)</script>"
    document = results_document(endpoints=("/", evil), levels=(4,))
    document["run"]["name"] = '<img src=x onerror="alert(2)">'
    page = render_html_report(document)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section(page, "endpoints")
    assert page.count("<script>") == 1  # the report's own
    parsed(page)


def test_compare_mode_overlays_the_baseline_and_adds_the_verdict(document: dict[str, Any]) -> None:
    baseline = copy.deepcopy(document)
    page = render_html_report(document, baseline=Baseline(baseline, "v1.0"))
    assert section_ids(page)[:2] == ["headline", "compare"]
    compare = section(page, "compare")
    for metric in ("throughput", "p50", "p90", "p95", "p99", "error_rate"):
        assert f"<td>{metric}</td>" in compare
    assert "no significant change" in compare
    assert "vs baseline: no significant change" in section(page, "headline")
    latency = page.split('data-chart="latency"')[1].split("</figure>")[0]
    assert latency.count('stroke-dasharray="6 4"') == 3
    assert "baseline p95" in latency
    percentiles = page.split('data-chart="percentiles"')[1].split("</figure>")[0]
    assert "baseline: all endpoints" in percentiles


def test_compare_mode_says_when_runs_cannot_be_compared(document: dict[str, Any]) -> None:
    other = copy.deepcopy(document)
    other["self_check"]["generator_bound"] = True
    other["self_check"]["reasons"] = ["generator CPU 99% per worker"]
    page = render_html_report(document, baseline=Baseline(other, "other"))
    compare = section(page, "compare")
    assert '<span class="verdict bad">not comparable</span>' in compare
    assert "generator" in compare
    assert "vs baseline: not comparable" in section(page, "headline")


def test_a_run_without_findings_says_so() -> None:
    document = results_document(levels=(4,), resources=False)
    document["diagnosis"] = {"run_id": RUN_ID, "inconclusive": False, "findings": [], "notes": []}
    assert NOTHING_FOUND in section(render_html_report(document), "findings")


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("stepped", lambda: results_document(errors_from_s=8)),
        ("single-level", lambda: results_document(levels=(4,), resources=False)),
    ],
)
def test_golden_page(name: str, build: Any) -> None:
    page = normalized(render_html_report(build()))
    path = GOLDEN / f"html_report_{name}.html"
    if os.environ.get(UPDATE_ENV):
        path.parent.mkdir(exist_ok=True)
        path.write_text(page, encoding="ascii")
    assert page == path.read_text(encoding="ascii"), (
        f"the page differs from {path}; if the change is meant, rerun with {UPDATE_ENV}=1 "
        "and read the diff"
    )
