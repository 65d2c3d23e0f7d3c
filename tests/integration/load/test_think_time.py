"""Think time and pacing seen from the server: ``redline run`` on a plan, against a
loopback server that notes when each request of each connection arrives.

Bounds are wide (a busy 2-core machine delays timers by milliseconds, now and then
by tens), but each would fail if the pause were missing, constant, or doubled.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.recording_server import RecordingServer

#: Generous bound for one short run, including worker start-up on a busy machine.
RUN_TIMEOUT_S = 30.0


@pytest.fixture
def arrival_server() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


def arrivals(server: RecordingServer) -> list[list[float]]:
    """Per connection the server accepted, when each of its requests arrived (monotonic s)."""
    times: list[list[float]] = [[] for _ in range(server.connections)]
    for request in server.requests:
        times[request.connection].append(request.at_s)
    return times


def run_plan(tmp_path: Path, server: RecordingServer, keys: str) -> dict[str, object]:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f'base_url = "http://127.0.0.1:{server.port}"\n'
        "workers = 2\n"
        f"{keys}\n"
        '[[requests]]\nname = "home"\nurl = "/"\n'
    )
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", str(plan), "--quiet", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data: dict[str, object] = json.loads(out.read_text())
    return data


def gaps_ms(server: RecordingServer) -> list[float]:
    """Time between successive requests of one connection, ms, over every connection."""
    return [
        (later - earlier) * 1000
        for times in arrivals(server)
        for earlier, later in zip(times, times[1:], strict=False)
    ]


def test_uniform_think_time_spaces_each_users_requests(
    arrival_server: RecordingServer, tmp_path: Path
) -> None:
    run_plan(
        tmp_path,
        arrival_server,
        'think_time = { dist = "uniform", min = "50ms", max = "150ms" }\n'
        '[executor]\ntype = "per-vu-iterations"\nvus = 4\niterations = 25\n',
    )
    assert [len(times) for times in arrivals(arrival_server)] == [25] * 4  # keep-alive
    gaps = gaps_ms(arrival_server)
    # Uniform on 50..150 ms: mean and median 100 ms, standard deviation 28.9 ms,
    # plus a response time well under a millisecond on loopback.
    assert 92 <= statistics.fmean(gaps) <= 125
    assert 88 <= statistics.median(gaps) <= 130
    assert 18 <= statistics.stdev(gaps) <= 45
    assert min(gaps) >= 45  # a pause never ends early
    assert sum(gap < 100 for gap in gaps) >= len(gaps) // 4  # not a constant 100 ms


def test_pacing_starts_each_users_requests_on_the_period(
    arrival_server: RecordingServer, tmp_path: Path
) -> None:
    run_plan(
        tmp_path,
        arrival_server,
        'pacing = "200ms"\n[executor]\ntype = "per-vu-iterations"\nvus = 3\niterations = 15\n',
    )
    assert [len(times) for times in arrivals(arrival_server)] == [15] * 3
    for times in arrivals(arrival_server):
        # Lateness does not add up: second to last request (the first waits for the
        # connect) is 13 periods of 200 ms, give or take a late timer.
        assert 2.5 <= times[-1] - times[1] <= 2.75
    gaps = gaps_ms(arrival_server)
    assert 190 <= statistics.median(gaps) <= 215
    assert min(gaps) >= 150
