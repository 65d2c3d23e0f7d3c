"""Improvement figures, the cost model and the delivery summary."""

from __future__ import annotations

import numpy as np
import pytest

from redline.compare import (
    ComparedRun,
    Comparison,
    CostModel,
    ImprovementFigures,
    Verdict,
    compare_runs,
    format_quantity,
    format_share,
)
from redline.errors import ConfigError
from tests.unit.compare.synthetic import synthetic_series

SIGNIFICANT = Verdict.IMPROVED


def test_the_example_figures_and_paragraph() -> None:
    figures = ImprovementFigures(
        p95_us=(2_100_000.0, 672_000.0),
        p95_verdict=SIGNIFICANT,
        rps=(1_190.0, 4_105.5),
        rps_verdict=SIGNIFICANT,
        cpu_s_per_request=(0.010, 0.006),
    )
    assert figures.to_dict() == {
        "response_time_improvement": "68%",
        "throughput_increase": "245%",
        "resource_reduction": "40%",
        "cost_savings": None,
    }
    assert figures.summary() == (
        "Improved response time by 68% (2.1s to 0.67s), increased throughput by 245% "
        "(1.2k to 4.1k RPS), reduced resource usage by 40%."
    )


def test_a_worse_candidate_says_worsened_and_noise_says_so() -> None:
    figures = ImprovementFigures(
        p95_us=(5_800.0, 6_500.0),
        p95_verdict=Verdict.REGRESSED,
        rps=(1_400.0, 1_390.0),
        rps_verdict=Verdict.NO_CHANGE,
        cpu_s_per_request=(0.001, 0.00105),
    )
    assert figures.to_dict()["response_time_improvement"] == "-12%"
    assert figures.to_dict()["throughput_increase"] == "-0.7%"
    assert figures.summary() == (
        "Worsened response time by 12% (5.8ms to 6.5ms), reduced throughput by 0.7% "
        "(1.4k to 1.4k RPS, within noise), increased resource usage by 5.0%."
    )


def test_without_figures_every_value_is_null() -> None:
    empty = ImprovementFigures(p95_us=None, p95_verdict=None, rps=None, rps_verdict=None)
    assert set(empty.to_dict().values()) == {None}
    assert empty.summary() == "No figures to compare."


def test_cost_savings_count_instances_at_the_target_load() -> None:
    model = CostModel(target_rps=5_000, cores_per_instance=4, max_utilization=0.5)
    # 5,000 req/s x 2 ms CPU = 10 cores -> 5 instances; x 1.2 ms = 6 cores -> 3.
    assert model.instances(0.002) == 5 and model.instances(0.0012) == 3
    figures = ImprovementFigures(
        p95_us=None,
        p95_verdict=None,
        rps=None,
        rps_verdict=None,
        cpu_s_per_request=(0.002, 0.0012),
        instances=(5, 3),
        target_rps=5_000,
    )
    assert figures.to_dict()["cost_savings"] == "40%"
    assert figures.summary() == (
        "Reduced resource usage by 40%, cut cost by 40% (5 to 3 instances at 5.0k RPS)."
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"target_rps": 0.0, "cores_per_instance": 4}, "target_rps must be a positive number"),
        ({"target_rps": 10, "cores_per_instance": -1}, "cores_per_instance must be a positive"),
        (
            {"target_rps": 10, "cores_per_instance": 4, "max_utilization": 1.5},
            r"max_utilization must be in \(0, 1\], got 1.5",
        ),
    ],
)
def test_a_bad_cost_model_is_refused(fields: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CostModel(**fields)


def test_compare_runs_fills_resources_and_cost_from_server_cpu() -> None:
    rng = np.random.default_rng(1)
    base_series, cand_series = synthetic_series(rng), synthetic_series(rng)
    base = ComparedRun(series=base_series, server_cpu_s=0.002 * base_series.total().count)
    cand = ComparedRun(series=cand_series, server_cpu_s=0.0012 * cand_series.total().count)
    model = CostModel(target_rps=5_000, cores_per_instance=4, max_utilization=0.5)
    result = compare_runs(base, cand, resamples=200, cost_model=model)
    assert isinstance(result, Comparison)
    figures = result.to_dict()["improvement"]
    assert figures == {
        "response_time_improvement": result.improvement.to_dict()["response_time_improvement"],
        "throughput_increase": result.improvement.to_dict()["throughput_increase"],
        "resource_reduction": "40%",
        "cost_savings": "40%",
    }
    no_cpu = compare_runs(ComparedRun(series=base_series), cand, resamples=200)
    assert isinstance(no_cpu, Comparison)
    assert no_cpu.improvement.to_dict()["resource_reduction"] is None
    assert "resource" not in no_cpu.summary()


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.68, "68%"), (2.455, "246%"), (0.043, "4.3%"), (-0.12, "-12%"), (0.0, "0.0%")],
)
def test_shares_are_percentages(value: float, text: str) -> None:
    assert format_share(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(4_105.5, "4.1k"), (850.0, "850"), (12_345.0, "12.3k"), (1_500_000.0, "1.5M"), (0.5, "0.50")],
)
def test_quantities_have_suffixes(value: float, text: str) -> None:
    assert format_quantity(value) == text
