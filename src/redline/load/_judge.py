"""Judging stress steps and breakpoint windows while the run goes on.

A stress or breakpoint test names spans of the run (:class:`JudgedWindow`). As
soon as the last second of a span has been merged from every worker, the
plan's thresholds and the test's error limit are judged on that span alone; the
first span that breaks them stops the run. The last span that held is the
breaking point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from redline.load._thresholds import observe
from redline.metrics import RunSeries
from redline.plan import JudgedWindow, Threshold

__all__ = ["WindowJudge", "WindowVerdict"]


@dataclass
class WindowVerdict:
    """How one judged span went."""

    window: JudgedWindow
    passed: bool
    #: What broke, one line each (``"error_rate<5%: 0.31"``); empty when it held.
    broken: list[str] = field(default_factory=list)
    rps: float = 0.0
    error_rate: float = 0.0
    p95_us: int = 0

    def to_dict(self) -> dict[str, object]:
        """The verdict for a results file."""
        return {
            "name": self.window.name,
            "start_s": self.window.start_s,
            "end_s": self.window.end_s,
            "level": self.window.level,
            "passed": self.passed,
            "broken": self.broken,
            "rps": self.rps,
            "error_rate": self.error_rate,
            "p95_us": self.p95_us,
        }


class WindowJudge:
    """Judges each :class:`JudgedWindow` once its seconds are all merged."""

    def __init__(
        self, windows: list[JudgedWindow], thresholds: list[Threshold], error_limit: float
    ) -> None:
        self._pending = sorted(windows, key=lambda w: w.end_s)
        # Lower bounds (rps>=N) and dropped counts are judged on the whole run only.
        self._thresholds = [t for t in thresholds if t.op not in (">", ">=")]
        self._error_limit = error_limit
        self.verdicts: list[WindowVerdict] = []

    def on_second(self, series: RunSeries, second: int) -> WindowVerdict | None:
        """Judge every span that ends with ``second``; return the first that broke."""
        while self._pending and _last_second(self._pending[0]) <= second:
            verdict = self._judge(series, self._pending.pop(0))
            self.verdicts.append(verdict)
            if not verdict.passed:
                self._pending.clear()
                return verdict
        return None

    def _judge(self, series: RunSeries, window: JudgedWindow) -> WindowVerdict:
        first = math.ceil(window.start_s)
        last = max(first, _last_second(window))
        stats = series.window(first, last)
        seconds = float(last - first + 1)
        verdict = WindowVerdict(
            window,
            passed=True,
            rps=stats.count / seconds,
            error_rate=stats.error_rate,
            p95_us=stats.response.value_at_percentile(95.0) if stats.count else 0,
        )
        if stats.error_rate > self._error_limit:
            verdict.broken.append(
                f"error rate {stats.error_rate:.1%} above the limit {self._error_limit:.1%}"
            )
        for threshold in self._thresholds:
            if threshold.endpoint is not None:
                stats_for = series.window(first, last, threshold.endpoint)
            else:
                stats_for = stats
            if not stats_for.count:
                continue
            value = observe(threshold, stats_for, seconds, 0)
            if not threshold.holds(value):
                verdict.broken.append(f"{threshold.source}: observed {value:g}")
        verdict.passed = not verdict.broken
        return verdict


def _last_second(window: JudgedWindow) -> int:
    """The last whole second inside the span (seconds are numbered from 0)."""
    return math.ceil(window.end_s) - 1
