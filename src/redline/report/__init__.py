"""Outputs: the terminal live view and summary, and the JSON results file."""

from redline.report._comparison import comparison_markdown, render_comparison
from redline.report._results_json import SCHEMA_VERSION, results_to_dict, write_results
from redline.report._terminal import LiveView, format_latency, render_summary
from redline.report._test_report import render_test_report

__all__ = [
    "SCHEMA_VERSION",
    "LiveView",
    "comparison_markdown",
    "format_latency",
    "render_comparison",
    "render_summary",
    "render_test_report",
    "results_to_dict",
    "write_results",
]
