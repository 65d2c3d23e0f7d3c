"""Outputs: the terminal live view and summary, and the JSON results file."""

from redline.report._results_json import SCHEMA_VERSION, results_to_dict, write_results
from redline.report._terminal import LiveView, format_latency, render_summary

__all__ = [
    "SCHEMA_VERSION",
    "LiveView",
    "format_latency",
    "render_summary",
    "results_to_dict",
    "write_results",
]
