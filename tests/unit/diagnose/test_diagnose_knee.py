"""The knee finding: where p95 bends against the held levels of a stepped run."""

from __future__ import annotations

from typing import Any

from redline.diagnose import Category, Severity
from redline.diagnose._rule_knee import knee
from redline.diagnose._timeline import Timeline
from tests.unit.diagnose.diagnose_docs import Sec, document


def held(level: int, p95_us: int, start_s: float) -> dict[str, Any]:
    return {
        "name": f"{level} VUs", "kind": "hold", "level": float(level), "unit": "VUs",
        "start_s": start_s, "end_s": start_s + 4, "warmup_s": 1.0, "count": 400,
        "rps": 100.0, "p95_us": p95_us, "error_rate": 0.0,
    }  # fmt: skip


def stepped_run(p95s: list[int]) -> Timeline:
    phases = [held(4 * (i + 1), p95, 4.0 * i) for i, p95 in enumerate(p95s)]
    seconds = [Sec(4, 100, 2000) for _ in range(4 * len(p95s))]
    return Timeline.of(document(seconds, phases=phases))


def test_p95_that_bends_upward_has_a_knee_finding() -> None:
    [finding] = knee(stepped_run([2000, 2100, 2200, 2400, 6000, 20000]))
    assert finding.category is Category.CAPACITY
    assert finding.severity is Severity.INFO
    assert finding.title.startswith("Latency bends at 20 VUs (p95 6.00 ms)")
    assert "4: 2.00 ms" in finding.evidence[0].value


def test_a_straight_line_has_none_and_a_run_without_levels_neither() -> None:
    assert knee(stepped_run([2000, 4000, 6000, 8000, 10000, 12000])) == []
    assert knee(Timeline.of(document([Sec(4, 100, 2000) for _ in range(6)]))) == []
