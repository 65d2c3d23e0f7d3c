"""The figures every span of a run is summed up by: count, rate, errors, percentiles."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypedDict

from redline.metrics import IntervalStats

__all__ = ["FigureFields", "Figures", "figures_of"]


class FigureFields(TypedDict):
    """:class:`Figures`' fields, as keyword arguments."""

    count: int
    rps: float
    error_rate: float
    p50_us: int
    p95_us: int
    p99_us: int


@dataclass(frozen=True, kw_only=True)
class Figures:
    """Requests over a span: how many, how fast, how many failed, how long they took."""

    count: int
    rps: float
    error_rate: float
    p50_us: int
    p95_us: int
    p99_us: int

    def figures_dict(self) -> dict[str, object]:
        """The figures for a results file (the fields of :class:`Figures` only)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(Figures)}


def figures_of(stats: IntervalStats, span_s: float) -> FigureFields:
    """The :class:`Figures` fields of ``stats`` over ``span_s`` seconds (keyword arguments)."""
    has = stats.count > 0
    return {
        "count": stats.count,
        "rps": stats.count / span_s,
        "error_rate": stats.error_rate,
        "p50_us": stats.response.value_at_percentile(50.0) if has else 0,
        "p95_us": stats.response.value_at_percentile(95.0) if has else 0,
        "p99_us": stats.response.value_at_percentile(99.0) if has else 0,
    }
