"""Load shapes seen from the server: ``redline run`` on a plan against a loopback
server that timestamps every request; arrivals are counted per second from the first.

Bounds allow for late timers on a busy machine (a few arrivals slip across a
second's edge) and, for Poisson arrivals, for chance (4 standard deviations).
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from redline.plan import DiurnalCurve, Ramp, RampCurve
from tests.integration.recording_server import RecordingServer

RUN_TIMEOUT_S = 30.0
#: How late the first arrival (which starts the per-second grid) may be on a busy machine.
EDGE_SLIP_S = 0.1


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as recording:
        yield recording


def arrivals(server: RecordingServer) -> list[float]:
    """When each request arrived (monotonic s)."""
    return [request.at_s for request in server.requests]


def per_second(server: RecordingServer) -> list[int]:
    """Arrivals in each second since the first arrival."""
    times = arrivals(server)
    first = min(times)
    counts = [0] * (int(max(times) - first) + 1)
    for t in times:
        counts[int(t - first)] += 1
    return counts


def run_plan(
    tmp_path: Path, server: RecordingServer, executor: str, *, exit_code: int = 0
) -> dict[str, object]:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f'base_url = "http://127.0.0.1:{server.port}"\nworkers = 2\n'
        f'[executor]\n{executor}\n[[requests]]\nname = "home"\nurl = "/"\n'
    )
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", str(plan), "--quiet", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == exit_code, proc.stderr
    data: dict[str, object] = json.loads(out.read_text())
    return data


def assert_follows(counts: list[int], expected: list[float], *, slack: float) -> None:
    """Each second's count is within ``slack`` x sqrt(expected) + 5 of the curve, plus what
    may slip across its edges where the rate steps (the grid starts at the first arrival,
    which a stall of the machine can delay by up to EDGE_SLIP_S)."""
    assert len(counts) == len(expected), (counts, expected)
    for second, (got, want) in enumerate(zip(counts, expected, strict=True)):
        neighbours = expected[max(0, second - 1) : second + 2]
        slip = EDGE_SLIP_S * max(abs(n - want) for n in neighbours)
        assert abs(got - want) <= slack * math.sqrt(want) + 5 + slip, (second, counts, expected)


def test_an_exponential_ramp_grows_geometrically(server: RecordingServer, tmp_path: Path) -> None:
    run_plan(
        tmp_path,
        server,
        'type = "ramping-arrival-rate"\n'
        'stages = [{ duration = "10s", target = "300/s", ramp = "exponential" }]',
    )
    curve = RampCurve(Ramp.EXPONENTIAL, 0, 300, 10)
    assert len(arrivals(server)) == math.ceil(curve.amount_by(10))  # 482, every one sent
    expected = [curve.amount_by(s + 1) - curve.amount_by(s) for s in range(10)]
    # Uniform arrivals: only late timers move one across a second's edge.
    assert_follows(per_second(server), expected, slack=0.5)
    counts = per_second(server)
    growth = [counts[s + 1] / counts[s] for s in range(6, 9)]
    assert all(1.6 <= g <= 1.95 for g in growth), counts  # x1.77 a second, not +30/s


def test_poisson_arrivals_at_a_constant_rate(server: RecordingServer, tmp_path: Path) -> None:
    run_plan(
        tmp_path,
        server,
        'type = "constant-arrival-rate"\nrate = "300/s"\nduration = "10s"\narrivals = "poisson"',
    )
    assert abs(len(arrivals(server)) - 3000) <= 4 * math.sqrt(3000)
    assert_follows(per_second(server)[:10], [300.0] * 10, slack=4)
    times = sorted(arrivals(server))
    gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
    # The longest 1 % left out: a stall of the (shared, busy) machine shows as one long
    # gap at the server, not as the schedule's; it would inflate the spread on its own.
    kept = gaps[: int(len(gaps) * 0.99)]
    cv = statistics.pstdev(kept) / statistics.fmean(kept)
    assert 0.8 <= cv <= 1.25  # exponential gaps (trimmed: about 0.9); evenly spaced: about 0.1


def test_a_diurnal_rate_rises_and_falls(server: RecordingServer, tmp_path: Path) -> None:
    run_plan(
        tmp_path,
        server,
        'type = "diurnal"\nmodel = "arrival-rate"\nmin = "20/s"\nmax = "200/s"\n'
        'period = "10s"\nduration = "10s"',
    )
    curve = DiurnalCurve(low=20, high=200, period_s=10)
    assert len(arrivals(server)) == 1100  # the mean, 110/s, for 10 s
    expected = [curve.amount_by(s + 1) - curve.amount_by(s) for s in range(10)]
    assert_follows(per_second(server), expected, slack=0.5)


SHAPES_PY = """
def waves(t_s):
    if t_s >= 10:
        return None
    if 4 <= t_s < 6:
        return 250.0
    return 50.0 if t_s < 4 else 100.0


def too_many(t_s):
    return 5 if t_s < 4 else 25
"""


def test_a_rate_shape_is_followed_until_it_returns_none(
    server: RecordingServer, tmp_path: Path
) -> None:
    (tmp_path / "shapes.py").write_text(SHAPES_PY)
    run_plan(
        tmp_path,
        server,
        f'type = "shape"\nshape = "{tmp_path / "shapes.py"}:waves"\nmodel = "arrival-rate"\n'
        'max_rate = "300/s"\nduration = "30s"',
    )
    assert len(arrivals(server)) == 4 * 50 + 2 * 250 + 4 * 100
    expected = [50.0] * 4 + [250.0] * 2 + [100.0] * 4
    assert_follows(per_second(server), expected, slack=0.5)


def test_a_vu_shape_out_of_bounds_ends_the_run_with_its_error(
    server: RecordingServer, tmp_path: Path
) -> None:
    (tmp_path / "shapes.py").write_text(SHAPES_PY)
    shape = f"{tmp_path / 'shapes.py'}:too_many"
    results = run_plan(
        tmp_path,
        server,
        f'type = "shape"\nshape = "{shape}"\nmax_vus = 20\nduration = "20s"',
        exit_code=3,  # the run failed; what it measured is written
    )
    run = results["run"]
    assert isinstance(run, dict)
    assert run["status"] == "failed"
    assert run["aborted_by"].startswith(f"shape {shape!r} returned 25")
    errors = run["script_errors"]
    assert list(errors) == [
        f"shape {shape!r} returned 25 at t=4.0s; allowed a whole number of VUs 0..20 "
        "(max_vus) or None to end the run"
    ]
    assert max(arrivals(server)) - min(arrivals(server)) < 6  # stopped at 4 s, not 20 s
