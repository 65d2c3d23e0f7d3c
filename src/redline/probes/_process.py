"""A process and its descendants (the server under test), from ``/proc``.

:class:`ProcessTreeProbe` finds the tree anew at each sample (a pre-forking
server may start and stop workers), sums its figures, and returns rates since
the previous sample. Files a process does not let us read (``io`` and
``smaps_rollup`` of another user's process) leave their figures out rather
than failing the sample.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.probes._host import parse_meminfo
from redline.probes._tcp import TcpSocket, count_states, read_tcp_tables

__all__ = [
    "ProcessCounters",
    "ProcessTreeProbe",
    "connections_by_port",
    "parse_limits_nofile",
    "parse_pid_stat",
    "parse_proc_io",
    "parse_smaps_rollup_uss",
    "process_exists",
    "tree_of",
]

#: Clock ticks per second of /proc/PID/stat's CPU times.
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
#: The root of the cgroup v2 hierarchy.
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: memory.events counters reported (as increments per sample).
MEMORY_EVENTS = ("low", "high", "max", "oom", "oom_kill")


@dataclass(frozen=True)
class PidStat:
    """What /proc/PID/stat says about one process."""

    state: str
    ppid: int
    utime_ticks: int
    stime_ticks: int
    threads: int


@dataclass(frozen=True)
class ProcessCounters:
    """One process's monotonic counters: rates are their differences."""

    utime_ticks: int
    stime_ticks: int
    voluntary: int
    involuntary: int
    read_bytes: int
    write_bytes: int


def parse_pid_stat(text: str) -> PidStat:
    """/proc/PID/stat (the command name in parentheses may hold spaces)."""
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5): state, ppid (4), utime (14), stime (15), threads (20)
    return PidStat(fields[0], int(fields[1]), int(fields[11]), int(fields[12]), int(fields[17]))


def parse_smaps_rollup_uss(text: str) -> int:
    """/proc/PID/smaps_rollup: the unique set size (every ``Private_*`` figure), in bytes."""
    values = parse_meminfo(text)
    return sum(v for k, v in values.items() if k.startswith("Private_"))


def parse_proc_io(text: str) -> tuple[int, int]:
    """/proc/PID/io: bytes read from and written to storage."""
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        values[name] = int(value)
    return values.get("read_bytes", 0), values.get("write_bytes", 0)


def parse_limits_nofile(text: str) -> int | None:
    """/proc/PID/limits: the soft limit of open files (None when unlimited)."""
    for line in text.splitlines():
        if line.startswith("Max open files"):
            soft = line[len("Max open files") :].split()[0]
            return None if soft == "unlimited" else int(soft)
    return None


def process_exists(pid: int, proc: Path = Path("/proc")) -> bool:
    """True while ``pid`` runs (a zombie has exited)."""
    try:
        return parse_pid_stat((proc / str(pid) / "stat").read_text()).state != "Z"
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return False


