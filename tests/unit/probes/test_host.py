"""The host probe's /proc parsers and rates, on captured texts."""

from __future__ import annotations

import os
import resource
import shutil
from pathlib import Path

import pytest

from redline.probes import HostProbe, host_info
from redline.probes._host import (
    parse_diskstats,
    parse_loadavg,
    parse_meminfo,
    parse_net_dev,
    parse_netstat,
    parse_sockstat,
    parse_stat,
    parse_stat_cores,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "proc"


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_stat_sums_nice_into_user_and_irqs_into_system() -> None:
    cpu, ctxt, running = parse_stat(text("stat_before"))
    assert (cpu.user, cpu.system, cpu.idle, cpu.iowait, cpu.steal) == (1100, 600, 8000, 200, 100)
    assert cpu.total == 10000
    assert (ctxt, running) == (37595905, 1)


def test_stat_without_a_cpu_line_is_refused() -> None:
    with pytest.raises(ValueError, match="no 'cpu' line"):
        parse_stat("ctxt 1\n")


def test_loadavg_meminfo() -> None:
    assert parse_loadavg(text("loadavg")) == (0.08, 1)
    memory = parse_meminfo(text("meminfo"))
    assert memory["MemAvailable"] == 23907240 * 1024
    assert memory["HugePages_Total"] == 0


def test_net_dev_and_netstat() -> None:
    assert parse_net_dev(text("net_dev_before")) == {
        "lo": (1000000, 1000, 1000000, 1000),
        "eth0": (5000000, 4000, 2000000, 3000),
    }
    netstat = parse_netstat(text("netstat_before"))
    assert netstat["TcpExt.ListenOverflows"] == 10
    assert netstat["TcpExt.ListenDrops"] == 12
    assert netstat["IpExt.InOctets"] == 123456


def test_snmp_and_sockstat() -> None:
    assert parse_netstat(text("snmp"))["Tcp.CurrEstab"] == 4
    sockstat = parse_sockstat(text("sockstat"))
    assert (sockstat["TCP.tw"], sockstat["TCP.inuse"], sockstat["sockets.used"]) == (1199, 11, 26)


def fake_proc(root: Path, when: str) -> Path:
    (root / "net").mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / f"stat_{when}", root / "stat")
    shutil.copy(FIXTURES / "loadavg", root / "loadavg")
    shutil.copy(FIXTURES / "meminfo", root / "meminfo")
    shutil.copy(FIXTURES / f"net_dev_{when}", root / "net" / "dev")
    shutil.copy(FIXTURES / f"netstat_{when}", root / "net" / "netstat")
    shutil.copy(FIXTURES / "snmp", root / "net" / "snmp")
    shutil.copy(FIXTURES / "sockstat", root / "net" / "sockstat")
    return root


def test_host_sample_is_rates_since_the_previous_reading(tmp_path: Path) -> None:
    probe = HostProbe(fake_proc(tmp_path, "before"))
    probe.prime()
    fake_proc(tmp_path, "after")
    figures = probe.sample(1.0)
    assert figures["cpu_user"] == pytest.approx(0.2)
    assert figures["cpu_system"] == pytest.approx(0.1)
    assert figures["cpu_iowait"] == pytest.approx(0.1)
    assert figures["cpu_steal"] == pytest.approx(0.1)
    assert figures["procs_running"] == 3
    assert figures["context_switches_per_s"] == 5000
    assert figures["net_in_bytes_per_s"] == 400000
    assert figures["net_in_packets_per_s"] == 400
    assert figures["net_out_bytes_per_s"] == 350000
    assert figures["net_out_packets_per_s"] == 350
    assert (figures["listen_overflows"], figures["listen_drops"]) == (3, 4)
    assert (figures["tcp_established"], figures["tcp_time_wait"]) == (4, 1199)
    assert figures["mem_used_bytes"] == (25276514 - 23907240) * 1024
    assert figures["swap_used_bytes"] == (2097148 - 2096124) * 1024


