"""``redline report`` and ``redline run --report`` on a real run's stored document."""

from __future__ import annotations

import re
from pathlib import Path

from redline.cli import ExitCode
from tests.integration.report.conftest import ReportRun, redline


def _run_id(run: ReportRun) -> str:
    return str(run.document["run"]["id"])


def test_run_writes_its_report(report_run: ReportRun) -> None:
    # error_rate<5% fails: one request in seven goes to the 404 endpoint.
    assert report_run.returncode == ExitCode.THRESHOLDS_FAILED, report_run.stdout
    assert f"report written to {report_run.report}" in report_run.stdout
    page = report_run.report.read_text(encoding="ascii")
    assert page.startswith("<!DOCTYPE html>")
    assert _run_id(report_run) in page
    assert "&#10007; FAIL" in page and "error_rate&lt;5%" in page


def test_report_of_a_stored_run_by_prefix(report_run: ReportRun, tmp_path: Path) -> None:
    out = tmp_path / "stored.html"
    prefix = _run_id(report_run)[:15]
    proc = redline("report", prefix, "--history", str(report_run.history), "-o", str(out))
    assert proc.returncode == ExitCode.OK, proc.stderr
    page = out.read_text(encoding="ascii")
    sections = re.findall(r'<section id="([^"]+)"', page)
    assert sections == [
        "headline", "over-time", "latency-distribution", "endpoints", "resources", "findings",
    ]  # fmt: skip
    document = report_run.document
    for name, stats in document["summary"]["endpoints"].items():
        escaped = name.replace("<", "&lt;").replace(">", "&gt;")
        assert f'<td class="mono">{escaped}</td>' in page
        assert f'data-value="{stats["count"]}"' in page
    assert "<b>post</b>" not in page
    assert ">404</li>" in page  # the errors-by-kind legend


def test_report_from_a_results_file_compared_with_itself(
    report_run: ReportRun, tmp_path: Path
) -> None:
    out = tmp_path / "compared.html"
    results = str(report_run.results)
    proc = redline("report", results, "--compare", results, "-o", str(out))
    assert proc.returncode == ExitCode.OK, proc.stderr
    page = out.read_text(encoding="ascii")
    assert '<section id="compare">' in page
    assert "compared with run.json" in page
    assert 'stroke-dasharray="6 4"' in page


def test_an_unknown_run_is_one_line(report_run: ReportRun, tmp_path: Path) -> None:
    proc = redline(
        "report", "nosuchrun", "--history", str(report_run.history), "-o", str(tmp_path / "x.html")
    )
    assert proc.returncode == ExitCode.BAD_INPUT
    assert "nosuchrun" in proc.stderr and not (tmp_path / "x.html").exists()


def test_an_unwritable_output_is_one_line(report_run: ReportRun, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "r.html"
    proc = redline("report", str(report_run.results), "-o", str(target))
    assert proc.returncode == ExitCode.REPORT
    assert "--output: cannot write" in proc.stderr
