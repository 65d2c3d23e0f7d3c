"""Hotspots from the server's profiles under load (``redline run --profile``).

Two findings, from the CPU profile of each steady window:

- **hotspot**: the function with the most self time at the highest load, when
  it holds a real share of the server's samples ("62 % of server CPU in
  render_invoice at app/billing.py:88");
- **grows with load**: the function whose share grows most from the lowest
  load to the highest (contention, GC, lock waits show this way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._timeline import Timeline
from redline.probes import Frame, StackSamples, WindowProfile, share_changes

__all__ = ["HOTSPOT_SHARE", "hotspots"]

#: A function with at least this share of the samples at the highest load is a hotspot.
HOTSPOT_SHARE = 0.2
#: A function whose share grows by at least this many points between the loads is reported.
GROWTH_POINTS = 0.1
SOURCE = "py-spy profile of the server"


def hotspots(timeline: Timeline) -> list[Finding]:
    """The hotspot and grows-with-load findings, when the run has profiles."""
    windows = [w for w in timeline.document.get("profiles") or [] if w.get("stacks")]
    if not windows:
        return []
    by_load = sorted(windows, key=lambda w: (float(w.get("level", 0)), float(w["start_s"])))
    highest = by_load[-1]
    samples = WindowProfile.samples_of(highest)
    findings = []
    top = samples.hotspots(1)
    if top and top[0].self_share >= HOTSPOT_SHARE:
        findings.append(_hotspot(top[0].frame, top[0].self_share, highest, samples))
    if len(by_load) >= 2 and by_load[0]["level"] != highest["level"]:
        grown = _growth(by_load[0], highest)
        if grown is not None:
            findings.append(grown)
    return findings


def _hotspot(
    frame: Frame, share: float, window: Mapping[str, Any], samples: StackSamples
) -> Finding:
    where = _where(window)
    return Finding(
        rule="hotspot",
        category=Category.CPU,
        severity=Severity.MEDIUM,
        confidence=0.8 if samples.total >= 200 else 0.55,
        title=f"{share:.0%} of server CPU in {frame.function} at {frame.short_location} {where}",
        evidence=(
            Evidence(
                "self share of the samples",
                f"{share:.1%} of {samples.total:,.0f} {samples.unit} {where}",
                SOURCE,
            ),
        ),
        location=frame.short_location,
        recommendation=f"make {frame.function} cheaper (fewer calls, less work per call, "
        "or cache its result); it is where the server's CPU goes under load",
        expected_effect=f"up to {share:.0%} less CPU per request at this load",
    )


def _growth(low: Mapping[str, Any], high: Mapping[str, Any]) -> Finding | None:
    changes = share_changes(WindowProfile.samples_of(low), WindowProfile.samples_of(high))
    if not changes or changes[0].growth < GROWTH_POINTS:
        return None
    change = changes[0]
    frame = change.frame
    return Finding(
        rule="grows-with-load",
        category=Category.CPU,
        severity=Severity.MEDIUM,
        confidence=0.7,
        title=f"{frame.function} at {frame.short_location} takes a growing share as load rises: "
        f"{change.before:.0%} {_where(low)} → {change.after:.0%} {_where(high)}",
        evidence=(
            Evidence(
                "self share, lowest → highest load",
                f"{change.before:.1%} → {change.after:.1%}",
                SOURCE,
            ),
        ),
        location=frame.short_location,
        recommendation=f"look at what {frame.function} waits on or repeats per request as "
        "load grows (a lock, garbage collection, a list that grows, a retry loop)",
        expected_effect="throughput that keeps rising with load instead of bending",
    )


def _where(window: Mapping[str, Any]) -> str:
    return f"at {float(window.get('level', 0)):g} {window.get('unit', 'VUs')}"
