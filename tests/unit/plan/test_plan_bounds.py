"""Every input range: at each limit, inside it, and just outside it, through a whole plan.

An out-of-range value is refused with one line: the TOML key path, the value as
written (``!r``) and the range, e.g. ``executor.duration: '5s' is out of range; allowed 10s..24h``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.plan import (
    DURATION_S_RANGE,
    VUS_RANGE,
    Plan,
    Range,
    Unit,
    plan_from_mapping,
)

URL = "http://127.0.0.1:8080/"


def plan_data(**overrides: Any) -> dict[str, Any]:
    """A valid plan's data, with top-level keys replaced."""
    data: dict[str, Any] = {
        "requests": [{"name": "home", "url": URL}],
        "executor": {"type": "constant-vus", "vus": 1, "duration": "10s"},
    }
    data.update(overrides)
    return data


def executor(**keys: Any) -> dict[str, Any]:
    return plan_data(executor=keys)


def request(**keys: Any) -> dict[str, Any]:
    return plan_data(requests=[{"name": "home", "url": URL, **keys}])


@dataclass(frozen=True)
class Case:
    """One bounded field: how to put a value there, and values at and beyond its limits."""

    path: str
    build: Callable[[Any], dict[str, Any]]
    allowed: str
    low: Any
    high: Any
    inside: Any
    below: Any
    above: Any

    def __str__(self) -> str:
        return self.path


