"""Thresholds (SLAs) judged on the merged figures, during and after a run.

Terms:
    cumulative threshold: judged on everything measured so far (``p95<300ms``).
    windowed threshold: ``p95<300ms over 30s`` fails only on a *sustained*
        breach: the figure of every one-second interval breaks it for 30
        consecutive seconds. A single slow second never fails it.
    abort: ``...:abort`` stops the run as soon as the threshold fails. Lower
        bounds (``rps>=1000``) are judged only at the end, since a run that has
        just started has not had time to reach them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redline.metrics import IntervalStats, RunSeries
from redline.plan import Threshold

__all__ = ["ThresholdOutcome", "ThresholdWatch", "observe"]


#: How each threshold metric is read from merged stats, the seconds they
#: cover and the dropped iterations in that time.
METRICS: dict[str, Callable[[IntervalStats, float, int], float]] = {
    "min": lambda s, _secs, _d: float(s.response.min),
    "max": lambda s, _secs, _d: float(s.response.max),
    "mean": lambda s, _secs, _d: float(s.response.mean),
    "error_rate": lambda s, _secs, _d: s.failures / s.count if s.count else 0.0,
    "rps": lambda s, secs, _d: s.count / secs if secs > 0 else 0.0,
    "count": lambda s, _secs, _d: float(s.count),
    "dropped": lambda _s, _secs, dropped: float(dropped),
}


def observe(threshold: Threshold, stats: IntervalStats, seconds: float, dropped: int) -> float:
    """The figure ``threshold`` is about, read from ``stats`` over ``seconds``."""
    percentile = threshold.metric.percentile
    if percentile is not None:
        return float(stats.response.value_at_percentile(percentile))
    return METRICS[threshold.metric](stats, seconds, dropped)


@dataclass
class ThresholdOutcome:
    """How one threshold ended."""

    threshold: Threshold
    passed: bool
    #: The figure judged (for windowed thresholds: the worst one-second figure).
    observed: float | None
    #: Second (from the start) at which a windowed breach became sustained or an abort fired.
    failed_at_s: int | None = None

    def to_dict(self) -> dict[str, object]:
        """The outcome for a results file."""
        return {
            "threshold": self.threshold.source,
            "passed": self.passed,
            "observed": self.observed,
            "failed_at_s": self.failed_at_s,
            "abort": self.threshold.abort,
        }


def _is_lower_bound(threshold: Threshold) -> bool:
    return threshold.op in (">", ">=")


class ThresholdWatch:
    """Follows thresholds second by second; tells the runner when to abort."""

    def __init__(self, thresholds: list[Threshold]) -> None:
        self._thresholds = thresholds
        self._streak = [0] * len(thresholds)
        self._worst: list[float | None] = [None] * len(thresholds)
        self._failed_at: list[int | None] = [None] * len(thresholds)

    def on_second(self, series: RunSeries, second: int, dropped_total: int) -> Threshold | None:
        """Judge the finished ``second``; return the threshold that aborts the run, if any."""
        abort: Threshold | None = None
        for i, threshold in enumerate(self._thresholds):
            if threshold.window_s is not None:
                self._follow_window(i, threshold, series, second)
            elif threshold.abort and not _is_lower_bound(threshold):
                total = series.total(threshold.endpoint)
                if total.count and not threshold.holds(
                    observe(threshold, total, second + 1, dropped_total)
                ):
                    self._failed_at[i] = second
            if threshold.abort and self._failed_at[i] is not None and abort is None:
                abort = threshold
        return abort

    def _follow_window(self, i: int, threshold: Threshold, series: RunSeries, second: int) -> None:
        stats = series.at(second, threshold.endpoint)
        generator = series.generator_at(second)
        dropped = generator.dropped_iterations if generator is not None else 0
        if stats is None or not stats.count:
            self._streak[i] = 0
            return
        value = observe(threshold, stats, 1.0, dropped)
        worst = self._worst[i]
        if worst is None or _worse(threshold, value, worst):
            self._worst[i] = value
        if threshold.holds(value):
            self._streak[i] = 0
            return
        self._streak[i] += 1
        assert threshold.window_s is not None
        if self._streak[i] >= threshold.window_s and self._failed_at[i] is None:
            self._failed_at[i] = second

    def final(
        self, series: RunSeries, elapsed_s: float, dropped_total: int
    ) -> list[ThresholdOutcome]:
        """Every threshold's outcome once the run is over."""
        outcomes = []
        for i, threshold in enumerate(self._thresholds):
            if threshold.window_s is not None:
                failed = self._failed_at[i] is not None
                outcomes.append(
                    ThresholdOutcome(threshold, not failed, self._worst[i], self._failed_at[i])
                )
                continue
            total = series.total(threshold.endpoint)
            value = observe(threshold, total, elapsed_s, dropped_total)
            passed = threshold.holds(value) and self._failed_at[i] is None
            outcomes.append(ThresholdOutcome(threshold, passed, value, self._failed_at[i]))
        return outcomes


def _worse(threshold: Threshold, value: float, than: float) -> bool:
    return value < than if _is_lower_bound(threshold) else value > than
