"""The process-tree probe on fake /proc trees: sums, rates, busiest thread, cores, TCP source."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from redline.probes import ProcessTreeProbe, process_exists
from redline.probes import _inet_diag as inet_diag
from redline.probes._process import CLOCK_TICKS_PER_S, connections_by_port, tree_of
from redline.probes._tcp import parse_tcp_table

FIXTURES = Path(__file__).parents[2] / "fixtures" / "proc"
#: The CPUs every fake process may run on.
FOUR_CPUS = {0, 1, 2, 3}


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def four_cpus(pid: int) -> set[int]:
    return FOUR_CPUS


def stat_line(pid: int, name: str, ppid: int, utime: int, stime: int = 50) -> str:
    _, _, rest = text("pid_stat").partition(") ")
    fields = rest.split()  # fields[0] is field 3 of proc(5)
    fields[1], fields[11], fields[12] = str(ppid), str(utime), str(stime)
    return f"{pid} ({name}) {' '.join(fields)}\n"


def write_process(
    proc: Path,
    pid: int,
    ppid: int,
    *,
    utime: int,
    sockets: tuple[int, ...],
    threads: dict[int, tuple[str, int]] | None = None,
) -> None:
    """A fake /proc/PID; ``threads`` is tid -> (name, utime ticks), the main thread by default."""
    directory = proc / str(pid)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stat").write_text(stat_line(pid, "python -m my", ppid, utime))
    for tid, (name, ticks) in (threads or {pid: ("python -m my", utime)}).items():
        (directory / "task" / str(tid)).mkdir(parents=True, exist_ok=True)
        (directory / "task" / str(tid) / "stat").write_text(stat_line(tid, name, ppid, ticks, 0))
        shutil.copy(FIXTURES / "status", directory / "task" / str(tid) / "status")
    for name in ("status", "limits", "io", "smaps_rollup"):
        shutil.copy(FIXTURES / name, directory / name)
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


def probe_of(proc: Path, pid: int = 1234) -> ProcessTreeProbe:
    return ProcessTreeProbe(pid, proc=proc, cgroup_root=proc.parent / "cgroup", affinity=four_cpus)


def test_tree_of_finds_every_descendant_and_nothing_else() -> None:
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1, 21: 20}
    assert tree_of(10, parents) == [10, 11, 12, 13]
    assert tree_of(13, parents) == [13]


def test_connections_inbound_by_local_port_and_outbound_by_remote_port() -> None:
    sockets = parse_tcp_table(text("tcp")) + parse_tcp_table(text("tcp6"))
    counted = connections_by_port(sockets, {100, 101, 102, 103, 104})
    assert counted == {
        "tcp_states": {"listen": 1, "established": 4},
        "tcp_inbound_by_local_port": {"8080": 3},
        "tcp_outbound_by_remote_port": {"5432": 1},
    }


def test_tree_sample_sums_the_tree_and_rates_since_the_last(proc: Path) -> None:
    probe = probe_of(proc)
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
    probe = ProcessTreeProbe(1234, proc=proc, cgroup_root=proc.parent / "none", affinity=four_cpus)
    probe.prime()
    write_process(proc, 1250, 1240, utime=CLOCK_TICKS_PER_S, sockets=())
    figures = probe.sample(1.0)
    assert figures is not None and figures["processes"] == 3
    assert figures["cpu_user_s"] == pytest.approx(1.0)
    assert figures["max_process_cpu"] == pytest.approx((CLOCK_TICKS_PER_S + 50) / CLOCK_TICKS_PER_S)
    assert "cgroup_cpu_nr_throttled" not in figures


def test_a_process_that_left_is_no_longer_in_the_tree(proc: Path) -> None:
    probe = probe_of(proc)
    probe.prime()
    shutil.rmtree(proc / "1240")
    figures = probe.sample(1.0)
    assert figures is not None and figures["processes"] == 1


def test_the_busiest_thread_and_process_over_the_sample(proc: Path) -> None:
    threads = {1234: ("python -m my", 200), 1235: ("worker 1", 40), 1236: ("worker 2", 10)}
    write_process(proc, 1234, 1, utime=250, sockets=(), threads=threads)
    probe = probe_of(proc)
    probe.prime()
    busy = CLOCK_TICKS_PER_S * 3 // 4
    threads = {1234: ("python -m my", 200), 1235: ("worker 1", 40 + busy), 1236: ("worker 2", 11)}
    write_process(proc, 1234, 1, utime=250 + busy + 1, sockets=(), threads=threads)
    write_process(proc, 1240, 1234, utime=100 + CLOCK_TICKS_PER_S // 2, sockets=())
    figures = probe.sample(2.0)
    assert figures is not None
    assert figures["max_thread_cpu"] == pytest.approx(0.75 / 2)
    assert figures["max_thread_name"] == "worker 1"
    assert figures["max_thread_pid"] == 1234
    assert figures["max_process_cpu"] == pytest.approx((busy + 1) / CLOCK_TICKS_PER_S / 2)


def test_a_thread_first_seen_is_not_counted(proc: Path) -> None:
    probe = probe_of(proc)
    probe.prime()
    threads = {1234: ("python -m my", 250 + 10), 1239: ("late", 10 * CLOCK_TICKS_PER_S)}
    write_process(proc, 1234, 1, utime=250, sockets=(), threads=threads)
    figures = probe.sample(1.0)
    assert figures is not None
    assert figures["max_thread_name"] == "python -m my"
    assert figures["max_thread_cpu"] == pytest.approx(10 / CLOCK_TICKS_PER_S)


def test_cores_available_are_the_affinity_lowered_to_the_cgroup_quota(proc: Path) -> None:
    probe = probe_of(proc)
    probe.prime()
    figures = probe.sample(1.0)
    assert figures is not None and figures["cores_available"] == 4.0  # no cpu.max
    slice_dir = proc.parent / "cgroup" / "server.slice"
    (slice_dir / "cpu.max").write_text("max 100000\n")
    assert (probe.sample(1.0) or {})["cores_available"] == 4.0
    (slice_dir / "cpu.max").write_text("150000 100000\n")
    assert (probe.sample(1.0) or {})["cores_available"] == 1.5


def test_cores_available_without_a_cgroup_v2_are_the_affinity(proc: Path) -> None:
    probe = ProcessTreeProbe(1234, proc=proc, cgroup_root=proc.parent / "none", affinity=four_cpus)
    probe.prime()
    assert (probe.sample(1.0) or {})["cores_available"] == 4.0


def test_root_gone_or_zombie_samples_none(proc: Path) -> None:
    probe = probe_of(proc)
    probe.prime()
    stat = proc / "1234" / "stat"
    stat.write_text(stat.read_text().replace(") S ", ") Z "))
    assert not process_exists(1234, proc)
    assert probe.sample(1.0) is None
    shutil.rmtree(proc / "1234")
    assert probe.sample(1.0) is None


def test_root_gone_between_reads_samples_none(proc: Path) -> None:
    def gone(pid: int) -> set[int]:
        raise ProcessLookupError(3, "No such process")

    probe = ProcessTreeProbe(1234, proc=proc, cgroup_root=proc.parent / "cgroup", affinity=gone)
    probe.prime()
    assert probe.sample(1.0) is None


def same_network_namespace(proc: Path, *, same: bool) -> None:
    (proc / "self" / "ns").mkdir(parents=True)
    (proc / "1234" / "ns").mkdir()
    (proc / "self" / "ns" / "net").write_text("")
    if same:
        os.link(proc / "self" / "ns" / "net", proc / "1234" / "ns" / "net")  # one inode
    else:
        (proc / "1234" / "ns" / "net").write_text("")


def test_netlink_is_used_in_our_namespace(proc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    same_network_namespace(proc, same=True)
    asked: list[object] = []
    monkeypatch.setattr(inet_diag, "tcp_sockets", lambda inodes: asked.append(inodes) or [])
    probe = probe_of(proc)
    probe.prime()
    figures = probe.sample(1.0)
    assert figures is not None and figures["tcp_states"] == {}
    assert asked == [{100, 101, 102, 103}]


def test_netlink_refused_falls_back_to_the_tables(
    proc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    same_network_namespace(proc, same=True)

    def refused(inodes: object) -> list[object]:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(inet_diag, "tcp_sockets", refused)
    probe = probe_of(proc)
    probe.prime()
    for _ in range(2):  # asked once, then the tables only
        figures = probe.sample(1.0)
        assert figures is not None
        assert figures["tcp_inbound_by_local_port"] == {"8080": 2}
        monkeypatch.setattr(inet_diag, "tcp_sockets", None)


def test_another_namespace_reads_the_servers_tables(
    proc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    same_network_namespace(proc, same=False)
    monkeypatch.setattr(inet_diag, "tcp_sockets", None)  # fails the test if called
    probe = probe_of(proc)
    probe.prime()
    figures = probe.sample(1.0)
    assert figures is not None and figures["tcp_states"] == {"listen": 1, "established": 3}


def test_own_process_is_readable() -> None:
    probe = ProcessTreeProbe(os.getpid())
    probe.prime()
    figures = probe.sample(1.0)
    assert figures is not None
    assert figures["rss_bytes"] > 0 and figures["threads"] >= 1
    assert figures["cores_available"] <= len(os.sched_getaffinity(0))


#: A child that names one thread "burner" and keeps it busy; "ready" once it runs.
BURNER = """
import sys, threading
def burn():
    with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as comm:
        comm.write("burner")
    print("ready", flush=True)
    while True:
        pass
threading.Thread(target=burn, daemon=True).start()
sys.stdin.read()
"""


def test_a_thread_burning_cpu_in_a_real_process() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", BURNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        probe = ProcessTreeProbe(child.pid)
        probe.prime()
        start = time.monotonic()
        time.sleep(0.5)
        figures = probe.sample(time.monotonic() - start)
    finally:
        child.kill()
        child.wait()
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
    assert figures is not None
    assert figures["max_thread_cpu"] > 0.5
    assert figures["max_thread_name"] == "burner"
    assert figures["max_thread_pid"] == child.pid
    # Not compared with max_thread_cpu: the kernel rounds a process's and each
    # thread's ticks apart, so a lone busy thread can show one tick more.
    assert figures["max_process_cpu"] > 0.5
