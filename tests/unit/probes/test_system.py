"""Reading the system's settings through a dict-backed source (no real /proc or /sys)."""

from __future__ import annotations

import socket
import struct

import pytest

from redline.probes import FakeSystem, ListenSocket, read_system
from redline.probes._system import parse_limits, parse_listen_dump, setting_value, sysctl_path
from tests.unit.probes.system_machines import CGROUP_DIR, SERVER_PID, machine


def test_every_setting_is_read_from_the_source() -> None:
    facts = read_system(machine(), server_pid=SERVER_PID)
    assert facts.sysctls["net.core.somaxconn"] == "4096"
    assert facts.sysctls["net.ipv4.ip_local_port_range"] == "1024 65535"
    assert facts.port_range == (1024, 65535)
    assert facts.sysctl_int("vm.swappiness") == 1
    assert facts.transparent_hugepages == "never"
    assert facts.governors == {"performance": 4}
    assert facts.cpus == 4
    assert facts.mem_total_bytes == 16384000 * 1024
    assert facts.process is not None
    assert (facts.process.name, facts.process.nofile_soft, facts.process.open_fds) == (
        "postgres",
        65536,
        2,
    )
    assert facts.databases == ("PostgreSQL",)
    assert facts.container is None
    assert facts.notes == ()


def test_the_servers_listen_backlog_is_found_by_pid_and_by_port() -> None:
    by_pid = read_system(machine(backlog=128), server_pid=SERVER_PID)
    by_port = read_system(machine(backlog=128), port=8080)
    assert by_pid.listeners == (ListenSocket(5432, 128, 0, 9001),)
    assert [s.backlog for s in by_port.listeners] == [511]
    assert read_system(machine()).listeners == ()


def test_a_port_nobody_listens_on_leaves_a_note() -> None:
    facts = read_system(machine(), port=9)
    assert facts.listeners == ()
    assert "no listening TCP socket of port 9 in this network namespace" in facts.notes


def test_sockets_that_cannot_be_listed_leave_a_note() -> None:
    system = machine()
    system.listening = None
    facts = read_system(system, port=5432)
    assert any("cannot be listed" in note for note in facts.notes)


def test_the_cgroup_limits_and_counters_are_read() -> None:
    system = machine(
        {
            f"{CGROUP_DIR}/cpu.max": "150000 100000\n",
            f"{CGROUP_DIR}/cpu.stat": "nr_periods 200\nnr_throttled 50\nthrottled_usec 7000000\n",
            f"{CGROUP_DIR}/memory.max": "1073741824\n",
            f"{CGROUP_DIR}/pids.max": "100\n",
        }
    )
    cgroup = read_system(system, server_pid=SERVER_PID).cgroup
    assert cgroup is not None
    assert cgroup.cpu_max_cores == 1.5
    assert cgroup.cpu_stat == {"nr_periods": 200, "nr_throttled": 50, "throttled_usec": 7000000}
    assert (cgroup.memory_max_bytes, cgroup.pids_max, cgroup.pids_current) == (2**30, 100, 12)
    assert cgroup.memory_events["oom_kill"] == 0


def test_without_cgroup_v2_or_cpufreq_the_facts_say_so() -> None:
    system = machine({f"{CGROUP_DIR}/cgroup.controllers": None})
    for cpu in range(4):
        system.files.pop(f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor")
    facts = read_system(system, server_pid=SERVER_PID)
    assert facts.cgroup is None and facts.governors == {}
    assert any(note.startswith("no cgroup v2 limits") for note in facts.notes)
    assert any(note.startswith("no CPU frequency governor") for note in facts.notes)


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"/.dockerenv": ""}, "/.dockerenv exists"),
        ({"/run/.containerenv": ""}, "/run/.containerenv exists"),
        ({"/proc/1/cgroup": "0::/kubepods/burstable/pod1/abc\n"}, "PID 1's cgroup names kubepods"),
    ],
)
def test_a_container_is_recognised(files: dict[str, str | None], reason: str) -> None:
    assert read_system(machine(files)).container == reason


def test_an_unreadable_sysctl_is_none_and_noted() -> None:
    facts = read_system(machine({"/proc/sys/net/core/somaxconn": None}))
    assert facts.sysctls["net.core.somaxconn"] is None
    assert facts.sysctl_int("net.core.somaxconn") is None
    assert "net.core.somaxconn: cannot be read here" in facts.notes


def test_a_missing_server_process_leaves_a_note() -> None:
    facts = read_system(FakeSystem(), server_pid=1234)
    assert facts.process is None
    assert any(note.startswith("/proc/1234/limits") for note in facts.notes)


def test_limits_and_setting_values_are_parsed() -> None:
    text = "Max open files            1024                 unlimited            files     \n"
    assert parse_limits(text) == (1024, None)
    assert parse_limits("") == (None, None)
    assert setting_value("always [madvise] never\n") == "madvise"
    assert setting_value("32768\t60999\n") == "32768 60999"
    assert sysctl_path("net.ipv4.tcp_tw_reuse") == "/proc/sys/net/ipv4/tcp_tw_reuse"


def _listen_record(port: int, queued: int, backlog: int, inode: int) -> bytes:
    """One SOCK_DIAG_BY_FAMILY reply: nlmsghdr, then inet_diag_msg (72 bytes)."""
    body = bytearray(72)
    body[0], body[1] = socket.AF_INET, 10
    struct.pack_into("!H", body, 4, port)
    struct.pack_into("=III", body, 56, queued, backlog, 0)
    struct.pack_into("=I", body, 68, inode)
    return struct.pack("=IHHII", 16 + len(body), 20, 2, 1, 0) + bytes(body)


def test_a_sock_diag_dump_of_listening_sockets_is_parsed() -> None:
    done = struct.pack("=IHHII", 20, 3, 2, 1, 0) + b"\0" * 4
    found: list[ListenSocket] = []
    assert not parse_listen_dump(_listen_record(8080, 3, 511, 77), found)
    assert parse_listen_dump(_listen_record(5432, 0, 7, 78) + done, found)
    assert found == [ListenSocket(8080, 511, 3, 77), ListenSocket(5432, 7, 0, 78)]


def test_a_sock_diag_error_is_raised() -> None:
    error = struct.pack("=IHHII", 20, 2, 0, 1, 0) + struct.pack("=i", -1)
    with pytest.raises(OSError, match="Operation not permitted"):
        parse_listen_dump(error, [])


def test_the_fake_system_lists_directories_and_refuses_writes() -> None:
    system = FakeSystem({"/a/b/c": "1", "/a/d": "2"}, refuse=frozenset({"/a/d"}))
    assert system.listdir("/a") == ["b", "d"]
    assert system.listdir("/nowhere") is None
    system.write("/a/b/c", "5")
    assert system.read("/a/b/c") == "5\n" and system.writes == [("/a/b/c", "5")]
    with pytest.raises(OSError, match="Invalid argument: ./a/d."):
        system.write("/a/d", "3")
