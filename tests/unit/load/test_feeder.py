"""Feeders: each mode and exhaustion policy, the unique partition across workers,
and VUs on virtual time that stop when the data runs out (closed and open model)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from redline.clock import NS_PER_MS, NS_PER_S, FakeClock
from redline.load._closed import ClosedExecutor, ClosedSchedule
from redline.load._executor import StopReason
from redline.load._feeder import (
    Feeder,
    FeederEnd,
    RowFeeder,
    build_feeder,
    build_feeders,
    partition,
    variables_of,
)
from redline.load._open import OpenExecutor
from redline.load._schedule import ArrivalSchedule
from redline.load._vu import WorkerContext
from redline.plan import DataRows, FeederConfig, OnExhausted, plan_from_mapping
from tests.unit.load.conftest import FakeServer, MakeCtx, run_executor


@dataclass
class Events:
    """Records what feeders report when they run out."""

    stops: int = 0
    failures: list[str] = field(default_factory=list)

    def stopped(self) -> None:
        self.stops += 1

    def failed(self, message: str) -> None:
        self.failures.append(message)


def ids_file(tmp_path: Path, count: int) -> str:
    path = tmp_path / "ids.csv"
    path.write_text("id\n" + "".join(f"{n}\n" for n in range(count)))
    return str(path)


def config(tmp_path: Path, count: int = 5, **keys: Any) -> FeederConfig:
    return FeederConfig.model_validate({"name": "d", "file": ids_file(tmp_path, count), **keys})


def draw(feeder: Feeder, times: int) -> list[str | None]:
    """The ``d.id`` of ``times`` successive fills (None where the fill was refused)."""
    values: list[str | None] = []
    for _ in range(times):
        into: dict[str, bytes] = {}
        values.append(into["d.id"].decode() if feeder.fill(into) else None)
    return values


def test_rows_become_variables_named_after_the_feeder() -> None:
    rows = DataRows(("id", "email"), [("1", "a@x"), ("2", "é@x")])
    assert variables_of("users", rows) == [
        {"users.id": b"1", "users.email": b"a@x"},
        {"users.id": b"2", "users.email": "é@x".encode()},
    ]


def test_sequential_reads_in_order_then_stops(tmp_path: Path) -> None:
    events = Events()
    feeder = build_feeder(config(tmp_path, 3), worker=1, workers=2, events=events)
    assert draw(feeder, 5) == ["0", "1", "2", None, None]
    assert events.stops == 2
    assert events.failures == []


def test_sequential_recycle_starts_over(tmp_path: Path) -> None:
    feeder = build_feeder(
        config(tmp_path, 3, on_exhausted="recycle"), worker=0, workers=1, events=Events()
    )
    assert draw(feeder, 7) == ["0", "1", "2", "0", "1", "2", "0"]


def test_sequential_fail_reports_the_feeder(tmp_path: Path) -> None:
    events = Events()
    feeder = build_feeder(
        config(tmp_path, 2, on_exhausted="fail"), worker=0, workers=1, events=events
    )
    assert draw(feeder, 3) == ["0", "1", None]
    assert events.stops == 0
    assert events.failures == [
        "data 'd' ran out of rows after 2 in this worker, and its on_exhausted is 'fail'; "
        "allowed more rows, or on_exhausted 'stop' or 'recycle'"
    ]


def test_circular_wraps_and_never_runs_out(tmp_path: Path) -> None:
    events = Events()
    feeder = build_feeder(config(tmp_path, 2, mode="circular"), worker=0, workers=1, events=events)
    assert draw(feeder, 5) == ["0", "1", "0", "1", "0"]
    assert events == Events()


def test_random_is_reproducible_per_worker_and_differs_between_workers(tmp_path: Path) -> None:
    cfg = config(tmp_path, 50, mode="random")

    def values(worker: int) -> list[str | None]:
        return draw(build_feeder(cfg, worker=worker, workers=2, events=Events()), 200)

    first = values(0)
    assert first == values(0)
    assert first != values(1)
    assert len(set(first)) > 40  # draws cover the rows (200 draws of 50)
    assert None not in first


def test_unique_worker_takes_every_wth_row(tmp_path: Path) -> None:
    cfg = config(tmp_path, 10, mode="unique")
    feeder = build_feeder(cfg, worker=1, workers=3, events=Events())
    assert draw(feeder, 5) == ["1", "4", "7", None, None]


def test_unique_fail_policy_fails_the_worker_that_runs_out(tmp_path: Path) -> None:
    events = Events()
    cfg = config(tmp_path, 2, mode="unique", on_exhausted="fail")
    feeder = build_feeder(cfg, worker=2, workers=3, events=events)  # rows 2.. : none
    assert draw(feeder, 1) == [None]
    assert len(events.failures) == 1


@given(rows=st.integers(0, 200), workers=st.integers(1, 17))
def test_unique_partitions_cover_every_row_once(rows: int, workers: int) -> None:
    all_rows = list(range(rows))
    shares = [partition(all_rows, worker=i, workers=workers) for i in range(workers)]
    flat = [row for share in shares for row in share]
    assert sorted(flat) == all_rows  # every row, none twice
    assert max(len(s) for s in shares) - min(len(s) for s in shares) <= 1


def test_build_feeders_is_empty_without_data_or_generators() -> None:
    plan = plan_from_mapping({"requests": [{"name": "a", "url": "http://127.0.0.1:1/"}]})
    assert build_feeders(plan, worker=0, workers=1, run_id="r", events=Events()) == []


def test_build_feeders_sets_run_id_rows_and_generators(tmp_path: Path) -> None:
    plan = plan_from_mapping(
        {
            "requests": [{"name": "a", "url": "http://127.0.0.1:1/"}],
            "data": [{"name": "d", "file": ids_file(tmp_path, 3)}],
            "generate": [{"name": "n", "kind": "sequence", "start": 100}],
        }
    )
    feeders = build_feeders(plan, worker=1, workers=4, run_id="run-7", events=Events())
    into: dict[str, bytes] = {}
    assert all(f.fill(into) for f in feeders)
    assert into == {"run_id": b"run-7", "d.id": b"0", "n": b"101"}


# --- FeederEnd -----------------------------------------------------------------------


class StubExecutor:
    def __init__(self, vus: int) -> None:
        self.vus = vus
        self.stops = 0

    def active_vus(self) -> int:
        return self.vus

    def stop(self) -> None:
        self.stops += 1


def test_feeder_end_stops_the_executor_once_every_vu_is_parked() -> None:
    asyncio.run(_feeder_end_stops_the_executor_once_every_vu_is_parked())


async def _feeder_end_stops_the_executor_once_every_vu_is_parked() -> None:
    clock = FakeClock()
    end = FeederEnd(clock)
    executor = StubExecutor(vus=2)
    end.attach(executor, lambda _m: None)  # type: ignore[arg-type]
    end.stopped()
    clock.advance(0)
    assert executor.stops == 0
    end.stopped()
    assert executor.stops == 0  # deferred: never from inside the executor's own call
    clock.advance(0)
    assert executor.stops == 1
    end.stopped()
    end.check()
    clock.advance(0)
    assert executor.stops == 1


def test_feeder_end_check_notices_vus_retired_after_parking() -> None:
    asyncio.run(_feeder_end_check_notices_vus_retired_after_parking())


async def _feeder_end_check_notices_vus_retired_after_parking() -> None:
    clock = FakeClock()
    end = FeederEnd(clock)
    executor = StubExecutor(vus=3)
    end.attach(executor, lambda _m: None)  # type: ignore[arg-type]
    end.stopped()
    executor.vus = 1  # a ramp-down retired two
    end.check()
    clock.advance(0)
    assert executor.stops == 1


def test_feeder_end_reports_a_failure_once() -> None:
    asyncio.run(_feeder_end_reports_a_failure_once())


async def _feeder_end_reports_a_failure_once() -> None:
    clock = FakeClock()
    end = FeederEnd(clock)
    executor = StubExecutor(vus=5)
    reported: list[str] = []
    end.attach(executor, reported.append)  # type: ignore[arg-type]
    end.failed("data 'd' ran out")
    end.failed("data 'd' ran out")
    clock.advance(0)
    assert reported == ["data 'd' ran out"]
    assert end.failure == "data 'd' ran out"
    assert executor.stops == 1


# --- VUs on virtual time ---------------------------------------------------------------


class Spy:
    """A feeder placed after the others: notes the row each iteration got."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def fill(self, into: dict[str, bytes]) -> bool:
        self.seen.append(into["d.id"].decode())
        return True


