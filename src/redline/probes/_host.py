"""The machine: CPU (all cores and each), load, memory, disks, network and TCP, from ``/proc``.

TCP counts come from ``/proc/net/snmp`` (``CurrEstab``) and
``/proc/net/sockstat`` (``tw``): the kernel keeps them as counters, where
reading ``/proc/net/tcp`` walks every socket (milliseconds with a thousand
TIME_WAIT sockets, the usual state of a machine after a load test).

:class:`HostProbe` keeps the previous reading of each counter, so every
:meth:`~HostProbe.sample` returns rates over the time since the last one.
The parsers are pure functions of the files' text, tested on captured copies.

:func:`host_info` is the machine's fixed figures (cores, memory, limits),
written once per run.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CpuTimes",
    "HostCounters",
    "HostProbe",
    "host_info",
    "parse_loadavg",
    "parse_meminfo",
    "parse_net_dev",
    "parse_netstat",
    "parse_diskstats",
    "parse_port_range_size",
    "parse_sockstat",
    "parse_stat",
    "parse_stat_cores",
]

#: Bytes in one kB of /proc/meminfo (the kernel means KiB).
BYTES_PER_KB = 1024
#: /proc/diskstats counts sectors of 512 bytes, whatever the device's own sector size.
BYTES_PER_SECTOR = 512
#: Block devices that are not disks of their own (loop files, RAM, device-mapper and RAID
#: layers over the disks, optical drives): left out so no I/O is counted twice.
NOT_DISKS = ("loop", "ram", "zram", "dm-", "md", "sr")


@dataclass(frozen=True)
class DiskCounters:
    """Reads and writes completed, sectors moved and milliseconds spent, over every disk."""

    reads: int = 0
    read_sectors: int = 0
    read_ms: int = 0
    writes: int = 0
    write_sectors: int = 0
    write_ms: int = 0


@dataclass(frozen=True)
class CpuTimes:
    """The aggregate ``cpu`` line of /proc/stat, in clock ticks, summed over every core."""

    user: int
    system: int
    idle: int
    iowait: int
    steal: int

    @property
    def total(self) -> int:
        return self.user + self.system + self.idle + self.iowait + self.steal


@dataclass(frozen=True)
class HostCounters:
    """The monotonic counters of one reading: rates are their differences."""

    cpu: CpuTimes
    context_switches: int
    net: tuple[int, int, int, int]
    listen_overflows: int
    listen_drops: int
    #: Each core's times, in the order of /proc/stat (cpu0, cpu1, ...).
    cores: tuple[CpuTimes, ...] = ()
    disks: DiskCounters = DiskCounters()


def parse_stat(text: str) -> tuple[CpuTimes, int, int]:
    """/proc/stat: the CPU times, context switches since boot, and runnable tasks now."""
    cpu: CpuTimes | None = None
    ctxt = running = 0
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "cpu":
            # user nice system idle iowait irq softirq steal (guest is inside user)
            v = [int(x) for x in fields[1:9]] + [0] * max(0, 9 - len(fields))
            cpu = CpuTimes(v[0] + v[1], v[2] + v[5] + v[6], v[3], v[4], v[7])
        elif fields[0] == "ctxt":
            ctxt = int(fields[1])
        elif fields[0] == "procs_running":
            running = int(fields[1])
    if cpu is None:
        raise ValueError("/proc/stat has no 'cpu' line")
    return cpu, ctxt, running


def parse_stat_cores(text: str) -> tuple[CpuTimes, ...]:
    """/proc/stat: each core's CPU times (the ``cpuN`` lines), in order."""
    cores = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0].startswith("cpu") and fields[0] != "cpu":
            v = [int(x) for x in fields[1:9]] + [0] * max(0, 9 - len(fields))
            cores.append(CpuTimes(v[0] + v[1], v[2] + v[5] + v[6], v[3], v[4], v[7]))
    return tuple(cores)


def parse_diskstats(text: str, disks: frozenset[str] | None = None) -> DiskCounters:
    """/proc/diskstats summed over the disks: the devices named in ``disks`` (those of
    ``/sys/block``, which lists no partitions) that are not layers of :data:`NOT_DISKS`;
    every such device when ``disks`` is None."""
    total = [0, 0, 0, 0, 0, 0]
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 14:
            continue
        name = fields[2]
        if name.startswith(NOT_DISKS) or (disks is not None and name not in disks):
            continue
        # reads, merged, sectors read, ms reading, writes, merged, sectors written, ms writing
        for k, index in enumerate((3, 5, 6, 7, 9, 10)):
            total[k] += int(fields[index])
    return DiskCounters(*total)


