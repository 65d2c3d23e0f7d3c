"""A small recorded run for the dashboard's tests: two endpoints, three seconds, known figures.

``home`` answers 100 requests a second in 800 µs (200); ``items`` 100 a second in
4 ms, 60 with a 503 and 40 with a 200; in second 2, 10 more ``items`` requests time out
after 1 s.
"""

from __future__ import annotations

from datetime import UTC, datetime

from redline.load import Progress, RunResult, RunStatus
from redline.load._selfcheck import self_check
from redline.load._thresholds import ThresholdWatch
from redline.metrics import EndpointRecorder, GeneratorStats, RunSeries
from redline.plan import Plan, plan_from_mapping

PLAN = {
    "name": "shop",
    "base_url": "http://127.0.0.1:8080",
    "requests": [{"name": "home", "url": "/"}, {"name": "items", "url": "/items"}],
    "executor": {
        "type": "ramping-vus",
        "start_vus": 0,
        "stages": [{"duration": "2s", "target": 4}, {"duration": "8s", "target": 4}],
    },
    "thresholds": ["p95[items]<1ms", "error_rate<60%"],
}
SECONDS = 3


def plan() -> Plan:
    return plan_from_mapping(PLAN)


def series(seconds: int = SECONDS) -> RunSeries:
    """The run's first ``seconds`` seconds."""
    recorded = RunSeries()
    for second in range(seconds):
        home, items = EndpointRecorder("home"), EndpointRecorder("items")
        for _ in range(100):
            home.record(800, 800, 200, False, 50, 40)
        for index in range(100):
            status = 503 if index < 60 else 200
            items.record(4000, 4000, status, status >= 400, 60, 30)
        if second == 2:
            for _ in range(10):
                items.record(1_000_000, 1_000_000, "timeout", True, 0, 30)
        for recorder in (home, items):
            stats = recorder.snapshot_and_reset(second)
            assert stats is not None
            recorded.add(stats)
        recorded.add_generator(second, GeneratorStats(active_vus=2 + second, iterations=200))
    return recorded


def progress(second: int) -> Progress:
    """What the runner tells its observers once ``second`` is merged."""
    return Progress(plan(), series(second + 1), second, float(second + 1), 10.0, 1)


def result(status: RunStatus = RunStatus.COMPLETED) -> RunResult:
    the_plan, the_series = plan(), series()
    watch = ThresholdWatch(list(the_plan.thresholds))
    generators = [g for g in (the_series.generator_at(s) for s in the_series.seconds()) if g]
    return RunResult(
        plan=the_plan,
        workers=1,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        elapsed_s=float(SECONDS),
        status=status,
        series=the_series,
        thresholds=watch.final(the_series, float(SECONDS), 0),
        self_check=self_check(generators, 1),
        run_id="20260101-000000-abcdef",
    )
