"""The run history end to end: ``redline run`` saves, the history commands read it back."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from redline.demo.capacity import CapacityServer, capacity_server

#: Generous bound for one short run, including worker start-up on a busy machine.
RUN_TIMEOUT_S = 60


def redline(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
        env=None if env is None else {**os.environ, **env},
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[CapacityServer]:
    with capacity_server(slots=8, service_s=0.001) as running:
        yield running


def run_and_save(server: CapacityServer, db: Path, *extra: str) -> str:
    proc = redline(
        "run", f"{server.url}/", "--vus", "4", "--iterations", "200", "--workers", "1",
        "--history", str(db), *extra,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("saved as run "), proc.stdout
    return line.removeprefix("saved as run ")


def test_runs_are_saved_listed_shown_and_exported(server: CapacityServer, tmp_path: Path) -> None:
    db, out = tmp_path / "h.db", tmp_path / "r.json"
    first = run_and_save(server, db, "--tag", "nightly", "--out", str(out))
    second = run_and_save(server, db)
    listed = redline("runs", "--history", str(db))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.index(second) < listed.stdout.index(first), "newest first"
    assert server.url.rstrip("/") in listed.stdout and "passed" in listed.stdout
    tagged = redline("runs", "--history", str(db), "--tag", "nightly", "--since", "1h")
    assert first in tagged.stdout and second not in tagged.stdout

    shown = redline("show", first[:-2], "--history", str(db))
    assert shown.returncode == 0, shown.stderr
    assert f"run {first}" in shown.stdout and "200" in shown.stdout and "p95" in shown.stdout

    exported = redline("export", first, "--format", "json", "--history", str(db))
    assert json.loads(exported.stdout) == json.loads(out.read_text())

    csv_file = tmp_path / "r.csv"
    written = redline("export", first, "--format", "csv", "-o", str(csv_file), "--history", str(db))
    assert written.returncode == 0, written.stderr
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    assert list(rows[0]) == [
        "second", "endpoint", "count", "rps", "errors",
        "p50_us", "p90_us", "p95_us", "p99_us", "max_us",
    ]  # fmt: skip
    assert sum(int(row["count"]) for row in rows) == 200
    assert all(int(row["p50_us"]) <= int(row["p99_us"]) <= int(row["max_us"]) for row in rows)


def test_baselines_rm_and_gc(server: CapacityServer, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ids = [run_and_save(server, db) for _ in range(3)]
    named = redline("baseline", "set", ids[0], "--name", "before", "--history", str(db))
    assert named.returncode == 0, named.stderr
    assert f"baseline 'before' is run {ids[0]}" in named.stdout

    taken = redline("baseline", "set", ids[1], "--name", "before", "--history", str(db))
    assert taken.returncode == 2
    assert taken.stderr.splitlines()[0] == f"error: baseline 'before' is taken (run {ids[0]})"
    forced = redline("baseline", "set", ids[1], "--name", "before", "--force", "--history", str(db))
    assert forced.returncode == 0, forced.stderr
    listed = redline("baseline", "list", "--history", str(db))
    assert "before" in listed.stdout and ids[1] in listed.stdout

    removed = redline("rm", ids[2], "--history", str(db))
    assert removed.returncode == 0 and f"deleted run {ids[2]}" in removed.stdout
    kept = redline("gc", "--keep", "0", "--history", str(db))
    assert kept.returncode == 0, kept.stderr
    assert f"deleted run {ids[0]}" in kept.stdout and "deleted 1 runs" in kept.stdout
    left = redline("runs", "--history", str(db)).stdout
    assert ids[1] in left, "the baseline's run survives gc"
    assert ids[0] not in left and ids[2] not in left


def test_bad_input_is_one_line_with_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    for args, message in (
        (("show", "nope"), "error: run 'nope': no stored run has this id"),
        (("rm", "nope"), "error: run 'nope': no stored run has this id"),
        (("baseline", "set", "nope", "--name", "x"), "error: run 'nope': no stored run"),
        (("export", "x", "--format", "xml"), "error: --format: 'xml' is not a format"),
        (("runs", "--since", "soon"), "error: --since: 'soon' is not a date"),
        (("gc", "--keep", "-1"), "error: --keep: -1 is out of range; allowed 0 or more"),
    ):
        proc = redline(*args, "--history", str(db))
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.splitlines()[0].startswith(message), proc.stderr


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA user_version = 9")
    connection.close()
    proc = redline("runs", "--history", str(db))
    assert proc.returncode == 4
    assert proc.stderr.splitlines()[0] == (
        f"error: {db}: database schema version 9 is newer than this redline (3); upgrade redline"
    )


def test_the_database_comes_from_redline_db_then_the_working_directory(
    server: CapacityServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDLINE_DB")  # set for every test by tests/conftest.py
    from_env = tmp_path / "env.db"
    proc = redline(
        "run", f"{server.url}/", "--vus", "2", "--iterations", "20", "--workers", "1",
        env={"REDLINE_DB": str(from_env)}, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert from_env.exists() and not (tmp_path / ".redline").exists()
    empty = redline("runs", cwd=tmp_path)
    assert f"no stored runs in {Path('.redline') / 'redline.db'}" in empty.stdout
    assert (tmp_path / ".redline" / "redline.db").exists()


def test_no_save_saves_nothing(server: CapacityServer, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    proc = redline(
        "run", f"{server.url}/", "--vus", "2", "--iterations", "20", "--workers", "1",
        "--no-save", "--history", str(db),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "saved as run" not in proc.stdout
    assert not db.exists()


def test_an_interrupted_run_is_saved_as_partial(server: CapacityServer, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "redline", "run", f"{server.url}/", "--vus", "2",
            "--duration", "30s", "--workers", "1", "--history", str(db),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 130, stderr
    assert "saved as run" in stdout
    listed = redline("runs", "--history", str(db))
    assert "interrupted (partial)" in listed.stdout
