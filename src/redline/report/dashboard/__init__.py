"""The live dashboard (``redline run --dashboard``) and its Prometheus endpoint.

A page on 127.0.0.1 with live charts fed by server-sent events, the per-endpoint
table, the stage and time left, and a stop button; ``/metrics`` in the Prometheus
text format. See docs/dashboard.md.
"""

from redline.report.dashboard._config import (
    AUTO_TOKEN,
    DEFAULT_HOST,
    DashboardConfig,
    is_loopback,
)
from redline.report.dashboard._dashboard import Dashboard
from redline.report.dashboard._messages import (
    endpoint_rows,
    errors_by_kind,
    second_message,
    stage_at,
    summary_message,
)
from redline.report.dashboard._prometheus import LATENCY_BUCKETS_S, RunGauges, prometheus_text
from redline.report.dashboard._server import DashboardServer, Hub

__all__ = [
    "AUTO_TOKEN",
    "DEFAULT_HOST",
    "LATENCY_BUCKETS_S",
    "Dashboard",
    "DashboardConfig",
    "DashboardServer",
    "Hub",
    "RunGauges",
    "endpoint_rows",
    "errors_by_kind",
    "is_loopback",
    "prometheus_text",
    "second_message",
    "stage_at",
    "summary_message",
]
