"""The process registry: written when redline starts a process, read by redline verify."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.optimize._pids import PidRegistry, pid_registry_path, read_cmdline


def test_the_registry_lives_beside_the_history(tmp_path: Path) -> None:
    assert pid_registry_path(tmp_path / ".redline" / "redline.db") == (
        tmp_path / ".redline" / "processes.json"
    )


def test_a_live_process_is_reported_until_unregistered(tmp_path: Path) -> None:
    registry = PidRegistry(tmp_path / "processes.json")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as proc:
        try:
            registry.register(proc.pid, "server")
            [live] = registry.live()
            assert (live.pid, live.role) == (proc.pid, "server")
            assert live.cmdline[1:] == ("-c", "import time; time.sleep(30)")
            registry.unregister(proc.pid)
            assert registry.live() == [] and registry.registered() == []
        finally:
            proc.kill()


def test_a_dead_process_left_behind_is_not_live(tmp_path: Path) -> None:
    registry = PidRegistry(tmp_path / "processes.json")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    registry.register(proc.pid, "py-spy")  # and then redline 'crashes': never unregistered
    proc.kill()
    proc.wait()
    assert [p.pid for p in registry.registered()] == [proc.pid]
    assert registry.live() == []


def test_a_reused_pid_running_another_command_is_not_blamed(tmp_path: Path) -> None:
    lines = {100: ("py-spy", "record")}
    registry = PidRegistry(tmp_path / "processes.json", cmdline=lines.get)
    registry.register(100, "py-spy")
    lines[100] = ("postgres", "-D", "/data")  # the kernel gave 100 to something else
    assert registry.live() == []


def test_tracking_forgets_the_process_however_the_block_ends(tmp_path: Path) -> None:
    registry = PidRegistry(tmp_path / "processes.json", cmdline={7: ("x",)}.get)
    with pytest.raises(RuntimeError), registry.tracking(7, "server"):
        assert [p.pid for p in registry.live()] == [7]
        raise RuntimeError
    assert registry.registered() == []


def test_a_process_already_gone_is_not_registered(tmp_path: Path) -> None:
    registry = PidRegistry(tmp_path / "processes.json", cmdline=lambda pid: None)
    registry.register(12345, "server")
    assert registry.registered() == []


def test_read_cmdline_of_no_process() -> None:
    assert read_cmdline(2**22 + 1) is None  # above the kernel's pid_max


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "processes.json"
    path.write_text('{"something": "else"}')
    with pytest.raises(ConfigError, match="not a redline process registry"):
        PidRegistry(path).live()
