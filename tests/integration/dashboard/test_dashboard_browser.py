"""The dashboard in a real browser (Debian's chromium driven by Playwright) during a real run:
the charts draw, nothing fails in the console, and Stop ends the run early with its results."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.integration.dashboard.conftest import (
    ARTIFACTS_DIR,
    HOLDING,
    PLAN_DURATION_S,
    DashboardRun,
    StartRun,
)

#: Debian's chromium (Playwright's own browser download is not available here).
CHROMIUM = Path("/usr/bin/chromium")
#: How long the page may take to show something (first second, stop's summary).
PAGE_TIMEOUT_MS = 30_000
#: How many points each chart must have drawn before Stop is clicked.
POINTS_BEFORE_STOP = 3
#: The exit code of a run stopped before its end (ExitCode.INTERRUPTED).
INTERRUPTED = 130

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

#: Counts a canvas's pixels that are neither blank nor the white background.
INKED_PIXELS = """canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] && (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200)) inked++;
    }
    return inked;
}"""


def _save(screenshot: Path) -> None:
    if ARTIFACTS_DIR:
        target = Path(ARTIFACTS_DIR)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, target / screenshot.name)


def _drive(run: DashboardRun, tmp_path: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(run.url("/"), timeout=PAGE_TIMEOUT_MS)
            page.wait_for_function(
                f"""() => [...document.querySelectorAll("canvas.chart")].every(
                    c => Number(c.dataset.points) >= {POINTS_BEFORE_STOP})""",
                timeout=PAGE_TIMEOUT_MS,
            )
            charts = page.locator("canvas.chart")
            inked = [charts.nth(i).evaluate(INKED_PIXELS) for i in range(charts.count())]
            rows = page.locator("#endpoints tbody tr").all_inner_texts()
            stage = page.locator("#stage").inner_text()
            running = tmp_path / "dashboard-running.png"
            page.screenshot(path=str(running), full_page=True)
            _save(running)

            page.get_by_role("button", name="Stop the run").click()
            page.locator("#summary").wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
            status = page.locator("#status").inner_text()
            summary = page.locator("#summary").inner_text()
            stopped = tmp_path / "dashboard-stopped.png"
            page.screenshot(path=str(stopped), full_page=True)
            _save(stopped)
        finally:
            browser.close()
    return {
        "inked": inked,
        "rows": rows,
        "stage": stage,
        "status": status,
        "summary": summary,
        "problems": problems,
        "screenshots": [running, stopped],
    }


def test_the_page_draws_live_charts_and_stops_the_run(
    dashboard_run: StartRun, tmp_path: Path
) -> None:
    run = dashboard_run()
    seen = _drive(run, tmp_path)

    assert seen["problems"] == []
    assert len(seen["inked"]) == 3 and all(n > 100 for n in seen["inked"]), seen["inked"]
    assert [row.split("\t")[0] for row in seen["rows"]] == ["home", "missing"]
    assert "stage" in seen["stage"] and "left in it" in seen["stage"]
    assert seen["status"] == "stopped from here"
    assert "stopped before the plan's end (partial)" in seen["summary"]
    assert all(path.stat().st_size > 10_000 for path in seen["screenshots"])

    out = run.wait_for_output(HOLDING)
    assert "stopped from the dashboard" in out
    results = run.results_data()
    assert results["run"]["status"] == "interrupted"
    assert results["run"]["partial"] is True
    assert results["run"]["elapsed_s"] < PLAN_DURATION_S
    assert results["summary"]["total"]["count"] > 0
    assert run.terminate() == INTERRUPTED
