"""``diagnose``: a results document in, ranked Findings out.

Each rule reads the run's :class:`~redline.diagnose._timeline.Timeline` and
returns the findings it sees. When the generator itself was saturated the run
is **inconclusive**: the rules that judge the target by its latency are not
run, because that latency was the generator's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redline.diagnose._finding import Finding, ranked
from redline.diagnose._rule_cache import (
    cache_connection_limit,
    cache_cpu_bound,
    cache_evictions,
    cache_hit_ratio,
    cache_not_read,
    cache_persistence_fork,
    cache_slow_commands,
)
from redline.diagnose._rule_cpu import cpu_bound
from redline.diagnose._rule_errors import error_onset
from redline.diagnose._rule_hotspots import hotspots
from redline.diagnose._rule_knee import knee
from redline.diagnose._rule_memory import memory_growth
from redline.diagnose._rule_queries import database_time, n_plus_one
from redline.diagnose._rule_run import generator_saturated, server_exited
from redline.diagnose._rule_sockets import sockets
from redline.diagnose._rule_waiting import pool_exhaustion, waiting
from redline.diagnose._timeline import Timeline

__all__ = ["LATENCY_RULES", "RULES", "Diagnosis", "diagnose"]

Rule = Callable[[Timeline], list[Finding]]

#: Rules that judge the target by its latency: silent on an inconclusive run.
LATENCY_RULES: tuple[Rule, ...] = (cpu_bound, pool_exhaustion, waiting, knee, cache_cpu_bound)
#: Every rule, latency rules included.
RULES: tuple[Rule, ...] = (
    generator_saturated,
    server_exited,
    *LATENCY_RULES,
    hotspots,
    memory_growth,
    n_plus_one,
    database_time,
    cache_hit_ratio,
    cache_evictions,
    cache_slow_commands,
    cache_persistence_fork,
    cache_connection_limit,
    cache_not_read,
    error_onset,
    sockets,
)


@dataclass(frozen=True)
class Diagnosis:
    """A run's findings, worst first, and what the diagnosis could not look at."""

    run_id: str
    findings: list[Finding]
    #: True when the generator was the limit: latency says nothing about the target.
    inconclusive: bool
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """For a results file and ``--json``."""
        return {
            "run_id": self.run_id,
            "inconclusive": self.inconclusive,
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }


def diagnose(document: Mapping[str, Any]) -> Diagnosis:
    """The findings of a results document, ranked."""
    timeline = Timeline.of(document)
    inconclusive = bool(timeline.self_check.get("generator_bound"))
    rules = [r for r in RULES if not (inconclusive and r in LATENCY_RULES)]
    findings = [finding for rule in rules for finding in rule(timeline)]
    notes = _notes(timeline, inconclusive)
    return Diagnosis(timeline.run_id, ranked(findings), inconclusive, notes)


def _notes(timeline: Timeline, inconclusive: bool) -> list[str]:
    notes = []
    if inconclusive:
        notes.append("the generator was saturated: CPU, waiting, pool and knee rules were not run")
    if not timeline.has_server:
        notes.append(
            "the server was not sampled: CPU, waiting, pool and memory rules need "
            "--server-pid PID or --server-cmd CMD"
        )
    if len(timeline.measured) < 3:
        notes.append("fewer than 3 seconds with requests: latency rules had too little to judge")
    return notes