def tree_of(root: int, parents: dict[int, int]) -> list[int]:
    """``root`` and its descendants, from each process's parent; root first."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, frontier = [root], [root]
    while frontier:
        found = [c for p in frontier for c in sorted(children.get(p, ()))]
        tree.extend(found)
        frontier = found
    return tree


def connections_by_port(sockets: Iterable[TcpSocket], inodes: set[int]) -> dict[str, Any]:
    """The tree's TCP sockets by state; inbound ones by local port, outbound by remote port.

    Inbound means on a port the tree listens on (clients' ports are ephemeral
    and say nothing); outbound are the tree's own connections, e.g. to a
    database on 5432.
    """
    own = [s for s in sockets if s.inode in inodes and s.inode != 0]
    listening = {s.local_port for s in own if s.state == "listen"}
    inbound: Counter[str] = Counter()
    outbound: Counter[str] = Counter()
    for s in own:
        if s.state == "listen":
            continue
        if s.local_port in listening:
            inbound[str(s.local_port)] += 1
        else:
            outbound[str(s.remote_port)] += 1
    return {
        "tcp_states": count_states(own),
        "tcp_inbound_by_local_port": dict(inbound),
        "tcp_outbound_by_remote_port": dict(outbound),
    }


class ProcessTreeProbe:
    """A process tree's resources, as rates since the previous sample.

    :meth:`sample` returns None once the root process has exited.

    Example::

        probe = ProcessTreeProbe(1234)
        probe.prime()
        ...  # a second later
        figures = probe.sample(1.0)  # {"cpu": 0.8, "rss_bytes": ..., ...}
    """

    def __init__(
        self, pid: int, *, proc: Path = Path("/proc"), cgroup_root: Path = CGROUP_ROOT
    ) -> None:
        self.pid = pid
        self.name = f"server process {pid}"
        self._proc = proc
        self._cgroup_root = cgroup_root
        self._last: dict[int, ProcessCounters] = {}
        self._last_cgroup: dict[str, int] = {}

    def prime(self) -> None:
        """Take the first reading: the next sample covers the time from here."""
        self._last = {pid: c for pid, (c, _) in self._read_tree().items()}
        self._last_cgroup = self._cgroup_counters()

    def sample(self, elapsed_s: float) -> dict[str, Any] | None:
        """The tree's figures over the last ``elapsed_s`` seconds; None once the root exited."""
        if not process_exists(self.pid, self._proc):
            return None
        tree = self._read_tree()
        if self.pid not in tree:
            return None
        figures = self._rates(tree, elapsed_s)
        figures.update(self._memory_and_files(tree))
        sockets = read_tcp_tables(self._proc / str(self.pid) / "net")
        inodes = {i for _, (_, files) in tree.items() for i in files.socket_inodes}
        figures.update(connections_by_port(sockets, inodes))
        figures.update(self._cgroup_rates())
        self._last = {pid: c for pid, (c, _) in tree.items()}
        return figures

    def _rates(
        self, tree: dict[int, tuple[ProcessCounters, _Files]], elapsed_s: float
    ) -> dict[str, Any]:
        zero = ProcessCounters(0, 0, 0, 0, 0, 0)
        deltas = [0, 0, 0, 0, 0, 0]
        for pid, (now, _) in tree.items():
            then = self._last.get(pid, zero)
            for k, (a, b) in enumerate(zip(vars(now).values(), vars(then).values(), strict=True)):
                deltas[k] += max(0, a - b)
        user_s, system_s = deltas[0] / CLOCK_TICKS_PER_S, deltas[1] / CLOCK_TICKS_PER_S
        per_s = 1.0 / elapsed_s if elapsed_s > 0 else 0.0
        return {
            "processes": len(tree),
            "cpu_user_s": user_s,
            "cpu_system_s": system_s,
            "cpu": (user_s + system_s) * per_s,
            "voluntary_switches_per_s": deltas[2] * per_s,
            "involuntary_switches_per_s": deltas[3] * per_s,
            "read_bytes_per_s": deltas[4] * per_s,
            "write_bytes_per_s": deltas[5] * per_s,
        }

    def _memory_and_files(self, tree: dict[int, tuple[ProcessCounters, _Files]]) -> dict[str, Any]:
        files = [f for _, f in tree.values()]
        uss = [f.uss_bytes for f in files]
        limit = files[0].fd_limit if files else None
        return {
            "rss_bytes": sum(f.rss_bytes for f in files),
            "uss_bytes": sum(u for u in uss if u is not None) if None not in uss else None,
            "threads": sum(f.threads for f in files),
            "open_fds": sum(f.open_fds for f in files),
            # The limit is per process: compare it with the busiest process's count.
            "max_open_fds_per_process": max((f.open_fds for f in files), default=0),
            "fd_soft_limit": limit,
        }

    def _read_tree(self) -> dict[int, tuple[ProcessCounters, _Files]]:
        parents = {}
        for entry in self._proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                parents[int(entry.name)] = parse_pid_stat((entry / "stat").read_text()).ppid
            except (FileNotFoundError, ProcessLookupError):
                continue  # exited while we looked
        tree = {}
        for pid in tree_of(self.pid, parents) if self.pid in parents else []:
            read = _read_process(self._proc / str(pid))
            if read is not None:
                tree[pid] = read
        return tree

    def _cgroup_dir(self) -> Path | None:
        try:
            text = (self._proc / str(self.pid) / "cgroup").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return None
        for line in text.splitlines():
            if line.startswith("0::"):
                path = self._cgroup_root / line[3:].lstrip("/")
                return path if (path / "cpu.stat").exists() else None
        return None

    def _cgroup_counters(self) -> dict[str, int]:
        directory = self._cgroup_dir()
        if directory is None:
            return {}
        counters = {}
        for name, file in (("cpu", "cpu.stat"), ("memory", "memory.events")):
            try:
                text = (directory / file).read_text()
            except (FileNotFoundError, PermissionError):
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key in ("nr_throttled", "throttled_usec") or key in MEMORY_EVENTS:
                    counters[f"cgroup_{name}_{key}"] = int(value)
        return counters

    def _cgroup_rates(self) -> dict[str, int]:
        now = self._cgroup_counters()
        then, self._last_cgroup = self._last_cgroup, now
        return {k: v - then.get(k, v) for k, v in now.items()}


