"""LatencyHistogram against hdrh: same counts, statistics and encodings, only faster."""

from __future__ import annotations

import array
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import ConfigError, ReportError
from redline.metrics import (
    HIGHEST_TRACKABLE_US,
    HISTOGRAM_RELATIVE_ERROR,
    LatencyHistogram,
)
from redline.metrics._buckets import HIGHEST, counts_index_of, new_hdr
from tests.unit.metrics.hdr_oracle import (
    EDGES,
    assert_same_as_hdrh,
    clamp,
    counts_of,
    hdr_of,
    histogram_of,
    latencies,
    latency_lists,
    oracle_settings,
)

percentiles = st.one_of(
    st.sampled_from([0.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0]),
    st.floats(min_value=0.0, max_value=100.0),
)

# -- recording --------------------------------------------------------------


@oracle_settings
@given(latency_lists)
def test_record_many_equals_hdrh_record_value(values: list[int]) -> None:
    assert_same_as_hdrh(histogram_of(values), hdr_of(values))


@oracle_settings
@given(latency_lists)
def test_record_one_at_a_time_equals_hdrh(values: list[int]) -> None:
    histogram = LatencyHistogram()
    for value in values:
        histogram.record(value)
    assert_same_as_hdrh(histogram, hdr_of(values))


def test_every_edge_value_equals_hdrh() -> None:
    assert_same_as_hdrh(histogram_of(EDGES), hdr_of(EDGES))


def test_many_values_across_chunks_equal_hdrh() -> None:
    # More values than one recording chunk holds, spread over the whole range.
    rng = np.random.default_rng(7)
    values = rng.lognormal(8, 3, 40_000).astype(np.int64)
    histogram = LatencyHistogram()
    histogram.record_many(values)
    assert_same_as_hdrh(histogram, hdr_of(values.tolist()))


@pytest.mark.parametrize(
    "values",
    [
        array.array("q", [5, 70_000, 3]),
        np.array([5, 70_000, 3], dtype=np.int32),
        np.array([5, 70_000, 3], dtype=np.uint64),
        [5, 70_000, 3],
        (5, 70_000, 3),
    ],
    ids=["array-q", "int32", "uint64", "list", "tuple"],
)
def test_record_many_accepts_integer_containers(values: object) -> None:
    histogram = LatencyHistogram()
    histogram.record_many(values)  # type: ignore[arg-type]
    assert_same_as_hdrh(histogram, hdr_of([5, 70_000, 3]))


def test_record_many_leaves_the_input_untouched() -> None:
    values = np.array([-4, 0, 2**40], dtype=np.int64)
    LatencyHistogram().record_many(values)
    assert values.tolist() == [-4, 0, 2**40]


def test_huge_unsigned_values_clamp_instead_of_wrapping() -> None:
    histogram = LatencyHistogram()
    histogram.record_many(np.array([2**64 - 1, 2**63], dtype=np.uint64))
    assert histogram.count == 2
    assert histogram.min == HIGHEST_TRACKABLE_US - HIGHEST_TRACKABLE_US % 2**21  # its bucket


@pytest.mark.parametrize("values", [np.array([1.5]), np.array([True]), ["12"]])
def test_record_many_rejects_non_integers(values: object) -> None:
    with pytest.raises(TypeError, match="values_us must be integer microseconds"):
        LatencyHistogram().record_many(values)  # type: ignore[arg-type]


def test_record_rejects_a_float() -> None:
    with pytest.raises(TypeError):
        LatencyHistogram().record(1.5)  # type: ignore[arg-type]


def test_empty_input_records_nothing() -> None:
    histogram = LatencyHistogram()
    histogram.record_many([])
    histogram.record_many(np.zeros(0, np.int64))
    assert histogram == LatencyHistogram()
    assert histogram.count == 0


