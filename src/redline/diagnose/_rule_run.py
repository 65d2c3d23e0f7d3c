"""The run itself: a saturated generator, or a server that went away.

A generator that could not keep up (its CPU, loop lag or send lag: the
engine's self-check) measured itself, not the target: the run is
**inconclusive** and rules that read latency stay silent. A server that
exited during the run is the worst finding of all.
"""

from __future__ import annotations

import re

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._timeline import Timeline

__all__ = ["generator_saturated", "server_exited"]

#: The sampler's note when the server exits: "server process 1234 exited at 12 s".
SOURCE = "the generator's own figures (self-check)"
_EXITED = re.compile(r"^server process (\d+) exited at (\d+) s$")


def generator_saturated(timeline: Timeline) -> list[Finding]:
    """The inconclusive-run finding, when the self-check says the generator was the limit."""
    check = timeline.self_check
    if not check.get("generator_bound"):
        return []
    reasons = [str(r) for r in check.get("reasons") or []] or ["generator-bound"]
    return [
        Finding(
            rule="generator-saturation",
            category=Category.CAPACITY,
            severity=Severity.CRITICAL,
            confidence=0.9,
            title="The load generator was saturated: this run is inconclusive about the target",
            evidence=tuple(Evidence("self-check", r, SOURCE) for r in reasons),
            location="the redline generator",
            recommendation="give the generator room: more workers (--workers), a bigger or "
            "separate machine, or less think-time-free load per worker; then run again",
            expected_effect="latency that is the target's, so the other rules can judge it",
        )
    ]


def server_exited(timeline: Timeline) -> list[Finding]:
    """The server exited during the run (from the sampler's notes)."""
    for note in timeline.resources.get("notes") or []:
        match = _EXITED.match(str(note))
        if match is None:
            continue
        pid, second = match.groups()
        return [
            Finding(
                rule="server-exited",
                category=Category.CAPACITY,
                severity=Severity.CRITICAL,
                confidence=1.0,
                title=f"The server (process {pid}) exited during the run, at {second} s",
                evidence=(Evidence("sampler note", str(note), "resource sampler"),),
                location=f"server process {pid}",
                recommendation="read the server's output and logs at that second (a crash, "
                "the OOM killer, a supervisor restart)",
                expected_effect="a server that stays up under this load",
            )
        ]
    return []
