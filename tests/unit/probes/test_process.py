"""The process-tree probe: /proc/PID parsers, tree discovery, TCP by port, on fake trees."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from redline.probes import ProcessTreeProbe, process_exists
from redline.probes._process import (
    CLOCK_TICKS_PER_S,
    connections_by_port,
    parse_limits_nofile,
    parse_pid_stat,
    parse_proc_io,
    parse_smaps_rollup_uss,
    tree_of,
)
from redline.probes._tcp import parse_tcp_table

FIXTURES = Path(__file__).parents[2] / "fixtures" / "proc"


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_pid_stat_with_spaces_in_the_command_name() -> None:
    stat = parse_pid_stat(text("pid_stat"))
    assert (stat.state, stat.ppid, stat.utime_ticks, stat.stime_ticks, stat.threads) == (
        "S",
        1,
        250,
        50,
        3,
    )


def test_uss_io_and_fd_limit() -> None:
    assert parse_smaps_rollup_uss(text("smaps_rollup")) == (400 + 11000) * 1024
    assert parse_proc_io(text("io")) == (4096, 8192)
    assert parse_limits_nofile(text("limits")) == 20000
    assert parse_limits_nofile("Max open files  unlimited  unlimited  files\n") is None


def test_tree_of_finds_every_descendant_and_nothing_else() -> None:
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1, 21: 20}
    assert tree_of(10, parents) == [10, 11, 12, 13]
    assert tree_of(13, parents) == [13]


def test_tcp_table_both_families() -> None:
    sockets = parse_tcp_table(text("tcp")) + parse_tcp_table(text("tcp6"))
    assert len(sockets) == 8
    assert sockets[0].local_port == 8080 and sockets[0].state == "listen"
    assert sockets[-1].remote_port == 0xC353 and sockets[-1].inode == 104


def test_connections_inbound_by_local_port_and_outbound_by_remote_port() -> None:
    sockets = parse_tcp_table(text("tcp")) + parse_tcp_table(text("tcp6"))
    counted = connections_by_port(sockets, {100, 101, 102, 103, 104})
    assert counted == {
        "tcp_states": {"listen": 1, "established": 4},
        "tcp_inbound_by_local_port": {"8080": 3},
        "tcp_outbound_by_remote_port": {"5432": 1},
    }


def write_process(proc: Path, pid: int, ppid: int, *, utime: int, sockets: tuple[int, ...]) -> None:
    directory = proc / str(pid)
    (directory / "task" / str(pid)).mkdir(parents=True, exist_ok=True)
    _, _, rest = text("pid_stat").partition(") ")
    fields = rest.split()  # fields[0] is field 3 of proc(5)
    fields[1], fields[11] = str(ppid), str(utime)
    (directory / "stat").write_text(f"{pid} (python -m my) {' '.join(fields)}\n")
    shutil.copy(FIXTURES / "status", directory / "status")
    shutil.copy(FIXTURES / "status", directory / "task" / str(pid) / "status")
    shutil.copy(FIXTURES / "limits", directory / "limits")
    shutil.copy(FIXTURES / "io", directory / "io")
    shutil.copy(FIXTURES / "smaps_rollup", directory / "smaps_rollup")
    (directory / "fd").mkdir(exist_ok=True)
    for n, inode in enumerate(sockets):
        link = directory / "fd" / str(n + 3)
        if not link.is_symlink():
            os.symlink(f"socket:[{inode}]", link)
    (directory / "net").mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "tcp", directory / "net" / "tcp")
    shutil.copy(FIXTURES / "tcp6", directory / "net" / "tcp6")
    (directory / "cgroup").write_text("0::/server.slice\n")


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    root = tmp_path / "proc"
    write_process(root, 1234, 1, utime=250, sockets=(100, 101))
    write_process(root, 1240, 1234, utime=100, sockets=(102, 103))
    write_process(root, 999, 1, utime=5000, sockets=(900,))
    (root / "self").mkdir()  # not a process: skipped
    cgroup = tmp_path / "cgroup" / "server.slice"
    cgroup.mkdir(parents=True)
    (cgroup / "cpu.stat").write_text("usage_usec 100\nnr_throttled 2\nthrottled_usec 5000\n")
    (cgroup / "memory.events").write_text("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n")
    return root


def test_tree_sample_sums_the_tree_and_rates_since_the_last(proc: Path) -> None:
    probe = ProcessTreeProbe(1234, proc=proc, cgroup_root=proc.parent / "cgroup")
    probe.prime()
    write_process(proc, 1234, 1, utime=250 + CLOCK_TICKS_PER_S // 2, sockets=())
    (proc.parent / "cgroup" / "server.slice" / "cpu.stat").write_text(
        "usage_usec 100\nnr_throttled 5\nthrottled_usec 9000\n"
    )
    figures = probe.sample(1.0)
    assert figures is not None
    assert figures["processes"] == 2
    assert figures["cpu_user_s"] == pytest.approx(0.5)
    assert figures["cpu"] == pytest.approx(0.5)
    assert figures["rss_bytes"] == 2 * 21164 * 1024
    assert figures["uss_bytes"] == 2 * 11400 * 1024
    assert figures["threads"] == 6
    assert figures["open_fds"] == 4 and figures["fd_soft_limit"] == 20000
    assert figures["tcp_inbound_by_local_port"] == {"8080": 2}
    assert figures["tcp_outbound_by_remote_port"] == {"5432": 1}
    assert figures["cgroup_cpu_nr_throttled"] == 3
    assert figures["cgroup_cpu_throttled_usec"] == 4000
    assert figures["cgroup_memory_oom_kill"] == 0


def test_a_new_child_counts_its_whole_cpu(proc: Path) -> None:
    probe = ProcessTreeProbe(1234, proc=proc, cgroup_root=proc.parent / "none")
    probe.prime()
    write_process(proc, 1250, 1240, utime=CLOCK_TICKS_PER_S, sockets=())
    figures = probe.sample(1.0)
    assert figures is not None and figures["processes"] == 3
    assert figures["cpu_user_s"] == pytest.approx(1.0)
    assert "cgroup_cpu_nr_throttled" not in figures


def test_root_gone_or_zombie_samples_none(proc: Path) -> None:
    probe = ProcessTreeProbe(1234, proc=proc)
    probe.prime()
    stat = proc / "1234" / "stat"
    stat.write_text(stat.read_text().replace(") S ", ") Z "))
    assert not process_exists(1234, proc)
    assert probe.sample(1.0) is None
    shutil.rmtree(proc / "1234")
    assert probe.sample(1.0) is None


def test_own_process_is_readable() -> None:
    probe = ProcessTreeProbe(os.getpid())
    probe.prime()
    figures = probe.sample(1.0)
    assert figures is not None
    assert figures["rss_bytes"] > 0 and figures["threads"] >= 1
