"""One report per run: its phases' figures and the verdict its test type asks for.

- stress, breakpoint: the breaking point (the last judged span that held) and
  the first span that broke;
- spike: recovery time and errors during the spike;
- soak: latency and error-rate drift;
- scalability: the throughput/latency-vs-load table;
- baseline: each repeat and their spread;
- load, volume, and runs without a test type: the phases (volume's bytes/s included).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from redline.diagnose._phase_stats import PhaseStats, phase_stats
from redline.diagnose._scenario_stats import ScenarioStats, scenario_stats
from redline.diagnose._soak import SoakVerdict, soak_verdict, with_server_memory
from redline.diagnose._spike import SpikeVerdict, spike_verdict
from redline.load import RunResult, WindowVerdict
from redline.plan import PhaseKind, TestType

__all__ = ["BreakingPoint", "Spread", "TestReport", "analyze_run"]


@dataclass(frozen=True)
class BreakingPoint:
    """Where a stress or breakpoint test broke."""

    #: The last judged span that held, or None if the first already broke.
    last_good: WindowVerdict | None
    #: The first span that broke, or None if every span held.
    first_bad: WindowVerdict | None

    def to_dict(self) -> dict[str, object]:
        """The breaking point for a results file."""
        return {
            "last_good": self.last_good.to_dict() if self.last_good else None,
            "first_bad": self.first_bad.to_dict() if self.first_bad else None,
        }


@dataclass(frozen=True)
class Spread:
    """How much one figure varied over a baseline's repeats."""

    median: float
    low: float
    high: float
    #: Coefficient of variation (stdev / mean), 0 with a single repeat.
    cv: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        mean = statistics.fmean(values)
        cv = statistics.stdev(values) / mean if len(values) > 1 and mean else 0.0
        return cls(statistics.median(values), min(values), max(values), cv)

    def to_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.low, "max": self.high, "cv": self.cv}


@dataclass
class TestReport:
    """A run's analysis: per phase, then per test type."""

    test_type: TestType | None
    unit: str
    phases: list[PhaseStats]
    breaking_point: BreakingPoint | None = None
    spike: SpikeVerdict | None = None
    soak: SoakVerdict | None = None
    #: baseline: spread of rps and p95 over the repeats.
    repeat_spread: dict[str, Spread] = field(default_factory=dict)
    #: stress, breakpoint: every span judged during the run, in order.
    windows: list[WindowVerdict] = field(default_factory=list)
    #: A plan with several scenarios: each one's figures.
    scenarios: list[ScenarioStats] = field(default_factory=list)

    def steps(self) -> list[PhaseStats]:
        """The held levels (scalability's table, stress's steps, baseline's repeats)."""
        return [p for p in self.phases if p.phase.kind is PhaseKind.HOLD]

    def to_dict(self) -> dict[str, object]:
        """The report for a results file."""
        return {
            "type": self.test_type.value if self.test_type else None,
            "unit": self.unit,
            "phases": [p.to_dict() for p in self.phases],
            "breaking_point": self.breaking_point.to_dict() if self.breaking_point else None,
            "spike": self.spike.to_dict() if self.spike else None,
            "soak": self.soak.to_dict() if self.soak else None,
            "repeat_spread": {k: v.to_dict() for k, v in self.repeat_spread.items()},
            "scenarios": [s.to_dict() for s in self.scenarios],
        }


def analyze_run(result: RunResult) -> TestReport:
    """Analyse ``result`` phase by phase and as its test type asks."""
    plan = result.plan
    phases = plan.phases()
    ran_s = result.elapsed_s
    stats = [s for s in (phase_stats(result.series, p, ran_s) for p in phases) if s is not None]
    test = plan.test
    report = TestReport(
        test_type=test.type if test is not None else None,
        unit=test.unit if test is not None else _unit(result),
        phases=stats,
    )
    if plan.scenarios:
        report.scenarios = [scenario_stats(result.series, run, ran_s) for run in plan.runs()]
    if test is None:
        return report
    if result.windows:
        report.windows = list(result.windows)
        report.breaking_point = _breaking_point(result.windows)
    if test.type is TestType.SPIKE:
        report.spike = spike_verdict(result.series, phases, ran_s)
    elif test.type is TestType.SOAK:
        # With the server's memory trend when the run sampled the server.
        report.soak = with_server_memory(soak_verdict(result.series, phases, ran_s), result)
    elif test.type is TestType.BASELINE and report.steps():
        repeats = report.steps()
        report.repeat_spread = {
            "rps": Spread.of([r.rps for r in repeats]),
            "p95_us": Spread.of([float(r.p95_us) for r in repeats]),
        }
    return report


def _breaking_point(verdicts: list[WindowVerdict]) -> BreakingPoint:
    good = [v for v in verdicts if v.passed]
    bad = next((v for v in verdicts if not v.passed), None)
    return BreakingPoint(good[-1] if good else None, bad)


def _unit(result: RunResult) -> str:
    return "/s" if "arrival-rate" in result.plan.executor.type else "VUs"
