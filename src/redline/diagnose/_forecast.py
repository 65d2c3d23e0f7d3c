"""When today's peak load, growing by a share a month, breaks the SLA, and what it then needs.

The scaling assumption, stated in every forecast: each instance behaves like
the measured one (it serves at most the throughput the SLA allows it), the load
splits evenly across instances, and instances do not contend with each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from redline.errors import ConfigError

__all__ = ["FORECAST_HORIZON_MONTHS", "SCALING_ASSUMPTION", "Forecast", "forecast"]

#: The longest forecast: beyond this many months "never" is the answer.
FORECAST_HORIZON_MONTHS = 120
#: What the instance counts assume.
SCALING_ASSUMPTION = (
    "each instance behaves like the measured one, load splits evenly, and instances "
    "do not contend with each other"
)


@dataclass(frozen=True)
class Forecast:
    """The month the SLA breaks on one instance, and the instances needed then."""

    peak_rps: float
    #: Growth per month, as a fraction (0.10 is 10 %).
    growth: float
    #: The throughput one instance serves within the SLA.
    capacity_rps: float
    #: Months from now (0: already broken), or None within the horizon.
    breaks_in_months: int | None
    #: The load in that month.
    load_then_rps: float | None
    #: Instances needed that month to keep the SLA.
    instances_then: int | None

    def explanation(self) -> str:
        """The forecast in a sentence, its assumption included."""
        if self.breaks_in_months is None:
            return (
                f"{self.peak_rps:,.1f} req/s growing {self.growth:.1%}/month stays within "
                f"{self.capacity_rps:,.1f} req/s per instance for {FORECAST_HORIZON_MONTHS} months"
            )
        when = "already now" if self.breaks_in_months == 0 else f"in month {self.breaks_in_months}"
        return (
            f"the SLA breaks {when} (load {self.load_then_rps:,.1f} req/s > "
            f"{self.capacity_rps:,.1f} req/s per instance); then it needs "
            f"{self.instances_then} instances, assuming {SCALING_ASSUMPTION}"
        )


def forecast(*, peak_rps: float, growth: float, capacity_rps: float) -> Forecast:
    """Forecast when ``peak_rps`` growing ``growth`` a month passes ``capacity_rps``.

    Raises:
        ConfigError: a peak or capacity that is not above 0, or a growth below 0.

    Example::

        forecast(peak_rps=1200, growth=0.10, capacity_rps=2000)
        # breaks_in_months=6 (1200·1.1⁶ = 2125.9 req/s), instances_then=2
    """
    if not peak_rps > 0:
        raise ConfigError(f"forecast: peak {peak_rps!r} must be above 0 req/s")
    if not capacity_rps > 0:
        raise ConfigError(f"forecast: capacity {capacity_rps!r} must be above 0 req/s")
    if not growth >= 0:
        raise ConfigError(f"forecast: growth {growth!r} must be 0 or more")
    month = _first_month_above(peak_rps, growth, capacity_rps)
    load = None if month is None else peak_rps * (1 + growth) ** month
    return Forecast(
        peak_rps=peak_rps,
        growth=growth,
        capacity_rps=capacity_rps,
        breaks_in_months=month,
        load_then_rps=load,
        instances_then=None if load is None else math.ceil(load / capacity_rps),
    )


def _first_month_above(peak_rps: float, growth: float, capacity_rps: float) -> int | None:
    for month in range(FORECAST_HORIZON_MONTHS + 1):
        if peak_rps * (1 + growth) ** month > capacity_rps:
            return month
    return None
