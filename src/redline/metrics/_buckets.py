"""HdrHistogram bucket arithmetic for redline's latency range, vectorized with numpy.

``hdrh.HdrHistogram.record_value`` maps one value to one slot of its counts
array in about 2.4 µs of pure Python, which is a quarter of the whole hot-path
budget. This module computes exactly the same slot for a whole numpy array at
once, so the hot path only appends integers and a once-per-second snapshot
turns them into counts (see :class:`~redline.metrics.LatencyHistogram`).

Glossary (the terms of ``hdrh/histogram.py``, which this module mirrors):

- **counts index**: the slot of the counts array a value is counted in.
- **bucket**: a power-of-two range of values; bucket ``b`` has a resolution
  of ``2 ** (b + unit_magnitude)``.
- **sub-bucket**: one slot of resolution inside a bucket; each bucket has
  ``sub_bucket_count`` of them, the lower half of which overlaps the previous
  bucket (so only the first bucket uses its lower half).
- **equivalent range**: all values that share a counts index. Its lowest
  value is what a slot stands for; its highest value is what hdrh reports for
  a percentile; its midpoint is what hdrh uses for the mean.

Every layout figure is read from a real ``hdrh.HdrHistogram`` built with
redline's settings, so the arithmetic here cannot drift from hdrh's; the unit
tests compare both over every slot and over random values.
"""

from __future__ import annotations

from typing import Final

import hdrh.histogram
import numpy as np
import numpy.typing as npt

__all__ = [
    "COUNTS_LEN",
    "HIGHEST",
    "HIGHEST_TRACKABLE_US",
    "HISTOGRAM_RELATIVE_ERROR",
    "LOWEST",
    "LOWEST_TRACKABLE_US",
    "MEDIAN",
    "SIGNIFICANT_FIGURES",
    "counts_index",
    "counts_index_of",
    "new_hdr",
]

#: The smallest latency a histogram tells apart from zero, in microseconds.
#: Smaller values (including negative ones) are recorded as this value.
LOWEST_TRACKABLE_US: Final = 1
#: The largest latency a histogram tracks: one hour, in microseconds. Larger
#: values are recorded (and counted) as this value.
HIGHEST_TRACKABLE_US: Final = 3_600_000_000
#: Decimal digits of precision kept across the whole range.
SIGNIFICANT_FIGURES: Final = 3
#: Bound on the relative error of any reported latency (0.1 % for 3 digits):
#: every value is reported within this fraction of what was recorded.
HISTOGRAM_RELATIVE_ERROR: Final = 10.0**-SIGNIFICANT_FIGURES


def new_hdr() -> hdrh.histogram.HdrHistogram:
    """Return an empty ``hdrh.HdrHistogram`` with redline's range and precision."""
    return hdrh.histogram.HdrHistogram(
        LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US, SIGNIFICANT_FIGURES
    )


_LAYOUT = new_hdr()
#: Length of the counts array (23,552 slots for 1 µs .. 1 h at 3 digits).
COUNTS_LEN: Final[int] = _LAYOUT.counts_len
_UNIT_MAGNITUDE: Final[int] = _LAYOUT.unit_magnitude
_HALF_COUNT_MAGNITUDE: Final[int] = _LAYOUT.sub_bucket_half_count_magnitude
_HALF_COUNT: Final[int] = _LAYOUT.sub_bucket_half_count
_SUB_BUCKET_COUNT: Final[int] = _LAYOUT.sub_bucket_count
_SUB_BUCKET_MASK: Final[int] = _LAYOUT.sub_bucket_mask
#: What ``bit_length(value | mask)`` exceeds the bucket index by.
_BUCKET_SHIFT: Final = _UNIT_MAGNITUDE + _HALF_COUNT_MAGNITUDE + 1
#: The bias of a float64's exponent field (IEEE 754).
_FLOAT64_EXPONENT_BIAS: Final = 1023
del _LAYOUT


