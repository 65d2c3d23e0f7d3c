"""GeneratorStats: totals add, lags take the worst worker."""

from __future__ import annotations

import json

import pytest

from redline.errors import ReportError
from redline.metrics import GeneratorStats


def _worker(cpu_s: float, lag_us: int) -> GeneratorStats:
    return GeneratorStats(
        cpu_s=cpu_s,
        loop_lag_max_us=lag_us * 10,
        loop_lag_p99_us=lag_us,
        send_lag_p99_us=lag_us * 2,
        active_vus=10,
        dropped_iterations=1,
        iterations=100,
    )


def test_merge_sums_totals_and_keeps_worst_lags() -> None:
    merged = _worker(0.25, 300)
    merged.merge(_worker(0.5, 100))
    assert merged == GeneratorStats(
        cpu_s=0.75,
        loop_lag_max_us=3_000,
        loop_lag_p99_us=300,
        send_lag_p99_us=600,
        active_vus=20,
        dropped_iterations=2,
        iterations=200,
        workers=2,
    )


def test_copy_is_independent() -> None:
    original = _worker(0.1, 5)
    twin = original.copy()
    twin.merge(original)
    assert original == _worker(0.1, 5)


def test_json_round_trip() -> None:
    original = _worker(0.125, 7)
    assert GeneratorStats.from_dict(json.loads(json.dumps(original.to_dict()))) == original


def test_whole_cpu_seconds_read_back_as_float() -> None:
    data = {**_worker(0.0, 1).to_dict(), "cpu_s": 1}
    restored = GeneratorStats.from_dict(data)
    assert isinstance(restored.cpu_s, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "field 'cpu_s' must be a number, got None"),
        ({**GeneratorStats().to_dict(), "iterations": 1.5}, "'iterations' must be a number"),
        ({**GeneratorStats().to_dict(), "workers": True}, "'workers' must be a number"),
    ],
)
def test_from_dict_rejects_bad_data(data: dict[str, object], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        GeneratorStats.from_dict(data)


def test_pacing_misses_add_up_and_older_files_read_as_zero() -> None:
    a = GeneratorStats(pacing_misses=2)
    a.merge(GeneratorStats(pacing_misses=3))
    assert a.pacing_misses == 5
    older = GeneratorStats().to_dict()
    del older["pacing_misses"]
    assert GeneratorStats.from_dict(older).pacing_misses == 0