CASES = [
    Case(
        "executor.vus",
        lambda v: executor(type="constant-vus", vus=v, duration="10s"),
        "1..50000",
        1,
        50_000,
        64,
        0,
        50_001,
    ),
    Case(
        "executor.max_vus",
        lambda v: executor(
            type="constant-arrival-rate", rate=10, duration=10, pre_allocated_vus=1, max_vus=v
        ),
        "1..50000",
        1,
        50_000,
        2000,
        0,
        50_001,
    ),
    Case(
        "executor.pre_allocated_vus",
        lambda v: executor(
            type="constant-arrival-rate", rate=10, duration=10, pre_allocated_vus=v, max_vus=50_000
        ),
        "1..50000",
        1,
        50_000,
        10,
        0,
        50_001,
    ),
    Case(
        "executor.stages[0].target",
        lambda v: executor(
            type="ramping-vus", start_vus=1, stages=[{"duration": "10s", "target": v}]
        ),
        "0..50000",
        0,
        50_000,
        20,
        -1,
        50_001,
    ),
    Case(
        "executor.start_vus",
        lambda v: executor(type="ramping-vus", start_vus=v, stages=[{"duration": 10, "target": 1}]),
        "0..50000",
        0,
        50_000,
        5,
        -1,
        50_001,
    ),
    Case(
        "executor.duration",
        lambda v: executor(type="constant-vus", vus=1, duration=v),
        "10s..24h",
        "10s",
        "24h",
        "1m30s",
        "9999ms",
        "24h1s",
    ),
    Case(
        "executor.duration",
        lambda v: executor(type="constant-arrival-rate", rate=10, duration=v),
        "10s..24h",
        10,
        86_400,
        60.5,
        9.999,
        86_400.001,
    ),
    Case(
        "executor.max_duration",
        lambda v: executor(type="per-vu-iterations", max_duration=v),
        "10s..24h",
        "10s",
        "1440m",
        "10m",
        "9s",
        "25h",
    ),
    Case(
        "executor.graceful_ramp_down",
        lambda v: executor(
            type="ramping-vus", stages=[{"duration": 10, "target": 1}], graceful_ramp_down=v
        ),
        "0s..1h",
        "0s",
        "1h",
        "30s",
        -1,
        "1h1s",
    ),
    Case(
        "executor.rate",
        lambda v: executor(type="constant-arrival-rate", rate=v, duration="10s"),
        "0.1/s..100000/s",
        "0.1/s",
        "100000/s",
        "5000/s",
        "0.09/s",
        "100001/s",
    ),
    Case(
        "executor.rate",
        lambda v: executor(type="constant-arrival-rate", rate=v, duration="10s"),
        "0.1/s..100000/s",
        "6/m",
        100_000,
        2.5,
        0,
        100_000.5,
    ),
    Case(
        "executor.stages[0].target",
        lambda v: executor(
            type="ramping-arrival-rate", start_rate=1, stages=[{"duration": "10s", "target": v}]
        ),
        "0/s..100000/s",
        "0/s",
        "100000/s",
        "50/s",
        -1,
        "100001/s",
    ),
    Case(
        "executor.start_rate",
        lambda v: executor(
            type="ramping-arrival-rate", start_rate=v, stages=[{"duration": "10s", "target": 1}]
        ),
        "0/s..100000/s",
        0,
        "100000/s",
        "10/s",
        -0.5,
        "6000001/m",
    ),
    Case(
        "executor.iterations",
        lambda v: executor(type="per-vu-iterations", iterations=v),
        "1..100000000",
        1,
        100_000_000,
        1000,
        0,
        100_000_001,
    ),
    Case(
        "executor.iterations",
        lambda v: executor(type="shared-iterations", iterations=v),
        "1..100000000",
        1,
        100_000_000,
        1000,
        0,
        100_000_001,
    ),
    Case(
        "connect_timeout",
        lambda v: plan_data(connect_timeout=v),
        "100ms..5m",
        "100ms",
        "5m",
        "2s",
        "99ms",
        "5m1s",
    ),
    Case(
        "request_timeout",
        lambda v: plan_data(request_timeout=v),
        "100ms..5m",
        0.1,
        300,
        30,
        0.099,
        300.5,
    ),
    Case(
        "think_time",
        lambda v: plan_data(think_time=v),
        "0s..1m",
        0,
        "1m",
        "500ms",
        -0.001,
        "60.001s",
    ),
    Case("workers", lambda v: plan_data(workers=v), "1..256", 1, 256, 8, 0, 257),
    Case("requests[0].weight", lambda v: request(weight=v), "1..1000", 1, 1000, 3, 0, 1001),
    Case(
        "requests[0].expect_status[0]",
        lambda v: request(expect_status=[v]),
        "100..599",
        100,
        599,
        200,
        99,
        600,
    ),
    Case(
        "thresholds[0]",
        lambda v: plan_data(thresholds=[f"p95<300ms over {v}"]),
        "1s..24h",
        "1s",
        "24h",
        "30s",
        "999ms",
        "24h1s",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_accepts_the_limits_and_inside(case: Case) -> None:
    for value in (case.low, case.high, case.inside):
        plan_from_mapping(case.build(value))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_refuses_just_outside_with_one_line(case: Case) -> None:
    for value in (case.below, case.above):
        with pytest.raises(ConfigError) as caught:
            plan_from_mapping(case.build(value))
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith(f"{case.path}: ")
        assert f"{value!r}" in message
        assert message.endswith(f"is out of range; allowed {case.allowed}")


def stages_plan(*durations: Any) -> dict[str, Any]:
    stages = [{"duration": d, "target": 5} for d in durations]
    return executor(type="ramping-vus", stages=stages)


def test_a_stage_may_last_from_zero_to_a_day() -> None:
    plan_from_mapping(stages_plan(0, "10s"))
    plan_from_mapping(stages_plan("24h"))


@pytest.mark.parametrize(("duration", "shown"), [(-1, "-1"), ("24h1s", "'24h1s'")])
def test_a_stage_beyond_its_range_is_refused(duration: Any, shown: str) -> None:
    expected = (
        rf"^executor\.stages\[0\]\.duration: {re.escape(shown)} is out of range; allowed 0s\.\.24h$"
    )
    with pytest.raises(ConfigError, match=expected):
        plan_from_mapping(stages_plan(duration))


@pytest.mark.parametrize(("durations", "total"), [(("5s",), "5s"), (("24h", "1s"), "24h1s")])
def test_the_total_of_the_stages_is_bounded(durations: tuple[str, ...], total: str) -> None:
    expected = rf"^executor\.stages: total duration '{total}' is out of range; allowed 10s\.\.24h$"
    with pytest.raises(ConfigError, match=expected):
        plan_from_mapping(stages_plan(*durations))


def test_the_total_of_the_stages_at_its_limits_is_accepted() -> None:
    plan_from_mapping(stages_plan("5s", "5s"))
    plan_from_mapping(stages_plan("23h", "1h"))


@pytest.mark.parametrize("value", [True, 2.5, "64", None, [1]])
def test_counts_must_be_whole_numbers(value: Any) -> None:
    with pytest.raises(
        ConfigError, match=r"^executor\.vus: .* is not a whole number; allowed 1\.\.50000$"
    ):
        plan_from_mapping(executor(type="constant-vus", vus=value, duration=10))


def test_a_whole_float_counts_as_a_whole_number() -> None:
    plan = plan_from_mapping(executor(type="constant-vus", vus=64.0, duration=10))
    assert plan.executor.vus == 64  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [True, None, [10], {"s": 10}])
def test_durations_must_be_text_or_numbers(value: Any) -> None:
    with pytest.raises(
        ConfigError, match=r"^executor\.duration: .* is not a duration; write e\.g\."
    ):
        plan_from_mapping(executor(type="constant-vus", duration=value))


@pytest.mark.parametrize("value", [True, None, [10]])
def test_rates_must_be_text_or_numbers(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"^executor\.rate: .* is not a rate; write e\.g\."):
        plan_from_mapping(executor(type="constant-arrival-rate", rate=value, duration=10))


def test_not_a_number_is_out_of_every_range() -> None:
    with pytest.raises(ConfigError, match=r"^executor\.duration: nan is out of range"):
        plan_from_mapping(executor(type="constant-vus", duration=float("nan")))


@given(st.floats(min_value=0, max_value=2 * 86_400, allow_nan=False))
def test_a_duration_is_accepted_exactly_when_in_range(seconds: float) -> None:
    data = executor(type="constant-vus", duration=seconds)
    if DURATION_S_RANGE.low <= seconds <= DURATION_S_RANGE.high:
        assert plan_from_mapping(data).executor.planned_duration_s() == seconds
    else:
        with pytest.raises(ConfigError, match="is out of range; allowed 10s..24h"):
            plan_from_mapping(data)


@given(st.integers(min_value=-10, max_value=60_000))
def test_vus_are_accepted_exactly_when_in_range(vus: int) -> None:
    data = executor(type="constant-vus", vus=vus, duration=10)
    if vus in VUS_RANGE:
        assert isinstance(plan_from_mapping(data), Plan)
    else:
        with pytest.raises(ConfigError, match=rf"^executor\.vus: {vus} is out of range"):
            plan_from_mapping(data)


def test_ranges_describe_themselves_in_their_units() -> None:
    assert str(Range(1, 50_000, Unit.COUNT)) == "1..50000"
    assert str(Range(10, 86_400, Unit.SECONDS)) == "10s..24h"
    assert str(Range(0.1, 100_000, Unit.PER_SECOND)) == "0.1/s..100000/s"
    assert float("nan") not in Range(0, 1, Unit.COUNT)
