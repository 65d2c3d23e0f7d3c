"""Stage math and the exact split of a plan across workers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.load._schedule import ArrivalSchedule, RateStage, share


@given(total=st.integers(0, 100_000), parts=st.integers(1, 256))
def test_shares_add_up_exactly_and_differ_by_at_most_one(total: int, parts: int) -> None:
    shares = [share(total, i, parts) for i in range(parts)]
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1


def test_constant_rate_arrivals_are_evenly_spaced() -> None:
    schedule = ArrivalSchedule.constant(rate_per_s=5000, duration_s=10)
    assert schedule.total_arrivals == 50_000
    assert schedule.time_of(0) == 0.0
    assert schedule.time_of(1) == pytest.approx(0.0002)
    assert schedule.time_of(49_999) == pytest.approx(9.9998)
    assert schedule.time_of(50_000) is None


def test_fractional_rate_counts_only_arrivals_before_the_end() -> None:
    schedule = ArrivalSchedule.constant(rate_per_s=0.25, duration_s=10)
    # due at 0, 4 and 8 seconds
    assert schedule.total_arrivals == 3
    assert schedule.time_of(2) == pytest.approx(8.0)


def test_linear_ramp_matches_the_integral_of_the_rate() -> None:
    # 0 -> 100/s over 10 s: 500 arrivals; arrival n is due at t where 5 t^2 = n
    schedule = ArrivalSchedule(0, [RateStage(10, 100)])
    assert schedule.total_arrivals == 500
    assert schedule.time_of(125) == pytest.approx(5.0)
    assert schedule.rate_at(5.0) == pytest.approx(50.0)


def test_ramp_down_and_hold_stages() -> None:
    schedule = ArrivalSchedule(100, [RateStage(10, 100), RateStage(10, 0)])
    assert schedule.total_arrivals == 1500
    # the ramp down: 1000 + 100 t - 5 t^2 arrivals by t seconds into it
    assert schedule.time_of(1375) == pytest.approx(10 + 5.0)


def test_zero_rate_stage_holds_no_arrivals() -> None:
    schedule = ArrivalSchedule(
        10, [RateStage(1, 10), RateStage(0, 0), RateStage(5, 0), RateStage(1, 10)]
    )
    times = [schedule.time_of(n) for n in range(schedule.total_arrivals)]
    assert all(t is not None for t in times)
    assert not any(1.0 < t < 6.0 for t in times if t is not None)


@given(rate=st.floats(0.1, 100_000), duration=st.floats(10, 600))
def test_arrival_times_increase(rate: float, duration: float) -> None:
    schedule = ArrivalSchedule.constant(rate_per_s=rate, duration_s=duration)
    n = schedule.total_arrivals
    assert abs(n - rate * duration) <= 1
    last = schedule.time_of(n - 1)
    assert last is not None and last < duration
    assert schedule.time_of(n // 2) <= last  # type: ignore[operator]