def parse_loadavg(text: str) -> tuple[float, int]:
    """/proc/loadavg: the 1-minute load average and the tasks runnable now."""
    fields = text.split()
    return float(fields[0]), int(fields[3].split("/")[0])


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo: every figure, in bytes where the file says kB."""
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0]) * (BYTES_PER_KB if parts[1:] == ["kB"] else 1)
    return values


def parse_net_dev(text: str) -> dict[str, tuple[int, int, int, int]]:
    """/proc/net/dev: per interface, bytes in, packets in, bytes out, packets out."""
    interfaces = {}
    for line in text.splitlines()[2:]:
        name, _, rest = line.partition(":")
        v = rest.split()
        if len(v) >= 10:
            interfaces[name.strip()] = (int(v[0]), int(v[1]), int(v[8]), int(v[9]))
    return interfaces


def parse_netstat(text: str) -> dict[str, int]:
    """/proc/net/netstat (or snmp): ``Group.Name`` -> value, from its header/value line pairs."""
    values = {}
    lines = text.splitlines()
    for header, row in zip(lines[::2], lines[1::2], strict=False):
        group, _, names = header.partition(":")
        _, _, numbers = row.partition(":")
        for name, number in zip(names.split(), numbers.split(), strict=False):
            values[f"{group}.{name}"] = int(number)
    return values


def parse_sockstat(text: str) -> dict[str, int]:
    """/proc/net/sockstat: ``PROTOCOL.name`` -> value, e.g. ``TCP.tw`` (TIME_WAIT sockets)."""
    values = {}
    for line in text.splitlines():
        protocol, _, rest = line.partition(":")
        fields = rest.split()
        for name, number in zip(fields[::2], fields[1::2], strict=False):
            values[f"{protocol}.{name}"] = int(number)
    return values


class HostProbe:
    """The host's resources, as rates since the previous sample.

    Example::

        probe = HostProbe()
        probe.prime()
        ...  # a second later
        figures = probe.sample(1.0)  # {"cpu_user": 0.12, ...}
    """

    name = "host"

    def __init__(self, proc: Path = Path("/proc"), sys_block: Path = Path("/sys/block")) -> None:
        self._proc = proc
        self._last: HostCounters | None = None
        self._sys_block = sys_block
        self._disks: frozenset[str] | None = None

    def prime(self) -> None:
        """Take the first reading: the next sample covers the time from here."""
        self._disks = _whole_disks(self._sys_block)
        self._last = self._counters()[0]

    def sample(self, elapsed_s: float) -> dict[str, Any]:
        """The figures of the last ``elapsed_s`` seconds and of now."""
        counters, running, memory = self._counters()
        last, self._last = self._last or counters, counters
        figures = _cpu_shares(last.cpu, counters.cpu)
        # strict=False: a core brought online between readings has no earlier times.
        cores = zip(last.cores, counters.cores, strict=False)
        per_core = [_busy_share(then, now) for then, now in cores]
        figures["cpu_busy_per_core"] = [round(share, 4) for share in per_core]
        figures["cpu_busiest_core"] = max(per_core, default=0.0)
        load1, _ = parse_loadavg((self._proc / "loadavg").read_text())
        per_s = 1.0 / elapsed_s if elapsed_s > 0 else 0.0
        net = [(now - then) * per_s for now, then in zip(counters.net, last.net, strict=True)]
        available = memory.get("MemAvailable", memory.get("MemFree", 0))
        snmp = parse_netstat((self._proc / "net" / "snmp").read_text())
        sockstat = parse_sockstat((self._proc / "net" / "sockstat").read_text())
        figures.update(
            {
                "load1": load1,
                "procs_running": running,
                "mem_available_bytes": available,
                "mem_used_bytes": memory.get("MemTotal", 0) - available,
                "swap_used_bytes": memory.get("SwapTotal", 0) - memory.get("SwapFree", 0),
                "context_switches_per_s": (counters.context_switches - last.context_switches)
                * per_s,
                "net_in_bytes_per_s": net[0],
                "net_in_packets_per_s": net[1],
                "net_out_bytes_per_s": net[2],
                "net_out_packets_per_s": net[3],
                # CurrEstab counts ESTABLISHED and CLOSE_WAIT (RFC 4022 tcpCurrEstab).
                "tcp_established": snmp.get("Tcp.CurrEstab", 0),
                "tcp_time_wait": sockstat.get("TCP.tw", 0),
                "listen_overflows": counters.listen_overflows - last.listen_overflows,
                "listen_drops": counters.listen_drops - last.listen_drops,
                **_disk_rates(last.disks, counters.disks, per_s),
            }
        )
        return figures

    def _counters(self) -> tuple[HostCounters, int, dict[str, int]]:
        stat = (self._proc / "stat").read_text()
        cpu, ctxt, running = parse_stat(stat)
        interfaces = parse_net_dev((self._proc / "net" / "dev").read_text())
        net = tuple(sum(i[k] for i in interfaces.values()) for k in range(4))
        try:
            netstat = parse_netstat((self._proc / "net" / "netstat").read_text())
        except FileNotFoundError:
            netstat = {}
        counters = HostCounters(
            cpu,
            ctxt,
            (net[0], net[1], net[2], net[3]),
            netstat.get("TcpExt.ListenOverflows", 0),
            netstat.get("TcpExt.ListenDrops", 0),
            parse_stat_cores(stat),
            self._diskstats(),
        )
        return counters, running, parse_meminfo((self._proc / "meminfo").read_text())

    def _diskstats(self) -> DiskCounters:
        try:
            return parse_diskstats((self._proc / "diskstats").read_text(), self._disks)
        except FileNotFoundError:
            return DiskCounters()


def _whole_disks(sys_block: Path) -> frozenset[str] | None:
    """The block devices that are disks (``/sys/block``: partitions are not listed there)."""
    try:
        return frozenset(os.listdir(sys_block))
    except OSError:
        return None


def _busy_share(then: CpuTimes, now: CpuTimes) -> float:
    total = now.total - then.total
    return 1.0 - (now.idle - then.idle) / total if total > 0 else 0.0


def _disk_rates(then: DiskCounters, now: DiskCounters, per_s: float) -> dict[str, float]:
    ops = (now.reads - then.reads) + (now.writes - then.writes)
    busy_ms = (now.read_ms - then.read_ms) + (now.write_ms - then.write_ms)
    return {
        "disk_read_bytes_per_s": (now.read_sectors - then.read_sectors) * BYTES_PER_SECTOR * per_s,
        "disk_write_bytes_per_s": (now.write_sectors - then.write_sectors)
        * BYTES_PER_SECTOR
        * per_s,
        "disk_reads_per_s": (now.reads - then.reads) * per_s,
        "disk_writes_per_s": (now.writes - then.writes) * per_s,
        # Mean time an I/O took, queueing included (iostat's await).
        "disk_await_ms": busy_ms / ops if ops > 0 else 0.0,
    }


def _cpu_shares(then: CpuTimes, now: CpuTimes) -> dict[str, Any]:
    """Each kind of CPU time as a share (0..1) of every core's time in between."""
    total = now.total - then.total
    if total <= 0:
        return {"cpu_user": 0.0, "cpu_system": 0.0, "cpu_iowait": 0.0, "cpu_steal": 0.0}
    return {
        "cpu_user": (now.user - then.user) / total,
        "cpu_system": (now.system - then.system) / total,
        "cpu_iowait": (now.iowait - then.iowait) / total,
        "cpu_steal": (now.steal - then.steal) / total,
    }