def test_out_of_range_values_are_clamped_and_counted() -> None:
    histogram = histogram_of([-7, 0, 10 * HIGHEST_TRACKABLE_US])
    assert histogram.count == 3
    assert histogram.min == 1
    assert histogram.value_at_percentile(50.0) == 1
    # The top value is one hour, reported as its range's highest (within 0.1 %).
    assert HIGHEST_TRACKABLE_US <= histogram.max
    assert histogram.max <= HIGHEST_TRACKABLE_US * (1 + HISTOGRAM_RELATIVE_ERROR)


# -- statistics -------------------------------------------------------------


@oracle_settings
@given(latency_lists, st.lists(percentiles, min_size=1, max_size=5))
def test_percentiles_equal_hdrh(values: list[int], wanted: list[float]) -> None:
    histogram, hdr = histogram_of(values), hdr_of(values)
    expected = {p: hdr.get_value_at_percentile(p) for p in wanted}
    assert histogram.percentiles(wanted) == expected
    assert {p: histogram.value_at_percentile(p) for p in wanted} == expected


@settings(max_examples=30, deadline=None)  # hdrh's mean walks all 23,552 slots in Python
@given(latency_lists)
def test_count_min_max_mean_equal_hdrh(values: list[int]) -> None:
    histogram, hdr = histogram_of(values), hdr_of(values)
    assert histogram.count == hdr.total_count
    assert histogram.min == hdr.get_min_value()
    assert histogram.max == hdr.get_max_value()
    assert histogram.mean == hdr.get_mean_value()  # bit-for-bit, not approximately


@oracle_settings
@given(st.lists(st.integers(1, HIGHEST_TRACKABLE_US), min_size=1, max_size=100))
def test_reported_values_stay_within_the_relative_error(values: list[int]) -> None:
    histogram = histogram_of(values)
    assert 0 <= min(values) - histogram.min <= min(values) * HISTOGRAM_RELATIVE_ERROR
    assert 0 <= histogram.max - max(values) <= max(values) * HISTOGRAM_RELATIVE_ERROR


def test_empty_statistics_are_zero_like_hdrh() -> None:
    histogram, hdr = LatencyHistogram(), new_hdr()
    assert (histogram.count, histogram.min, histogram.max, histogram.mean) == (0, 0, 0, 0.0)
    assert histogram.value_at_percentile(99.0) == hdr.get_value_at_percentile(99.0) == 0
    assert histogram.percentiles([50.0, 100.0]) == {50.0: 0, 100.0: 0}


@pytest.mark.parametrize("percentile", [-0.1, 100.5, math.nan, math.inf])
def test_percentile_outside_0_to_100_is_refused(percentile: float) -> None:
    with pytest.raises(ConfigError, match="percentile must be between 0 and 100"):
        histogram_of([5]).value_at_percentile(percentile)


def test_percentile_edges() -> None:
    histogram = histogram_of([1000, 2000, 3000, 4000])
    assert histogram.value_at_percentile(0.0) == 1000  # lowest equivalent
    # hdrh rounds the target count to the nearest: 37.4 % of 4 is 1, 37.5 % is 2.
    assert histogram.value_at_percentile(37.4) == 1000
    assert histogram.value_at_percentile(37.5) == int(HIGHEST[counts_index_of(2000)])
    assert histogram.value_at_percentile(100.0) == histogram.max


# -- merging ----------------------------------------------------------------


@oracle_settings
@given(st.lists(latency_lists, max_size=6))
def test_merging_groups_equals_one_histogram_of_all_values(groups: list[list[int]]) -> None:
    merged = LatencyHistogram()
    for group in groups:
        merged.merge(histogram_of(group))
    everything = [v for group in groups for v in group]
    assert_same_as_hdrh(merged, hdr_of(everything))
    assert merged == histogram_of(everything)


