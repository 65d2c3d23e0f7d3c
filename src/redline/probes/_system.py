"""The kernel and OS settings that bound a network service, read and never changed.

:func:`read_system` gathers, once, what ``redline system audit`` judges: the
TCP sysctls (``net.core.somaxconn``, ``tcp_max_syn_backlog``, the local port
range, ``tcp_tw_reuse``, ``tcp_fin_timeout``), file limits (``fs.file-max``,
``fs.nr_open`` and a process's ``RLIMIT_NOFILE``), memory settings
(``vm.swappiness``, ``vm.overcommit_memory``, transparent huge pages), the CPU
frequency governor, the CPUs and memory, a process's cgroup v2 limits
(``cpu.max`` and its throttling, ``memory.max`` and ``memory.events``,
``pids.max``), the listen backlog a server's socket really has, the databases
running here, and whether this is a container.

Everything is read through a :class:`SystemSource`: :class:`LiveSystem` reads
this machine (``/proc``, ``/sys``, netlink ``sock_diag``); :class:`FakeSystem`
answers from a dict, so tests can present a small backlog or a throttled
cgroup. A source that can also change settings implements
:class:`SupportsWrite` (only ``redline system tune --apply`` uses it).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, NamedTuple, Protocol

from redline.probes._cgroup import CPU_THROTTLING, MEMORY_EVENTS, parse_cpu_max
from redline.probes._host import parse_meminfo
from redline.probes._inet_diag import NETLINK_SOCK_DIAG, NLMSG_DONE, NLMSG_ERROR, dump_request

__all__ = [
    "DATABASE_PROCESSES",
    "SYSCTLS",
    "THP_PATH",
    "CgroupLimits",
    "FakeSystem",
    "ListenSocket",
    "LiveSystem",
    "ProcessLimits",
    "SupportsWrite",
    "SystemFacts",
    "SystemSource",
    "parse_limits",
    "parse_listen_dump",
    "read_system",
    "setting_value",
    "sysctl_path",
]

#: The sysctls read, in the order they are shown.
SYSCTLS = (
    "net.core.somaxconn",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_fin_timeout",
    "fs.file-max",
    "fs.nr_open",
    "vm.swappiness",
    "vm.overcommit_memory",
    "kernel.sched_autogroup_enabled",
)
#: Transparent huge pages: ``always [madvise] never``, the chosen one in brackets.
THP_PATH = "/sys/kernel/mm/transparent_hugepage/enabled"
#: The CPUs the kernel has online (``0-3,6``).
CPUS_ONLINE_PATH = "/sys/devices/system/cpu/online"
#: One CPU's frequency governor; absent without cpufreq (most VMs and containers).
GOVERNOR_PATH = "/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor"
#: The root of the cgroup v2 hierarchy.
CGROUP_ROOT = "/sys/fs/cgroup"
#: Files whose presence says this is a container (Docker, Podman).
CONTAINER_FILES = ("/.dockerenv", "/run/.containerenv")
#: Words in PID 1's cgroup path that name a container runtime.
CONTAINER_CGROUP_WORDS = ("docker", "kubepods", "containerd", "libpod", "lxc")
#: Process names (``/proc/PID/comm``) of databases and caches whose vendors advise on
#: swappiness, transparent huge pages or overcommit; the value is the name shown.
DATABASE_PROCESSES = {
    "postgres": "PostgreSQL",
    "postmaster": "PostgreSQL",
    "mysqld": "MySQL",
    "mariadbd": "MariaDB",
    "redis-server": "Redis",
    "mongod": "MongoDB",
}
#: The state code of LISTEN (include/net/tcp_states.h).
TCP_LISTEN = 10
#: Bytes to receive at once from a sock_diag dump.
RECV_BYTES = 65536

#: From nlmsghdr its length and type; from inet_diag_msg the local port (bytes 4-5,
#: network order), rqueue and wqueue (bytes 56-63: for a listening socket, the
#: connections waiting to be accepted and the backlog) and the inode (bytes 68-71).
_LISTEN_RECORD = struct.Struct("=IH10x" + "4xH50x" + "II4x" + "I")
_HEADER = struct.Struct("=IHHII")
_ERRNO = struct.Struct("=i")


class ListenSocket(NamedTuple):
    """One listening TCP socket, as ``ss -ltn`` shows it."""

    port: int
    #: The accept queue's size: the backlog asked of ``listen()``, capped at somaxconn.
    backlog: int
    #: Connections waiting in the accept queue now.
    queued: int
    inode: int


class SystemSource(Protocol):
    """Where the settings are read from: this machine, or a dict in tests."""

    def read(self, path: str) -> str | None:
        """The text of a file; None when it is missing or not readable."""

    def listdir(self, path: str) -> list[str] | None:
        """The names in a directory; None when it is missing or not readable."""

    def readlink(self, path: str) -> str | None:
        """Where a symbolic link points; None when it is missing or not readable."""

    def listen_sockets(self) -> list[ListenSocket]:
        """Every listening TCP socket of this network namespace.

        Raises:
            OSError: the sockets cannot be listed here.
        """

    def euid(self) -> int:
        """The effective user id redline runs as."""


class SupportsWrite(Protocol):
    """A source that can also change a setting (only ``system tune --apply`` needs it)."""

    def read(self, path: str) -> str | None:
        """The text of a file; None when it is missing or not readable."""

    def write(self, path: str, text: str) -> None:
        """Write ``text`` to the file at ``path`` (a sysctl under /proc/sys, a /sys knob).

        Raises:
            OSError: the kernel refused the value, or the file is not writable.
        """


class LiveSystem:
    """This machine: ``/proc``, ``/sys`` and netlink ``sock_diag``."""

    def read(self, path: str) -> str | None:
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                return file.read()
        except OSError:
            return None  # missing, not permitted, or a directory: the figure is unknown

    def listdir(self, path: str) -> list[str] | None:
        try:
            return os.listdir(path)
        except OSError:
            return None

    def readlink(self, path: str) -> str | None:
        try:
            return os.readlink(path)
        except OSError:
            return None

    def listen_sockets(self) -> list[ListenSocket]:
        found: list[ListenSocket] = []
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as sock:
            for family in (socket.AF_INET, socket.AF_INET6):
                sock.send(dump_request(family, 1 << TCP_LISTEN))
                while True:
                    data = sock.recv(RECV_BYTES)
                    if not data:
                        raise OSError(errno.EIO, "sock_diag: the dump ended without NLMSG_DONE")
                    if parse_listen_dump(data, found):
                        break
        return found

    def euid(self) -> int:
        return os.geteuid()

    def write(self, path: str, text: str) -> None:
        # pragma reason: tests never change this machine's kernel settings; they apply
        # and undo through FakeSystem.
        with open(path, "w", encoding="utf-8") as file:  # pragma: no cover
            file.write(text)


@dataclass
class FakeSystem:
    """A machine made of a dict, for tests: ``files`` maps a path to its text.

    Directories are the prefixes of the paths in ``files``. :meth:`write`
    changes ``files`` and records each write in ``writes``.

    Example::

        FakeSystem({"/proc/sys/net/core/somaxconn": "128\\n"}, euid=0)
    """

    files: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    listening: list[ListenSocket] | None = field(default_factory=list)
    uid: int = 1000
    #: Paths whose writes the "kernel" refuses (EINVAL), to test a failed change.
    refuse: frozenset[str] = frozenset()
    writes: list[tuple[str, str]] = field(default_factory=list)

    def read(self, path: str) -> str | None:
        return self.files.get(path)

    def listdir(self, path: str) -> list[str] | None:
        prefix = path.rstrip("/") + "/"
        paths = (*self.files, *self.links)
        names = {p[len(prefix) :].split("/")[0] for p in paths if p.startswith(prefix)}
        return sorted(names) if names else None

    def readlink(self, path: str) -> str | None:
        return self.links.get(path)

    def listen_sockets(self) -> list[ListenSocket]:
        if self.listening is None:
            raise OSError(errno.EPERM, "sock_diag: Operation not permitted")
        return list(self.listening)

    def euid(self) -> int:
        return self.uid

    def write(self, path: str, text: str) -> None:
        if path in self.refuse:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), path)
        self.writes.append((path, text))
        self.files[path] = text + "\n"


def parse_listen_dump(data: bytes, into: list[ListenSocket]) -> bool:
    """Append the listening sockets of one received sock_diag buffer to ``into``.

    Returns:
        True once the dump's last message (``NLMSG_DONE``) was in ``data``.

    Raises:
        OSError: the kernel answered with an error (e.g. EPERM).
    """
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind = _HEADER.unpack_from(data, offset)[:2]
        if kind == NLMSG_DONE:
            return True
        if kind == NLMSG_ERROR:
            code = -_ERRNO.unpack_from(data, offset + _HEADER.size)[0]
            raise OSError(code, f"sock_diag: {os.strerror(code)}")
        if length >= _LISTEN_RECORD.size:
            _, _, port, queued, backlog, inode = _LISTEN_RECORD.unpack_from(data, offset)
            into.append(ListenSocket(socket.ntohs(port), backlog, queued, inode))
        offset += (length + 3) & ~3  # messages are 4-byte aligned (NLMSG_ALIGN)
    return False


@dataclass(frozen=True)
class ProcessLimits:
    """A process's open-files limit (``/proc/PID/limits``), and its name."""

    pid: int
    name: str
    #: Soft RLIMIT_NOFILE: the one that fails ``accept()`` with EMFILE; None when unlimited.
    nofile_soft: int | None
    nofile_hard: int | None
    open_fds: int | None


