"""Thresholds judged on merged per-second figures: cumulative, windowed, abort."""

from __future__ import annotations

from redline.load._thresholds import ThresholdWatch
from redline.metrics import EndpointRecorder, GeneratorStats, RunSeries
from redline.plan import parse_threshold


def _second(
    series: RunSeries,
    second: int,
    latency_us: int,
    *,
    n: int = 100,
    failures: int = 0,
    endpoint: str = "home",
) -> None:
    recorder = EndpointRecorder(endpoint)
    for i in range(n):
        failed = i < failures
        recorder.record(latency_us, latency_us, 500 if failed else 200, failed, 10, 10)
    stats = recorder.snapshot_and_reset(second)
    assert stats is not None
    series.add(stats)
    series.add_generator(second, GeneratorStats())


def _watch(*texts: str) -> ThresholdWatch:
    return ThresholdWatch([parse_threshold(t) for t in texts])


def test_windowed_threshold_needs_a_sustained_breach() -> None:
    series = RunSeries()
    watch = _watch("p95<300ms over 3s")
    latencies_ms = [100, 900, 900, 100, 900, 900, 100]  # never 3 slow seconds in a row
    for s, ms in enumerate(latencies_ms):
        _second(series, s, ms * 1000)
        assert watch.on_second(series, s, 0) is None
    (outcome,) = watch.final(series, len(latencies_ms), 0)
    assert outcome.passed
    assert outcome.observed is not None and outcome.observed >= 900_000


def test_windowed_threshold_fails_on_the_third_slow_second() -> None:
    series = RunSeries()
    watch = _watch("p95<300ms over 3s")
    for s, ms in enumerate([100, 900, 900, 900, 100]):
        _second(series, s, ms * 1000)
        watch.on_second(series, s, 0)
    (outcome,) = watch.final(series, 5, 0)
    assert not outcome.passed
    assert outcome.failed_at_s == 3


def test_abort_threshold_fires_on_the_first_breach() -> None:
    series = RunSeries()
    watch = _watch("error_rate<1%:abort", "p99<1s")
    _second(series, 0, 1000)
    assert watch.on_second(series, 0, 0) is None
    _second(series, 1, 1000, failures=50)
    fired = watch.on_second(series, 1, 0)
    assert fired is not None and fired.source == "error_rate<1%:abort"


def test_lower_bounds_never_abort_mid_run() -> None:
    series = RunSeries()
    watch = _watch("rps>=1000:abort")
    _second(series, 0, 1000, n=10)
    assert watch.on_second(series, 0, 0) is None
    (outcome,) = watch.final(series, 1.0, 0)
    assert not outcome.passed and outcome.observed == 10.0


def test_per_endpoint_threshold_reads_only_its_endpoint() -> None:
    series = RunSeries()
    watch = _watch("p99[slow]<100ms", "p99[home]<100ms")
    _second(series, 0, 5_000, endpoint="home")
    _second(series, 0, 500_000, endpoint="slow")
    watch.on_second(series, 0, 0)
    slow, home = watch.final(series, 1.0, 0)
    assert not slow.passed and home.passed


def test_dropped_iterations_threshold() -> None:
    series = RunSeries()
    watch = _watch("dropped<1")
    _second(series, 0, 1000)
    assert [o.passed for o in watch.final(series, 1.0, 0)] == [True]
    assert [o.passed for o in watch.final(series, 1.0, 3)] == [False]
