"""Turning a run into what it means: findings, phase statistics, test-type verdicts, capacity.

:func:`analyze_run` reads a :class:`~redline.load.RunResult` and returns a
:class:`TestReport`; it prints nothing (``redline.report`` renders it).
"""

from typing import TYPE_CHECKING, Any

from redline.diagnose._diagnosis import Diagnosis, diagnose
from redline.diagnose._finding import Category, Evidence, Finding, Severity, confidence_label
from redline.diagnose._forecast import SCALING_ASSUMPTION, Forecast, forecast
from redline.diagnose._http_cache_rules import (
    Cacheability,
    CacheVerdict,
    cache_verdict,
    http_cache_findings,
)
from redline.diagnose._knee import Knee, find_knee
from redline.diagnose._little import LITTLE_TOLERANCE, LittleCheck, little_check, little_concurrency
from redline.diagnose._load_points import LoadPoint, load_points
from redline.diagnose._phase_stats import PhaseStats, phase_stats, steady_from_s
from redline.diagnose._sla import SlaAnswer, SlaSource, fitted_within_sla, measured_within_sla
from redline.diagnose._soak import SoakVerdict, soak_verdict
from redline.diagnose._spike import SpikeVerdict, spike_verdict
from redline.diagnose._system_rules import KernelSetting, RunPeaks, SystemAudit, audit_system
from redline.diagnose._test_report import BreakingPoint, Spread, TestReport, analyze_run
from redline.diagnose._trend import Trend, linear_trend
from redline.diagnose._usl import USL_MIN_POINTS, UslFit, fit_usl

if TYPE_CHECKING:
    from redline.diagnose._cache_rules import cache_findings
    from redline.diagnose._database import database_findings


def __getattr__(name: str) -> Any:
    # The database rules read the database probes' types, which load drivers and an SQL
    # parser: imported on first use (see redline.probes).
    if name == "database_findings":
        from redline.diagnose._database import database_findings

        return database_findings
    if name == "cache_findings":  # the cache rules read the cache probes' types (drivers)
        from redline.diagnose._cache_rules import cache_findings

        return cache_findings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KernelSetting",
    "RunPeaks",
    "SystemAudit",
    "audit_system",
    "LITTLE_TOLERANCE",
    "SCALING_ASSUMPTION",
    "USL_MIN_POINTS",
    "BreakingPoint",
    "CacheVerdict",
    "Cacheability",
    "Category",
    "Diagnosis",
    "Evidence",
    "Finding",
    "Forecast",
    "Knee",
    "LittleCheck",
    "LoadPoint",
    "PhaseStats",
    "Severity",
    "SlaAnswer",
    "SlaSource",
    "SoakVerdict",
    "SpikeVerdict",
    "Spread",
    "TestReport",
    "Trend",
    "UslFit",
    "analyze_run",
    "cache_verdict",
    "cache_findings",
    "confidence_label",
    "database_findings",
    "diagnose",
    "find_knee",
    "fit_usl",
    "fitted_within_sla",
    "forecast",
    "http_cache_findings",
    "linear_trend",
    "little_check",
    "little_concurrency",
    "load_points",
    "measured_within_sla",
    "phase_stats",
    "soak_verdict",
    "spike_verdict",
    "steady_from_s",
]
