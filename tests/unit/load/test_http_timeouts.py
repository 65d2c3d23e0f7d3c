"""The timeout sweep, on virtual time: exact counts, exact instants."""

from __future__ import annotations

import asyncio

import pytest

from redline.clock import NS_PER_S, FakeClock
from redline.errors import ConfigError
from redline.load._http import Connection, Endpoint, ErrorKind, PreparedRequest, TimeoutSweeper
from tests.unit.load.http_fakes import FakeTransport, Recorder, connected

MS = NS_PER_S // 1000

GET = PreparedRequest.build(
    name="r",
    method="GET",
    url="/",
    headers=None,
    body=None,
    endpoint=Endpoint.from_url("http://127.0.0.1:8080/"),
)


def busy_connection(sent_at_ns: int) -> tuple[Connection, FakeTransport, Recorder]:
    connection, transport = connected()
    recorder = Recorder()
    connection.send(GET, recorder, now_ns=sent_at_ns)
    return connection, transport, recorder


def test_sweep_aborts_only_overdue_requests() -> None:
    sweeper = TimeoutSweeper(FakeClock(), timeout_s=1.0)
    early, early_transport, early_calls = busy_connection(0)
    late, _, late_calls = busy_connection(500 * MS)
    idle, _ = connected()
    for connection in (early, late, idle):
        sweeper.watch(connection)

    assert sweeper.sweep(999 * MS) == 0
    assert sweeper.sweep(1000 * MS) == 1
    assert early_calls.only == (
        "error",
        ErrorKind.TIMEOUT,
        "no complete response after 1000 ms (timeout 1000 ms)",
    )
    assert early_transport.aborted and not early.is_open
    assert late_calls.calls == [] and late.in_flight
    assert idle.is_open

    assert sweeper.sweep(1500 * MS) == 1
    assert late_calls.only[1] is ErrorKind.TIMEOUT
    assert len(early_calls.calls) == 1


def test_sweep_forgets_closed_connections() -> None:
    sweeper = TimeoutSweeper(FakeClock(), timeout_s=1.0)
    closed, _ = connected()
    closed.close()
    idle, _ = connected()
    sweeper.watch(closed)
    sweeper.watch(idle)
    sweeper.sweep(0)
    assert len(sweeper) == 1
    sweeper.forget(idle)
    sweeper.forget(idle)
    assert len(sweeper) == 0


def test_timed_out_connection_is_forgotten_on_the_next_sweep() -> None:
    sweeper = TimeoutSweeper(FakeClock(), timeout_s=0.1)
    connection, _, _ = busy_connection(0)
    sweeper.watch(connection)
    sweeper.sweep(100 * MS)
    sweeper.sweep(200 * MS)
    assert len(sweeper) == 0


def test_periodic_sweep_on_virtual_time() -> None:
    clock = FakeClock()
    sweeper = TimeoutSweeper(clock, timeout_s=1.0, period_s=0.05)
    fired_at: list[int] = []

    class Timed(Recorder):
        def on_error(self, kind: ErrorKind, detail: str) -> None:
            super().on_error(kind, detail)
            fired_at.append(clock.now_ns())

    async def scenario() -> None:
        connection, _ = connected()
        sweeper.watch(connection)
        sweeper.start()
        sweeper.start()  # idempotent
        await clock.sleep_until_ns(10 * MS)
        connection.send(GET, Timed(), now_ns=clock.now_ns())
        await clock.sleep_until_ns(2 * NS_PER_S)
        sweeper.stop()

    asyncio.run(scenario())
    # Sent at 10 ms, due at 1010 ms: the first sweep at or after that is 1050 ms.
    assert fired_at == [1050 * MS]


def test_stop_ends_the_sweeps() -> None:
    clock = FakeClock()
    sweeper = TimeoutSweeper(clock, timeout_s=0.1, period_s=0.05)
    connection, _, recorder = busy_connection(0)
    sweeper.watch(connection)

    async def scenario() -> None:
        sweeper.start()
        sweeper.stop()
        sweeper.stop()  # idempotent
        await clock.sleep_until_ns(NS_PER_S)

    asyncio.run(scenario())
    assert recorder.calls == [] and connection.in_flight


def test_constructor_starts_nothing() -> None:
    clock = FakeClock()
    TimeoutSweeper(clock, timeout_s=1.0)  # no running loop needed
    assert clock.now_ns() == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timeout_s": 0.0}, r"timeout_s must be > 0, got 0.0"),
        ({"timeout_s": -1}, r"timeout_s must be > 0, got -1"),
        ({"timeout_s": float("nan")}, r"timeout_s must be > 0, got nan"),
        ({"timeout_s": 1.0, "period_s": 0}, r"period_s must be > 0, got 0"),
    ],
)
def test_bad_settings(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TimeoutSweeper(FakeClock(), **kwargs)


def test_timeout_s_round_trips() -> None:
    assert TimeoutSweeper(FakeClock(), timeout_s=2.5).timeout_s == 2.5
