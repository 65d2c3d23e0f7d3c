"""A process's cgroup (v2): throttling and memory events, and the CPU quota.

The cgroup of a process is the ``0::PATH`` line of ``/proc/PID/cgroup``,
under the unified hierarchy's root. Under cgroup v1 there is no such
directory, and the figures are left out.
"""

from __future__ import annotations

import math
from pathlib import Path

__all__ = [
    "CGROUP_ROOT",
    "MEMORY_EVENTS",
    "cgroup_counters",
    "cgroup_dir",
    "cpu_quota_cores",
    "parse_cpu_max",
]

#: The root of the cgroup v2 hierarchy.
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: memory.events counters reported (as increments per sample).
MEMORY_EVENTS = ("low", "high", "max", "oom", "oom_kill")
#: cpu.stat counters reported (as increments per sample).
CPU_THROTTLING = ("nr_throttled", "throttled_usec")


def cgroup_dir(proc_pid_cgroup: str, root: Path = CGROUP_ROOT) -> Path | None:
    """The v2 cgroup directory named by the text of ``/proc/PID/cgroup``, when it exists."""
    for line in proc_pid_cgroup.splitlines():
        if line.startswith("0::"):
            path = root / line[3:].lstrip("/")
            return path if (path / "cpu.stat").exists() else None
    return None


def cgroup_counters(directory: Path) -> dict[str, int]:
    """Throttling (``cpu.stat``) and memory events (``memory.events``), as running totals."""
    counters = {}
    for name, file in (("cpu", "cpu.stat"), ("memory", "memory.events")):
        try:
            text = (directory / file).read_text()
        except (FileNotFoundError, PermissionError):
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key in CPU_THROTTLING or key in MEMORY_EVENTS:
                counters[f"cgroup_{name}_{key}"] = int(value)
    return counters


def parse_cpu_max(text: str) -> float:
    """``cpu.max`` (``QUOTA PERIOD`` in µs, or ``max PERIOD``) as cores; inf when unlimited."""
    quota, _, period = text.partition(" ")
    if quota == "max":
        return math.inf
    return int(quota) / int(period)


def cpu_quota_cores(directory: Path, root: Path = CGROUP_ROOT) -> float:
    """The tightest ``cpu.max`` quota of ``directory`` and its ancestors, as cores (inf if none).

    A parent's quota binds its children too (e.g. a container's slice over the
    server's own cgroup), so every level up to the root counts.
    """
    cores = math.inf
    for level in (directory, *directory.parents):
        if not level.is_relative_to(root):
            break
        try:
            cores = min(cores, parse_cpu_max((level / "cpu.max").read_text().strip()))
        except (FileNotFoundError, PermissionError):
            pass  # the root cgroup has no cpu.max; a level may not enable the cpu controller
    return cores
