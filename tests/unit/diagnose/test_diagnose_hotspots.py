"""Hotspot findings from the server's profiles per steady window."""

from __future__ import annotations

from typing import Any

from redline.diagnose import Category, diagnose
from redline.diagnose._rule_hotspots import hotspots
from redline.diagnose._timeline import Timeline
from tests.unit.diagnose.diagnose_docs import Sec, document

APP = "<module> (app.py:1);handle (app.py:10)"


def window(level: float, stacks: str, start_s: float) -> dict[str, Any]:
    return {"name": f"{level:g} VUs", "start_s": start_s, "end_s": start_s + 3, "level": level,
            "unit": "VUs", "method": "py-spy", "partial": False, "notes": [],
            "samples_unit": "samples", "stacks": stacks, "profiler_cpu_s": 0.1,
            "error": None}  # fmt: skip


def with_profiles(*windows: dict[str, Any]) -> Timeline:
    doc = document([Sec(4, 100, 2000) for _ in range(6)])
    doc["profiles"] = list(windows)
    return Timeline.of(doc)


def test_the_top_function_at_the_highest_load_is_a_hotspot_with_its_line() -> None:
    timeline = with_profiles(
        window(4, f"{APP};render_invoice (billing.py:88) 30\n{APP} 70\n", 0),
        window(16, f"{APP};render_invoice (billing.py:88) 62\n{APP} 38\n", 4),
    )
    found = {f.rule: f for f in hotspots(timeline)}
    spot = found["hotspot"]
    assert spot.title == "62% of server CPU in render_invoice at billing.py:88 at 16 VUs"
    assert spot.category is Category.CPU
    assert spot.location == "billing.py:88"
    grows = found["grows-with-load"]
    assert grows.title.startswith("render_invoice at billing.py:88 takes a growing share")
    assert "30% at 4 VUs → 62% at 16 VUs" in grows.title


def test_a_flat_profile_has_no_hotspot_and_no_growth() -> None:
    spread = "".join(f"{APP};f{i} (x.py:{i}) 10\n" for i in range(10))
    assert hotspots(with_profiles(window(4, spread, 0), window(16, spread, 4))) == []


def test_no_profiles_no_findings_and_the_rule_runs_in_diagnose() -> None:
    assert hotspots(with_profiles()) == []
    doc = document([Sec(4, 100, 2000) for _ in range(6)])
    doc["profiles"] = [window(8, f"{APP};hot (h.py:3) 90\n{APP} 10\n", 0)]
    assert [f.rule for f in diagnose(doc).findings] == ["hotspot"]
