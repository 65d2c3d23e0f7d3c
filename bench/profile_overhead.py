"""What profiling costs the server: its throughput with and without each profiler.

The server is ``redline.demo.bottlenecks cpu`` (``--work-ms`` of CPU per
request on one thread, so its throughput is its CPU) pinned to core 1; redline
drives it from core 0 with 8 VUs for ``--duration`` seconds. Each mode is run
``--runs`` times, interleaved, and the median requests a second is compared
with the unprofiled median:

- ``none``: the server alone;
- ``py-spy``: ``redline profile --pid`` attached for the whole run (100 Hz);
- ``pyinstrument``: the server run in-process under pyinstrument (1 ms);
- ``memray``: the server run under the memory runner (memray + tracemalloc),
  when the ``memory`` extra is installed.

    .venv/bin/python bench/profile_overhead.py --runs 5 --duration 10
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PY = sys.executable
SERVER = ["-m", "redline.demo.bottlenecks", "cpu"]
#: Modes: how to start the server (argv after the interpreter) given a port and a scratch folder.
MODES: dict[str, Callable[[int, Path], list[str]]] = {
    "none": lambda port, _: [*SERVER, "--port", str(port)],
    "py-spy": lambda port, _: [*SERVER, "--port", str(port)],
    "pyinstrument": lambda port, tmp: [
        "-m",
        "redline.probes._inprocess",
        "--out",
        str(tmp / "stacks.txt"),
        "--",
        *SERVER,
        "--port",
        str(port),
    ],  # fmt: skip
    "memray": lambda port, tmp: [
        "-m",
        "redline.probes._memory_runner",
        "--out-dir",
        str(tmp),
        "--",
        *SERVER,
        "--port",
        str(port),
    ],  # fmt: skip
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_listening(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on {port}")


def pinned(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv] if shutil.which("taskset") else argv


def one_run(mode: str, duration_s: int, work_ms: float) -> float:
    """Requests a second the server served in ``mode``."""
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        server = subprocess.Popen(pinned(1, [PY, *MODES[mode](port, tmp), "--work-ms",
                                             str(work_ms)]), stdout=subprocess.DEVNULL)  # fmt: skip
        spy = None
        try:
            wait_listening(port)
            if mode == "py-spy":
                spy = subprocess.Popen([PY, "-m", "redline", "profile", "--pid", str(server.pid),
                                        "--duration", f"{duration_s + 5}s", "--out",
                                        str(tmp / "p")], stdout=subprocess.DEVNULL)  # fmt: skip
                time.sleep(1.0)  # attached before the load starts
            out = tmp / "r.json"
            subprocess.run(pinned(0, [PY, "-m", "redline", "run", f"http://127.0.0.1:{port}/",
                                      "--vus", "8", "--duration", f"{duration_s}s", "--workers",
                                      "1", "--quiet", "--no-save", "--out", str(out)]),
                           check=True, stdout=subprocess.DEVNULL)  # fmt: skip
            rps: float = json.loads(out.read_text())["summary"]["total"]["rps"]
        finally:
            for proc in (spy, server):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    proc.wait(timeout=20)
    return rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--work-ms", type=float, default=0.5)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m in MODES]
    if "memray" in modes and importlib.util.find_spec("memray") is None:
        modes.remove("memray")
        print("memray: not installed (the memory extra); left out")
    rates: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(args.runs):
        for mode in modes:  # interleaved: the machine's drift hits every mode alike
            rates[mode].append(one_run(mode, args.duration, args.work_ms))
    base = statistics.median(rates["none"])
    print("| profiler | req/s, median (min–max) | vs none |")
    print("|---|--:|--:|")
    for mode, values in rates.items():
        median = statistics.median(values)
        print(f"| {mode} | {median:,.0f} ({min(values):,.0f}–{max(values):,.0f}) | "
              f"{median / base - 1:+.1%} |")  # fmt: skip


if __name__ == "__main__":
    main()
