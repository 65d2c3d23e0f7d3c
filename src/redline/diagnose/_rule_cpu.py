"""CPU-bound server: its processors are busy while latency rises with load.

Two shapes, with different fixes:

- **one thread saturated** (a single Python process holds the GIL, a single
  worker): the busiest thread runs near a whole core while the machine has
  more. Adding worker processes is the fix.
- **all cores busy**: the tree uses nearly every core it may. The hot path
  must get cheaper (profile it) or the service must scale out.
"""

from __future__ import annotations

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._pressure import Pressure, server_under_pressure
from redline.diagnose._timeline import Second, Timeline

__all__ = ["cpu_bound"]

#: A thread, process or tree at this share of what it can use counts as saturated.
SATURATED_SHARE = 0.85
SOURCE = "server process tree (/proc), at the highest load"


def cpu_bound(timeline: Timeline) -> list[Finding]:
    """The CPU-bound finding, when the server's CPU is saturated under pressure."""
    server = server_under_pressure(timeline)
    if server is None:
        return []
    pressure, cpu, thread, cores = server.pressure, server.cpu, server.thread, server.cores
    figures = [
        Evidence("server CPU", f"{cpu:.2f} of {cores:g} cores ({cpu / cores:.0%})", SOURCE),
        *pressure.evidence(),
    ]
    if cpu >= SATURATED_SHARE * cores:
        return [_all_cores(cpu, cores, figures, pressure)]
    if thread >= SATURATED_SHARE:
        name = _busiest_thread(pressure.bands.high)
        figures.insert(1, Evidence("busiest thread", f"{thread:.0%} of one core ({name})", SOURCE))
        return [_one_thread(thread, cores, name, figures, pressure)]
    return []


def _busiest_thread(seconds: list[Second]) -> str:
    names = [
        f"thread {s.server.get('max_thread_name', '?')!r} of process "
        f"{s.server.get('max_thread_pid', '?')}"
        for s in seconds
        if s.server
    ]
    return max(set(names), key=names.count) if names else "?"


def _one_thread(
    thread: float, cores: float, name: str, figures: list[Evidence], pressure: Pressure
) -> Finding:
    room = max(1, int(cores))
    return Finding(
        rule="cpu-bound",
        category=Category.CPU,
        severity=Severity.HIGH,
        confidence=0.9 if pressure.stepped else 0.75,
        title=f"CPU-bound on one thread: {name} runs at {thread:.0%} of a core "
        f"while {cores:g} cores are available",
        evidence=tuple(figures),
        location=name,
        recommendation="add worker processes (e.g. gunicorn/uvicorn --workers "
        f"{room}); one Python process runs Python code on one core at a time (the GIL)",
        expected_effect=f"throughput up to about {room}× before the next limit, "
        "if the work is independent per request",
    )


def _all_cores(cpu: float, cores: float, figures: list[Evidence], pressure: Pressure) -> Finding:
    return Finding(
        rule="cpu-bound",
        category=Category.CPU,
        severity=Severity.HIGH,
        confidence=0.9 if pressure.stepped else 0.75,
        title=f"CPU-bound: the server uses {cpu:.2f} of its {cores:g} cores",
        evidence=tuple(figures),
        location="server process tree",
        recommendation="profile the hot path under load (redline profile) and make it "
        "cheaper, or scale out to more cores or instances",
        expected_effect="throughput grows with the CPU saved per request, or with the cores added",
    )
