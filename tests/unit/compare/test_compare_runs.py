"""compare_runs: verdicts on synthetic runs with known effects, refusals, steady windows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from redline.compare import (
    ComparedRun,
    Comparison,
    Metric,
    NotComparable,
    Verdict,
    compare_runs,
    steady_spans_of,
)
from redline.compare._bootstrap import SecondSamples, block_weights
from redline.errors import ConfigError, ReportError
from redline.metrics import ALL_ENDPOINTS, LatencyHistogram
from tests.unit.compare.synthetic import Noise, synthetic_run, synthetic_series

#: Replicates in unit tests: enough for stable 95 % intervals, quick to draw.
FAST = 400


def _compare(baseline: ComparedRun, candidate: ComparedRun, **options: object) -> Comparison:
    result = compare_runs(baseline, candidate, resamples=FAST, **options)  # type: ignore[arg-type]
    assert isinstance(result, Comparison), getattr(result, "reasons", None)
    return result


def test_the_same_run_twice_changes_nothing() -> None:
    run = synthetic_run(np.random.default_rng(1), "a")
    result = _compare(run, run)
    assert result.verdict is Verdict.NO_CHANGE
    for delta in result.overall().deltas.values():
        assert delta.change in (0.0, None)
        assert delta.difference_interval[0] <= 0.0 <= delta.difference_interval[1]


def test_a_slower_candidate_regresses_its_latency_and_a_faster_one_improves() -> None:
    rng = np.random.default_rng(2)
    base = synthetic_run(rng, "base")
    slower = _compare(base, synthetic_run(rng, "slow", shift=0.20))
    faster = _compare(base, synthetic_run(rng, "fast", shift=-0.20))
    for metric in (Metric.P50, Metric.P90, Metric.P95, Metric.P99):
        assert slower.overall().deltas[metric].verdict is Verdict.REGRESSED
        assert faster.overall().deltas[metric].verdict is Verdict.IMPROVED
    assert slower.overall().deltas[Metric.THROUGHPUT].verdict is Verdict.NO_CHANGE
    p95 = slower.overall().deltas[Metric.P95]
    assert p95.change is not None and p95.interval is not None
    assert p95.interval[0] < p95.change < p95.interval[1]
    assert 0.12 < p95.change < 0.28
    assert slower.verdict is Verdict.REGRESSED and faster.verdict is Verdict.IMPROVED


def test_fewer_requests_a_second_is_a_throughput_regression() -> None:
    rng = np.random.default_rng(3)
    result = _compare(synthetic_run(rng), synthetic_run(rng, rps_factor=0.8))
    delta = result.overall().deltas[Metric.THROUGHPUT]
    assert delta.verdict is Verdict.REGRESSED
    assert delta.change == pytest.approx(-0.2, abs=0.03)


def test_errors_from_none_regress_with_no_relative_change() -> None:
    rng = np.random.default_rng(4)
    result = _compare(synthetic_run(rng), synthetic_run(rng, error_rate=0.02))
    delta = result.overall().deltas[Metric.ERROR_RATE]
    assert delta.baseline == 0.0 and delta.candidate == pytest.approx(0.02, abs=0.005)
    assert delta.change is None and delta.interval is None
    assert delta.difference_interval[0] > 0
    assert delta.verdict is Verdict.REGRESSED


def test_an_error_rate_change_below_the_floor_never_counts() -> None:
    rng = np.random.default_rng(5)
    busy = Noise(rps=2000)
    base = synthetic_run(rng, noise=busy, error_rate=0.0001)
    cand = synthetic_run(rng, noise=busy, error_rate=0.0005)
    delta = _compare(base, cand).overall().deltas[Metric.ERROR_RATE]
    assert delta.verdict is Verdict.NO_CHANGE
    strict = _compare(base, cand, min_error_rate_delta=0.0).overall().deltas[Metric.ERROR_RATE]
    assert strict.verdict is Verdict.REGRESSED


def test_a_real_change_smaller_than_min_effect_is_no_significant_change() -> None:
    rng = np.random.default_rng(6)
    quiet = Noise(between_sd=0.005, rps=2000)
    base = synthetic_run(rng, noise=quiet)
    cand = synthetic_run(rng, noise=quiet, shift=0.03)
    p95 = _compare(base, cand).overall().deltas[Metric.P95]
    assert p95.difference_interval[0] > 0  # the interval excludes zero ...
    assert p95.verdict is Verdict.NO_CHANGE  # ... but 3 % is under the 5 % tolerance
    p95 = _compare(base, cand, min_effect=0.01).overall().deltas[Metric.P95]
    assert p95.verdict is Verdict.REGRESSED


def test_the_same_seed_gives_the_same_figures_and_another_seed_other_intervals() -> None:
    rng = np.random.default_rng(7)
    base, cand = synthetic_run(rng), synthetic_run(rng, shift=0.05)
    first, again = _compare(base, cand, seed=1), _compare(base, cand, seed=1)
    other = _compare(base, cand, seed=2)
    assert first.to_dict() == again.to_dict()
    p95 = Metric.P95
    assert first.overall().deltas[p95].interval != other.overall().deltas[p95].interval


def test_every_endpoint_in_both_runs_is_compared_and_the_others_are_noted() -> None:
    rng = np.random.default_rng(8)
    base = ComparedRun(series=synthetic_series(rng, endpoints=("a", "b", "old")), label="base")
    cand = ComparedRun(series=synthetic_series(rng, endpoints=("a", "b", "new")), label="cand")
    result = _compare(base, cand)
    assert [e.endpoint for e in result.endpoints] == [ALL_ENDPOINTS, "a", "b"]
    assert result.endpoints[0].label == "all"
    assert any("'base'" in n and "old" in n for n in result.notes)
    assert any("'cand'" in n and "new" in n for n in result.notes)


def test_warm_up_is_left_out_without_phases() -> None:
    rng = np.random.default_rng(9)
    # The first 6 of 60 seconds (10 %) are three times slower, in the candidate only.
    base = synthetic_run(rng)
    cand = synthetic_run(rng, warmup_s=6)
    skipped = _compare(base, cand).overall().deltas[Metric.P99]
    assert skipped.verdict is Verdict.NO_CHANGE
    assert skipped.change is not None and abs(skipped.change) < 0.05
    assert _compare(base, cand).candidate.steady_seconds == 54
    with_warmup = ComparedRun(series=cand.series, steady=((0, 59),), plan_fingerprint="synthetic")
    included = _compare(base, with_warmup).overall().deltas[Metric.P99]
    assert included.change is not None and included.change > 0.5


def test_steady_spans_come_from_held_phases_after_their_warm_up() -> None:
    phases = [
        {"kind": "ramp-up", "start_s": 0.0, "end_s": 6.0, "warmup_s": 0.0},
        {"kind": "hold", "start_s": 6.0, "end_s": 54.0, "warmup_s": 2.5, "covered_end_s": 40.2},
        {"kind": "hold", "start_s": 54.0, "end_s": 60.0},
        {"kind": "ramp-down", "start_s": 60.0, "end_s": 66.0},
    ]
    assert steady_spans_of(phases) == ((9, 40), (54, 59))
    assert steady_spans_of([{"kind": "spike", "start_s": 1.0, "end_s": 3.0}]) == ((1, 2),)
    with pytest.raises(ReportError, match="'start_s' must be a number, got 'x'"):
        steady_spans_of([{"kind": "hold", "start_s": "x", "end_s": 3.0}])


def test_each_held_phase_is_resampled_on_its_own() -> None:
    run = ComparedRun(
        series=synthetic_series(np.random.default_rng(10), seconds=30),
        steady=((2, 9), (8, 20), (40, 50)),
    )
    # Overlapping seconds are taken once; seconds without data are dropped.
    assert run.steady_strata() == [list(range(2, 10)), list(range(10, 21)), []][:2]
    weights = block_weights([8, 11], resamples=50, block_s=3, rng=np.random.default_rng(0))
    assert weights.shape == (50, 19)
    assert (weights[:, :8].sum(axis=1) == 8).all() and (weights[:, 8:].sum(axis=1) == 11).all()


def test_replicate_percentiles_equal_merged_histograms_exactly() -> None:
    run = synthetic_run(np.random.default_rng(11), seconds=12)
    seconds = run.series.seconds()
    samples = SecondSamples.of(run.series, seconds, "a")
    weights = np.random.default_rng(12).integers(0, 3, size=(8, len(seconds))).astype(float)
    wanted = [0.0, 50.0, 95.0, 99.9, 100.0]
    got = samples.percentiles(weights, wanted)
    for row in range(weights.shape[0]):
        merged = LatencyHistogram()
        for column, second in enumerate(seconds):
            for _ in range(int(weights[row, column])):
                merged.merge(run.series.at(second, "a").response)
        expected = [merged.value_at_percentile(p) if p else merged.min for p in wanted]
        # Percentile 0 is the lowest slot's highest value here; compare from p50 on.
        assert list(got[row][1:]) == expected[1:]


def test_plans_that_differ_are_refused_unless_forced() -> None:
    rng = np.random.default_rng(13)
    base = ComparedRun(series=synthetic_series(rng), label="a", plan_fingerprint="1111")
    cand = ComparedRun(series=synthetic_series(rng), label="b", plan_fingerprint="2222")
    refused = compare_runs(base, cand, resamples=FAST)
    assert isinstance(refused, NotComparable) and not refused.comparable
    assert refused.reasons == [
        "the plans differ (requests or executor type): fingerprint 1111 in 'a', 2222 in 'b'"
    ]
    forced = compare_runs(base, cand, resamples=FAST, force=True)
    assert isinstance(forced, Comparison) and forced.comparable
    assert any("compared anyway: force" in note for note in forced.notes)
    assert forced.settings.forced


def test_too_few_steady_seconds_and_a_saturated_generator_are_refused_even_when_forced() -> None:
    rng = np.random.default_rng(14)
    short = ComparedRun(series=synthetic_series(rng, seconds=5), label="short")
    bound = ComparedRun(
        series=synthetic_series(rng),
        label="bound",
        generator_bound=True,
        generator_reasons=("worker CPU at 97% of a core",),
    )
    result = compare_runs(short, bound, resamples=FAST, force=True)
    assert isinstance(result, NotComparable)
    assert result.reasons == [
        "'short' has 4 steady seconds; at least 5 are needed",
        "'bound': the load generator was saturated (worker CPU at 97% of a core), "
        "so its figures describe the generator, not the target",
    ]
    assert result.to_dict()["comparable"] is False


def test_runs_without_a_common_endpoint_are_refused() -> None:
    rng = np.random.default_rng(15)
    base = ComparedRun(series=synthetic_series(rng, endpoints=("a",)))
    cand = ComparedRun(series=synthetic_series(rng, endpoints=("b",)))
    result = compare_runs(base, cand, resamples=FAST)
    assert isinstance(result, NotComparable)
    assert "no endpoint has requests in both runs" in result.reasons


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("min_effect", 1.5, r"min_effect must be in \[0, 1\), got 1.5"),
        ("confidence", 1.0, r"confidence must be in \[0.5, 1\), got 1.0"),
        ("resamples", 10, "resamples must be at least 100, got 10"),
        ("block_s", 0, "block_s must be at least 1 second, got 0"),
        ("min_error_rate_delta", -0.1, r"min_error_rate_delta must be in \[0, 1\), got -0.1"),
    ],
)
def test_bad_options_are_refused(option: str, value: object, message: str) -> None:
    run = synthetic_run(np.random.default_rng(16))
    with pytest.raises(ConfigError, match=message):
        compare_runs(run, run, **{option: value})  # type: ignore[arg-type]


def test_a_compared_run_refuses_bad_metadata() -> None:
    series = synthetic_series(np.random.default_rng(17), seconds=6)
    with pytest.raises(ConfigError, match="server_cpu_s must be a finite number"):
        ComparedRun(series=series, server_cpu_s=-1.0)
    with pytest.raises(ConfigError, match=r"steady span must not end before it starts"):
        ComparedRun(series=series, steady=((5, 2),))


def test_a_results_file_round_trips_into_a_compared_run() -> None:
    rng = np.random.default_rng(18)
    series = synthetic_series(rng, seconds=20)
    plan = {
        "name": "checkout",
        "requests": [{"name": "a", "method": "GET", "url": "http://127.0.0.1:1/a"}],
        "executor": {"type": "constant-vus", "vus": 8, "duration": 20.0},
    }
    data = {
        "plan": plan,
        "self_check": {"generator_bound": False, "reasons": []},
        "analysis": {"phases": [{"kind": "hold", "start_s": 0.0, "end_s": 20.0, "warmup_s": 2.0}]},
        "series": series.to_dict(),
    }
    run = ComparedRun.from_results(json.loads(json.dumps(data)), label="v1")
    assert run.name == "v1" and run.plan_name == "checkout"
    assert run.steady == ((2, 19),)
    assert run.load_shape == "constant-vus vus=8 duration=20.0"
    assert run.plan_fingerprint is not None and not run.generator_bound
    without_analysis = ComparedRun.from_results({**data, "analysis": None})
    assert without_analysis.steady is None and without_analysis.name == "checkout"
    with pytest.raises(ReportError, match="needs a 'series' object"):
        ComparedRun.from_results({"plan": plan})
    with pytest.raises(ReportError, match="needs a 'plan' object"):
        ComparedRun.from_results({"series": data["series"]})


def test_a_different_load_is_noted() -> None:
    rng = np.random.default_rng(19)
    base = ComparedRun(series=synthetic_series(rng), load_shape="constant-vus vus=8")
    cand = ComparedRun(series=synthetic_series(rng), load_shape="constant-vus vus=16")
    result = _compare(base, cand)
    assert "the load differs: 'constant-vus vus=8' against 'constant-vus vus=16'" in result.notes
    assert any("fingerprint is unknown" in note for note in result.notes)


# -- the statistical validation (docs/benchmarks.md has the larger trial counts) --

#: Trials per case here; bench/compare_power.py runs 1,000.
TRIALS = 25


def _p95_verdicts(shift: float, seed: int) -> list[Verdict]:
    rng = np.random.default_rng(seed)
    verdicts = []
    for trial in range(TRIALS):
        base, cand = synthetic_run(rng), synthetic_run(rng, shift=shift)
        result = _compare(base, cand, seed=trial)
        verdicts.append(result.overall().deltas[Metric.P95].verdict)
    return verdicts


def test_without_a_true_change_regressed_is_rare() -> None:
    rng = np.random.default_rng(20)
    any_regressed = 0
    for trial in range(TRIALS):
        result = _compare(synthetic_run(rng), synthetic_run(rng), seed=trial)
        any_regressed += result.verdict is Verdict.REGRESSED
    assert any_regressed / TRIALS < 0.05


def test_a_true_ten_percent_p95_shift_is_detected() -> None:
    verdicts = _p95_verdicts(0.10, seed=21)
    assert verdicts.count(Verdict.REGRESSED) / TRIALS > 0.95
