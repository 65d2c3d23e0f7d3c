"""Is the server under pressure? Latency that rises with load, or requests that queue.

Two ways to see it, depending on the run:

- **stepped load** (the top third of seconds carries at least
  ``STEPPED_LOAD_RATIO`` times the load of the bottom third): latency at high
  load over latency at low load;
- **flat load**: requests queue when the typical response takes many times
  the fastest one (mean over minimum, per second), because the fastest
  request is close to the bare service time.

Both are stated as evidence, so a reader can check the call.
"""

from __future__ import annotations

from dataclasses import dataclass

from redline.diagnose._finding import Evidence
from redline.diagnose._timeline import Bands, Timeline, median
from redline.units import format_latency

__all__ = ["Pressure", "ServerUnderPressure", "pressure_of", "server_under_pressure"]

#: Load counts as stepped when the top band carries this many times the bottom's.
STEPPED_LOAD_RATIO = 1.5
#: Latency "rises with load" when the top band's mean is this many times the bottom's.
RISING_LATENCY_RATIO = 1.5
#: On flat load, requests queue when the mean response is this many times the fastest.
QUEUEING_RATIO = 4.0
#: Where the figures come from, for evidence.
SERIES_SOURCE = "per-second latency series"


@dataclass(frozen=True)
class Pressure:
    """How latency and throughput moved with load."""

    bands: Bands
    stepped: bool
    load_ratio: float
    latency_ratio: float
    throughput_ratio: float
    #: Mean response over the fastest response, at high load.
    queueing_ratio: float
    load_unit: str

    @property
    def under_pressure(self) -> bool:
        """Latency rises with load (stepped) or requests queue (flat)."""
        if self.stepped:
            return self.latency_ratio >= RISING_LATENCY_RATIO
        return self.queueing_ratio >= QUEUEING_RATIO

    @property
    def throughput_flat(self) -> bool:
        """Load grew but throughput did not follow (less than half the load's growth)."""
        return self.stepped and self.throughput_ratio - 1 < (self.load_ratio - 1) / 2

    def evidence(self) -> list[Evidence]:
        """The figures that show the pressure (or its absence)."""
        low, high = self.bands.low, self.bands.high
        if not self.stepped:
            return [
                Evidence(
                    "mean response vs fastest, at the highest load",
                    f"{format_latency(median(s.mean_us for s in high))} vs "
                    f"{format_latency(median(s.min_us for s in high))} "
                    f"({self.queueing_ratio:.1f}×)",
                    SERIES_SOURCE,
                )
            ]
        load = (
            f"{median(s.load for s in low):g} → {median(s.load for s in high):g} {self.load_unit}"
        )
        return [
            Evidence(
                "mean response, low → high load",
                f"{format_latency(median(s.mean_us for s in low))} → "
                f"{format_latency(median(s.mean_us for s in high))} "
                f"({self.latency_ratio:.1f}×) as load went {load}",
                SERIES_SOURCE,
            ),
            Evidence(
                "throughput, low → high load",
                f"{median(s.count for s in low):,.0f} → {median(s.count for s in high):,.0f} "
                f"req/s ({self.throughput_ratio:.2f}× for {self.load_ratio:.1f}× the load)",
                SERIES_SOURCE,
            ),
        ]


def pressure_of(timeline: Timeline) -> Pressure | None:
    """The pressure the run put on the server; None with fewer than 3 measured seconds."""
    bands = timeline.bands()
    if bands is None:
        return None
    fastest = median(s.min_us for s in bands.high)
    return Pressure(
        bands=bands,
        stepped=bands.load_ratio >= STEPPED_LOAD_RATIO,
        load_ratio=bands.load_ratio,
        latency_ratio=bands.ratio("mean_us"),
        throughput_ratio=bands.ratio("count"),
        queueing_ratio=median(s.mean_us for s in bands.high) / fastest if fastest else 1.0,
        load_unit=timeline.unit,
    )


@dataclass(frozen=True)
class ServerUnderPressure:
    """The pressure, and the server's CPU at the highest load (medians over its seconds)."""

    pressure: Pressure
    #: The tree's CPU, in cores.
    cpu: float
    #: The busiest thread's CPU, a share of one core.
    thread: float
    #: The cores the server may use.
    cores: float


def server_under_pressure(timeline: Timeline) -> ServerUnderPressure | None:
    """The server's CPU at high load when it was sampled and under pressure; else None."""
    pressure = pressure_of(timeline)
    if pressure is None or not timeline.has_server or not pressure.under_pressure:
        return None
    high = pressure.bands.high
    return ServerUnderPressure(
        pressure=pressure,
        cpu=median(timeline.server_values(high, "cpu")),
        thread=median(timeline.server_values(high, "max_thread_cpu")),
        cores=timeline.server_cores(high),
    )
