"""The knee: the load where latency bends, from a stepped run's held levels (Kneedle)."""

from __future__ import annotations

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._knee import find_knee
from redline.diagnose._load_points import load_points
from redline.diagnose._timeline import Timeline
from redline.errors import ConfigError
from redline.units import format_latency

__all__ = ["knee"]

#: Kneedle needs at least this many levels to see a bend.
MIN_LEVELS = 3


def knee(timeline: Timeline) -> list[Finding]:
    """Where p95 bends upward against load, when the run held enough levels."""
    try:
        points = load_points(timeline.document)
    except ConfigError:
        return []  # not a stepped run
    if len(points) < MIN_LEVELS:
        return []
    found = find_knee([p.level for p in points], [float(p.p95_us) for p in points])
    if found is None:
        return []
    unit = points[0].unit
    levels = ", ".join(f"{p.level:g}: {format_latency(p.p95_us)}" for p in points)
    return [
        Finding(
            rule="knee",
            category=Category.CAPACITY,
            severity=Severity.INFO,
            confidence=0.7,
            title=f"Latency bends at {found.x:g} {unit} (p95 {format_latency(found.y)})",
            evidence=(Evidence(f"p95 by level ({unit})", levels, "held levels of the run"),),
            location=None,
            recommendation=f"keep the load below {found.x:g} {unit} per instance, or remove "
            "the bottleneck the other findings name",
            expected_effect="p95 stays near the values below the knee",
        )
    ]