def test_host_sample_over_two_seconds_halves_the_rates(tmp_path: Path) -> None:
    probe = HostProbe(fake_proc(tmp_path, "before"))
    probe.prime()
    fake_proc(tmp_path, "after")
    assert probe.sample(2.0)["context_switches_per_s"] == 2500


def test_host_info_from_proc_and_our_limit(tmp_path: Path) -> None:
    (tmp_path / "sys" / "net" / "ipv4").mkdir(parents=True)
    (tmp_path / "sys" / "net" / "core").mkdir(parents=True)
    shutil.copy(FIXTURES / "meminfo", tmp_path / "meminfo")
    (tmp_path / "sys" / "net" / "ipv4" / "ip_local_port_range").write_text("32768\t60999\n")
    (tmp_path / "sys" / "net" / "core" / "somaxconn").write_text("4096\n")
    info = host_info(tmp_path)
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert info == {
        "cpus": os.cpu_count(),
        "mem_total_bytes": 25276514 * 1024,
        "ephemeral_ports": 28232,
        "somaxconn": 4096,
        "fd_soft_limit": None if soft == resource.RLIM_INFINITY else soft,
    }


def test_host_info_without_proc_sys_leaves_those_figures_none(tmp_path: Path) -> None:
    info = host_info(tmp_path)
    assert info["mem_total_bytes"] is None
    assert info["ephemeral_ports"] is None and info["somaxconn"] is None
    assert info["cpus"] == os.cpu_count()


def test_host_info_of_this_machine() -> None:
    info = host_info()
    assert info["ephemeral_ports"] > 0 and info["somaxconn"] > 0 and info["mem_total_bytes"] > 0


STAT_TWO_CORES = """\
cpu  300 0 100 500 0 0 0 0 0 0
cpu0 200 0 50 150 0 0 0 0 0 0
cpu1 100 0 50 350 0 0 0 0 0 0
ctxt 10
procs_running 1
"""
DISKSTATS = """\
   7       0 loop0 9 0 9 9 9 0 9 9 0 0 0 0 0 0 0 0 0
 253       0 vda 100 0 2000 50 40 0 800 30 0 60 80 0 0 0 0 0 0
 253       1 vda1 90 0 1800 45 40 0 800 30 0 55 75 0 0 0 0 0 0
 253      16 dm-0 100 0 2000 50 40 0 800 30 0 60 80 0 0 0 0 0 0
"""


def test_each_core_is_read_in_order() -> None:
    cores = parse_stat_cores(STAT_TWO_CORES)
    assert [c.user for c in cores] == [200, 100]
    assert [c.idle for c in cores] == [150, 350]


def test_diskstats_count_whole_disks_once() -> None:
    counters = parse_diskstats(DISKSTATS, frozenset({"loop0", "vda", "dm-0"}))
    # loop0 and dm-0 are layers, vda1 a partition: only vda counts.
    assert (counters.reads, counters.read_sectors, counters.read_ms) == (100, 2000, 50)
    assert (counters.writes, counters.write_sectors, counters.write_ms) == (40, 800, 30)


def test_a_sample_has_per_core_busy_shares_and_disk_rates(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path / "proc", "before")
    (tmp_path / "block").mkdir()
    (tmp_path / "block" / "vda").mkdir()
    (proc / "stat").write_text(STAT_TWO_CORES)
    (proc / "diskstats").write_text(DISKSTATS)
    probe = HostProbe(proc, sys_block=tmp_path / "block")
    probe.prime()
    (proc / "stat").write_text(STAT_TWO_CORES.replace("cpu0 200 0 50 150", "cpu0 290 0 60 150"))
    (proc / "diskstats").write_text(
        DISKSTATS.replace("vda 100 0 2000 50 40", "vda 110 0 2200 70 50")
    )
    figures = probe.sample(1.0)
    assert figures["cpu_busy_per_core"] == [1.0, 0.0]
    assert figures["cpu_busiest_core"] == 1.0
    assert figures["disk_reads_per_s"] == 10 and figures["disk_writes_per_s"] == 10
    assert figures["disk_read_bytes_per_s"] == 200 * 512
    assert figures["disk_await_ms"] == 1.0  # 20 ms over 20 I/Os
