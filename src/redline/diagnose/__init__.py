"""Turning a run into what it means: phase statistics and test-type verdicts.

:func:`analyze_run` reads a :class:`~redline.load.RunResult` and returns a
:class:`TestReport`; it prints nothing (``redline.report`` renders it).
"""

from redline.diagnose._phase_stats import PhaseStats, phase_stats, steady_from_s
from redline.diagnose._soak import SoakVerdict, soak_verdict
from redline.diagnose._spike import SpikeVerdict, spike_verdict
from redline.diagnose._test_report import BreakingPoint, Spread, TestReport, analyze_run
from redline.diagnose._trend import Trend, linear_trend

__all__ = [
    "BreakingPoint",
    "PhaseStats",
    "SoakVerdict",
    "SpikeVerdict",
    "Spread",
    "TestReport",
    "Trend",
    "analyze_run",
    "linear_trend",
    "phase_stats",
    "soak_verdict",
    "spike_verdict",
    "steady_from_s",
]
