"""A run's seconds side by side: the load offered, what came back, and the resources.

Rules read a :class:`Timeline`, built from a results document (what ``redline
run --out`` writes and the run history stores), so a stored run is diagnosed
the same way as one just measured. Second ``k`` of every series covers the
same second of the run.

Most rules compare the run at its **low** load with the run at its **high**
load (:meth:`Timeline.bands`): the seconds in the bottom and top thirds by
load. A bottleneck shows as latency that rises and throughput that does not,
between the two.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Bands", "Second", "Timeline"]

#: The unit a closed-model run's load is in (analysis.unit).
VUS_UNIT = "VUs"
#: Seconds with fewer requests than this say little about latency and are skipped.
MIN_REQUESTS_PER_SECOND = 5
#: The share of seconds in each band (bottom and top by load).
BAND_SHARE = 1 / 3


@dataclass(frozen=True)
class Second:
    """One second of a run: load, requests, latency, and the resource samples."""

    second: int
    #: Active VUs (closed model) or iterations started (open model).
    load: float
    count: int
    failures: int
    #: Response outcomes: status codes ("200", "503") and error kinds ("timeout").
    outcomes: Mapping[str, int]
    mean_us: float
    p95_us: int
    min_us: int
    server: Mapping[str, Any] | None
    host: Mapping[str, Any] | None
    generator: Mapping[str, Any] | None
    #: The database under test (``run --db``): its sessions and counters.
    database: Mapping[str, Any] | None = None
    #: The cache under test (``run --cache``): its hits, misses, evictions, CPU.
    cache: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Bands:
    """The seconds at the run's lowest and highest load."""

    low: list[Second]
    high: list[Second]

    @property
    def load_ratio(self) -> float:
        """How many times the load at the top exceeds the load at the bottom."""
        low = median(s.load for s in self.low)
        return median(s.load for s in self.high) / low if low > 0 else 1.0

    def ratio(self, figure: str) -> float:
        """Median of ``figure`` (a :class:`Second` attribute) at high load over low load."""
        low = median(getattr(s, figure) for s in self.low)
        high = median(getattr(s, figure) for s in self.high)
        return high / low if low > 0 else 1.0


@dataclass(frozen=True)
class Timeline:
    """A results document's per-second figures, aligned by second."""

    run_id: str
    #: VUs for a closed-model run, else the arrival rate's unit.
    unit: str
    seconds: list[Second]
    #: Seconds with enough requests to judge latency.
    measured: list[Second] = field(repr=False)
    resources: Mapping[str, Any]
    self_check: Mapping[str, Any]
    document: Mapping[str, Any] = field(repr=False)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Timeline:
        """The timeline of a results document."""
        series = document.get("series") or {}
        resources = document.get("resources") or {}
        generator = _by_second(series.get("generator") or [])
        # Resource sample k covers [k·I, (k+1)·I) of the run: second s reads sample ⌊s / I⌋.
        every_s = float(resources.get("interval_s") or 1.0)
        server = _by_second(resources.get("server") or [])
        host = _by_second(resources.get("host") or [])
        database = _by_second(resources.get("database") or [])
        cache = _by_second(resources.get("cache") or [])
        unit = str((document.get("analysis") or {}).get("unit") or VUS_UNIT)
        closed = unit == VUS_UNIT
        seconds = [
            _second(
                row,
                generator.get(row["second"]),
                (server, host, database, cache),
                closed=closed,
                every_s=every_s,
            )  # fmt: skip
            for row in series.get("overall") or []
        ]
        return cls(
            run_id=str((document.get("run") or {}).get("id", "?")),
            unit=unit,
            seconds=seconds,
            measured=[s for s in seconds if s.count >= MIN_REQUESTS_PER_SECOND and s.second > 0],
            resources=resources,
            self_check=document.get("self_check") or {},
            document=document,
        )

    @property
    def has_server(self) -> bool:
        """Whether the server's process tree was sampled."""
        return any(s.server for s in self.seconds)

    def bands(self) -> Bands | None:
        """The bottom and top thirds of measured seconds by load; None with too few seconds."""
        if len(self.measured) < 3:
            return None
        by_load = sorted(self.measured, key=lambda s: (s.load, s.second))
        size = max(1, round(len(by_load) * BAND_SHARE))
        return Bands(low=by_load[:size], high=by_load[-size:])

    def server_values(self, seconds: Sequence[Second], key: str) -> list[float]:
        """A server figure over ``seconds``, where it was sampled."""
        return [float(s.server[key]) for s in seconds if s.server and s.server.get(key) is not None]

    def server_cores(self, seconds: Sequence[Second]) -> float:
        """The cores the server may use (affinity and CPU quota), else the host's count."""
        values = self.server_values(seconds, "cores_available")
        if values:
            return min(values)
        return float(self.host_info("cpus") or 1)

    def host_info(self, key: str) -> Any:
        """A fact about the host recorded with the run (``resources.host_info``)."""
        return (self.resources.get("host_info") or {}).get(key)


def median(values: Any) -> float:
    """The median of an iterable of numbers; 0 when it is empty."""
    listed = list(values)
    return float(statistics.median(listed)) if listed else 0.0


def _by_second(rows: list[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    return {int(r["second"]): r for r in rows}


def _second(
    row: Mapping[str, Any],
    generator: Mapping[str, Any] | None,
    resources: tuple[Mapping[int, Mapping[str, Any]], ...],
    *,
    closed: bool,
    every_s: float,
) -> Second:
    server, host, database, cache = resources
    response = row.get("response") or {}
    number = int(row["second"])
    sample = int(number // every_s)
    if generator is None:
        load = 0.0
    else:
        load = float(generator.get("active_vus" if closed else "iterations", 0))
    return Second(
        second=number,
        load=load,
        count=int(row.get("count", 0)),
        failures=int(row.get("failures", 0)),
        outcomes=row.get("outcomes") or {},
        mean_us=float(response.get("mean", 0.0)),
        p95_us=int(response.get("p95", 0)),
        min_us=int(response.get("min", 0)),
        server=server.get(sample),
        host=host.get(sample),
        database=database.get(sample),
        cache=cache.get(sample),
        generator=generator,
    )
