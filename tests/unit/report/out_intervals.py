"""Synthetic seconds for the streaming-output tests: known requests, known figures."""

from __future__ import annotations

from redline.metrics import EndpointRecorder, GeneratorStats, RunSeries
from redline.report.outputs import Interval

#: Per second: endpoint -> (latency in µs, outcome, failed, how many).
SECOND: dict[str, list[tuple[int, int | str, bool, int]]] = {
    "home": [(800, 200, False, 90), (5_000, 200, False, 10)],
    "items": [(4_000, 503, True, 3), (2_000, 200, False, 5), (60_000_000, "timeout", True, 2)],
}
#: Requests in one such second.
PER_SECOND = sum(n for rows in SECOND.values() for *_, n in rows)


def series(seconds: int = 3, *, active_vus: int = 4) -> RunSeries:
    """A run's series: ``seconds`` identical seconds of :data:`SECOND`."""
    run = RunSeries()
    for second in range(seconds):
        for name, rows in SECOND.items():
            recorder = EndpointRecorder(name)
            for latency_us, outcome, failed, count in rows:
                for _ in range(count):
                    recorder.record(latency_us, latency_us, outcome, failed, 50, 40)
            stats = recorder.snapshot_and_reset(second)
            assert stats is not None
            run.add(stats)
        run.add_generator(second, GeneratorStats(active_vus=active_vus, iterations=PER_SECOND))
    return run


def intervals(seconds: int = 3, *, active_vus: int = 4) -> list[Interval]:
    """The seconds of :func:`series`, as the outputs are fed them."""
    run = series(seconds, active_vus=active_vus)
    return [Interval.from_series(run, second) for second in range(seconds)]
