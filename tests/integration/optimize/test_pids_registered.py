"""The processes redline starts are in the PID registry while they run, and gone after."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from redline.cli._server import resource_sampling
from redline.optimize import PidRegistry
from redline.plan import Plan
from redline.probes import _pyspy
from tests.integration.db.conftest import free_port


def test_a_server_command_is_registered_while_it_runs(tmp_path: Path) -> None:
    registry = PidRegistry(tmp_path / "processes.json")
    port = free_port()
    plan = Plan.model_validate({"requests": [{"name": "home", "url": f"http://127.0.0.1:{port}/"}]})
    command = f"{sys.executable} -m http.server {port} --bind 127.0.0.1"
    with resource_sampling(plan, server_cmd=command, server_pid=None, stop=threading.Event(),
                           pids=registry) as sampler:  # fmt: skip
        [live] = registry.live()
        assert (live.pid, live.role) == (sampler.server_pid, "server")
        assert live.cmdline[1:] == ("-m", "http.server", str(port), "--bind", "127.0.0.1")
    assert registry.registered() == []


class Recording(PidRegistry):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.seen: list[tuple[int, str, int]] = []

    def register(self, pid: int, role: str) -> None:
        super().register(pid, role)
        self.seen.append((pid, role, len(self.live())))


def test_py_spy_is_registered_while_it_runs(tmp_path: Path) -> None:
    registry = Recording(tmp_path / "processes.json")
    # _run starts any command as it starts py-spy; a sleep stands in for it.
    stderr, interrupted = _pyspy._run([sys.executable, "-c", "import time; time.sleep(5)"],
                                      0.3, None, registry)  # fmt: skip
    [(pid, role, live_then)] = registry.seen
    assert role == "py-spy" and live_then == 1 and pid > 0
    assert registry.registered() == []
