"""A process and its descendants (the server under test), from ``/proc``.

:class:`ProcessTreeProbe` finds the tree at each sample (a pre-forking server
may start and stop workers), sums its figures, and returns rates since the
previous sample, with the busiest single process and thread. One process's
files are read by :mod:`redline.probes._pid`; its TCP sockets come from
netlink (:mod:`redline.probes._inet_diag`) or, where that is not possible,
from the ``/proc/PID/net/tcp`` tables.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from redline.probes import _inet_diag
from redline.probes._cgroup import CGROUP_ROOT, cgroup_counters, cgroup_dir, cpu_quota_cores
from redline.probes._pid import (
    GONE,
    ProcessCounters,
    ProcessReading,
    parse_pid_stat,
    process_exists,
    read_process,
    read_text,
)
from redline.probes._tcp import TcpSocket, count_states, read_tcp_tables

__all__ = ["ProcessTreeProbe", "connections_by_port", "tree_of"]

#: Clock ticks per second of /proc/PID/stat's CPU times.
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")

Tree = dict[int, ProcessReading]


def tree_of(root: int, parents: Mapping[int, int]) -> list[int]:
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
    connected = [s for s in own if s.state != "listen"]
    return {
        "tcp_states": count_states(own),
        "tcp_inbound_by_local_port": dict(
            Counter([str(s.local_port) for s in connected if s.local_port in listening])
        ),
        "tcp_outbound_by_remote_port": dict(
            Counter([str(s.remote_port) for s in connected if s.local_port not in listening])
        ),
    }


class ProcessTreeProbe:
    """A process tree's resources, as rates since the previous sample.

    :meth:`sample` returns None once the root process has exited.

    Example::

        probe = ProcessTreeProbe(1234)
        probe.prime()
        ...  # a second later
        figures = probe.sample(1.0)  # {"cpu": 0.8, "max_thread_cpu": 0.7, ...}

    Args:
        pid: the root of the tree.
        proc: where procfs is mounted (tests pass a fake tree).
        cgroup_root: where the cgroup v2 hierarchy is mounted.
        affinity: the CPUs a pid may run on (``os.sched_getaffinity``).
    """

    def __init__(
        self,
        pid: int,
        *,
        proc: Path = Path("/proc"),
        cgroup_root: Path = CGROUP_ROOT,
        affinity: Callable[[int], set[int]] = os.sched_getaffinity,
    ) -> None:
        self.pid = pid
        self.name = f"server process {pid}"
        self._proc = proc
        self._cgroup_root = cgroup_root
        self._affinity = affinity
        #: Every process of the machine seen so far, by pid: its parent.
        self._parents: dict[int, int] = {}
        self._last: dict[int, ProcessCounters] = {}
        #: Each thread's CPU ticks at the last reading, by thread id.
        self._last_threads: dict[int, int] = {}
        self._last_cgroup: dict[str, int] = {}
        #: Whether netlink can list the tree's sockets; None until first asked.
        self._netlink: bool | None = None

    def prime(self) -> None:
        """Take the first reading: the next sample covers the time from here."""
        self._remember(self._read_tree())
        self._last_cgroup = self._cgroup_counters(self._cgroup_dir())

    def sample(self, elapsed_s: float) -> dict[str, Any] | None:
        """The tree's figures over the last ``elapsed_s`` seconds; None once the root exited."""
        if not process_exists(self.pid, self._proc):
            return None
        tree = self._read_tree()
        if self.pid not in tree:
            return None
        per_s = 1.0 / elapsed_s if elapsed_s > 0 else 0.0
        figures = self._rates(tree, per_s)
        figures.update(self._busiest(tree, per_s))
        figures.update(self._memory_and_files(tree))
        inodes = {i for reading in tree.values() for i in reading.socket_inodes}
        figures.update(connections_by_port(self._tcp_sockets(inodes), inodes))
        directory = self._cgroup_dir()
        try:
            figures["cores_available"] = self._cores_available(directory)
        except ProcessLookupError:
            return None  # the root exited since it was read
        figures.update(self._cgroup_rates(directory))
        self._remember(tree)
        return figures

    def _remember(self, tree: Tree) -> None:
        self._last = {pid: reading.counters for pid, reading in tree.items()}
        self._last_threads = {t.tid: t.ticks for r in tree.values() for t in r.threads}

    def _rates(self, tree: Tree, per_s: float) -> dict[str, Any]:
        zero = ProcessCounters(0, 0, 0, 0, 0, 0)
        deltas = [0, 0, 0, 0, 0, 0]
        for pid, reading in tree.items():
            now, then = vars(reading.counters).values(), vars(self._last.get(pid, zero)).values()
            for k, (a, b) in enumerate(zip(now, then, strict=True)):
                deltas[k] += max(0, a - b)
        user_s, system_s = deltas[0] / CLOCK_TICKS_PER_S, deltas[1] / CLOCK_TICKS_PER_S
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

    def _busiest(self, tree: Tree, per_s: float) -> dict[str, Any]:
        """The busiest process and thread of the tree, as shares of one core.

        A process new to the tree counts from zero, as in ``cpu`` (it started
        within the sample). A thread is only compared once it has a previous
        reading, so a thread of a process that joined the tree with CPU time
        behind it is not counted as if it had spent it all in this sample.
        """
        zero = ProcessCounters(0, 0, 0, 0, 0, 0)
        process_ticks = thread_ticks = 0
        thread_name, thread_pid = "", None
        for pid, reading in tree.items():
            now, then = reading.counters, self._last.get(pid, zero)
            ticks = now.utime_ticks + now.stime_ticks - then.utime_ticks - then.stime_ticks
            process_ticks = max(process_ticks, ticks)
            for t in reading.threads:
                last = self._last_threads.get(t.tid)
                if last is None:
                    continue  # first seen: no previous reading to count from
                if thread_pid is None or t.ticks - last > thread_ticks:
                    thread_ticks, thread_name, thread_pid = max(0, t.ticks - last), t.name, pid
        return {
            "max_process_cpu": process_ticks / CLOCK_TICKS_PER_S * per_s,
            "max_thread_cpu": thread_ticks / CLOCK_TICKS_PER_S * per_s,
            "max_thread_name": thread_name,
            "max_thread_pid": thread_pid,
        }

    def _memory_and_files(self, tree: Tree) -> dict[str, Any]:
        readings = list(tree.values())
        uss = [r.uss_bytes for r in readings]
        return {
            "rss_bytes": sum(r.rss_bytes for r in readings),
            "uss_bytes": sum(u for u in uss if u is not None) if None not in uss else None,
            "threads": sum(r.thread_count for r in readings),
            "open_fds": sum(r.open_fds for r in readings),
            # The limit is per process: compare it with the busiest process's count.
            "max_open_fds_per_process": max((r.open_fds for r in readings), default=0),
            "fd_soft_limit": tree[self.pid].fd_limit,
        }

    def _read_tree(self) -> Tree:
        """Every process of the tree, root first.

        Each process's parent is read once, when it is first seen: a parent
        only changes when it exits, and then its orphans, which point to a
        pid no longer listed, fall out of the tree. The tree's own processes
        are read in full anyway, which refreshes their parent every sample.
        Reading every process's stat each second cost more than the rest of
        the tree's files on a quiet machine.
        """
        listed = {int(name) for name in os.listdir(self._proc) if name.isdigit()}
        parents = {pid: ppid for pid, ppid in self._parents.items() if pid in listed}
        for pid in listed - parents.keys():
            try:
                parents[pid] = parse_pid_stat(read_text(f"{self._proc}/{pid}/stat")).ppid
            except GONE:
                continue  # exited while we looked
        tree = {}
        for pid in tree_of(self.pid, parents) if self.pid in parents else []:
            reading = read_process(f"{self._proc}/{pid}")
            if reading is not None:
                tree[pid] = reading
                parents[pid] = reading.ppid
        self._parents = parents
        return tree

    def _tcp_sockets(self, inodes: set[int]) -> list[TcpSocket]:
        """The TCP sockets with these inodes: from netlink when it can, else the tables.

        Netlink answers for our own network namespace only, so it is used when
        the server shares it (its ``ns/net`` is ours); that is checked once.
        """
        if self._netlink is None:
            self._netlink = self._same_network_namespace()
        if self._netlink:
            try:
                return _inet_diag.tcp_sockets(inodes)
            except OSError:
                self._netlink = False  # not permitted here: the tables from now on
        return [s for s in read_tcp_tables(self._proc / str(self.pid) / "net") if s.inode in inodes]

    def _same_network_namespace(self) -> bool:
        try:
            theirs = os.stat(f"{self._proc}/{self.pid}/ns/net").st_ino
            ours = os.stat(f"{self._proc}/self/ns/net").st_ino
        except (*GONE, PermissionError):
            return False
        return theirs == ours

    def _cores_available(self, directory: Path | None) -> float:
        """The CPUs the root may run on, lowered to its cgroup's CPU quota when there is one."""
        cores = float(len(self._affinity(self.pid)))
        if directory is not None:
            cores = min(cores, cpu_quota_cores(directory, self._cgroup_root))
        return cores

    def _cgroup_dir(self) -> Path | None:
        try:
            text = read_text(f"{self._proc}/{self.pid}/cgroup")
        except GONE:
            return None
        return cgroup_dir(text, self._cgroup_root)

    def _cgroup_counters(self, directory: Path | None) -> dict[str, int]:
        return cgroup_counters(directory) if directory is not None else {}

    def _cgroup_rates(self, directory: Path | None) -> dict[str, int]:
        now = self._cgroup_counters(directory)
        then, self._last_cgroup = self._last_cgroup, now
        return {k: v - then.get(k, v) for k, v in now.items()}