@dataclass(frozen=True)
class CgroupLimits:
    """A process's cgroup v2 limits and the counters that show them binding."""

    path: str
    #: ``cpu.max`` as cores; None when unlimited or not enabled.
    cpu_max_cores: float | None
    #: ``cpu.stat``: nr_periods, nr_throttled, throttled_usec.
    cpu_stat: Mapping[str, int]
    #: ``memory.max`` in bytes; None when unlimited.
    memory_max_bytes: int | None
    memory_current_bytes: int | None
    #: ``memory.events``: low, high, max, oom, oom_kill (totals since the cgroup began).
    memory_events: Mapping[str, int]
    #: ``pids.max``; None when unlimited.
    pids_max: int | None
    pids_current: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "cpu_max_cores": self.cpu_max_cores,
            "cpu_stat": dict(self.cpu_stat),
            "memory_max_bytes": self.memory_max_bytes,
            "memory_current_bytes": self.memory_current_bytes,
            "memory_events": dict(self.memory_events),
            "pids_max": self.pids_max,
            "pids_current": self.pids_current,
        }


@dataclass(frozen=True)
class SystemFacts:
    """What :func:`read_system` found; a figure that could not be read is None."""

    #: Each sysctl of :data:`SYSCTLS` as its text (whitespace collapsed), or None.
    sysctls: Mapping[str, str | None]
    #: Transparent huge pages: ``always``, ``madvise`` or ``never``.
    transparent_hugepages: str | None
    #: CPUs by frequency governor; empty without cpufreq (a VM or container).
    governors: Mapping[str, int]
    cpus: int | None
    mem_total_bytes: int | None
    swap_total_bytes: int | None
    #: The server's (``--server-pid``) or else redline's own open-files limit.
    process: ProcessLimits | None
    #: The listening sockets of the server (by ``--server-pid`` or ``--port``).
    listeners: tuple[ListenSocket, ...]
    cgroup: CgroupLimits | None
    #: Databases and caches running here, by name (PostgreSQL, Redis ...).
    databases: tuple[str, ...]
    #: Why this looks like a container (``/.dockerenv exists``); None when it does not.
    container: str | None
    euid: int
    #: What could not be read, and why.
    notes: tuple[str, ...] = ()

    def sysctl_int(self, key: str) -> int | None:
        """A one-number sysctl as an int; None when unread or not a number."""
        text = self.sysctls.get(key)
        try:
            return None if text is None else int(text)
        except ValueError:
            return None

    @property
    def port_range(self) -> tuple[int, int] | None:
        """``net.ipv4.ip_local_port_range`` as (low, high), inclusive."""
        text = self.sysctls.get("net.ipv4.ip_local_port_range")
        parts = (text or "").split()
        return (int(parts[0]), int(parts[1])) if len(parts) == 2 else None

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "sysctls": dict(self.sysctls),
            "transparent_hugepages": self.transparent_hugepages,
            "governors": dict(self.governors),
            "cpus": self.cpus,
            "mem_total_bytes": self.mem_total_bytes,
            "swap_total_bytes": self.swap_total_bytes,
            "process": None if self.process is None else vars(self.process).copy(),
            "listeners": [s._asdict() for s in self.listeners],
            "cgroup": None if self.cgroup is None else self.cgroup.to_dict(),
            "databases": list(self.databases),
            "container": self.container,
            "euid": self.euid,
            "notes": list(self.notes),
        }


