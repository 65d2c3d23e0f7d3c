"""The reference: hdrh's own ``record_value``, one value at a time, and value strategies."""

from __future__ import annotations

from collections.abc import Iterable

import hdrh.histogram
import numpy as np
import numpy.typing as npt
from hypothesis import settings
from hypothesis import strategies as st

from redline.metrics import HIGHEST_TRACKABLE_US, LOWEST_TRACKABLE_US, LatencyHistogram

#: Values where hdrh's bucket arithmetic changes step, and the range's edges.
EDGES = sorted(
    {
        *(v + d for v in (1 << k for k in range(0, 33)) for d in (-1, 0, 1)),
        LOWEST_TRACKABLE_US,
        HIGHEST_TRACKABLE_US,
        HIGHEST_TRACKABLE_US - 1,
        HIGHEST_TRACKABLE_US + 1,
        0,
        -1,
        2**62,
    }
)

#: Latencies as the engine produces them, plus edges and out-of-range values.
latencies = st.one_of(
    st.integers(min_value=1, max_value=5_000),  # the first bucket, 1 µs resolution
    st.integers(min_value=1, max_value=HIGHEST_TRACKABLE_US),
    st.integers(min_value=-(2**40), max_value=2**62),  # clamped both ways
    st.sampled_from(EDGES),
)
latency_lists = st.lists(latencies, max_size=300)


#: For property tests: the oracle (hdrh in pure Python, up to 23,552 slots per
#: percentile or mean) is slow enough to trip hypothesis's deadline on a busy machine.
oracle_settings = settings(deadline=None)


def clamp(value: int) -> int:
    return min(max(value, LOWEST_TRACKABLE_US), HIGHEST_TRACKABLE_US)


def hdr_of(values: Iterable[int]) -> hdrh.histogram.HdrHistogram:
    """hdrh's histogram after ``record_value`` of each (clamped) value."""
    hdr = hdrh.histogram.HdrHistogram(LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US, 3)
    for value in values:
        assert hdr.record_value(clamp(value))
    return hdr


def counts_of(hdr: hdrh.histogram.HdrHistogram) -> npt.NDArray[np.uint64]:
    return np.ctypeslib.as_array(hdr.counts).copy()


def histogram_of(values: Iterable[int]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    histogram.record_many(np.array(list(values), dtype=np.int64))
    return histogram


def assert_same_as_hdrh(histogram: LatencyHistogram, hdr: hdrh.histogram.HdrHistogram) -> None:
    """Same counts, same tracking fields, same encoding."""
    mine = histogram.to_hdrh()
    np.testing.assert_array_equal(counts_of(mine), counts_of(hdr))
    assert (mine.total_count, mine.get_min_value(), mine.get_max_value()) == (
        hdr.total_count,
        hdr.get_min_value(),
        hdr.get_max_value(),
    )
    assert histogram.encode() == hdr.encode().decode("ascii")
