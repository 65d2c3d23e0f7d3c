"""ComparedRun.from_results reads the server's CPU seconds from the results' resources."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from redline.compare import ComparedRun
from tests.unit.compare.synthetic import synthetic_series

PLAN = {
    "name": "checkout",
    "requests": [{"name": "a", "method": "GET", "url": "http://127.0.0.1:1/a"}],
    "executor": {"type": "constant-vus", "vus": 8, "duration": 20.0},
}


def results(
    resources: dict[str, Any] | None, phases: list[dict[str, Any]] | None
) -> dict[str, Any]:
    series = synthetic_series(np.random.default_rng(5), seconds=20)
    return {
        "plan": PLAN,
        "analysis": {"phases": phases} if phases else None,
        "series": series.to_dict(),
        "resources": resources,
    }


def server(seconds: range) -> dict[str, Any]:
    samples = [{"second": s, "cpu_user_s": 0.3, "cpu_system_s": 0.1} for s in seconds]
    return {"interval_s": 1.0, "host": [], "server": samples, "notes": []}


def test_server_cpu_over_the_steady_span_only() -> None:
    hold = [{"kind": "hold", "start_s": 0.0, "end_s": 20.0, "warmup_s": 5.0}]
    run = ComparedRun.from_results(results(server(range(20)), hold))
    assert run.server_cpu_s == pytest.approx(15 * 0.4)  # seconds 5..19


def test_without_phases_the_same_seconds_as_the_comparison() -> None:
    run = ComparedRun.from_results(results(server(range(20)), None))
    seconds = sum(len(s) for s in run.steady_strata())
    assert run.server_cpu_s == pytest.approx(seconds * 0.4)


def test_no_server_sampled_is_none_and_a_given_figure_wins() -> None:
    assert ComparedRun.from_results(results(None, None)).server_cpu_s is None
    no_server = {"interval_s": 1.0, "host": [{"second": 0}], "server": [], "notes": []}
    assert ComparedRun.from_results(results(no_server, None)).server_cpu_s is None
    given = ComparedRun.from_results(results(server(range(20)), None), server_cpu_s=1.5)
    assert given.server_cpu_s == 1.5
