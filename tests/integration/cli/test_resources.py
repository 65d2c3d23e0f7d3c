"""``redline run --server-cmd``: the server is started, sampled with the host, and stopped."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: Generous bound for one 10 s run, including worker start-up on a busy machine.
RUN_TIMEOUT_S = 90


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_server_cmd_is_sampled_each_second_and_stopped(unused_port: int, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    command = f"{shlex.quote(sys.executable)} -m redline.demo.capacity --port {unused_port}"
    command += " --slots 4 --service-ms 2"
    proc = redline(
        "run", f"http://127.0.0.1:{unused_port}/", "--vus", "4", "--duration", "10s",
        "--quiet", "--no-save", "--out", str(out), "--server-cmd", command,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    resources: dict[str, Any] = json.loads(out.read_text())["resources"]
    server, host = resources["server"], resources["host"]
    assert 9 <= len(server) <= 11
    assert 9 <= len(host) <= 11
    assert [s["second"] for s in server] == list(range(len(server)))
    assert sum(s["cpu"] for s in server) > 0
    assert all(s["rss_bytes"] > 0 for s in server)
    assert any(s["tcp_inbound_by_local_port"].get(str(unused_port), 0) > 0 for s in server)
    assert all(0 <= s["cpu_user"] <= 1 for s in host)
    assert resources["notes"] == []
    assert pid_gone(resources["server_pid"])


def test_a_server_cmd_that_exits_at_once_is_one_line_and_exit_3(
    unused_port: int, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    command = f"{shlex.quote(sys.executable)} -c 'import sys; sys.exit(4)'"
    proc = redline(
        "run", f"http://127.0.0.1:{unused_port}/", "--vus", "1", "--duration", "10s",
        "--quiet", "--no-save", "--out", str(out), "--server-cmd", command,
    )  # fmt: skip
    assert proc.returncode == 3
    first, *rest = proc.stderr.splitlines()
    assert first == (
        f"error: --server-cmd {command!r} exited with code 4 "
        f"before listening on 127.0.0.1:{unused_port}"
    )
    assert rest and rest[0].startswith("hint: its output is in ")
    log = Path(rest[0].removeprefix("hint: its output is in "))
    assert log.exists()  # kept for the user to read; this test cleans up
    log.unlink()
    assert not out.exists()  # no run, no load
    assert "requests" not in proc.stdout


def test_a_server_cmd_is_quoted_without_the_passwords_in_it(unused_port: int) -> None:
    command = (f"{shlex.quote(sys.executable)} -c 'import sys; sys.exit(4)' "
               "--dsn postgresql://shop:topsecret-9@127.0.0.1:5432/shop")  # fmt: skip
    proc = redline(
        "run", f"http://127.0.0.1:{unused_port}/", "--vus", "1", "--duration", "10s",
        "--quiet", "--no-save", "--server-cmd", command,
    )  # fmt: skip
    assert proc.returncode == 3
    assert "postgresql://shop:***@127.0.0.1:5432/shop" in proc.stderr
    assert "topsecret-9" not in proc.stderr + proc.stdout


def test_server_pid_must_run(tmp_path: Path) -> None:
    proc = redline(
        "run", "http://127.0.0.1:9/", "--vus", "1", "--duration", "10s", "--quiet",
        "--no-save", "--server-pid", "999999999",
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == "error: --server-pid: no process 999999999 is running"


def test_ctrl_c_stops_the_server_too(unused_port: int, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    command = f"{shlex.quote(sys.executable)} -m redline.demo.capacity --port {unused_port}"
    run = subprocess.Popen(
        [sys.executable, "-m", "redline", "run", f"http://127.0.0.1:{unused_port}/",
         "--vus", "2", "--duration", "60s", "--quiet", "--no-save", "--out", str(out),
         "--server-cmd", command],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _listening(unused_port):
        time.sleep(0.1)
    time.sleep(3)  # a few seconds of load
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=RUN_TIMEOUT_S)
    assert run.returncode == 130, stderr
    resources = json.loads(out.read_text())["resources"]
    assert resources["server"]
    assert pid_gone(resources["server_pid"])
    assert not _listening(unused_port)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_sample_every_sets_the_period_and_refuses_what_is_out_of_range(
    unused_port: int, tmp_path: Path
) -> None:
    bad = redline("run", f"http://127.0.0.1:{unused_port}/", "--vus", "1", "--duration", "10s",
                  "--sample-every", "5ms")  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: --sample-every: '5ms' is out of range; allowed 100ms..1m")
    out = tmp_path / "r.json"
    command = f"{shlex.quote(sys.executable)} -m redline.demo.capacity --port {unused_port}"
    proc = redline(
        "run", f"http://127.0.0.1:{unused_port}/", "--vus", "2", "--duration", "10s",
        "--quiet", "--no-save", "--out", str(out), "--server-cmd", command,
        "--sample-every", "500ms",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    resources = json.loads(out.read_text())["resources"]
    assert resources["interval_s"] == 0.5
    assert 18 <= len(resources["server"]) <= 21
