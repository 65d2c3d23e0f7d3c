"""Improvement figures and the one-paragraph delivery summary, from measured numbers only.

- **response time**: the p95 response time of every endpoint together, over
  the steady seconds: ``1 - candidate / baseline`` (68 % means 68 % less time).
- **throughput**: requests per second over the steady seconds,
  ``candidate / baseline - 1``.
- **resource reduction**: the server's CPU-seconds per request,
  ``1 - candidate / baseline``; needs each run's ``server_cpu_s`` (CPU the
  server used during the run, divided by the run's requests).
- **cost savings**: instances needed to serve a target load (a
  :class:`CostModel`) with each run's CPU per request, ``1 - candidate /
  baseline``; needs the resource figures and a cost model.

A figure that got worse is negative (``"-12%"``); one without data is None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from redline.compare._delta import Verdict
from redline.errors import ConfigError

__all__ = ["CostModel", "ImprovementFigures", "format_quantity", "format_share"]

#: Below this share a percentage keeps one decimal (``"4.3%"``); above, none (``"68%"``).
_WHOLE_PERCENT_FROM: Final = 0.095


@dataclass(frozen=True)
class CostModel:
    """How many instances a load needs: CPU per request times the target rate.

    ``instances = ceil(target_rps * cpu_s_per_request / (cores_per_instance *
    max_utilization))``, at least 1. The price per instance cancels out of the
    saving, so it is not asked for.

    Example::

        CostModel(target_rps=5_000, cores_per_instance=4)  # 4-core boxes, run at <= 70 % CPU
    """

    #: The load to provision for, requests per second.
    target_rps: float
    #: CPU cores each instance has.
    cores_per_instance: float
    #: The CPU share an instance may be run at (headroom for spikes).
    max_utilization: float = 0.7

    def __post_init__(self) -> None:
        for name in ("target_rps", "cores_per_instance"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive number, got {value!r}")
        if not 0 < self.max_utilization <= 1:
            raise ConfigError(
                f"max_utilization must be in (0, 1], got {self.max_utilization!r}",
                hint="0.7 runs instances at up to 70 % CPU",
            )

    def instances(self, cpu_s_per_request: float) -> int:
        """Instances needed at the target load, at least 1."""
        cores = self.target_rps * cpu_s_per_request
        return max(1, math.ceil(cores / (self.cores_per_instance * self.max_utilization)))


@dataclass(frozen=True)
class ImprovementFigures:
    """The measured figures behind the improvement claims (baseline, candidate)."""

    #: p95 response time of every endpoint together, µs, and its verdict.
    p95_us: tuple[float, float] | None
    p95_verdict: Verdict | None
    #: Requests per second, and its verdict.
    rps: tuple[float, float] | None
    rps_verdict: Verdict | None
    #: Server CPU-seconds per request, when both runs measured it.
    cpu_s_per_request: tuple[float, float] | None = None
    #: Instances needed at the cost model's target load.
    instances: tuple[int, int] | None = None
    #: The cost model's target load, requests per second.
    target_rps: float | None = None

    @property
    def response_time_improvement(self) -> float | None:
        """``1 - candidate / baseline`` of the p95 (negative: slower)."""
        return _reduction(self.p95_us)

    @property
    def throughput_increase(self) -> float | None:
        """``candidate / baseline - 1`` of requests per second (negative: fewer)."""
        reduction = _reduction(self.rps)
        return None if reduction is None else -reduction

    @property
    def resource_reduction(self) -> float | None:
        """``1 - candidate / baseline`` of CPU per request (negative: more CPU)."""
        return _reduction(self.cpu_s_per_request)

    @property
    def cost_savings(self) -> float | None:
        """``1 - candidate / baseline`` of instances at the target load."""
        if self.instances is None:
            return None
        return _reduction((float(self.instances[0]), float(self.instances[1])))

    def to_dict(self) -> dict[str, str | None]:
        """Exactly the four figures, as percentages (``"68%"``) or None."""
        return {
            "response_time_improvement": _percent(self.response_time_improvement),
            "throughput_increase": _percent(self.throughput_increase),
            "resource_reduction": _percent(self.resource_reduction),
            "cost_savings": _percent(self.cost_savings),
        }

    def basis_dict(self) -> dict[str, object]:
        """The measured numbers each figure comes from."""
        return {
            "response_time": "p95 of every endpoint together, steady seconds, µs",
            "p95_us": None if self.p95_us is None else list(self.p95_us),
            "rps": None if self.rps is None else list(self.rps),
            "cpu_s_per_request": (
                None if self.cpu_s_per_request is None else list(self.cpu_s_per_request)
            ),
            "instances": None if self.instances is None else list(self.instances),
            "target_rps": self.target_rps,
        }

    def summary(self) -> str:
        """One paragraph for a delivery note, with measured numbers only.

        Example: ``"Improved response time by 68% (2.1s to 0.67s), increased
        throughput by 245% (1.2k to 4.1k RPS), reduced resource usage by 40%."``
        Clauses without data are left out; a figure that got worse says so;
        one within noise says that too.
        """
        clauses = [
            clause
            for clause in (
                self._response_clause(),
                self._throughput_clause(),
                self._resource_clause(),
                self._cost_clause(),
            )
            if clause
        ]
        if not clauses:
            return "No figures to compare."
        text = ", ".join(clauses) + "."
        return text[0].upper() + text[1:]

    def _response_clause(self) -> str | None:
        share = self.response_time_improvement
        if self.p95_us is None or share is None:
            return None
        before, after = _durations(*self.p95_us)
        verb = "improved" if share > 0 else "worsened" if share < 0 else "kept"
        figures = f"({before} to {after}{_noise(self.p95_verdict)})"
        if share == 0:
            return f"kept response time the same {figures}"
        return f"{verb} response time by {format_share(abs(share))} {figures}"

    def _throughput_clause(self) -> str | None:
        share = self.throughput_increase
        if self.rps is None or share is None:
            return None
        before, after = format_quantity(self.rps[0]), format_quantity(self.rps[1])
        figures = f"({before} to {after} RPS{_noise(self.rps_verdict)})"
        if share == 0:
            return f"kept throughput the same {figures}"
        verb = "increased" if share > 0 else "reduced"
        return f"{verb} throughput by {format_share(abs(share))} {figures}"

    def _resource_clause(self) -> str | None:
        share = self.resource_reduction
        if share is None:
            return None
        if share == 0:
            return "kept resource usage the same"
        verb = "reduced" if share > 0 else "increased"
        return f"{verb} resource usage by {format_share(abs(share))}"

    def _cost_clause(self) -> str | None:
        share = self.cost_savings
        if share is None or self.instances is None or self.target_rps is None:
            return None
        figures = (
            f"({self.instances[0]} to {self.instances[1]} instances at "
            f"{format_quantity(self.target_rps)} RPS)"
        )
        if share == 0:
            return f"kept the cost the same {figures}"
        verb = "cut" if share > 0 else "raised"
        return f"{verb} cost by {format_share(abs(share))} {figures}"


def format_share(share: float) -> str:
    """A share as a percentage: ``0.68 -> "68%"``, ``0.043 -> "4.3%"``."""
    if abs(share) >= _WHOLE_PERCENT_FROM:
        return f"{share * 100:.0f}%"
    return f"{share * 100:.1f}%"


def format_quantity(value: float) -> str:
    """A count or rate with a k/M suffix, to 0.1 of it: ``1234 -> "1.2k"``, ``850 -> "850"``."""
    for suffix, size in (("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return _digits(value / size) + suffix
    return _digits(value)


def _durations(before_us: float, after_us: float) -> tuple[str, str]:
    """Both durations in the unit that suits the larger: ``(2.1s, 0.67s)``."""
    largest = max(before_us, after_us)
    unit, size = ("s", 1e6) if largest >= 1e6 else ("ms", 1e3) if largest >= 1e3 else ("µs", 1.0)
    return _digits(before_us / size) + unit, _digits(after_us / size) + unit


def _digits(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _percent(share: float | None) -> str | None:
    if share is None:
        return None
    return format_share(share)


def _reduction(pair: tuple[float, float] | None) -> float | None:
    if pair is None or not pair[0] or not all(math.isfinite(v) for v in pair):
        return None
    return 1.0 - pair[1] / pair[0]


def _noise(verdict: Verdict | None) -> str:
    return ", within noise" if verdict is Verdict.NO_CHANGE else ""