def sysctl_path(key: str) -> str:
    """The file of a sysctl: ``net.core.somaxconn`` is ``/proc/sys/net/core/somaxconn``."""
    return "/proc/sys/" + key.replace(".", "/")


def read_system(
    source: SystemSource, *, server_pid: int | None = None, port: int | None = None
) -> SystemFacts:
    """Read every setting the audit judges, for the server at ``server_pid`` or ``port``.

    Without ``server_pid``, the open-files limit and the cgroup are redline's
    own (``/proc/self``); without either, no listen backlog is read.
    """
    notes: list[str] = []
    pid_dir = f"/proc/{server_pid}" if server_pid is not None else "/proc/self"
    meminfo = parse_meminfo(source.read("/proc/meminfo") or "")
    sysctls = {key: _collapse(source.read(sysctl_path(key))) for key in SYSCTLS}
    notes += [f"{key}: cannot be read here" for key, value in sysctls.items() if value is None]
    cpus = _cpu_count(source.read(CPUS_ONLINE_PATH))
    return SystemFacts(
        sysctls=sysctls,
        transparent_hugepages=_chosen(source.read(THP_PATH)),
        governors=_governors(source, cpus, notes),
        cpus=cpus,
        mem_total_bytes=meminfo.get("MemTotal"),
        swap_total_bytes=meminfo.get("SwapTotal"),
        process=_process_limits(source, pid_dir, server_pid, notes),
        listeners=_listeners(source, server_pid, port, notes),
        cgroup=_cgroup(source, pid_dir, notes),
        databases=_databases(source),
        container=_container(source),
        euid=source.euid(),
        notes=tuple(notes),
    )


