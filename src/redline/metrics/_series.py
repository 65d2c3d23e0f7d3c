"""A run's per-second statistics, merged exactly from every worker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from redline.errors import ReportError
from redline.metrics._generator import GeneratorStats
from redline.metrics._interval import ALL_ENDPOINTS, IntervalStats

__all__ = ["RunSeries"]


class RunSeries:
    """Per-second, per-endpoint statistics of one run, as the parent process holds them.

    Workers send one :class:`IntervalStats` per endpoint per second; :meth:`add`
    merges those of the same second and endpoint exactly, in any order and at
    any time (a late worker is simply merged in later). Queries merge further:
    over endpoints (``endpoint=None``), over a window of seconds, or over the
    whole run. Every query returns a new object that the caller may change.

    Stored histograms are kept compact (nonzero slots only, in narrow integer
    types): measured at about 7.5 KB per second per endpoint at 1,000
    requests a second with widely spread latencies, so an hour at ten such
    endpoints holds some 270 MB. Not thread-safe: one owner adds and queries.

    Example::

        series = RunSeries()
        for stats in worker_snapshots:
            series.add(stats)
        series.window(55, 59).service.value_at_percentile(99.0)
    """

    def __init__(self) -> None:
        self._by_second: dict[int, dict[str, IntervalStats]] = {}
        self._totals: dict[str, IntervalStats] = {}
        self._generator: dict[int, GeneratorStats] = {}

    def add(self, stats: IntervalStats) -> None:
        """Merge one worker's statistics into their second and endpoint.

        ``stats`` is neither kept nor changed.
        """
        endpoints = self._by_second.setdefault(stats.second, {})
        stored = endpoints.get(stats.endpoint)
        if stored is None:
            stored = endpoints[stats.endpoint] = stats.copy()
        else:
            stored.merge(stats)
        stored.compact()
        total = self._totals.get(stats.endpoint)
        if total is None:
            self._totals[stats.endpoint] = stats.copy()
        else:
            total.merge(stats)

    def add_generator(self, second: int, stats: GeneratorStats) -> None:
        """Merge one worker's generator health into ``second``; ``stats`` is not kept."""
        stored = self._generator.get(second)
        if stored is None:
            self._generator[second] = stats.copy()
        else:
            stored.merge(stats)

    def endpoints(self) -> list[str]:
        """Every endpoint seen, sorted."""
        return sorted(self._totals)

    def seconds(self) -> list[int]:
        """Every second with request or generator statistics, sorted."""
        return sorted(self._by_second.keys() | self._generator.keys())

    def at(self, second: int, endpoint: str | None = None) -> IntervalStats:
        """Statistics of one second, for one endpoint or (None) all merged.

        A second or endpoint without requests gives empty statistics.
        """
        return self.window(second, second, endpoint)

    def window(
        self, first_second: int, last_second: int, endpoint: str | None = None
    ) -> IntervalStats:
        """Statistics merged over ``first_second .. last_second`` (both included).

        The result is labelled with ``first_second`` and spans
        ``last_second - first_second + 1`` seconds, so ``rate_per_s`` is the
        window's average rate.

        Raises:
            ValueError: ``last_second`` is before ``first_second``.
        """
        if last_second < first_second:
            raise ValueError(
                f"window must not end before it starts, got {first_second!r} .. {last_second!r}"
            )
        merged = IntervalStats(
            endpoint=ALL_ENDPOINTS if endpoint is None else endpoint,
            second=first_second,
            duration_s=last_second - first_second + 1,
        )
        seconds = [s for s in self._by_second if first_second <= s <= last_second]
        for second in sorted(seconds):
            for stats in self._select(self._by_second[second], endpoint):
                merged.merge(stats)
        return merged

    def total(self, endpoint: str | None = None) -> IntervalStats:
        """Statistics of the whole run, for one endpoint or (None) all merged.

        Labelled with the first second seen, spanning through the last one.
        """
        seconds = self._by_second.keys()
        first, last = (min(seconds), max(seconds)) if seconds else (0, 0)
        merged = IntervalStats(
            endpoint=ALL_ENDPOINTS if endpoint is None else endpoint,
            second=first,
            duration_s=last - first + 1,
        )
        for stats in self._select(self._totals, endpoint):
            merged.merge(stats)
        return merged

    def generator_at(self, second: int) -> GeneratorStats | None:
        """The generator's health in ``second`` (merged over workers), or None."""
        stats = self._generator.get(second)
        return None if stats is None else stats.copy()

    def to_dict(self, *, histograms: bool = True) -> dict[str, Any]:
        """Return the per-second series for a results file.

        - ``endpoints``: every endpoint name, sorted.
        - ``intervals``: one :meth:`IntervalStats.to_dict` row per second and
          endpoint, with encoded histograms unless ``histograms`` is false
          (:meth:`from_dict` needs them). Encoding costs about 0.2 ms per
          histogram: some 15 s for an hour at ten endpoints.
        - ``overall``: one row per second for every endpoint merged, without
          histograms (they follow exactly from the ``intervals`` rows).
        - ``generator``: one row per second of :class:`GeneratorStats` fields
          plus ``second``.
        """
        intervals = [
            self._by_second[second][name].to_dict(histograms=histograms)
            for second in sorted(self._by_second)
            for name in sorted(self._by_second[second])
        ]
        overall = [self.at(second).to_dict(histograms=False) for second in sorted(self._by_second)]
        generator = [
            {"second": second, **self._generator[second].to_dict()}
            for second in sorted(self._generator)
        ]
        return {
            "endpoints": self.endpoints(),
            "intervals": intervals,
            "overall": overall,
            "generator": generator,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSeries:
        """Rebuild a series from :meth:`to_dict`'s output.

        Raises:
            ReportError: the data is not such a series.
        """
        series = cls()
        for row in _rows(data, "intervals"):
            series.add(IntervalStats.from_dict(row))
        for row in _rows(data, "generator"):
            second = row.get("second")
            if not isinstance(second, int) or isinstance(second, bool):
                raise ReportError(f"generator row lacks an integer 'second': {row!r}")
            series.add_generator(second, GeneratorStats.from_dict(row))
        return series

    @staticmethod
    def _select(
        by_endpoint: Mapping[str, IntervalStats], endpoint: str | None
    ) -> Iterable[IntervalStats]:
        if endpoint is None:
            return by_endpoint.values()
        stats = by_endpoint.get(endpoint)
        return () if stats is None else (stats,)


def _rows(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    rows = data.get(name) if isinstance(data, Mapping) else None
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        raise ReportError(
            f"run series needs a list of objects under {name!r}",
            hint="read files written by RunSeries.to_dict()",
        )
    return rows