@oracle_settings
@given(latency_lists, latency_lists)
def test_merge_of_compact_and_decoded_histograms_is_exact(a: list[int], b: list[int]) -> None:
    compact = histogram_of(a)
    compact.compact()
    decoded = LatencyHistogram.decode(histogram_of(b).encode())
    pickled = pickle.loads(pickle.dumps(histogram_of(b)))
    merged = LatencyHistogram()
    for part in (compact, decoded, pickled):
        merged.merge(part)
    assert_same_as_hdrh(merged, hdr_of(a + b + b))


def test_merging_an_empty_histogram_changes_nothing() -> None:
    # hdrh's own add() would set min to 0 here; merge must not.
    histogram = histogram_of([500, 700])
    histogram.merge(LatencyHistogram())
    assert_same_as_hdrh(histogram, hdr_of([500, 700]))
    assert histogram.min == 500


def test_merging_into_itself_doubles_every_count() -> None:
    for compact in (False, True):
        histogram = histogram_of([3, 3000, 3_000_000])
        if compact:
            histogram.compact()
        histogram.merge(histogram)
        assert_same_as_hdrh(histogram, hdr_of([3, 3000, 3_000_000] * 2))


def test_copy_is_independent() -> None:
    for compact in (False, True):
        original = histogram_of([10, 20])
        if compact:
            original.compact()
        twin = original.copy()
        twin.record(30_000)
        assert original == histogram_of([10, 20])
        assert twin == histogram_of([10, 20, 30_000])


def test_compact_keeps_every_statistic() -> None:
    values = [1, 999, 12_345, 7_000_000]
    histogram = histogram_of(values)
    histogram.compact()
    assert_same_as_hdrh(histogram, hdr_of(values))
    histogram.record(42)  # writable again
    assert_same_as_hdrh(histogram, hdr_of([*values, 42]))


# -- interchange ------------------------------------------------------------


@oracle_settings
@given(latency_lists)
def test_encode_decode_round_trip(values: list[int]) -> None:
    histogram = histogram_of(values)
    decoded = LatencyHistogram.decode(histogram.encode())
    assert decoded == histogram
    assert decoded.encode() == histogram.encode()
    assert_same_as_hdrh(decoded, hdr_of(values))


@oracle_settings
@given(latency_lists)
def test_pickle_round_trip(values: list[int]) -> None:
    histogram = histogram_of(values)
    restored = pickle.loads(pickle.dumps(histogram))
    assert restored == histogram
    assert_same_as_hdrh(restored, hdr_of(values))


def test_pickle_is_small() -> None:
    histogram = histogram_of(list(range(1, 1001)))
    assert len(pickle.dumps(histogram)) < 4_000  # not the 184 KiB counts array


def test_decodes_what_hdrh_encodes() -> None:
    values = [3, 3, 80, 45_000, 2_000_000_000]
    encoded = hdr_of(values).encode().decode("ascii")
    assert LatencyHistogram.decode(encoded) == histogram_of(values)


def test_decoded_zero_from_another_tool_is_kept_like_hdrh() -> None:
    # redline never records 0 (it clamps to 1 µs), but another tool may have.
    other = new_hdr()
    for value in (0, 0, 5, 9_000):
        other.record_value(value)
    decoded = LatencyHistogram.decode(other.encode().decode("ascii"))
    reread = new_hdr().decode(other.encode())
    assert decoded.min == reread.get_min_value() == 0
    assert decoded.max == reread.get_max_value()
    assert decoded.percentiles([0.0, 50.0, 75.0]) == {
        p: reread.get_value_at_percentile(p) for p in (0.0, 50.0, 75.0)
    }
    decoded.compact()
    assert decoded.min == 0


def test_encoding_follows_every_write() -> None:
    histogram = histogram_of([10])
    before = histogram.encode()
    assert histogram.encode() is before  # cached
    twin = histogram.copy()
    histogram.record(20)
    assert histogram.encode() == hdr_of([10, 20]).encode().decode("ascii")
    histogram.record_many([30])
    assert histogram.encode() == hdr_of([10, 20, 30]).encode().decode("ascii")
    histogram.merge(histogram_of([40]))
    assert histogram.encode() == hdr_of([10, 20, 30, 40]).encode().decode("ascii")
    assert twin.encode() == before


