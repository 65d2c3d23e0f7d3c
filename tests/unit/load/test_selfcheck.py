"""The generator's verdict on itself: which figures make a run generator-bound, and why."""

from __future__ import annotations

from redline.load._selfcheck import self_check
from redline.metrics import GeneratorStats


def seconds(n: int, **figures: float) -> list[GeneratorStats]:
    return [GeneratorStats(**figures) for _ in range(n)]  # type: ignore[arg-type]


def test_a_calm_generator_is_not_bound() -> None:
    check = self_check(seconds(10, cpu_s=0.2, loop_lag_p99_us=500, send_lag_p99_us=300), 1)
    assert not check.generator_bound
    assert check.reasons == []


def test_cpu_over_90_percent_of_each_worker_is_a_reason() -> None:
    check = self_check(seconds(10, cpu_s=1.9), 2)
    assert check.generator_bound
    assert check.reasons[0].startswith("the generator used 95% of each worker's core")


def test_loop_lag_in_a_quarter_of_seconds_is_a_reason() -> None:
    lagging = seconds(3, loop_lag_p99_us=20_000) + seconds(7, loop_lag_p99_us=100)
    assert self_check(lagging, 1).reasons == [
        "the generator's event loop lagged over 10 ms in 3 of 10 seconds"
    ]


def test_late_sends_in_a_quarter_of_seconds_are_a_reason() -> None:
    late = seconds(3, send_lag_p99_us=15_000) + seconds(7, send_lag_p99_us=100)
    assert self_check(late, 1).reasons == [
        "the generator sent requests over 10 ms behind schedule (p99 send lag) in 3 of 10 seconds"
    ]


def test_a_few_late_seconds_are_not() -> None:
    late = seconds(2, send_lag_p99_us=15_000, loop_lag_p99_us=20_000) + seconds(8)
    assert not self_check(late, 1).generator_bound