@dataclass(frozen=True)
class _Files:
    """A process's gauges (not counters) at one reading."""

    rss_bytes: int
    uss_bytes: int | None
    threads: int
    open_fds: int
    fd_limit: int | None
    socket_inodes: frozenset[int]


def _read_process(directory: Path) -> tuple[ProcessCounters, _Files] | None:
    """One process's counters and gauges; None when it exited meanwhile."""
    try:
        stat = parse_pid_stat((directory / "stat").read_text())
        status = _parse_status((directory / "status").read_text())
        limit = parse_limits_nofile((directory / "limits").read_text())
    except (FileNotFoundError, ProcessLookupError):
        return None
    read_bytes, write_bytes = _optional(lambda: parse_proc_io((directory / "io").read_text()))
    uss = _optional_int(lambda: parse_smaps_rollup_uss((directory / "smaps_rollup").read_text()))
    fds, inodes = _open_files(directory / "fd")
    voluntary, involuntary = _context_switches(directory / "task")
    counters = ProcessCounters(
        stat.utime_ticks,
        stat.stime_ticks,
        voluntary,
        involuntary,
        read_bytes,
        write_bytes,
    )
    files = _Files(status.get("VmRSS", 0), uss, stat.threads, fds, limit, inodes)
    return counters, files


def _context_switches(task_dir: Path) -> tuple[int, int]:
    """Voluntary and involuntary switches of every thread (status shows one thread's only)."""
    voluntary = involuntary = 0
    try:
        tasks = os.listdir(task_dir)
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0
    for task in tasks:
        try:
            status = _parse_status((task_dir / task / "status").read_text())
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended meanwhile
        voluntary += status.get("voluntary_ctxt_switches", 0)
        involuntary += status.get("nonvoluntary_ctxt_switches", 0)
    return voluntary, involuntary


def _parse_status(text: str) -> dict[str, int]:
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if name in ("VmRSS", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches") and parts:
            values[name] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return values


def _optional(read: Any) -> tuple[int, int]:
    try:
        value: tuple[int, int] = read()
    except (FileNotFoundError, PermissionError, ProcessLookupError):
        return 0, 0
    return value


def _optional_int(read: Any) -> int | None:
    try:
        value: int = read()
    except (FileNotFoundError, PermissionError, ProcessLookupError):
        return None
    return value


def _open_files(fd_dir: Path) -> tuple[int, frozenset[int]]:
    """How many descriptors are open, and the inodes of those that are sockets."""
    try:
        names = os.listdir(fd_dir)
    except (FileNotFoundError, PermissionError, ProcessLookupError):
        return 0, frozenset()
    inodes = set()
    for name in names:
        try:
            link = os.readlink(fd_dir / name)
        except OSError:
            continue  # closed meanwhile
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    return len(names), frozenset(inodes)
