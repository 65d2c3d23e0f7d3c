"""Baseline against candidate: every figure's change, its interval and a verdict.

The method (see docs/compare.md and docs/decisions.md):

1. Each run's steady seconds: its held phases after their warm-up, or (no
   phases) its seconds after the first 10 %.
2. A circular block bootstrap of those seconds, per run, independently
   (``resamples`` replicates, blocks of ``block_s`` seconds, within each
   held phase); each replicate's histograms merged exactly.
3. For each endpoint in both runs and for all of them together: throughput,
   p50, p90, p95, p99 (response time) and error rate, their relative change
   ``candidate / baseline - 1``, and the percentile interval of that change
   over the paired replicates.
4. A verdict: a change counts only when the interval excludes zero and the
   change is at least ``min_effect`` (5 %: the rollback tolerance); then
   better is *improved* and worse (slower, more errors, fewer requests) is
   *regressed*.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np

from redline.compare._bootstrap import Floats, SecondSamples, automatic_block_s, block_weights
from redline.compare._bootstrap import interval_of as _interval_of
from redline.compare._delta import LATENCY_METRICS, Delta, Metric, Verdict, judge
from redline.compare._improvement import CostModel, ImprovementFigures
from redline.compare._run import ComparedRun
from redline.errors import ConfigError
from redline.metrics import ALL_ENDPOINTS

__all__ = [
    "COMPARISON_SCHEMA_VERSION",
    "Comparison",
    "EndpointComparison",
    "NotComparable",
    "RunFacts",
    "Settings",
    "compare_runs",
]

#: Version of :meth:`Comparison.to_dict`'s layout. History:
#:   1: first version.
COMPARISON_SCHEMA_VERSION: Final = 1
#: Fewer steady seconds than this in either run and nothing is compared.
MIN_STEADY_SECONDS: Final = 5
#: The smallest change that counts (the rollback tolerance, ±5 %).
DEFAULT_MIN_EFFECT: Final = 0.05
#: The interval's confidence.
DEFAULT_CONFIDENCE: Final = 0.95
#: Bootstrap replicates per run.
DEFAULT_RESAMPLES: Final = 2000
#: The bootstrap's seed: a comparison of the same files always gives the same figures.
DEFAULT_SEED: Final = 20_261_201
#: An error-rate change smaller than this (0.1 percentage point) never counts.
DEFAULT_MIN_ERROR_RATE_DELTA: Final = 0.001
#: Fewest replicates that give a usable 95 % percentile interval.
MIN_RESAMPLES: Final = 100
#: How reports name every endpoint together.
ALL_LABEL: Final = "all"


@dataclass(frozen=True)
class EndpointComparison:
    """Every metric of one endpoint (or of all together), compared."""

    #: The endpoint's name, or :data:`~redline.metrics.ALL_ENDPOINTS` for all together.
    endpoint: str
    deltas: dict[Metric, Delta]
    #: Requests in the steady seconds: baseline, candidate.
    requests: tuple[int, int]

    @property
    def label(self) -> str:
        """The endpoint's name, ``"all"`` for every endpoint together."""
        return ALL_LABEL if self.endpoint == ALL_ENDPOINTS else self.endpoint

    @property
    def verdict(self) -> Verdict:
        """Regressed if any metric regressed, else improved if any improved."""
        return _overall(d.verdict for d in self.deltas.values())

    def to_dict(self) -> dict[str, object]:
        """JSON-ready data."""
        return {
            "endpoint": self.endpoint,
            "label": self.label,
            "requests": list(self.requests),
            "verdict": self.verdict.value,
            "deltas": [delta.to_dict() for delta in self.deltas.values()],
        }


@dataclass(frozen=True)
class RunFacts:
    """What a comparison says about one of its runs."""

    name: str
    plan_name: str
    plan_fingerprint: str | None
    #: The steady spans used, or None when the first 10 % was skipped instead.
    steady: tuple[tuple[int, int], ...] | None
    steady_seconds: int
    server_cpu_s: float | None

    @classmethod
    def of(cls, run: ComparedRun, seconds: int) -> RunFacts:
        return cls(
            run.name, run.plan_name, run.plan_fingerprint, run.steady, seconds, run.server_cpu_s
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.name,
            "plan_name": self.plan_name,
            "plan_fingerprint": self.plan_fingerprint,
            "steady": None if self.steady is None else [list(s) for s in self.steady],
            "steady_source": "phases" if self.steady is not None else "first 10% skipped",
            "steady_seconds": self.steady_seconds,
            "server_cpu_s": self.server_cpu_s,
        }


