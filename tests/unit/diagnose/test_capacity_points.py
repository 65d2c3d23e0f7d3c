"""Load points from a stored results document: held levels, mean response, Little's law."""

from __future__ import annotations

from typing import Any

import pytest

from redline.diagnose import load_points
from redline.errors import ConfigError


def phase(level: float, rps: float, p95_us: int, start_s: float, *, unit: str = "VUs",
          kind: str = "hold") -> dict[str, Any]:  # fmt: skip
    return {
        "name": f"step {level:g}", "kind": kind, "start_s": start_s, "end_s": start_s + 10,
        "level": level, "unit": unit, "warmup_s": 2.0, "requests": [], "count": int(rps * 8),
        "rps": rps, "error_rate": 0.0, "p50_us": p95_us // 2, "p95_us": p95_us,
        "p99_us": p95_us, "covered_end_s": start_s + 10,
    }  # fmt: skip


def second(at: int, count: int, mean_us: float) -> dict[str, Any]:
    return {"endpoint": "/", "second": at, "response": {"count": count, "mean": mean_us}}


def document(
    phases: list[dict[str, Any]], rows: list[dict[str, Any]], **plan: Any
) -> dict[str, Any]:
    return {
        "run": {"id": "r1"},
        "plan": plan,
        "analysis": {"phases": phases},
        "series": {"intervals": rows},
    }


def test_closed_levels_take_their_vus_as_concurrency_and_are_checked_by_littles_law() -> None:
    # 10 VUs, 100 ms think, 80 req/s at 25 ms: 80 x 0.125 = 10, consistent.
    # 40 VUs at 100 req/s and 25 ms: 100 x 0.125 = 12.5 busy: broken.
    rows = [second(s, 80, 25_000.0) for s in range(2, 10)]
    rows += [second(s, 100, 25_000.0) for s in range(12, 20)]
    rows.append(second(1, 5, 900_000.0))  # warm-up: left out
    doc = document(
        [phase(10, 80, 30_000, 0.0), phase(40, 100, 30_000, 10.0),
         phase(40, 90, 30_000, 20.0, kind="ramp-up")],
        rows,
        think_time=0.1,
    )  # fmt: skip
    first, second_ = load_points(doc)
    assert first.concurrency == 10
    assert first.mean_response_s == pytest.approx(0.025)
    assert first.little is not None and not first.little.broken
    assert second_.little is not None and second_.little.broken
    assert second_.little.implied_vus == pytest.approx(12.5)


def test_rate_levels_take_littles_law_concurrency() -> None:
    rows = [second(s, 200, 50_000.0) for s in range(2, 10)]
    (point,) = load_points(document([phase(200, 200, 60_000, 0.0, unit="/s")], rows))
    assert point.concurrency == pytest.approx(10.0)  # 200/s x 50 ms
    assert point.little is None


def test_a_think_time_model_is_read_from_the_stored_plan() -> None:
    rows = [second(s, 80, 25_000.0) for s in range(2, 10)]
    doc = document([phase(10, 80, 30_000, 0.0)], rows,
                   think_time={"dist": "uniform", "min": 0.05, "max": 0.15})  # fmt: skip
    (point,) = load_points(doc)
    assert point.little is not None
    assert point.little.implied_vus == pytest.approx(10.0)


def test_a_run_without_held_levels_is_refused() -> None:
    doc = document([phase(10, 80, 30_000, 0.0, kind="ramp-up")], [])
    with pytest.raises(ConfigError, match=r"run 'r1': has no held load levels"):
        load_points(doc)
    with pytest.raises(ConfigError, match=r"has no held load levels"):
        load_points({"run": {"id": "r1"}, "analysis": None})
