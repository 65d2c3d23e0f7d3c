"""Test data seen from the server: ``redline run`` with three workers against a loopback
server that records every request path, with feeder rows and generated values
templated into the URL."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.recording_server import RecordingServer

#: Generous bound for one short run, including three workers' start-up.
RUN_TIMEOUT_S = 30.0
#: Rows in the unique feeder: 100 per worker.
ROWS = 300


@pytest.fixture
def path_server() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


def paths(server: RecordingServer) -> list[str]:
    """The path of every request the server read."""
    return [request.path for request in server.requests]


def run_plan(
    tmp_path: Path, server: RecordingServer, keys: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "ids.csv").write_text("id\n" + "".join(f"id-{n}\n" for n in range(ROWS)))
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f'base_url = "http://127.0.0.1:{server.port}"\n'
        "workers = 3\n"
        f"{keys}\n"
        '[executor]\ntype = "per-vu-iterations"\nvus = 6\niterations = 200\nmax_duration = "20s"\n'
    )
    return subprocess.run(
        [sys.executable, "-m", "redline", "run", str(plan), "--quiet"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
        cwd=tmp_path.parent,  # the data file is found next to the plan, not here
    )


def test_unique_rows_are_each_sent_once_across_three_workers(
    path_server: RecordingServer, tmp_path: Path
) -> None:
    proc = run_plan(
        tmp_path,
        path_server,
        '[[requests]]\nname = "item"\nurl = "/items/${ids.id}"\n'
        '[[data]]\nname = "ids"\nfile = "ids.csv"\nmode = "unique"\n',
    )
    assert proc.returncode == 0, proc.stderr
    # 6 VUs would make 1200 requests; the data stops them after 300.
    seen = Counter(path.removeprefix("/items/") for path in paths(path_server))
    assert [value for value, count in seen.items() if count > 1] == []  # none twice
    assert set(seen) == {f"id-{n}" for n in range(ROWS)}  # and every one used


def test_run_id_is_one_per_run_and_sequences_are_unique_across_workers(
    path_server: RecordingServer, tmp_path: Path
) -> None:
    proc = run_plan(
        tmp_path,
        path_server,
        '[[requests]]\nname = "order"\nurl = "/orders/${order}?run=${run_id}"\n'
        '[[data]]\nname = "ids"\nfile = "ids.csv"\nmode = "unique"\n'
        '[[generate]]\nname = "order"\nkind = "sequence"\nstart = 1\n',
    )
    assert proc.returncode == 0, proc.stderr
    orders = [path.split("?")[0].removeprefix("/orders/") for path in paths(path_server)]
    run_ids = {path.split("?run=")[1] for path in paths(path_server)}
    assert len(orders) == ROWS
    assert sorted(int(order) for order in orders) == list(range(1, ROWS + 1))
    assert len(run_ids) == 1


def test_fail_policy_ends_the_run_with_an_error_naming_the_feeder(
    path_server: RecordingServer, tmp_path: Path
) -> None:
    proc = run_plan(
        tmp_path,
        path_server,
        '[[requests]]\nname = "item"\nurl = "/items/${ids.id}"\n'
        '[[data]]\nname = "ids"\nfile = "ids.csv"\nmode = "unique"\non_exhausted = "fail"\n',
    )
    assert proc.returncode == 3  # the run failed; what it measured was printed
    assert "data 'ids' ran out of rows after 100 in this worker" in proc.stderr
    assert "failed: the run stopped early" in proc.stdout
