"""One process's files under ``/proc/PID``: parsers, and one reading of them all.

Files are read with ``os.open``/``os.read`` on string paths: a sample reads a
few files per thread and a link per open descriptor, and pathlib's per-call
overhead was a third of that cost. Files a process does not let us read
(``io`` and ``smaps_rollup`` of another user's process) leave their figures
out rather than failing the reading.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from redline.probes._host import parse_meminfo

__all__ = [
    "PidStat",
    "ProcessCounters",
    "ProcessReading",
    "ThreadTicks",
    "parse_limits_nofile",
    "parse_pid_stat",
    "parse_proc_io",
    "parse_smaps_rollup_uss",
    "process_exists",
    "read_process",
    "read_text",
]

T = TypeVar("T")

#: Bytes asked for per read(2); /proc files of one process are smaller.
READ_BYTES = 65536
#: What a descriptor's link reads as when it is a socket: ``socket:[INODE]``.
SOCKET_LINK = "socket:["
#: Errors of a file that went away: its process or thread exited meanwhile.
GONE = (FileNotFoundError, ProcessLookupError)
#: Errors of a file we may not read (another user's process), or that went away.
UNREADABLE = (FileNotFoundError, PermissionError, ProcessLookupError)


@dataclass(frozen=True)
class PidStat:
    """What /proc/PID/stat (or /proc/PID/task/TID/stat, for one thread) says."""

    name: str
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


@dataclass(frozen=True)
class ThreadTicks:
    """One thread's CPU time so far (user + system), in clock ticks."""

    tid: int
    name: str
    ticks: int


@dataclass(frozen=True)
class ProcessReading:
    """One process at one reading: its counters, gauges and threads."""

    ppid: int
    counters: ProcessCounters
    rss_bytes: int
    #: None when smaps_rollup is not readable.
    uss_bytes: int | None
    #: The kernel's count (stat field 20); ``threads`` holds those still there when read.
    thread_count: int
    threads: tuple[ThreadTicks, ...]
    open_fds: int
    #: None when unlimited.
    fd_limit: int | None
    socket_inodes: frozenset[int]


def read_text(path: str) -> str:
    """A /proc file's whole text (undecodable bytes, e.g. in a thread name, replaced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, READ_BYTES):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode(errors="replace")


def parse_pid_stat(text: str) -> PidStat:
    """/proc/PID/stat (the command name in parentheses may hold spaces and parentheses)."""
    close = text.rindex(")")
    fields = text[close + 2 :].split()
    # fields[0] is field 3 of proc(5): state, ppid (4), utime (14), stime (15), threads (20)
    return PidStat(
        text[text.index("(") + 1 : close],
        fields[0],
        int(fields[1]),
        int(fields[11]),
        int(fields[12]),
        int(fields[17]),
    )


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


def status_value(text: str, key: str) -> int:
    """One ``Key: N`` figure of a status file, in bytes where it says kB; 0 when absent."""
    start = text.find(f"\n{key}:")
    if start < 0:
        return 0
    end = text.find("\n", start + 1)
    parts = text[start + len(key) + 2 : end if end >= 0 else None].split()
    return int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1) if parts else 0


def process_exists(pid: int, proc: Path = Path("/proc")) -> bool:
    """True while ``pid`` runs (a zombie has exited)."""
    try:
        return parse_pid_stat(read_text(f"{proc}/{pid}/stat")).state != "Z"
    except (*GONE, ValueError):
        return False


def read_process(directory: str) -> ProcessReading | None:
    """Every figure of the process at ``directory`` (``/proc/PID``); None when it exited."""
    try:
        stat = parse_pid_stat(read_text(f"{directory}/stat"))
        rss = status_value(read_text(f"{directory}/status"), "VmRSS")
        limit = parse_limits_nofile(read_text(f"{directory}/limits"))
    except GONE:
        return None
    io = _optional(lambda: parse_proc_io(read_text(f"{directory}/io")))
    uss = _optional(lambda: parse_smaps_rollup_uss(read_text(f"{directory}/smaps_rollup")))
    fds, inodes = _open_files(f"{directory}/fd")
    voluntary, involuntary, threads = _read_threads(f"{directory}/task")
    read_bytes, write_bytes = io or (0, 0)
    counters = ProcessCounters(
        stat.utime_ticks, stat.stime_ticks, voluntary, involuntary, read_bytes, write_bytes
    )
    return ProcessReading(stat.ppid, counters, rss, uss, stat.threads, threads, fds, limit, inodes)


def _read_threads(task_dir: str) -> tuple[int, int, tuple[ThreadTicks, ...]]:
    """Every thread's CPU ticks, and the voluntary and involuntary switches of them all.

    Switches are summed here because /proc/PID/status shows the main thread's only.
    """
    voluntary = involuntary = 0
    threads = []
    try:
        tids = os.listdir(task_dir)
    except UNREADABLE:
        return 0, 0, ()
    for tid in tids:
        try:
            stat = parse_pid_stat(read_text(f"{task_dir}/{tid}/stat"))
            status = read_text(f"{task_dir}/{tid}/status")
        except GONE:
            continue  # the thread ended meanwhile
        threads.append(ThreadTicks(int(tid), stat.name, stat.utime_ticks + stat.stime_ticks))
        voluntary += status_value(status, "voluntary_ctxt_switches")
        involuntary += status_value(status, "nonvoluntary_ctxt_switches")
    return voluntary, involuntary, tuple(threads)


def _optional(read: Callable[[], T]) -> T | None:
    """A figure from a file we may not be allowed to read; None when we may not."""
    try:
        return read()
    except UNREADABLE:
        return None


def _open_files(fd_dir: str) -> tuple[int, frozenset[int]]:
    """How many descriptors are open, and the inodes of those that are sockets.

    The links are read relative to an open descriptor of ``fd_dir``, which
    spares the kernel a path walk per link, and in one comprehension: a
    fifth and a tenth off the cost at 1,000 descriptors.
    """
    try:
        dir_fd = os.open(fd_dir, os.O_RDONLY | os.O_DIRECTORY)
    except UNREADABLE:
        return 0, frozenset()
    try:
        names = os.listdir(dir_fd)
        try:
            links = [os.readlink(name, dir_fd=dir_fd) for name in names]
        except OSError:  # one was closed meanwhile: read them one by one
            links = [link for name in names if (link := _readlink(name, dir_fd))]
    finally:
        os.close(dir_fd)
    sockets = (link for link in links if link.startswith(SOCKET_LINK))
    return len(names), frozenset(int(link[len(SOCKET_LINK) : -1]) for link in sockets)


def _readlink(name: str, dir_fd: int) -> str:
    """A descriptor's link; "" when it was closed meanwhile."""
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return ""
