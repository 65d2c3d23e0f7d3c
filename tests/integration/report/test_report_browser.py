"""The report in a real browser: Debian's chromium driven by Playwright, headless, offline.

Skipped when ``/usr/bin/chromium`` is missing (``.ci/run`` installs it). Screenshots go
to the test's tmp dir, and to ``$REDLINE_ARTIFACTS`` (see the conftest) when it is set.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.report.conftest import ReportRun, artifacts_dir

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
#: The viewport of a laptop screen.
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


def _open(browser: Any, report: Path, **context: Any) -> tuple[Any, Any, list[str], list[str]]:
    """A page showing ``report``; console errors and every request that left the file."""
    ctx = browser.new_context(viewport=VIEWPORT, **context)
    page = ctx.new_page()
    errors: list[str] = []
    fetched: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: fetched.append(r.url) if not r.url.startswith("file:") else None)
    page.goto(report.as_uri(), wait_until="load")
    return ctx, page, errors, fetched


def _save(page: Any, tmp_path: Path, name: str, **options: Any) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), **options)
    target = artifacts_dir()
    if target is not None:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / name)
    return path


def test_charts_render_with_data_and_nothing_is_fetched(
    browser: Any, report_run: ReportRun, tmp_path: Path
) -> None:
    ctx, page, errors, fetched = _open(browser, report_run.report)
    try:
        assert page.locator("svg.chart").count() >= 8
        seconds = len(report_run.document["series"]["overall"])
        points = page.eval_on_selector(
            'figure[data-chart="throughput"] path.line', "p => p.getAttribute('d')"
        )
        assert points.count("L") + 1 == seconds
        box = page.locator('figure[data-chart="latency"] svg').bounding_box()
        assert box is not None and box["width"] > 800 and box["height"] > 150
        assert page.locator('figure[data-chart="percentiles"] path.line').count() >= 1
        assert page.locator('figure[data-chart="histogram"] rect.bar').count() == 40
        _save(page, tmp_path, "report-full.png", full_page=True)
        assert errors == [] and fetched == []
    finally:
        ctx.close()


def test_the_endpoint_table_sorts_on_click(
    browser: Any, report_run: ReportRun, tmp_path: Path
) -> None:
    ctx, page, errors, _ = _open(browser, report_run.report)
    try:
        table = page.locator("#endpoints table.sortable")
        column = "#endpoints tbody tr td:nth-child(2)"

        def counts() -> list[int]:
            return [int(v) for v in page.eval_on_selector_all(
                column, "cells => cells.map(c => c.dataset.value)")]  # fmt: skip

        table.locator("th", has_text="requests").click()
        assert counts() == sorted(counts(), reverse=True)
        assert table.locator("th", has_text="requests").get_attribute("aria-sort") == "descending"
        table.locator("th", has_text="requests").click()
        assert counts() == sorted(counts())
        table.locator("th", has_text="endpoint").click()
        names = page.eval_on_selector_all(
            "#endpoints tbody tr td:first-child", "cells => cells.map(c => c.textContent)"
        )
        assert names == sorted(names, key=str.lower)
        assert "echo <b>post</b>" in names  # the name as text, not markup
        page.locator("#endpoints").scroll_into_view_if_needed()
        _save(page, tmp_path, "report-endpoints.png")
        assert errors == []
    finally:
        ctx.close()


def test_hovering_a_chart_shows_its_values(
    browser: Any, report_run: ReportRun, tmp_path: Path
) -> None:
    ctx, page, errors, _ = _open(browser, report_run.report)
    try:
        chart = page.locator('figure[data-chart="latency"] svg')
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        tooltip = page.locator(".tooltip")
        assert tooltip.is_visible()
        text = tooltip.inner_text()
        assert "p95:" in text and ("ms" in text or "\u00b5s" in text)
        _save(page, tmp_path, "report-tooltip.png")
        assert errors == []
    finally:
        ctx.close()


def test_the_report_reads_without_javascript(browser: Any, report_run: ReportRun) -> None:
    ctx, page, _, _ = _open(browser, report_run.report, java_script_enabled=False)
    try:
        assert page.locator("svg.chart").count() >= 8
        rows = page.locator("#endpoints tbody tr").count()
        assert rows == len(report_run.document["summary"]["endpoints"])
        assert page.locator("#headline .figures li").count() >= 8
    finally:
        ctx.close()