def test_hdrh_decodes_what_we_encode() -> None:
    values = [3, 3, 80, 45_000, 2_000_000_000]
    hdr = new_hdr().decode(histogram_of(values).encode())
    np.testing.assert_array_equal(counts_of(hdr), counts_of(hdr_of(values)))


def test_to_and_from_hdrh() -> None:
    values = [7, 70, 700_000]
    hdr = histogram_of(values).to_hdrh()
    assert hdr.get_value_at_percentile(50.0) == hdr_of(values).get_value_at_percentile(50.0)
    assert LatencyHistogram.from_hdrh(hdr) == histogram_of(values)
    hdr.record_value(9)  # the copy does not follow later changes
    assert LatencyHistogram.from_hdrh(hdr) != histogram_of(values)


@pytest.mark.parametrize("text", ["", "not base64!", "SElTVA==", "HISTFAAAABx4nJNpmSzM"])
def test_decoding_garbage_raises_report_error(text: str) -> None:
    with pytest.raises(ReportError, match="not an encoded HdrHistogram"):
        LatencyHistogram.decode(text)


@oracle_settings
@given(st.binary(min_size=1, max_size=40), st.integers(0, 10_000))
def test_corrupted_encodings_fail_only_with_report_error(noise: bytes, seed: int) -> None:
    import base64

    raw = bytearray(base64.b64decode(histogram_of([5, 500, 50_000]).encode()))
    rng = np.random.default_rng(seed)
    for byte in noise:
        raw[int(rng.integers(len(raw)))] = byte
    try:
        LatencyHistogram.decode(base64.b64encode(bytes(raw)).decode("ascii"))
    except ReportError:
        pass  # the only acceptable failure


def test_decoding_another_range_raises_report_error() -> None:
    import hdrh.histogram

    other = hdrh.histogram.HdrHistogram(1, 60_000_000, 2)
    other.record_value(5)
    with pytest.raises(ReportError, match=r"range and precision \(1, 60000000, 2\)"):
        LatencyHistogram.decode(other.encode().decode("ascii"))
    with pytest.raises(ValueError, match="cannot use this HdrHistogram"):
        LatencyHistogram.from_hdrh(other)


def test_a_double_histogram_is_refused() -> None:
    hdr = hdr_of([5])
    hdr.int_to_double_conversion_ratio = 0.001
    with pytest.raises(ValueError, match="DoubleHistogram"):
        LatencyHistogram.from_hdrh(hdr)


def test_locks_are_fresh_in_a_forked_child() -> None:
    # What os.register_at_fork runs in a child: a lock held at fork time by
    # another thread of the parent must not stay held.
    from redline.metrics import _histogram

    held = _histogram._Workspace.lock
    held.acquire()
    try:
        _histogram._fresh_locks_in_child()
        assert not _histogram._Workspace.lock.locked()
        assert not _histogram._Scratch.lock.locked()
    finally:
        held.release()
    assert histogram_of([5]).count == 1


def test_equality_and_repr() -> None:
    assert histogram_of([1, 2]) == histogram_of([2, 1])
    assert histogram_of([1, 2]) != histogram_of([1, 3])
    assert histogram_of([1]) != "histogram"
    assert repr(LatencyHistogram()) == "LatencyHistogram(count=0)"
    assert repr(histogram_of([10, 20])) == (
        "LatencyHistogram(count=2, min=10, p50=10, p99=20, max=20)"
    )


@oracle_settings
@given(latencies)
def test_single_value_statistics(value: int) -> None:
    histogram = histogram_of([value])
    clamped = clamp(value)
    index = counts_index_of(clamped)
    assert histogram.max == histogram.value_at_percentile(99.0) == int(HIGHEST[index])
