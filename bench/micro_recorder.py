"""Micro-benchmark of the metrics hot path and its once-a-second work.

Run: ``uv run python bench/micro_recorder.py``. Prints the best of several
rounds (the least disturbed by other processes), for comparison between
commits on the same machine, not as absolute truths.
"""

from __future__ import annotations

import pickle
import timeit
from collections.abc import Callable

import hdrh.histogram
import numpy as np

from redline.metrics import EndpointRecorder, LatencyHistogram, RunSeries

ROUNDS = 7
SNAPSHOT_VALUES = 100_000


def best_s(
    action: Callable[[], object], number: int, setup: Callable[[], object] | None = None
) -> float:
    """Best time of one call over ``ROUNDS`` rounds of ``number`` calls, in seconds."""
    times = []
    for _ in range(ROUNDS):
        if setup is not None:
            setup()
        times.append(timeit.timeit(action, number=number) / number)
    return min(times)


def record_ns() -> tuple[float, float]:
    """ns per EndpointRecorder.record call, and per call of an empty method for scale."""

    class Empty:
        def record(self, *_: object) -> None:
            pass

    rounds = []
    empty = []
    for _ in range(ROUNDS):
        record = EndpointRecorder("GET /").record
        rounds.append(
            timeit.timeit(
                "record(1234, 1300, 200, False, 512, 100)",
                globals={"record": record},
                number=200_000,
            )
            / 200_000
        )
        empty.append(
            timeit.timeit(
                "record(1234, 1300, 200, False, 512, 100)",
                globals={"record": Empty().record},
                number=200_000,
            )
            / 200_000
        )
    return min(rounds) * 1e9, min(empty) * 1e9


def main() -> None:
    rng = np.random.default_rng(1)
    latencies = rng.lognormal(mean=8.0, sigma=1.0, size=SNAPSHOT_VALUES).astype(np.int64).tolist()

    per_record, per_call = record_ns()
    print(
        f"EndpointRecorder.record:        {per_record:7.0f} ns/call (empty method: {per_call:.0f})"
    )

    recorder = EndpointRecorder("GET /")

    def fill() -> None:
        for value in latencies:
            recorder.record(value, value, 200, False, 512, 100)

    snapshot_s = best_s(lambda: recorder.snapshot_and_reset(0), number=1, setup=fill)
    print(
        f"snapshot_and_reset, {SNAPSHOT_VALUES:,} req:  {snapshot_s * 1e3:7.2f} ms (2 histograms)"
    )

    values = np.array(latencies, dtype=np.int64)
    many_s = best_s(lambda: LatencyHistogram().record_many(values), number=5)
    print(f"record_many:                    {many_s / values.size * 1e9:7.1f} ns/value")

    one = hdrh.histogram.HdrHistogram(1, 3_600_000_000, 3)
    hdrh_s = best_s(lambda: one.record_value(1234), number=20_000)
    print(f"hdrh record_value (reference):  {hdrh_s * 1e9:7.0f} ns/value")

    histogram = LatencyHistogram()
    histogram.record_many(values)
    for label, action in {
        "percentiles (6), after a write": lambda: (
            histogram.record(1_000),  # a write drops the cached nonzero slots
            histogram.percentiles([50, 90, 95, 99, 99.9, 99.99]),
        ),
        "merge (dense)": lambda: LatencyHistogram().merge(histogram),
        "encode, after a write": lambda: (histogram.record(1_000), histogram.encode()),
        "pickle + unpickle": lambda: pickle.loads(pickle.dumps(histogram)),
    }.items():
        print(f"{label + ':':<32}{best_s(action, number=50) * 1e6:7.0f} µs")
    print(f"pickled size:                   {len(pickle.dumps(histogram)):7,} bytes")

    fill()
    stats = recorder.snapshot_and_reset(0)
    assert stats is not None
    wire = pickle.dumps(stats)

    def add_workers() -> None:
        series = RunSeries()
        for _ in range(8):
            series.add(pickle.loads(wire))

    add_s = best_s(add_workers, number=3) / 8
    print(f"RunSeries.add (unpickle incl.): {add_s * 1e6:7.0f} µs per 100k-request snapshot")


if __name__ == "__main__":
    main()
