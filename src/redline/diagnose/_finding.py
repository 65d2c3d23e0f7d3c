"""What a diagnosis says: Findings, each with its evidence and what to do.

A :class:`Finding` names one bottleneck or risk: its category (where the time
or the trouble is), how bad it is, how sure the rule is, the figures that show
it and where each came from, where to look, and what to change with the effect
to expect. Findings are ranked by severity, then confidence.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Category", "Evidence", "Finding", "Severity", "confidence_label", "ranked"]


class Category(enum.Enum):
    """Where a finding lies (the categories of DESIGN.md)."""

    #: The server's processors.
    CPU = "cpu"
    #: The server's memory.
    MEMORY = "memory"
    #: Storage reads and writes.
    IO = "io"
    #: Sockets, ports, queues and downstream services over the network.
    NETWORK = "network"
    #: A database the server waits on.
    DATABASE = "database"
    #: A cache the server waits on.
    CACHE = "cache"
    #: Locks, pools and worker counts: how much work runs at once.
    CONCURRENCY = "concurrency"
    #: A limit or setting (file descriptors, backlog).
    CONFIGURATION = "configuration"
    #: How much load the system takes: errors, knees, the generator's own limit.
    CAPACITY = "capacity"


class Severity(enum.Enum):
    """How much a finding matters; members are in rank order, worst first."""

    #: The run itself is broken or the server failed.
    CRITICAL = "critical"
    #: The bottleneck that limits the system now.
    HIGH = "high"
    #: A limit the system is near, or a secondary bottleneck.
    MEDIUM = "medium"
    #: Worth knowing; not limiting yet.
    LOW = "low"
    #: A fact about the run (e.g. where latency bends).
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the worst severity."""
        return list(Severity).index(self)


#: Confidence at or above this is called high; at or above MEDIUM_CONFIDENCE medium.
HIGH_CONFIDENCE = 0.75
MEDIUM_CONFIDENCE = 0.5


def confidence_label(confidence: float) -> str:
    """``high``, ``medium`` or ``low`` for a confidence in 0..1."""
    if confidence >= HIGH_CONFIDENCE:
        return "high"
    return "medium" if confidence >= MEDIUM_CONFIDENCE else "low"


@dataclass(frozen=True)
class Evidence:
    """One figure behind a finding, with its unit in ``value`` and where it came from."""

    label: str
    value: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "value": self.value, "source": self.source}


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One bottleneck or risk, with its evidence and recommendation."""

    #: The rule that found it, e.g. ``cpu-bound``.
    rule: str
    category: Category
    severity: Severity
    #: How sure the rule is, 0..1.
    confidence: float
    title: str
    evidence: tuple[Evidence, ...]
    #: Where to look: a process and thread, a port, a setting; None when nowhere in particular.
    location: str | None
    recommendation: str
    #: What following the recommendation should change, in figures where they are known.
    expected_effect: str

    def to_dict(self) -> dict[str, Any]:
        """For a results file and ``--json``."""
        return {
            "rule": self.rule,
            "category": self.category.value,
            "severity": self.severity.value,
            "confidence": round(self.confidence, 2),
            "title": self.title,
            "evidence": [e.to_dict() for e in self.evidence],
            "location": self.location,
            "recommendation": self.recommendation,
            "expected_effect": self.expected_effect,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Read what :meth:`to_dict` wrote."""
        return cls(
            rule=str(data["rule"]),
            category=Category(data["category"]),
            severity=Severity(data["severity"]),
            confidence=float(data["confidence"]),
            title=str(data["title"]),
            evidence=tuple(Evidence(**e) for e in data.get("evidence") or []),
            location=data.get("location"),
            recommendation=str(data["recommendation"]),
            expected_effect=str(data["expected_effect"]),
        )


def ranked(findings: Iterable[Finding]) -> list[Finding]:
    """Worst severity first; among equals, the surer finding first (stable otherwise)."""
    return sorted(findings, key=lambda f: (f.severity.rank, -f.confidence))
