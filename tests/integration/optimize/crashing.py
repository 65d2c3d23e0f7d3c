"""Run crash_worker.py in a real process and kill -9 it at the barrier it reaches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).parents[3]
#: The longest a worker may take to reach its barrier (a start-up of Python and redline).
REACH_TIMEOUT_S = 60.0


def run_worker(journal: Path, folder: Path, *args: str, pause: str = "") -> str:
    """Run the worker to the end (no pause); return its output."""
    folder.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, str(WORKER), str(journal), str(folder), *args],
        env=_env(pause), cwd=ROOT, capture_output=True, text=True, timeout=REACH_TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def kill_at(journal: Path, folder: Path, *args: str, pause: str) -> None:
    """Start the worker, wait until it reaches ``pause``, and kill -9 it there."""
    folder.mkdir(exist_ok=True)
    (folder / "reached").unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, str(WORKER), str(journal), str(folder), *args],
        env=_env(pause), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + REACH_TIMEOUT_S
        while not (folder / "reached").exists():
            if process.poll() is not None:
                raise AssertionError(f"the worker ended before {pause}: {process.stderr.read()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker did not reach {pause}")
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]


def _env(pause: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDLINE_TEST_PAUSE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    if pause:
        env["REDLINE_TEST_PAUSE"] = pause
    return env
