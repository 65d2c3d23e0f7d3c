"""Outputs: the terminal live view and summary, the JSON results file, stored runs,
CSV, comparisons, and the JUnit and Markdown summaries for CI."""

from redline.report._comparison import comparison_markdown, render_comparison, shown_endpoints
from redline.report._cpu_profile import render_cpu_profile
from redline.report._csv import series_csv
from redline.report._database import (
    render_index_advice,
    render_run_statements,
    render_top_statements,
)
from redline.report._files import write_report
from redline.report._findings import diagnosis_markdown, render_diagnosis
from redline.report._flamegraph import flamegraph_svg
from redline.report._junit import GateCase, threshold_cases, write_junit
from redline.report._markdown import markdown_summary, write_markdown
from redline.report._memory_profile import render_memory_profile
from redline.report._profiles import render_profiles
from redline.report._results_json import SCHEMA_VERSION, results_to_dict, write_results
from redline.report._speedscope import speedscope_json
from redline.report._stored import render_stored_run
from redline.report._terminal import LiveView, format_latency, render_summary
from redline.report._test_report import render_test_report
from redline.report._threads import render_blocking, render_gil
from redline.report.html import render_html_report

__all__ = [
    "SCHEMA_VERSION",
    "GateCase",
    "LiveView",
    "comparison_markdown",
    "diagnosis_markdown",
    "flamegraph_svg",
    "format_latency",
    "markdown_summary",
    "render_blocking",
    "render_comparison",
    "render_cpu_profile",
    "render_diagnosis",
    "render_gil",
    "render_html_report",
    "render_index_advice",
    "render_memory_profile",
    "render_profiles",
    "render_run_statements",
    "render_stored_run",
    "render_summary",
    "render_test_report",
    "render_top_statements",
    "results_to_dict",
    "series_csv",
    "shown_endpoints",
    "speedscope_json",
    "threshold_cases",
    "write_junit",
    "write_markdown",
    "write_report",
    "write_results",
]