def with_spy(ctx: WorkerContext, feeder: Feeder) -> Spy:
    """Give ``ctx`` the feeder, followed by a spy on the rows it hands out."""
    spy = Spy()
    ctx.feeders = [feeder, spy]
    return spy


def test_closed_model_stops_once_unique_rows_run_out(
    tmp_path: Path, clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 10 * NS_PER_MS
    ctx = make_ctx(vus=3, duration="60s")
    executor = ClosedExecutor(ctx, ClosedSchedule(vus_at=lambda _t: 3, duration_s=60))
    end = FeederEnd(clock)
    feeder = build_feeder(config(tmp_path, 30, mode="unique"), worker=0, workers=2, events=end)
    spy = with_spy(ctx, feeder)
    end.attach(executor, lambda _m: None)
    started_ns = clock.now_ns()
    run_executor(clock, executor)
    assert sorted(spy.seen, key=int) == [str(n) for n in range(0, 30, 2)]  # worker 0's share
    assert len(server.requests) == 15
    assert end.parked == 3
    assert clock.now_ns() - started_ns < NS_PER_S  # not the planned 60 s


def test_per_vu_iterations_end_when_rows_run_out(
    tmp_path: Path, clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(vus=2, duration="10s")
    schedule = ClosedSchedule(vus_at=lambda _t: 2, duration_s=600, iterations_per_vu=100)
    executor = ClosedExecutor(ctx, schedule)
    end = FeederEnd(clock)
    feeder = build_feeder(config(tmp_path, 7), worker=0, workers=1, events=end)
    spy = with_spy(ctx, feeder)
    end.attach(executor, lambda _m: None)
    run_executor(clock, executor)
    assert sorted(spy.seen, key=int) == [str(n) for n in range(7)]
    assert len(server.requests) == 7


def test_recycled_rows_keep_the_closed_model_running(
    tmp_path: Path, clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 100 * NS_PER_MS
    ctx = make_ctx(vus=1, duration="10s")
    executor = ClosedExecutor(ctx, ClosedSchedule(vus_at=lambda _t: 1, duration_s=10))
    end = FeederEnd(clock)
    feeder = build_feeder(
        config(tmp_path, 3, on_exhausted="recycle"), worker=0, workers=1, events=end
    )
    spy = with_spy(ctx, feeder)
    end.attach(executor, lambda _m: None)
    assert run_executor(clock, executor) is StopReason.COMPLETED
    assert len(server.requests) == 100
    assert spy.seen[:7] == ["0", "1", "2", "0", "1", "2", "0"]


def test_open_model_sends_no_arrival_without_a_row(
    tmp_path: Path, clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    server.service_ns = 5 * NS_PER_MS
    ctx = make_ctx(vus=1, duration="10s")
    schedule = ArrivalSchedule.constant(rate_per_s=100, duration_s=30)
    executor = OpenExecutor(ctx, schedule, worker=0, workers=1, pre_allocated_vus=4, max_vus=4)
    end = FeederEnd(clock)
    feeder = build_feeder(config(tmp_path, 20), worker=0, workers=1, events=end)
    spy = with_spy(ctx, feeder)
    end.attach(executor, lambda _m: None)
    started_ns = clock.now_ns()
    run_executor(clock, executor)
    assert spy.seen == [str(n) for n in range(20)]
    assert len(server.requests) == 20
    assert clock.now_ns() - started_ns < NS_PER_S  # every VU met an arrival, then it ended


def test_fail_policy_ends_the_worker_with_the_message(
    tmp_path: Path, clock: FakeClock, server: FakeServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(vus=2, duration="10s")
    executor = ClosedExecutor(ctx, ClosedSchedule(vus_at=lambda _t: 2, duration_s=60))
    end = FeederEnd(clock)
    feeder = build_feeder(config(tmp_path, 4, on_exhausted="fail"), worker=0, workers=1, events=end)
    reported: list[str] = []
    ctx.feeders = [feeder]
    end.attach(executor, reported.append)
    run_executor(clock, executor)
    assert len(server.requests) == 4
    assert reported and reported[0].startswith("data 'd' ran out of rows after 4")


def test_row_feeder_without_rows_stops_at_once() -> None:
    events = Events()
    feeder = RowFeeder("d", [], OnExhausted.RECYCLE, events)
    assert not feeder.fill({})
    assert events.stops == 1
