"""What one endpoint did in one interval: counts, outcomes, bytes and latencies."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from redline.errors import ReportError
from redline.metrics._histogram import LatencyHistogram

__all__ = ["ALL_ENDPOINTS", "SUMMARY_PERCENTILES", "IntervalStats", "Outcome", "percentile_key"]

#: How a request ended: an HTTP status (``200``) or an error kind name
#: (``"timeout"``). Metrics only counts outcomes; the engine names them.
Outcome: TypeAlias = int | str

#: The endpoint label of statistics merged over every endpoint.
ALL_ENDPOINTS: Final = "*"
#: Percentiles every summary reports (see :func:`percentile_key` for their names).
SUMMARY_PERCENTILES: Final = (50.0, 90.0, 95.0, 99.0, 99.9, 99.99)


def percentile_key(percentile: float) -> str:
    """Name a percentile in results files: ``50.0 -> "p50"``, ``99.9 -> "p99.9"``."""
    return f"p{percentile:g}"


@dataclasses.dataclass(eq=True)
class IntervalStats:
    """Everything one endpoint did during one interval, mergeable exactly.

    Made once per second per endpoint by each worker
    (:meth:`EndpointRecorder.snapshot_and_reset`) and merged in the parent
    across workers (:class:`RunSeries`). Pickles small: the histograms travel
    as their nonzero slots.

    Glossary:

    - **service time**: from when the request was actually sent to the end of
      its response.
    - **response time**: from when the request was *meant* to be sent (its
      slot in an open-model schedule) to the end of its response, so time
      spent waiting behind a slow server counts (no coordinated omission).
      In a closed model it equals the service time.
    - **failure**: a request the engine judged failed (an error, or a status
      the scenario did not expect). Failed requests are in the histograms too.

    ``merge`` adds counts and keeps this object's ``endpoint``, ``second`` and
    ``duration_s``: to merge across endpoints or seconds, merge into a fresh,
    suitably labelled instance (as :class:`RunSeries` does).
    """

    #: Endpoint name, or :data:`ALL_ENDPOINTS` for every endpoint merged.
    endpoint: str
    #: The first second covered, counted from the run's start (0-based).
    second: int
    #: How many requests ended in the interval.
    count: int = 0
    #: How many of them failed.
    failures: int = 0
    #: Requests per outcome (HTTP status or error kind).
    outcomes: dict[Outcome, int] = dataclasses.field(default_factory=dict)
    #: Bytes received (response heads and bodies).
    bytes_in: int = 0
    #: Bytes sent (request heads and bodies).
    bytes_out: int = 0
    #: Service time of every request, in microseconds.
    service: LatencyHistogram = dataclasses.field(default_factory=LatencyHistogram)
    #: Response time of every request, in microseconds.
    response: LatencyHistogram = dataclasses.field(default_factory=LatencyHistogram)
    #: How many seconds the interval spans (1 for a per-second snapshot).
    duration_s: int = 1

    @property
    def error_rate(self) -> float:
        """Failures as a fraction of requests (0.0 when there were none)."""
        return self.failures / self.count if self.count else 0.0

    @property
    def rate_per_s(self) -> float:
        """Requests per second over the interval."""
        return self.count / self.duration_s

    def merge(self, other: IntervalStats) -> None:
        """Add ``other``'s counts, outcomes, bytes and latencies to these (exact)."""
        self.count += other.count
        self.failures += other.failures
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count
        self.bytes_in += other.bytes_in
        self.bytes_out += other.bytes_out
        self.service.merge(other.service)
        self.response.merge(other.response)

    def copy(self) -> IntervalStats:
        """Return an independent copy."""
        return dataclasses.replace(
            self,
            outcomes=dict(self.outcomes),
            service=self.service.copy(),
            response=self.response.copy(),
        )

    def compact(self) -> None:
        """Compact both histograms (see :meth:`LatencyHistogram.compact`)."""
        self.service.compact()
        self.response.compact()

    def to_dict(self, *, histograms: bool = True) -> dict[str, Any]:
        """Return a JSON-ready summary.

        Outcome keys become strings (``"200"``). Each latency summary holds
        ``count``, ``min``, ``mean``, every :data:`SUMMARY_PERCENTILES` key and
        ``max`` in microseconds (``None`` when nothing was recorded), and,
        unless ``histograms`` is false, ``hdr``: the encoded histogram, from
        which :meth:`from_dict` rebuilds the statistics exactly.
        """
        return {
            "endpoint": self.endpoint,
            "second": self.second,
            "duration_s": self.duration_s,
            "count": self.count,
            "failures": self.failures,
            "error_rate": self.error_rate,
            "rate_per_s": self.rate_per_s,
            "outcomes": {str(outcome): count for outcome, count in self.outcomes.items()},
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "service": _latency_summary(self.service, histograms=histograms),
            "response": _latency_summary(self.response, histograms=histograms),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IntervalStats:
        """Rebuild statistics written by :meth:`to_dict` (with histograms).

        Outcome keys made only of digits become HTTP statuses (ints) again.

        Raises:
            ReportError: a field is missing or has the wrong type.
        """
        outcomes = _field(data, "outcomes", dict)
        return cls(
            endpoint=_field(data, "endpoint", str),
            second=_field(data, "second", int),
            count=_field(data, "count", int),
            failures=_field(data, "failures", int),
            outcomes={_outcome(key): _count(outcomes, key) for key in outcomes},
            bytes_in=_field(data, "bytes_in", int),
            bytes_out=_field(data, "bytes_out", int),
            service=_histogram(data, "service"),
            response=_histogram(data, "response"),
            duration_s=_field(data, "duration_s", int),
        )


def _latency_summary(histogram: LatencyHistogram, *, histograms: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {"count": histogram.count}
    recorded = histogram.count > 0
    summary["min"] = histogram.min if recorded else None
    summary["mean"] = histogram.mean if recorded else None
    for percentile, value in histogram.percentiles(SUMMARY_PERCENTILES).items():
        summary[percentile_key(percentile)] = value if recorded else None
    summary["max"] = histogram.max if recorded else None
    if histograms:
        summary["hdr"] = histogram.encode()
    return summary


def _field(data: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    if not isinstance(data, Mapping) or name not in data:
        raise ReportError(
            f"interval statistics lack the field {name!r}",
            hint="read files written by IntervalStats.to_dict(histograms=True)",
        )
    value = data[name]
    # bool is an int subclass, but never a count.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ReportError(
            f"interval statistics field {name!r} must be {kind.__name__}, got {value!r}"
        )
    return value


def _count(outcomes: Mapping[str, Any], key: str) -> int:
    count: int = _field(outcomes, key, int)
    return count


def _outcome(key: object) -> Outcome:
    if not isinstance(key, str):
        raise ReportError(f"outcome keys must be strings, got {key!r}")
    return int(key) if key.isdecimal() else key


def _histogram(data: Mapping[str, Any], name: str) -> LatencyHistogram:
    summary = _field(data, name, dict)
    return LatencyHistogram.decode(_field(summary, "hdr", str))
