"""How often redline.compare says "regressed" with no true change, and how often it finds one.

Synthetic 60 s runs (tests/unit/compare/synthetic.py): 200 req/s, log-normal
response times, and a shared per-second slowness that gives the per-second
p95 a coefficient of variation (CV) of about 5, 7.5 or 10 %. Each trial draws
a fresh baseline and candidate and compares them with the defaults
(min_effect 5 %, 95 % intervals, circular block bootstrap). Then the
E-divisive change points' false-alarm rate on pure noise.

    uv run python bench/compare_power.py            # 1,000 trials per case
    uv run python bench/compare_power.py --trials 200 --resamples 1000
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redline.compare import Comparison, Metric, Verdict, change_points, compare_runs  # noqa: E402
from tests.unit.compare.synthetic import Noise, per_second_p95_cv, synthetic_run  # noqa: E402

#: Between-second spread for each target per-second p95 CV (measured below).
CV_SPREAD = {"5%": 0.035, "7.5%": 0.065, "10%": 0.09}


@dataclass(frozen=True)
class Case:
    name: str
    shift: float
    cv: str
    autocorrelation: float = 0.0


CASES = [
    Case("no change", 0.0, "5%"),
    Case("no change", 0.0, "7.5%"),
    Case("no change", 0.0, "10%"),
    Case("no change, autocorrelated (phi 0.5)", 0.0, "7.5%", 0.5),
    Case("p95 +10%", 0.10, "5%"),
    Case("p95 +10%", 0.10, "7.5%"),
    Case("p95 +10%", 0.10, "10%"),
    Case("p95 +10%, autocorrelated (phi 0.5)", 0.10, "7.5%", 0.5),
    Case("p95 +7.5%", 0.075, "7.5%"),
    Case("p95 +5%", 0.05, "7.5%"),
]


def _trial(args: tuple[Case, int, int]) -> tuple[bool, bool, bool, float]:
    """(p95 regressed, any metric regressed, p95 interval excludes 0, per-second p95 CV)."""
    case, seed, resamples = args
    rng = np.random.default_rng(seed)
    noise = Noise(between_sd=CV_SPREAD[case.cv], autocorrelation=case.autocorrelation)
    base = synthetic_run(rng, "base", noise=noise)
    cand = synthetic_run(rng, "cand", noise=noise, shift=case.shift)
    result = compare_runs(base, cand, seed=seed, resamples=resamples)
    assert isinstance(result, Comparison)
    p95 = result.overall().deltas[Metric.P95]
    low, high = p95.difference_interval
    return (
        p95.verdict is Verdict.REGRESSED,
        result.verdict is Verdict.REGRESSED,
        not low <= 0.0 <= high,
        per_second_p95_cv(base.series),
    )


def _alarm(args: tuple[int, int]) -> bool:
    seed, length = args
    rng = np.random.default_rng(seed)
    return bool(change_points(rng.normal(0.0, 1.0, length), seed=seed))


def _step_found(args: tuple[int, int]) -> tuple[bool, bool]:
    """A 1 sd step halfway: (any change point found, one within ±5 of the step)."""
    seed, length = args
    rng = np.random.default_rng(seed)
    values = np.concatenate([rng.normal(0, 1, length // 2), rng.normal(1, 1, length - length // 2)])
    points = change_points(values, seed=seed)
    return bool(points), any(abs(p - length // 2) <= 5 for p in points)


def _rate(hits: int, trials: int) -> str:
    return f"{hits}/{trials} = {hits / trials:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--change-points-only", action="store_true")
    options = parser.parse_args()
    n = options.trials
    cases = [] if options.change_points_only else CASES
    print(f"{n} trials per case, {options.resamples} resamples, defaults otherwise\n")
    print(
        "| case | per-second p95 CV | p95 regressed | any metric regressed "
        "| p95 interval excludes 0 |"
    )
    print("|---|--:|--:|--:|--:|")
    with ProcessPoolExecutor(options.workers) as pool:
        for number, case in enumerate(cases):
            jobs = [(case, number * 1_000_003 + t, options.resamples) for t in range(n)]
            rows = list(pool.map(_trial, jobs, chunksize=8))
            p95, anyone, excludes = (sum(r[i] for r in rows) for i in range(3))
            cv = float(np.mean([r[3] for r in rows]))
            print(
                f"| {case.name} | {cv:.1%} | {p95}/{n} = {p95 / n:.1%} "
                f"| {anyone}/{n} = {anyone / n:.1%} | {excludes}/{n} = {excludes / n:.1%} |"
            )
        print("\n| change points (E-divisive, p < 0.05, 199 permutations) | rate |")
        print("|---|--:|")
        for length in (40, 100):
            alarms = sum(pool.map(_alarm, [(s, length) for s in range(n)], chunksize=8))
            print(
                f"| false alarm, N(0,1) noise, {length} points | {alarms}/{n} = {alarms / n:.1%} |"
            )
            steps = list(pool.map(_step_found, [(s, length) for s in range(n)], chunksize=8))
            found, placed = sum(s[0] for s in steps), sum(s[1] for s in steps)
            print(f"| 1 sd step halfway found, {length} points | {found}/{n} = {found / n:.1%} |")
            print(
                f"| ... and placed within ±5, {length} points | {placed}/{n} = {placed / n:.1%} |"
            )


if __name__ == "__main__":
    main()
