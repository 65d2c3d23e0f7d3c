"""The profiles of a run in the terminal: a table per window, then what grows with load."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from redline.report import render_profiles


def window(level: float, stacks: str, **extra: Any) -> dict[str, Any]:
    return {"name": f"step {level:g}", "start_s": level, "end_s": level + 2.0, "level": level,
            "unit": "VUs", "method": "py-spy", "partial": False, "notes": [],
            "samples_unit": "samples", "stacks": stacks, "profiler_cpu_s": 0.1,
            "error": None, **extra}  # fmt: skip


def rendered(profiles: list[dict[str, Any]]) -> str:
    console = Console(record=True, width=160)
    render_profiles(profiles, console)
    return console.export_text()


def test_each_window_then_the_differential() -> None:
    text = rendered([
        window(4, "main (app.py:1);render (app.py:9) 30\nmain (app.py:1) 70\n"),
        window(16, "main (app.py:1);render (app.py:9) 62\nmain (app.py:1) 38\n"),
    ])  # fmt: skip
    assert "profile of step 4 (4 VUs, 4–6s): 100 samples by py-spy" in text
    assert "the profiler used 0.10 s of CPU (5.0% of a core)" in text
    assert "what grows with load: self share at 4 → 16 VUs" in text
    grown = next(line for line in text.splitlines() if "+32.0 pts" in line)
    assert "render" in grown and "app.py:9" in grown


def test_a_window_that_failed_says_why_and_one_window_has_no_differential() -> None:
    text = rendered([window(4, "", error="process 9 exited")])
    assert "profile of step 4 (4 VUs, 4–6s): none: process 9 exited" in text
    assert "what grows" not in text
