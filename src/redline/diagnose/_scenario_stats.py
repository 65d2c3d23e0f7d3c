"""Per-scenario figures: every request of a scenario added up."""

from __future__ import annotations

from dataclasses import dataclass

from redline.diagnose._figures import Figures, figures_of
from redline.metrics import IntervalStats, RunSeries
from redline.plan import ScenarioRun

__all__ = ["ScenarioStats", "scenario_stats"]


@dataclass(frozen=True, kw_only=True)
class ScenarioStats(Figures):
    """One scenario's requests over its own span of the run."""

    name: str
    requests: list[str]
    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, object]:
        """The figures for a results file."""
        return {
            "name": self.name,
            "requests": self.requests,
            "start_s": self.start_s,
            "end_s": self.end_s,
            **self.figures_dict(),
        }


def scenario_stats(series: RunSeries, run: ScenarioRun, ran_s: float) -> ScenarioStats:
    """Add up ``run``'s requests; its rate is over its own span (start to end or stop)."""
    merged = IntervalStats(endpoint=run.name, second=0)
    names = [request.name for request in run.requests]
    for name in names:
        merged.merge(series.total(name))
    # A scenario the run stopped before it started ends where it would have begun.
    end_s = max(run.start_time_s, min(run.start_time_s + run.executor.planned_duration_s(), ran_s))
    span_s = max(end_s - run.start_time_s, 1e-9)
    return ScenarioStats(
        name=run.name,
        requests=names,
        start_s=run.start_time_s,
        end_s=round(end_s, 3),
        **figures_of(merged, span_s),
    )
