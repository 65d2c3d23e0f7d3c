"""The circular block bootstrap over a run's seconds, with histograms merged exactly.

Why seconds: requests within one second share the server's state (a GC
pause, a cache miss storm, a noisy neighbour), so they are not independent
samples; seconds, a few apart, nearly are. Why blocks: neighbouring seconds
are still correlated, so seconds are drawn in runs of ``block_s`` consecutive
seconds (wrapping round the end: Politis & Romano's circular block
bootstrap), which keeps that correlation inside each replicate.

Why this is exact: one replicate is a multiset of seconds. Merging their
histograms adds their counts slot by slot, which is a weighted sum of the
per-second count vectors: ``weights @ counts``. So every replicate is the same
histogram that :meth:`~redline.metrics.LatencyHistogram.merge` would build,
and its percentile is read with hdrh's own rule (the highest value of the
first slot whose running count reaches ``max(int(p * total / 100 + 0.5), 1)``).
Only the slots some second uses are kept, so a replicate costs a few hundred
additions per second instead of a 23,552-slot merge.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from redline.metrics import ALL_ENDPOINTS, LatencyHistogram, RunSeries

__all__ = ["SecondSamples", "automatic_block_s", "block_weights", "interval_of"]

Floats = npt.NDArray[np.float64]

#: Exponent of the automatic block length: ``n ** (1/3)`` is the rate that
#: minimises the block bootstrap's error for variances (Hall, Horowitz & Jing 1995).
_BLOCK_EXPONENT: Final = 1 / 3


def automatic_block_s(seconds: int) -> int:
    """The block length for ``seconds`` seconds: ``round(seconds ** (1/3))``, at least 1."""
    return max(1, round(math.pow(seconds, _BLOCK_EXPONENT)))


def block_weights(
    strata: Sequence[int],
    *,
    resamples: int,
    block_s: int | None,
    rng: np.random.Generator,
) -> Floats:
    """How many times each second is drawn in each replicate: ``(resamples, n)``.

    Args:
        strata: the size of each stratum (a held phase); its seconds are the
            next ones in order. Each stratum is resampled on its own, so every
            replicate keeps each stratum's number of seconds.
        resamples: replicates to draw.
        block_s: seconds per block; None: :func:`automatic_block_s` per stratum.
        rng: the random source (seeded by the caller).
    """
    total = sum(strata)
    weights = np.zeros((resamples, total), np.float64)
    offset = 0
    for size in strata:
        length = min(block_s or automatic_block_s(size), size)
        blocks = math.ceil(size / length)
        starts = rng.integers(0, size, size=(resamples, blocks))
        drawn = (starts[:, :, None] + np.arange(length)).reshape(resamples, -1)[:, :size] % size
        rows = np.arange(resamples)[:, None] * size
        counts = np.bincount((drawn + rows).ravel(), minlength=resamples * size)
        weights[:, offset : offset + size] = counts.reshape(resamples, size)
        offset += size
    return weights


def interval_of(replicates: Floats, confidence: float) -> tuple[float, float]:
    """The percentile interval of the finite replicates, or (nan, nan) if none are."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return (math.nan, math.nan)
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return (float(low), float(high))


@dataclass(frozen=True)
class SecondSamples:
    """One endpoint's steady seconds of one run, as arrays for the bootstrap.

    Row ``i`` of every array is the ``i``-th steady second, in the order of
    the run's strata.
    """

    #: Requests per second.
    counts: Floats
    #: Failed requests per second.
    failures: Floats
    #: Response-time counts per second, over the slots in ``slot_values_us``: ``(n, k)``.
    slots: Floats
    #: The value hdrh reports for each kept slot (its range's highest), in µs.
    slot_values_us: Floats

    @classmethod
    def of(cls, series: RunSeries, seconds: Sequence[int], endpoint: str) -> SecondSamples:
        """Read ``seconds`` of ``endpoint`` (:data:`~redline.metrics.ALL_ENDPOINTS`: all merged)."""
        name = None if endpoint == ALL_ENDPOINTS else endpoint
        per_second = [series.at(second, name) for second in seconds]
        dense = [stats.response.to_hdrh() for stats in per_second]
        nonzero = [np.nonzero(np.ctypeslib.as_array(hdr.counts))[0] for hdr in dense]
        kept = np.unique(np.concatenate(nonzero)) if nonzero else np.zeros(0, np.intp)
        slots = np.zeros((len(seconds), kept.size), np.float64)
        for row, hdr in enumerate(dense):
            slots[row] = np.ctypeslib.as_array(hdr.counts)[kept]
        values = np.array([_slot_value(int(index)) for index in kept], np.float64)
        return cls(
            counts=np.array([s.count for s in per_second], np.float64),
            failures=np.array([s.failures for s in per_second], np.float64),
            slots=slots,
            slot_values_us=values,
        )

    @property
    def requests(self) -> int:
        """Requests in every second together."""
        return int(self.counts.sum())

    def throughput(self, weights: Floats) -> Floats:
        """Mean requests per second of each replicate (rows of ``weights``)."""
        result: Floats = weights @ self.counts / max(1, self.counts.size)
        return result

    def error_rate(self, weights: Floats) -> Floats:
        """Failed share of each replicate's requests (0 when it has none)."""
        requests = weights @ self.counts
        failed = weights @ self.failures
        result: Floats = np.divide(failed, requests, out=np.zeros_like(failed), where=requests > 0)
        return result

    def percentiles(self, weights: Floats, percentiles: Sequence[float]) -> Floats:
        """Each replicate's response-time percentiles (µs): ``(replicates, len(percentiles))``.

        Exactly what merging the replicate's histograms and asking
        ``value_at_percentile`` gives (0 for an empty replicate).
        """
        replicates = weights.shape[0]
        result = np.zeros((replicates, len(percentiles)), np.float64)
        if self.slot_values_us.size == 0:
            return result
        running = np.cumsum(weights @ self.slots, axis=1)
        totals = running[:, -1].copy()
        # Row r's running counts shifted by r * (largest total + 1) make one
        # increasing array, so one searchsorted finds every row's slot.
        stride = float(totals.max()) + 1.0
        offsets = np.arange(replicates, dtype=np.float64) * stride
        running += offsets[:, None]
        flat = running.ravel()
        slots = self.slot_values_us.size
        for column, percentile in enumerate(percentiles):
            # hdrh's get_target_count_at_percentile, the same float expression.
            targets = np.maximum(np.floor(percentile * totals / 100 + 0.5), 1.0)
            found = np.searchsorted(flat, targets + offsets, side="left")
            position = np.minimum(found - np.arange(replicates) * slots, slots - 1)
            result[:, column] = np.where(totals > 0, self.slot_values_us[position], 0.0)
        return result


@functools.cache
def _layout() -> Any:
    """An empty hdrh histogram of redline's layout, to read slot values from."""
    return LatencyHistogram().to_hdrh()


@functools.cache
def _slot_value(index: int) -> float:
    """The highest value of slot ``index``'s equivalent range, as hdrh reports percentiles."""
    layout = _layout()
    return float(layout.get_highest_equivalent_value(layout.get_value_from_index(index)))
