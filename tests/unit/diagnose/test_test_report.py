"""Phase statistics and the verdicts of each test type, on synthetic runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from redline.diagnose import analyze_run, phase_stats, steady_from_s
from redline.diagnose._spike import spike_verdict
from redline.load import RunResult, RunStatus
from redline.load._judge import WindowJudge
from redline.metrics import RunSeries
from redline.plan import JudgedWindow, Phase, PhaseKind, Plan, parse_threshold
from tests.unit.diagnose.series_builder import series_of

URL = "http://127.0.0.1:8080/"


def result_of(plan: Plan, series: RunSeries, elapsed_s: float, **extra: object) -> RunResult:
    return RunResult(
        plan=plan,
        workers=1,
        started_at=datetime.now(UTC),
        elapsed_s=elapsed_s,
        status=RunStatus.COMPLETED,
        series=series,
        **extra,  # type: ignore[arg-type]
    )


def test_phase_stats_leave_out_the_warm_up() -> None:
    # 10 seconds: 2 slow warm-up seconds, then steady.
    series = series_of([(10, 90_000)] * 2 + [(100, 1_000)] * 8)
    phase = Phase("steady", PhaseKind.HOLD, 0.0, 10.0, 5.0, warmup_s=2.0)
    stats = phase_stats(series, phase, ran_s=10.0)
    assert stats is not None
    assert stats.count == 800
    assert stats.rps == pytest.approx(100)
    assert stats.p95_us == pytest.approx(1_000, rel=0.001)
    assert stats.bytes_in_per_s == pytest.approx(10_000)


def test_a_phase_the_run_never_reached_has_no_stats() -> None:
    series = series_of([(10, 1_000)] * 5)
    later = Phase("later", PhaseKind.HOLD, 6.0, 10.0, 5.0)
    assert phase_stats(series, later, ran_s=5.0) is None


def test_steady_state_starts_when_throughput_settles() -> None:
    counts = [10, 30, 60, 80] + [100] * 12
    series = series_of([(c, 1_000) for c in counts])
    assert steady_from_s(series, 0, len(counts) - 1) == 3  # window 3..7 averages 96
    assert steady_from_s(series_of([(100, 1)] * 3), 0, 2) is None  # shorter than a window
    swinging = series_of([(c, 1_000) for c in [100, 10] * 10])
    assert steady_from_s(swinging, 0, 19) is None


def test_spike_recovery_counts_seconds_until_p95_stays_near_before() -> None:
    before = [(50, 1_000)] * 10
    spike = [(200, 50_000)] * 5
    after = [(50, 20_000)] * 4 + [(50, 1_050)] * 11  # 4 s slow, then back within 10 %
    series = series_of(before + spike + after)
    phases = [
        Phase("before", PhaseKind.HOLD, 0, 10, 1, warmup_s=2),
        Phase("rise", PhaseKind.RAMP_UP, 10, 11, 4),
        Phase("spike", PhaseKind.SPIKE, 11, 15, 4),
        Phase("recovery", PhaseKind.RECOVERY, 15, 30, 1),
    ]
    verdict = spike_verdict(series, phases, ran_s=30)
    assert verdict is not None
    assert verdict.recovery_s == 4
    assert verdict.spike_p95_us == pytest.approx(50_000, rel=0.001)
    never = series_of(before + spike + [(50, 20_000)] * 15)
    assert spike_verdict(never, phases, ran_s=30).recovery_s is None  # type: ignore[union-attr]
    assert spike_verdict(never, phases, ran_s=12) is None  # stopped mid-spike


def test_window_judge_stops_at_the_first_breach_and_keeps_the_good_ones() -> None:
    windows = [
        JudgedWindow("step 1", 0, 5, 10),
        JudgedWindow("step 2", 5, 10, 20),
        JudgedWindow("step 3", 10, 15, 30),
        JudgedWindow("step 4", 15, 20, 40),
    ]
    judge = WindowJudge(windows, [parse_threshold("p95<10ms")], error_limit=0.05)
    seconds = [(100, 2_000)] * 5 + [(100, 5_000)] * 5 + [(100, 30_000)] * 5 + [(100, 1)] * 5
    series = series_of(seconds)  # type: ignore[arg-type]
    breach = None
    for second in range(20):
        breach = breach or judge.on_second(series, second)
        if breach:
            assert second == 14  # judged as soon as step 3's last second is in
            break
    assert breach is not None
    assert breach.window.name == "step 3"
    assert len(breach.broken) == 1
    assert breach.broken[0].startswith("p95<10ms: observed 30")
    assert [v.passed for v in judge.verdicts] == [True, True, False]


def test_window_judge_breaks_on_the_error_limit_without_thresholds() -> None:
    judge = WindowJudge([JudgedWindow("w", 0, 3, 1)], [], error_limit=0.05)
    series = series_of([(100, 1_000, 6)] * 3)
    verdict = judge.on_second(series, 2)
    assert verdict is not None
    assert verdict.error_rate == pytest.approx(0.06)
    assert "error rate 6.0% above the limit 5.0%" in verdict.broken[0]


def test_analyze_run_gives_the_breaking_point_of_a_stress_test() -> None:
    plan = Plan.model_validate(
        {
            "requests": [{"name": "a", "url": URL}],
            "test": {"type": "stress", "target": 10, "duration": "20s", "steps": 4},
        }
    )
    windows = plan.judged_windows()
    judge = WindowJudge(windows, [], error_limit=0.05)
    series = series_of([(100, 1_000)] * 10 + [(100, 1_000, 50)] * 5)
    for second in range(15):
        if judge.on_second(series, second):
            break
    report = analyze_run(result_of(plan, series, 15.0, windows=judge.verdicts))
    assert report.breaking_point is not None
    assert report.breaking_point.last_good is not None
    assert report.breaking_point.last_good.window.level == 10
    assert report.breaking_point.first_bad is not None
    assert report.breaking_point.first_bad.window.name == "step 3"
    assert report.to_dict()["breaking_point"]["first_bad"]["level"] == 15  # type: ignore[index]


def test_analyze_run_gives_soak_drift_and_baseline_spread() -> None:
    soak = Plan.model_validate(
        {"requests": [{"name": "a", "url": URL}], "test": {"type": "soak", "target": 5}}
    )
    rising = series_of([(100, 1_000 + 50 * s) for s in range(60)])
    report = analyze_run(result_of(soak, rising, 60.0))
    assert report.soak is not None
    assert report.soak.p95_trend is not None
    assert report.soak.p95_trend.significant
    assert report.soak.p95_trend.slope_per_s == pytest.approx(50, rel=0.05)
    baseline = Plan.model_validate(
        {
            "requests": [{"name": "a", "url": URL}],
            "test": {"type": "baseline", "target": 5, "duration": "10s", "repeat": 2},
        }
    )
    runs = series_of([(100, 1_000)] * 10 + [(0, 1)] * 2 + [(120, 2_000)] * 10)
    report = analyze_run(result_of(baseline, runs, 22.0))
    assert [round(s.rps) for s in report.steps()] == [100, 120]
    assert report.repeat_spread["rps"].median == pytest.approx(110)
    assert report.repeat_spread["rps"].cv > 0


def test_a_scenario_phase_counts_only_its_own_requests() -> None:
    series = RunSeries()
    from tests.unit.diagnose.series_builder import second_of

    for second in range(10):
        series.add(second_of(second, 100, 1_000))  # endpoint "a"
        other = second_of(second, 7, 9_000)
        other.endpoint = "b"
        series.add(other)
    mine = Phase("buyers: steady", PhaseKind.HOLD, 0, 10, 7, requests=("b",), unit="/s")
    stats = phase_stats(series, mine, ran_s=10)
    assert stats is not None
    assert stats.rps == pytest.approx(7)
    assert stats.p50_us == pytest.approx(9_000, rel=0.001)
    everything = phase_stats(series, Phase("all", PhaseKind.HOLD, 0, 10, 1), ran_s=10)
    assert everything is not None
    assert everything.rps == pytest.approx(107)


def test_plan_phases_of_scenarios_carry_their_requests_and_unit() -> None:
    plan = Plan.model_validate(
        {
            "base_url": "http://127.0.0.1:8080",
            "requests": [{"name": "a", "url": "/a"}, {"name": "b", "url": "/b"}],
            "scenarios": {
                "browse": {
                    "requests": ["a"],
                    "executor": {"type": "constant-vus", "vus": 2, "duration": "10s"},
                },
                "buy": {
                    "requests": ["b"],
                    "executor": {"type": "constant-arrival-rate", "rate": "5/s", "duration": "10s"},
                },
            },
        }
    )
    assert [(p.name, p.requests, p.unit, p.level) for p in plan.phases()] == [
        ("browse: steady", ("a",), "VUs", 2.0),
        ("buy: steady", ("b",), "/s", 5.0),
    ]


def test_a_scenario_the_run_never_reached_is_empty_not_negative() -> None:
    from redline.diagnose._scenario_stats import scenario_stats

    plan = Plan.model_validate(
        {
            "base_url": "http://127.0.0.1:8080",
            "requests": [{"name": "a", "url": "/a"}, {"name": "b", "url": "/b"}],
            "scenarios": {
                "early": {
                    "requests": ["a"],
                    "executor": {"type": "constant-vus", "vus": 1, "duration": "10s"},
                },
                "late": {
                    "requests": ["b"],
                    "start_time": "5s",
                    "executor": {"type": "constant-vus", "vus": 1, "duration": "10s"},
                },
            },
        }
    )
    late = plan.runs()[1]
    stats = scenario_stats(series_of([(10, 1_000)] * 3), late, ran_s=3.3)
    assert (stats.start_s, stats.end_s, stats.count, stats.rps) == (5.0, 5.0, 0, 0.0)