def host_info(proc: Path = Path("/proc")) -> dict[str, Any]:
    """The machine's fixed figures, and the open-files limit of this (the generator's) process.

    Returns:
        ``cpus`` (``os.cpu_count()``), ``mem_total_bytes``, ``ephemeral_ports``
        (how many ports ``ip_local_port_range`` holds: the ceiling of
        connections from one source address to one server), ``somaxconn``
        (the ceiling of any listen backlog) and ``fd_soft_limit``. A figure
        whose file cannot be read is None, as is an unlimited ``fd_soft_limit``.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {
        "cpus": os.cpu_count(),
        "mem_total_bytes": _read_figure(proc / "meminfo", lambda t: parse_meminfo(t)["MemTotal"]),
        "ephemeral_ports": _read_figure(
            proc / "sys" / "net" / "ipv4" / "ip_local_port_range", parse_port_range_size
        ),
        "somaxconn": _read_figure(proc / "sys" / "net" / "core" / "somaxconn", int),
        "fd_soft_limit": None if soft == resource.RLIM_INFINITY else soft,
    }


def parse_port_range_size(text: str) -> int:
    """/proc/sys/net/ipv4/ip_local_port_range (``LOW HIGH``, inclusive): how many ports."""
    low, high = (int(v) for v in text.split())
    return high - low + 1


def _read_figure(path: Path, parse: Callable[[str], int]) -> int | None:
    try:
        return parse(path.read_text())
    except (FileNotFoundError, PermissionError, KeyError):
        return None  # not mounted (a container without /proc/sys), or no such line