@dataclass(frozen=True)
class Settings:
    """How a comparison was computed, for the record."""

    min_effect: float
    confidence: float
    resamples: int
    #: Block length per run (baseline, candidate); per stratum when automatic.
    block_s: tuple[int, int]
    seed: int
    forced: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "method": "circular block bootstrap of steady seconds, histograms merged exactly",
            "min_effect": self.min_effect,
            "confidence": self.confidence,
            "resamples": self.resamples,
            "block_s": list(self.block_s),
            "seed": self.seed,
            "forced": self.forced,
        }


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare_runs` for two comparable runs."""

    baseline: RunFacts
    candidate: RunFacts
    #: Every endpoint together first, then each endpoint in both runs, sorted.
    endpoints: list[EndpointComparison]
    improvement: ImprovementFigures
    settings: Settings
    #: What a reader should know (endpoints in one run only, a different load).
    notes: list[str] = field(default_factory=list)

    @property
    def comparable(self) -> Literal[True]:
        """Always True (a :class:`NotComparable` says False)."""
        return True

    @property
    def verdict(self) -> Verdict:
        """Regressed if any endpoint's metric regressed, else improved if any improved."""
        return _overall(e.verdict for e in self.endpoints)

    def overall(self) -> EndpointComparison:
        """Every endpoint together."""
        return self.endpoints[0]

    def regressions(self) -> list[tuple[str, Delta]]:
        """Every regressed metric, as (endpoint label, delta)."""
        return [
            (e.label, d)
            for e in self.endpoints
            for d in e.deltas.values()
            if d.verdict is Verdict.REGRESSED
        ]

    def summary(self) -> str:
        """The one-paragraph delivery summary (see :meth:`ImprovementFigures.summary`)."""
        return self.improvement.summary()

    def to_dict(self) -> dict[str, object]:
        """Everything, JSON-ready, with ``improvement`` in its fixed four-key shape."""
        return {
            "schema_version": COMPARISON_SCHEMA_VERSION,
            "comparable": True,
            "verdict": self.verdict.value,
            "baseline": self.baseline.to_dict(),
            "candidate": self.candidate.to_dict(),
            "settings": self.settings.to_dict(),
            "endpoints": [e.to_dict() for e in self.endpoints],
            "improvement": self.improvement.to_dict(),
            "improvement_basis": self.improvement.basis_dict(),
            "summary": self.summary(),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class NotComparable:
    """Two runs that must not be compared, and every reason why."""

    baseline: str
    candidate: str
    reasons: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def comparable(self) -> Literal[False]:
        """Always False (a :class:`Comparison` says True)."""
        return False

    def to_dict(self) -> dict[str, object]:
        """JSON-ready data."""
        return {
            "schema_version": COMPARISON_SCHEMA_VERSION,
            "comparable": False,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
        }


def compare_runs(
    baseline: ComparedRun,
    candidate: ComparedRun,
    *,
    min_effect: float = DEFAULT_MIN_EFFECT,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
    resamples: int = DEFAULT_RESAMPLES,
    block_s: int | None = None,
    force: bool = False,
    cost_model: CostModel | None = None,
    min_error_rate_delta: float = DEFAULT_MIN_ERROR_RATE_DELTA,
) -> Comparison | NotComparable:
    """Compare two runs' steady seconds, endpoint by endpoint, with statistics.

    Args:
        baseline: the reference run.
        candidate: the run being judged.
        min_effect: the smallest relative change that counts (0.05: 5 %).
        confidence: the intervals' confidence (0.95).
        seed: the bootstrap's seed; the same inputs and seed give the same result.
        resamples: bootstrap replicates per run.
        block_s: seconds per bootstrap block; None: ``round(n ** (1/3))`` per held phase.
        force: compare even when the plans differ (the difference becomes a note).
        cost_model: how many instances a load needs, for ``cost_savings``.
        min_error_rate_delta: an error-rate change below this never counts.

    Returns:
        A :class:`Comparison`, or a :class:`NotComparable` with every reason
        when the plans differ (unless ``force``), a run has fewer than 5
        steady seconds, a run's generator was saturated, or no endpoint is
        in both runs.

    Raises:
        ConfigError: an option is out of range.

    Example::

        result = compare_runs(ComparedRun.from_results(old), ComparedRun.from_results(new))
        if result.comparable and result.verdict is Verdict.REGRESSED: ...
    """
    _check_options(min_effect, confidence, resamples, block_s, min_error_rate_delta)
    base_strata, cand_strata = baseline.steady_strata(), candidate.steady_strata()
    reasons, notes = _comparability(baseline, candidate, base_strata, cand_strata, force=force)
    endpoints = _common_endpoints(baseline, candidate, notes)
    if not endpoints and not reasons:
        reasons.append("no endpoint has requests in both runs")
    if reasons:
        return NotComparable(baseline.name, candidate.name, reasons, notes)
    rng = np.random.default_rng(seed)
    weights = [
        block_weights([len(s) for s in strata], resamples=resamples, block_s=block_s, rng=rng)
        for strata in (base_strata, cand_strata)
    ]
    seconds = [sum(strata, []) for strata in (base_strata, cand_strata)]
    compared: list[EndpointComparison] = []
    for endpoint in [ALL_ENDPOINTS, *endpoints]:
        base = SecondSamples.of(baseline.series, seconds[0], endpoint)
        cand = SecondSamples.of(candidate.series, seconds[1], endpoint)
        if base.requests == 0 or cand.requests == 0:
            notes.append(f"{endpoint!r} has no requests in one run's steady seconds; not compared")
            continue
        deltas = _deltas(
            base, cand, weights[0], weights[1], confidence, min_effect, min_error_rate_delta
        )
        compared.append(EndpointComparison(endpoint, deltas, (base.requests, cand.requests)))
    return Comparison(
        baseline=RunFacts.of(baseline, len(seconds[0])),
        candidate=RunFacts.of(candidate, len(seconds[1])),
        endpoints=compared,
        improvement=_improvement(compared[0], baseline, candidate, cost_model),
        settings=Settings(
            min_effect,
            confidence,
            resamples,
            (_block_of(base_strata, block_s), _block_of(cand_strata, block_s)),
            seed,
            force,
        ),
        notes=notes,
    )


def _check_options(
    min_effect: float,
    confidence: float,
    resamples: int,
    block_s: int | None,
    min_error_rate_delta: float,
) -> None:
    if not 0.0 <= min_effect < 1.0:
        raise ConfigError(
            f"min_effect must be in [0, 1), got {min_effect!r}", hint="0.05 means a 5 % change"
        )
    if not 0.5 <= confidence < 1.0:
        raise ConfigError(
            f"confidence must be in [0.5, 1), got {confidence!r}", hint="0.95 means 95 %"
        )
    if resamples < MIN_RESAMPLES:
        raise ConfigError(f"resamples must be at least {MIN_RESAMPLES}, got {resamples!r}")
    if block_s is not None and block_s < 1:
        raise ConfigError(
            f"block_s must be at least 1 second, got {block_s!r}",
            hint="None picks round(n ** (1/3))",
        )
    if not 0.0 <= min_error_rate_delta < 1.0:
        raise ConfigError(
            f"min_error_rate_delta must be in [0, 1), got {min_error_rate_delta!r}",
            hint="0.001 means 0.1 percentage point",
        )


def _comparability(
    baseline: ComparedRun,
    candidate: ComparedRun,
    base_strata: list[list[int]],
    cand_strata: list[list[int]],
    *,
    force: bool,
) -> tuple[list[str], list[str]]:
    """Reasons to refuse, and notes to keep."""
    reasons: list[str] = []
    notes: list[str] = []
    base_fp, cand_fp = baseline.plan_fingerprint, candidate.plan_fingerprint
    if base_fp is None or cand_fp is None:
        notes.append("a run's plan fingerprint is unknown: the plans were not checked")
    elif base_fp != cand_fp:
        text = (
            f"the plans differ (requests or executor type): fingerprint {base_fp} "
            f"in {baseline.name!r}, {cand_fp} in {candidate.name!r}"
        )
        (notes if force else reasons).append(text + (" (compared anyway: force)" if force else ""))
    if baseline.load_shape and candidate.load_shape and baseline.load_shape != candidate.load_shape:
        notes.append(f"the load differs: {baseline.load_shape!r} against {candidate.load_shape!r}")
    for run, strata in ((baseline, base_strata), (candidate, cand_strata)):
        steady = sum(len(s) for s in strata)
        if steady < MIN_STEADY_SECONDS:
            reasons.append(
                f"{run.name!r} has {steady} steady seconds; "
                f"at least {MIN_STEADY_SECONDS} are needed"
            )
        if run.generator_bound:
            why = "; ".join(run.generator_reasons) or "self_check.generator_bound"
            reasons.append(
                f"{run.name!r}: the load generator was saturated ({why}), so its figures "
                "describe the generator, not the target"
            )
    return reasons, notes


def _common_endpoints(baseline: ComparedRun, candidate: ComparedRun, notes: list[str]) -> list[str]:
    base, cand = set(baseline.series.endpoints()), set(candidate.series.endpoints())
    for only, run in ((base - cand, baseline), (cand - base, candidate)):
        if only:
            notes.append(f"only in {run.name!r}, not compared: {', '.join(sorted(only))}")
    return sorted(base & cand)


def _deltas(
    base: SecondSamples,
    cand: SecondSamples,
    base_weights: Floats,
    cand_weights: Floats,
    confidence: float,
    min_effect: float,
    min_error_rate_delta: float,
) -> dict[Metric, Delta]:
    """Every metric's delta: points from all steady seconds, intervals from the replicates."""
    percentiles = [m.percentile or 0.0 for m in LATENCY_METRICS]

    def figures(samples: SecondSamples, weights: Floats) -> dict[Metric, Floats]:
        latency = samples.percentiles(weights, percentiles)
        result = {m: latency[:, i] for i, m in enumerate(LATENCY_METRICS)}
        result[Metric.THROUGHPUT] = samples.throughput(weights)
        result[Metric.ERROR_RATE] = samples.error_rate(weights)
        return result

    ones_base = np.ones((1, base.counts.size))
    ones_cand = np.ones((1, cand.counts.size))
    points = (figures(base, ones_base), figures(cand, ones_cand))
    replicates = (figures(base, base_weights), figures(cand, cand_weights))
    deltas: dict[Metric, Delta] = {}
    for metric in Metric:
        before, after = float(points[0][metric][0]), float(points[1][metric][0])
        base_r, cand_r = replicates[0][metric], replicates[1][metric]
        change = after / before - 1.0 if before else None
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = cand_r / base_r - 1.0
        interval = _interval_of(relative, confidence) if before else None
        difference_interval = _interval_of(cand_r - base_r, confidence)
        floor = min_error_rate_delta if metric is Metric.ERROR_RATE else 0.0
        verdict = judge(
            metric,
            after - before,
            change,
            difference_interval,
            min_effect=min_effect,
            min_difference=floor,
        )
        deltas[metric] = Delta(
            metric, before, after, change, interval, difference_interval, verdict
        )
    return {metric: deltas[metric] for metric in _DISPLAY_ORDER}


#: The order metrics are listed in.
_DISPLAY_ORDER: Final = (
    Metric.THROUGHPUT,
    Metric.P50,
    Metric.P90,
    Metric.P95,
    Metric.P99,
    Metric.ERROR_RATE,
)


def _improvement(
    overall: EndpointComparison,
    baseline: ComparedRun,
    candidate: ComparedRun,
    cost_model: CostModel | None,
) -> ImprovementFigures:
    p95, rps = overall.deltas[Metric.P95], overall.deltas[Metric.THROUGHPUT]
    cpu = _cpu_per_request(baseline), _cpu_per_request(candidate)
    cpu_pair = (cpu[0], cpu[1]) if cpu[0] is not None and cpu[1] is not None else None
    instances = None
    if cpu_pair is not None and cost_model is not None:
        instances = (cost_model.instances(cpu_pair[0]), cost_model.instances(cpu_pair[1]))
    return ImprovementFigures(
        p95_us=(p95.baseline, p95.candidate),
        p95_verdict=p95.verdict,
        rps=(rps.baseline, rps.candidate),
        rps_verdict=rps.verdict,
        cpu_s_per_request=cpu_pair,
        instances=instances,
        target_rps=None if cost_model is None else cost_model.target_rps,
    )


def _cpu_per_request(run: ComparedRun) -> float | None:
    """The server's CPU-seconds per request over the whole run (its CPU covers the whole run)."""
    requests = run.series.total().count
    if run.server_cpu_s is None or requests == 0:
        return None
    return run.server_cpu_s / requests


def _block_of(strata: list[list[int]], block_s: int | None) -> int:
    if block_s is not None:
        return block_s
    return max((automatic_block_s(len(s)) for s in strata), default=1)


def _overall(verdicts: Iterable[Verdict]) -> Verdict:
    seen = set(verdicts)
    if Verdict.REGRESSED in seen:
        return Verdict.REGRESSED
    return Verdict.IMPROVED if Verdict.IMPROVED in seen else Verdict.NO_CHANGE
