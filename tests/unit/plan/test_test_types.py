"""Test types: the stages and phases each derives, and their input bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.plan import (
    PhaseKind,
    Plan,
    RampingArrivalRateConfig,
    RampingVusConfig,
    plan_from_flags,
    plan_from_mapping,
)
from redline.plan import TestConfig as TypeConfig
from redline.plan import TestType as Kind

URL = "http://127.0.0.1:8080/"


def plan_with(test: dict[str, object], **extra: object) -> Plan:
    return Plan.model_validate({"requests": [{"name": "a", "url": URL}], "test": test, **extra})


def levels(plan: Plan) -> list[float]:
    executor = plan.executor
    if isinstance(executor, RampingVusConfig):
        return [float(s.target) for s in executor.stages]
    assert isinstance(executor, RampingArrivalRateConfig)
    return [s.target_per_s for s in executor.stages]


@pytest.mark.parametrize("test_type", list(Kind))
@pytest.mark.parametrize("target", [10, "250/s"])
def test_every_type_derives_stages_that_fill_its_duration(
    test_type: Kind, target: int | str
) -> None:
    plan = plan_with({"type": test_type.value, "target": target, "duration": "60s", "repeat": 2})
    expected_s = 2 * 60 + 2 if test_type is Kind.BASELINE else 60
    assert plan.planned_duration_s() == pytest.approx(expected_s)
    rate = isinstance(target, str)
    assert isinstance(plan.executor, RampingArrivalRateConfig if rate else RampingVusConfig)
    phases = plan.phases()
    assert phases[0].start_s == 0
    assert phases[-1].end_s == pytest.approx(expected_s)
    for before, after in zip(phases, phases[1:], strict=False):
        assert before.end_s <= after.start_s + 1e-9
        assert before.start_s < before.end_s


def test_load_ramps_up_holds_and_ramps_down() -> None:
    plan = plan_with({"type": "load", "target": 50, "duration": "100s"})
    assert [(s.duration_s, s.target) for s in plan.executor.stages] == [  # type: ignore[union-attr]
        (10.0, 50),
        (80.0, 50),
        (10.0, 0),
    ]
    kinds = [p.kind for p in plan.phases()]
    assert kinds == [PhaseKind.RAMP_UP, PhaseKind.HOLD, PhaseKind.RAMP_DOWN]
    hold = plan.phases()[1]
    assert hold.warmup_s == pytest.approx(16.0)  # 20 % of the hold is warm-up


def test_stress_steps_go_beyond_the_target_and_each_hold_is_judged() -> None:
    plan = plan_with({"type": "stress", "target": 100, "duration": "100s", "steps": 4})
    assert levels(plan) == [50, 50, 100, 100, 150, 150, 200, 200]
    judged = plan.judged_windows()
    assert [w.name for w in judged] == ["step 1", "step 2", "step 3", "step 4"]
    assert [w.level for w in judged] == [50, 100, 150, 200]
    # Each judged window is its step's hold after warm-up: 2.5 s ramp, 22.5 s hold.
    assert judged[0].start_s == pytest.approx(2.5 + 4.5)
    assert judged[0].end_s == pytest.approx(25.0)


def test_scalability_steps_climb_to_the_target_and_are_not_judged() -> None:
    plan = plan_with({"type": "scalability", "target": "1000/s", "steps": 4, "duration": "80s"})
    assert levels(plan)[1::2] == [250, 500, 750, 1000]
    assert plan.judged_windows() == []


def test_spike_jumps_to_the_factor_and_back() -> None:
    plan = plan_with({"type": "spike", "target": 10, "duration": "100s", "spike_factor": 5})
    executor = plan.executor
    assert isinstance(executor, RampingVusConfig)
    assert executor.start_vus == 10
    assert [(s.duration_s, s.target) for s in executor.stages] == [
        (30.0, 10),
        (1.0, 50),
        (19.0, 50),
        (0.0, 10),
        (50.0, 10),
    ]
    names = [p.name for p in plan.phases()]
    assert names == ["before", "rise", "spike", "recovery"]
    assert plan.phases()[-1].warmup_s == 0  # recovery counts from the drop


def test_breakpoint_is_one_ramp_judged_in_windows() -> None:
    plan = plan_with({"type": "breakpoint", "target": "1000/s", "duration": "100s", "window": 10})
    executor = plan.executor
    assert isinstance(executor, RampingArrivalRateConfig)
    assert executor.start_rate_per_s == pytest.approx(50)
    windows = plan.judged_windows()
    assert len(windows) == 10
    assert windows[0].level == pytest.approx(50 + 950 * 5 / 100)
    assert windows[-1].end_s == 100


def test_baseline_repeats_with_pauses() -> None:
    plan = plan_with({"type": "baseline", "target": 4, "duration": "10s", "repeat": 3})
    phases = plan.phases()
    assert [p.name for p in phases] == ["repeat 1", "pause 1", "repeat 2", "pause 2", "repeat 3"]
    assert [p.level for p in phases] == [4, 0, 4, 0, 4]


def test_explicit_executor_wins_over_the_type() -> None:
    plan = plan_with(
        {"type": "load", "target": 50},
        executor={"type": "constant-vus", "vus": 3, "duration": "20s"},
    )
    assert plan.executor.type == "constant-vus"
    assert [p.name for p in plan.phases()] == ["steady"]
    assert plan.judged_windows() == []


def test_a_plan_without_a_type_still_has_phases_per_stage() -> None:
    plan = Plan.model_validate(
        {
            "requests": [{"name": "a", "url": URL}],
            "executor": {
                "type": "ramping-vus",
                "stages": [
                    {"duration": "5s", "target": 10},
                    {"duration": "10s", "target": 10},
                    {"duration": "5s", "target": 0},
                ],
            },
        }
    )
    assert [p.kind for p in plan.phases()] == [
        PhaseKind.RAMP_UP,
        PhaseKind.HOLD,
        PhaseKind.RAMP_DOWN,
    ]


@pytest.mark.parametrize(
    ("test", "message"),
    [
        ({"type": "flood", "target": 5}, "test.type: 'flood'"),
        ({"type": "load", "target": 0}, "test.target: 0 is out of range; allowed 1..50000"),
        ({"type": "load", "target": "5 users"}, "test.target: '5 users' is not a target"),
        ({"type": "load", "target": "0/s"}, "test.target: '0/s' is out of range"),
        ({"type": "load", "target": 5, "duration": "5s"}, "allowed 10s..24h"),
        (
            {"type": "stress", "target": 5, "steps": 1},
            "test.steps: 1 is out of range; allowed 2..50",
        ),
        ({"type": "spike", "target": 5, "spike_factor": 1}, "allowed 1.1..100"),
        ({"type": "baseline", "target": 5, "repeat": 0}, "allowed 1..20"),
        ({"type": "stress", "target": 5, "error_limit": "150%"}, "allowed 0..1"),
        ({"type": "spike", "target": 10_000}, "peak at 100000, above the most allowed (50000)"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(test: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_from_mapping({"requests": [{"name": "a", "url": URL}], "test": test})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@given(st.integers(min_value=1, max_value=2_000), st.sampled_from(list(Kind)))
def test_every_vu_level_is_whole_and_positive_while_loading(target: int, kind: Kind) -> None:
    config = TypeConfig.model_validate({"type": kind.value, "target": target, "repeat": 2})
    for _, level in config.shape().stages:
        assert level == int(level)
        assert level >= 0


def test_flags_build_the_test_and_name_the_flag_in_errors() -> None:
    plan = plan_from_flags(URL, test={"type": "stress", "target": "20", "steps": 3})
    assert plan.test is not None
    assert plan.test.type is Kind.STRESS
    assert plan.test.target == 20
    with pytest.raises(ConfigError, match=r"^--steps: 3 applies only with --type"):
        plan_from_flags(URL, test={"type": None, "target": None, "steps": 3})
    with pytest.raises(ConfigError, match=r"^--vus 5 and --type: choose one"):
        plan_from_flags(URL, vus=5, test={"type": "load", "target": "5"})
    with pytest.raises(ConfigError, match=r"^--target: missing"):
        plan_from_flags(URL, test={"type": "load", "target": None})
    with pytest.raises(ConfigError, match=r"^--target: 0 is out of range"):
        plan_from_flags(URL, test={"type": "load", "target": "0"})


def test_volume_body_size_fills_bodies_of_requests_that_carry_one() -> None:
    plan = Plan.model_validate(
        {
            "requests": [
                {"name": "upload", "method": "POST", "url": URL},
                {"name": "own", "method": "PUT", "url": URL, "body": "mine"},
                {"name": "read", "url": URL},
            ],
            "test": {"type": "volume", "target": 4, "body_size": "64KiB"},
        }
    )
    bodies = {r.name: r.body for r in plan.requests}
    assert bodies["upload"] is not None
    assert len(bodies["upload"].encode()) == 65536
    assert bodies["upload"].startswith('{"pad":"x')
    assert bodies["own"] == "mine"
    assert bodies["read"] is None


@pytest.mark.parametrize(
    ("test", "message"),
    [
        ({"type": "load", "target": 4, "body_size": 100}, "applies only to a volume test"),
        ({"type": "volume", "target": 4, "body_size": "2GB"}, "allowed 16..104857600"),
        ({"type": "volume", "target": 4, "body_size": 8}, "allowed 16..104857600"),
        ({"type": "volume", "target": 4, "body_size": "big"}, "'big' is not a size"),
    ],
)
def test_bad_body_sizes(test: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match="test.body_size") as caught:
        plan_from_mapping({"requests": [{"name": "a", "method": "POST", "url": URL}], "test": test})
    assert message in str(caught.value)


def test_body_size_needs_a_request_that_can_carry_it() -> None:
    with pytest.raises(ConfigError, match="no request can carry it"):
        plan_from_mapping(
            {
                "requests": [{"name": "a", "url": URL}],
                "test": {"type": "volume", "target": 4, "body_size": 100},
            }
        )


def test_a_stage_of_negative_duration_is_out_of_range() -> None:
    with pytest.raises(ConfigError) as caught:
        plan_from_mapping(
            {
                "requests": [{"name": "a", "url": URL}],
                "executor": {
                    "type": "ramping-vus",
                    "stages": [{"duration": "-5s", "target": 3}, {"duration": "20s", "target": 3}],
                },
            }
        )
    assert str(caught.value) == (
        "executor.stages[0].duration: '-5s' is out of range; allowed 0s..24h"
    )


def test_volume_rows_make_a_row_variable_over_the_data_set() -> None:
    plan = Plan.model_validate(
        {
            "requests": [{"name": "item", "url": "http://127.0.0.1:8080/items/${row}"}],
            "test": {"type": "volume", "target": 4, "rows": 1_000_000},
        }
    )
    (row,) = [g for g in plan.generate if g.name == "row"]
    assert (row.kind.value, row.min, row.max) == ("int", 0, 999_999)
    with pytest.raises(ConfigError, match="test.rows: 5 applies only to a volume test"):
        plan_from_mapping(
            {
                "requests": [{"name": "a", "url": URL}],
                "test": {"type": "load", "target": 4, "rows": 5},
            }
        )
    with pytest.raises(ConfigError, match=r"test.rows: 0 is out of range; allowed 1..1000000000"):
        plan_from_mapping(
            {
                "requests": [{"name": "a", "url": URL}],
                "test": {"type": "volume", "target": 4, "rows": 0},
            }
        )
    with pytest.raises(ConfigError, match=r"which \[\[generate\]\] already names"):
        plan_from_mapping(
            {
                "requests": [{"name": "a", "url": URL}],
                "generate": [{"name": "row", "kind": "uuid"}],
                "test": {"type": "volume", "target": 4, "rows": 5},
            }
        )
