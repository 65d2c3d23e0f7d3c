"""How hard the load generator itself worked: its health, per second."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from redline.errors import ReportError

__all__ = ["GeneratorStats"]


#: Fields added after results files were first written: missing reads as 0.
_ADDED_LATER = frozenset({"pacing_misses"})


@dataclasses.dataclass(eq=True)
class GeneratorStats:
    """One second of the load generator's own health (filled by the engine).

    A saturated generator reports latencies it caused itself, so reports show
    these beside the target's figures. Each worker fills one per second;
    :meth:`merge` combines workers: totals add, and lags take the worst worker.
    The merged p99 lags are therefore upper bounds: no more than 1 % of all
    samples lie above the largest per-worker p99.

    Glossary:

    - **loop lag**: how late the event loop ran a callback it had scheduled.
    - **send lag**: how late a request was sent after its intended time
      (open models only).
    - **dropped iteration**: an iteration the schedule wanted but no virtual
      user was free to start.
    """

    #: CPU time the worker used, in seconds.
    cpu_s: float = 0.0
    #: Largest event-loop lag, in microseconds.
    loop_lag_max_us: int = 0
    #: 99th percentile event-loop lag, in microseconds.
    loop_lag_p99_us: int = 0
    #: 99th percentile send lag, in microseconds.
    send_lag_p99_us: int = 0
    #: Virtual users active.
    active_vus: int = 0
    #: Iterations the schedule wanted but could not start.
    dropped_iterations: int = 0
    #: Iterations started.
    iterations: int = 0
    #: Paced VUs: iterations that ran longer than the pacing (the next began late).
    pacing_misses: int = 0
    #: How many worker reports were merged into this one.
    workers: int = 1

    def merge(self, other: GeneratorStats) -> None:
        """Combine another worker's second: sum counts, keep the worst lags."""
        self.cpu_s += other.cpu_s
        self.loop_lag_max_us = max(self.loop_lag_max_us, other.loop_lag_max_us)
        self.loop_lag_p99_us = max(self.loop_lag_p99_us, other.loop_lag_p99_us)
        self.send_lag_p99_us = max(self.send_lag_p99_us, other.send_lag_p99_us)
        self.active_vus += other.active_vus
        self.dropped_iterations += other.dropped_iterations
        self.iterations += other.iterations
        self.pacing_misses += other.pacing_misses
        self.workers += other.workers

    def copy(self) -> GeneratorStats:
        """Return an independent copy."""
        return dataclasses.replace(self)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GeneratorStats:
        """Rebuild from :meth:`to_dict`'s output; unknown keys are ignored.

        Raises:
            ReportError: a field is missing or has the wrong type.
        """
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            value = data.get(field.name) if isinstance(data, Mapping) else None
            if value is None and field.name in _ADDED_LATER:
                value = 0  # written before the field existed
            kinds = (int, float) if field.type == "float" else (int,)
            if not isinstance(value, kinds) or isinstance(value, bool):
                raise ReportError(
                    f"generator statistics field {field.name!r} must be a number, got {value!r}",
                    hint="read files written by GeneratorStats.to_dict()",
                )
            values[field.name] = float(value) if field.type == "float" else value
        return cls(**values)
