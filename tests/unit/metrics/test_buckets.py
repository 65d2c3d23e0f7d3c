"""The vectorized bucket arithmetic against hdrh's own, slot by slot and value by value."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from redline.metrics import HIGHEST_TRACKABLE_US, LOWEST_TRACKABLE_US
from redline.metrics._buckets import (
    COUNTS_LEN,
    HIGHEST,
    LOWEST,
    MEDIAN,
    counts_index,
    counts_index_of,
    new_hdr,
)
from tests.unit.metrics.hdr_oracle import EDGES, clamp, oracle_settings

HDR = new_hdr()


def test_every_slot_has_hdrh_equivalent_range() -> None:
    assert COUNTS_LEN == HDR.counts_len
    for index in range(COUNTS_LEN):
        value = HDR.get_value_from_index(index)
        assert LOWEST[index] == value
        assert HIGHEST[index] == HDR.get_highest_equivalent_value(value)
        assert MEDIAN[index] == HDR._hdr_median_equiv_value(value)
        assert counts_index_of(value) == index


def test_lowest_values_strictly_increase() -> None:
    assert np.all(np.diff(LOWEST) > 0)


def test_tables_are_read_only() -> None:
    assert not LOWEST.flags.writeable


def test_edges_map_like_hdrh() -> None:
    values = np.array([clamp(v) for v in EDGES], dtype=np.int64)
    expected = [HDR._counts_index_for(int(v)) for v in values]
    assert counts_index(values).tolist() == expected
    assert [counts_index_of(int(v)) for v in values] == expected


@oracle_settings
@given(st.lists(st.integers(LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US), max_size=200))
def test_random_values_map_like_hdrh(values: list[int]) -> None:
    array = np.array(values, dtype=np.int64)
    expected = [HDR._counts_index_for(v) for v in values]
    assert counts_index(array).tolist() == expected
    assert [counts_index_of(v) for v in values] == expected


def test_counts_index_writes_into_given_buffers() -> None:
    values = np.array([1, 2048, 1_000_000], dtype=np.int64)
    out = np.empty(3, np.int64)
    work = np.empty(3, np.float64)
    assert counts_index(values, out=out, work=work) is out
    assert values.tolist() == [1, 2048, 1_000_000]  # input untouched