def _collapse(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())


def setting_value(text: str) -> str:
    """A setting file's value as ``sysctl -n`` shows it, spaces collapsed; for a /sys
    selector, the bracketed choice (``always [madvise] never`` -> ``madvise``)."""
    for word in text.split():
        if word.startswith("[") and word.endswith("]"):
            return word[1:-1]
    return " ".join(text.split())


def _chosen(text: str | None) -> str | None:
    return None if text is None else setting_value(text) or None


def _cpu_count(online: str | None) -> int | None:
    """How many CPUs a list like ``0-3,6`` names."""
    if not online or not online.strip():
        return None
    count = 0
    for part in online.strip().split(","):
        low, _, high = part.partition("-")
        count += int(high or low) - int(low) + 1
    return count


def _governors(source: SystemSource, cpus: int | None, notes: list[str]) -> dict[str, int]:
    governors: dict[str, int] = {}
    for cpu in range(cpus or 0):
        governor = _collapse(source.read(GOVERNOR_PATH.format(cpu=cpu)))
        if governor:
            governors[governor] = governors.get(governor, 0) + 1
    if not governors:
        notes.append(
            "no CPU frequency governor (no cpufreq: a VM or container, where the host "
            "sets the frequency)"
        )
    return governors


def parse_limits(text: str) -> tuple[int | None, int | None]:
    """``/proc/PID/limits``: the soft and hard open-files limits (None when unlimited)."""
    for line in text.splitlines():
        if line.startswith("Max open files"):
            fields = line[len("Max open files") :].split()
            soft, hard = fields[0], fields[1]
            return (
                None if soft == "unlimited" else int(soft),
                None if hard == "unlimited" else int(hard),
            )
    return None, None


def _process_limits(
    source: SystemSource, pid_dir: str, server_pid: int | None, notes: list[str]
) -> ProcessLimits | None:
    limits = source.read(f"{pid_dir}/limits")
    if limits is None:
        notes.append(f"{pid_dir}/limits: cannot be read (no such process, or not permitted)")
        return None
    soft, hard = parse_limits(limits)
    fds = source.listdir(f"{pid_dir}/fd")
    pid = server_pid if server_pid is not None else os.getpid()
    name = (source.read(f"{pid_dir}/comm") or "").strip() or "?"
    return ProcessLimits(pid, name, soft, hard, None if fds is None else len(fds))