def counts_index_of(value: int) -> int:
    """Return hdrh's counts index for one value (``HdrHistogram._counts_index_for``).

    Args:
        value: a latency already clamped to the trackable range.
    """
    bucket = (value | _SUB_BUCKET_MASK).bit_length() - _BUCKET_SHIFT
    # hdrh writes ((bucket + 1) << half_magnitude) + sub_bucket - half_count;
    # since half_count == 1 << half_magnitude that is the expression below.
    return (bucket << _HALF_COUNT_MAGNITUDE) + (value >> (bucket + _UNIT_MAGNITUDE))


def counts_index(
    values: npt.NDArray[np.int64],
    *,
    out: npt.NDArray[np.int64] | None = None,
    work: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.int64]:
    """Return hdrh's counts index for every value, vectorized.

    Every step writes into ``out`` and ``work`` when given, so a caller that
    reuses them allocates nothing: fresh arrays of this size cost more in page
    faults than the arithmetic itself.

    Args:
        values: latencies already clamped to the trackable range.
        out: where to write the indices (same length as ``values``).
        work: scratch space (same length as ``values``).
    """
    if out is None:
        out = np.empty_like(values)
    if work is None:
        work = np.empty(values.shape, np.float64)
    # bucket = bit_length(value | mask) - shift. A positive integer below
    # 2**53 converts to float64 exactly, and the float's biased exponent
    # field is then bit_length - 1 + 1023.
    np.bitwise_or(values, _SUB_BUCKET_MASK, out=out)
    np.copyto(work, out, casting="unsafe")
    bucket = work.view(np.int64)
    np.right_shift(bucket, 52, out=bucket)
    np.subtract(bucket, _FLOAT64_EXPONENT_BIAS - 1 + _BUCKET_SHIFT, out=bucket)
    # index = (bucket << half_magnitude) + (value >> (bucket + unit_magnitude));
    # hdrh writes ((bucket + 1) << half_magnitude) + sub_bucket - half_count,
    # which is the same since half_count == 1 << half_magnitude.
    if _UNIT_MAGNITUDE:  # pragma: no cover - 0 while the lowest value is 1 µs
        np.add(bucket, _UNIT_MAGNITUDE, out=bucket)
    np.right_shift(values, bucket, out=out)
    if _UNIT_MAGNITUDE:  # pragma: no cover - 0 while the lowest value is 1 µs
        np.subtract(bucket, _UNIT_MAGNITUDE, out=bucket)
    np.left_shift(bucket, _HALF_COUNT_MAGNITUDE, out=bucket)
    np.add(out, bucket, out=out)
    return out


def _equivalent_ranges() -> tuple[npt.NDArray[np.int64], ...]:
    """Lowest, highest and middle value of every slot's equivalent range.

    The same steps as hdrh's ``get_value_from_index``, then
    ``get_highest_equivalent_value`` and ``_hdr_median_equiv_value``.
    """
    index = np.arange(COUNTS_LEN, dtype=np.int64)
    bucket = (index >> _HALF_COUNT_MAGNITUDE) - 1
    sub_bucket = (index & (_HALF_COUNT - 1)) + _HALF_COUNT
    first = bucket < 0
    sub_bucket[first] -= _HALF_COUNT
    bucket[first] = 0
    lowest = sub_bucket << (bucket + _UNIT_MAGNITUDE)
    # hdrh widens the range of the (never reached) sub-bucket past the end.
    bucket = np.where(sub_bucket >= _SUB_BUCKET_COUNT, bucket + 1, bucket)
    size = np.left_shift(1, bucket + _UNIT_MAGNITUDE)
    return lowest, lowest + size - 1, lowest + (size >> 1)


_RANGES = _equivalent_ranges()
for _table in _RANGES:
    _table.flags.writeable = False
#: Lowest value of each slot's equivalent range, indexed by counts index.
#: Strictly increasing.
LOWEST: Final = _RANGES[0]
#: Highest value of each slot's equivalent range (what percentiles report).
HIGHEST: Final = _RANGES[1]
#: Middle value of each slot's equivalent range (what the mean is made of).
MEDIAN: Final = _RANGES[2]
