"""Memory growth: the server's RSS slope over the steady part of the run.

The slope is a least-squares line with its 95 % interval (``linear_trend``),
normalized per 1,000 requests so runs at different rates compare, with the
time until the host's available memory is gone at that rate. The shape tells
a leak from a cache: a line that keeps its slope to the end **keeps growing**
(a leak); one whose last third is nearly flat **plateaus** (a bounded cache
filling up). Fragmentation cannot be told from RSS alone; the finding says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._timeline import Second, Timeline, median
from redline.diagnose._trend import Trend, linear_trend
from redline.units import format_bytes

__all__ = ["memory_growth"]

#: The first share of the run is warm-up (imports, caches, pools) and left out.
WARMUP_SHARE = 0.2
#: Fewer steady samples than this cannot tell a trend.
MIN_SAMPLES = 10
#: Growth smaller than both of these over the steady part is not reported.
MIN_GROWTH_BYTES = 4 * 1024 * 1024
MIN_GROWTH_SHARE = 0.05
#: The last third's slope, as a share of the whole slope: above KEEPS, a leak; below FLAT, bounded.
KEEPS_GROWING_SHARE = 0.4
FLATTENS_SHARE = 0.15
#: A leak that fills memory sooner than this is high severity.
URGENT_HOURS = 24.0
SOURCE = "server RSS (/proc/PID/status), steady part of the run"


@dataclass(frozen=True)
class _Growth:
    trend: Trend
    tail: Trend | None
    start_bytes: float
    grown_bytes: float
    span_s: float

    @property
    def tail_share(self) -> float:
        if self.tail is None or self.trend.slope_per_s <= 0:
            return 1.0
        return self.tail.slope_per_s / self.trend.slope_per_s


def memory_growth(timeline: Timeline) -> list[Finding]:
    """The memory-growth finding, when RSS grows significantly through the steady part."""
    steady = _steady(timeline)
    growth = _growth(steady)
    if growth is None:
        return []
    rps = median(s.count for s in steady) or 1.0
    per_1000 = growth.trend.slope_per_s / rps * 1000
    hours = _hours_to_exhaustion(timeline, growth.trend.slope_per_s)
    leak = growth.tail_share >= KEEPS_GROWING_SHARE
    bounded = growth.tail_share <= FLATTENS_SHARE
    shape = (
        "keeps growing: a leak"
        if leak
        else "plateaus: a bounded cache"
        if bounded
        else ("grows more slowly toward the end")
    )
    evidence = [
        Evidence(
            "RSS growth",
            f"{format_bytes(growth.grown_bytes)} over {growth.span_s:.0f} s "
            f"(from {format_bytes(growth.start_bytes)})",
            SOURCE,
        ),
        Evidence(
            "slope (95 % interval)",
            f"{format_bytes(growth.trend.slope_per_s)}/s "
            f"({format_bytes(growth.trend.low_per_s)}/s .. "
            f"{format_bytes(growth.trend.high_per_s)}/s)",
            SOURCE,
        ),
        Evidence(
            "per 1,000 requests",
            f"{format_bytes(per_1000)} at {rps:,.0f} req/s",
            "RSS slope over the request rate",
        ),
        Evidence("last third's slope, share of the whole", f"{growth.tail_share:.0%}", SOURCE),
    ]
    if hours is not None:
        evidence.append(
            Evidence(
                "time until the host's available memory is gone",
                f"{hours:,.1f} h at this rate",
                "host /proc/meminfo",
            )
        )
    severity = _severity(leak=leak, bounded=bounded, hours=hours)
    return [
        Finding(
            rule="memory-growth",
            category=Category.MEMORY,
            severity=severity,
            confidence=0.85 if leak or bounded else 0.6,
            title=f"Server memory grows {format_bytes(per_1000)} per 1,000 requests and {shape}",
            evidence=tuple(evidence),
            location="server process tree",
            recommendation="find what keeps each request's objects alive (redline profile "
            "--memory, tracemalloc snapshots); bound caches with a size or TTL. "
            "RSS alone cannot tell fragmentation apart",
            expected_effect="RSS flat during steady load; no restart needed to reclaim memory",
        )
    ]


def _steady(timeline: Timeline) -> list[Second]:
    """The seconds after the warm-up, one per resource sample (a sample may span seconds)."""
    sampled, seen = [], set()
    for s in timeline.seconds:
        if s.server and s.server.get("rss_bytes") and id(s.server) not in seen:
            seen.add(id(s.server))
            sampled.append(s)
    return sampled[int(len(sampled) * WARMUP_SHARE) :]


def _growth(steady: list[Second]) -> _Growth | None:
    if len(steady) < MIN_SAMPLES:
        return None
    times = [float(s.second) for s in steady]
    rss = [float(s.server["rss_bytes"]) for s in steady if s.server]
    trend = linear_trend(times, rss)
    if trend is None or not trend.significant or trend.slope_per_s <= 0:
        return None
    span_s = times[-1] - times[0]
    grown = trend.slope_per_s * span_s
    if grown < MIN_GROWTH_BYTES and grown < MIN_GROWTH_SHARE * rss[0]:
        return None
    tail = len(steady) * 2 // 3
    return _Growth(trend, linear_trend(times[tail:], rss[tail:]), rss[0], grown, span_s)


def _hours_to_exhaustion(timeline: Timeline, slope_per_s: float) -> float | None:
    available = [s.host.get("mem_available_bytes") for s in timeline.seconds if s.host]
    if not available or available[-1] is None or slope_per_s <= 0:
        return None
    return float(available[-1]) / slope_per_s / 3600


def _severity(*, leak: bool, bounded: bool, hours: float | None) -> Severity:
    if bounded:
        return Severity.LOW
    if leak and (hours is None or hours < URGENT_HOURS):
        return Severity.HIGH
    return Severity.MEDIUM