def _listeners(
    source: SystemSource, server_pid: int | None, port: int | None, notes: list[str]
) -> tuple[ListenSocket, ...]:
    if server_pid is None and port is None:
        return ()
    try:
        sockets = source.listen_sockets()
    except OSError as exc:
        notes.append(f"listening sockets: cannot be listed ({exc.strerror or exc})")
        return ()
    if port is not None:
        sockets = [s for s in sockets if s.port == port]
    if server_pid is not None:
        inodes = _socket_inodes(source, server_pid)
        if inodes is None:
            notes.append(f"/proc/{server_pid}/fd: cannot be read (not permitted?)")
            return ()
        sockets = [s for s in sockets if s.inode in inodes]
    if not sockets:
        whose = f"port {port}" if port is not None else f"process {server_pid}"
        notes.append(f"no listening TCP socket of {whose} in this network namespace")
    # One socket per port is enough (IPv4 and IPv6 twins have the same backlog).
    return tuple({s.port: s for s in sorted(sockets, key=lambda s: -s.backlog)}.values())


def _socket_inodes(source: SystemSource, pid: int) -> set[int] | None:
    """The inodes of a process's sockets, from ``/proc/PID/fd/*`` (``socket:[INODE]``)."""
    names = source.listdir(f"/proc/{pid}/fd")
    if names is None:
        return None
    inodes = set()
    for name in names:
        target = source.readlink(f"/proc/{pid}/fd/{name}") or ""
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _cgroup(source: SystemSource, pid_dir: str, notes: list[str]) -> CgroupLimits | None:
    path = _cgroup_path(source.read(f"{pid_dir}/cgroup") or "")
    directory = str(PurePosixPath(CGROUP_ROOT, path.lstrip("/"))) if path is not None else None
    if directory is None or source.read(f"{directory}/cgroup.controllers") is None:
        notes.append(
            "no cgroup v2 limits (cgroup v1 or hybrid, or no cgroup directory): "
            "container CPU and memory limits were not read"
        )
        return None
    cpu_max = source.read(f"{directory}/cpu.max")
    cores = parse_cpu_max(cpu_max.strip()) if cpu_max else float("inf")
    return CgroupLimits(
        path=directory,
        cpu_max_cores=None if cores == float("inf") else cores,
        cpu_stat=_counters(source.read(f"{directory}/cpu.stat"), ("nr_periods", *CPU_THROTTLING)),
        memory_max_bytes=_limit(source.read(f"{directory}/memory.max")),
        memory_current_bytes=_limit(source.read(f"{directory}/memory.current")),
        memory_events=_counters(source.read(f"{directory}/memory.events"), MEMORY_EVENTS),
        pids_max=_limit(source.read(f"{directory}/pids.max")),
        pids_current=_limit(source.read(f"{directory}/pids.current")),
    )


def _cgroup_path(proc_pid_cgroup: str) -> str | None:
    """The unified hierarchy's path in ``/proc/PID/cgroup`` (its ``0::PATH`` line)."""
    for line in proc_pid_cgroup.splitlines():
        if line.startswith("0::"):
            return line[3:]
    return None


def _counters(text: str | None, names: Iterable[str]) -> dict[str, int]:
    wanted = set(names)
    counters = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if key in wanted:
            counters[key] = int(value)
    return counters


def _limit(text: str | None) -> int | None:
    """A cgroup limit or count: None when missing or ``max``."""
    if text is None or text.strip() in ("", "max"):
        return None
    return int(text.strip())


def _databases(source: SystemSource) -> tuple[str, ...]:
    """The databases and caches of :data:`DATABASE_PROCESSES` running here, by name."""
    found = set()
    for name in source.listdir("/proc") or []:
        if name.isdigit():
            comm = (source.read(f"/proc/{name}/comm") or "").strip()
            if comm in DATABASE_PROCESSES:
                found.add(DATABASE_PROCESSES[comm])
    return tuple(sorted(found))


def _container(source: SystemSource) -> str | None:
    for path in CONTAINER_FILES:
        if source.read(path) is not None:
            return f"{path} exists"
    init_cgroup = source.read("/proc/1/cgroup") or ""
    for word in CONTAINER_CGROUP_WORDS:
        if word in init_cgroup:
            return f"PID 1's cgroup names {word}"
    return None
