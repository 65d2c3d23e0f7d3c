"""The system audit's rules: each finding fires on a machine that shows it; a tuned one, none."""

from __future__ import annotations

from typing import Any

import pytest

from redline.diagnose import RunPeaks, Severity, audit_system
from redline.probes import FakeSystem, read_system
from tests.unit.probes.system_machines import CGROUP_DIR, SERVER_PID, machine

GIB = 2**30


def run_document(
    *,
    vus: int = 50,
    inbound: int = 40,
    time_wait: int = 100,
    cpu: float = 1.0,
    rss: int = GIB,
    seconds: int = 5,
) -> dict[str, Any]:
    """A results document whose busiest second has these figures."""
    return {
        "run": {"id": "run42"},
        "analysis": {"unit": "VUs"},
        "series": {
            "overall": [{"second": s, "count": 100, "failures": 0} for s in range(seconds)],
            "generator": [{"second": s, "active_vus": vus * (s + 1) // seconds}
                          for s in range(seconds)],
        },
        "resources": {
            "interval_s": 1,
            "server": [
                {"second": s, "cpu": cpu * (s + 1) / seconds, "rss_bytes": rss * (s + 1) // seconds,
                 "max_open_fds_per_process": 30, "tcp_inbound_by_local_port": {"5432": inbound}}
                for s in range(seconds)
            ],
            "host": [{"second": s, "tcp_time_wait": time_wait} for s in range(seconds)],
        },
    }  # fmt: skip


def rules_of(system: FakeSystem, document: dict[str, Any] | None = None) -> list[str]:
    peaks = None if document is None else RunPeaks.of(document)
    audit = audit_system(read_system(system, server_pid=SERVER_PID), peaks)
    return [f.rule for f in audit.findings]


def test_a_tuned_machine_gives_no_finding() -> None:
    audit = audit_system(read_system(machine(), server_pid=SERVER_PID))
    assert audit.findings == [] and audit.settings == []


def test_with_a_modest_run_only_the_sizing_is_reported_and_it_fits() -> None:
    audit = audit_system(read_system(machine(), server_pid=SERVER_PID), RunPeaks.of(run_document()))
    assert [f.rule for f in audit.findings] == ["instance-sizing"]
    sizing = audit.findings[0]
    assert sizing.severity is Severity.INFO
    assert sizing.title.endswith(
        "1.3 cores and 1.3 GiB (peak × 1.3); this machine has 4 cores and 15.6 GiB"
    )


def test_the_run_peaks_are_its_busiest_seconds() -> None:
    peaks = RunPeaks.of(run_document(vus=300, inbound=250, time_wait=9000, cpu=2.0, rss=3 * GIB))
    assert peaks.run_id == "run42"
    assert (peaks.connections, peaks.time_wait) == (300, 9000)
    assert (peaks.server_cpu_cores, peaks.server_rss_bytes, peaks.server_open_fds) == (
        2.0,
        3 * GIB,
        30,
    )


PLAIN = "/proc/sys/"


@pytest.mark.parametrize(
    ("files", "rule", "command"),
    [
        ({PLAIN + "net/core/somaxconn": "128\n"}, "somaxconn", "sysctl -w net.core.somaxconn=4096"),
        ({PLAIN + "net/ipv4/tcp_max_syn_backlog": "256\n"}, "syn-backlog",
         "sysctl -w net.ipv4.tcp_max_syn_backlog=4096"),
        ({PLAIN + "net/ipv4/ip_local_port_range": "50000 60000\n"}, "port-range",
         'sysctl -w net.ipv4.ip_local_port_range="1024 65535"'),
        ({f"/proc/{SERVER_PID}/limits": "Max open files  1024  4096  files\n"},
         "open-files-limit", f"prlimit --pid {SERVER_PID} --nofile=65536:65536"),
        ({PLAIN + "vm/swappiness": "60\n"}, "swappiness", "sysctl -w vm.swappiness=1"),
        ({"/sys/kernel/mm/transparent_hugepage/enabled": "[always] madvise never\n"},
         "transparent-hugepages", "echo never > /sys/kernel/mm/transparent_hugepage/enabled"),
        ({"/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor": "powersave\n"},
         "cpu-governor", "cpupower frequency-set -g performance"),
        ({f"{CGROUP_DIR}/cpu.max": "50000 100000\n",
          f"{CGROUP_DIR}/cpu.stat": "nr_periods 100\nnr_throttled 30\nthrottled_usec 900000\n"},
         "cgroup-cpu-throttled", "docker run --cpus"),
        ({f"{CGROUP_DIR}/memory.max": "115343360\n"}, "cgroup-memory", "docker run --memory"),
        ({f"{CGROUP_DIR}/memory.events": "max 0\noom 2\noom_kill 2\n"} |
         {f"{CGROUP_DIR}/memory.max": "1073741824\n"}, "cgroup-memory", "MemoryMax="),
        ({f"{CGROUP_DIR}/pids.max": "64\n"}, "cgroup-pids", "TasksMax="),
    ],
)  # fmt: skip
def test_each_finding_fires_with_its_command(files: dict[str, str], rule: str, command: str):
    audit = audit_system(read_system(machine(files), server_pid=SERVER_PID))
    assert [f.rule for f in audit.findings] == [rule]
    finding = audit.findings[0]
    assert command in finding.recommendation
    assert finding.evidence, "a finding names the figures it compares"


def test_a_small_listen_backlog_fires_and_names_somaxconn_when_it_capped_it() -> None:
    system = machine({PLAIN + "net/core/somaxconn": "128\n"}, backlog=128)
    audit = audit_system(read_system(system, server_pid=SERVER_PID))
    assert {f.rule for f in audit.findings} == {"somaxconn", "listen-backlog"}
    backlog = next(f for f in audit.findings if f.rule == "listen-backlog")
    assert backlog.title.startswith("Port 5432 accepts a queue of 128 connections, below 1,024")
    assert "net.core.somaxconn capped it" in backlog.recommendation
    assert backlog.evidence[2].source == "a stated default of 1,024 (no --run given)"


def test_a_backlog_the_server_chose_points_at_the_server() -> None:
    audit = audit_system(read_system(machine(backlog=7), server_pid=SERVER_PID))
    assert [f.rule for f in audit.findings] == ["listen-backlog"]
    assert "raise its backlog setting" in audit.findings[0].recommendation


def test_the_somaxconn_finding_compares_with_the_runs_peak() -> None:
    system = machine({PLAIN + "net/core/somaxconn": "4096\n"}, backlog=4096)
    document = run_document(vus=6000, inbound=6000)
    assert "somaxconn" in rules_of(system, document)
    somaxconn = next(
        f
        for f in audit_system(read_system(system), RunPeaks.of(document)).findings
        if f.rule == "somaxconn"
    )
    assert somaxconn.severity is Severity.HIGH
    assert somaxconn.evidence[1].value == "6,000"
    assert somaxconn.evidence[2].value == "8192"
    assert somaxconn.evidence[1].source == "run run42's peak concurrent connections"


def test_tw_reuse_fires_only_with_a_run_that_left_many_time_wait_sockets() -> None:
    system = machine({PLAIN + "net/ipv4/tcp_tw_reuse": "2\n"})
    assert rules_of(system) == []
    assert "tcp-tw-reuse" not in rules_of(system, run_document(time_wait=100))
    assert "tcp-tw-reuse" in rules_of(system, run_document(time_wait=20_000))


def test_a_run_using_half_the_local_ports_fires_the_port_range() -> None:
    system = machine({PLAIN + "net/ipv4/ip_local_port_range": "32768 60999\n"})
    assert rules_of(system) == []
    assert "port-range" in rules_of(system, run_document(time_wait=15_000))


def test_swappiness_and_thp_need_a_database_and_swappiness_needs_swap() -> None:
    files = {
        PLAIN + "vm/swappiness": "60\n",
        "/sys/kernel/mm/transparent_hugepage/enabled": "[always] madvise never\n",
    }
    no_database = machine(files | {f"/proc/{SERVER_PID}/comm": "nginx\n"})
    assert rules_of(no_database) == []
    no_swap = machine(files | {"/proc/meminfo": "MemTotal: 1000 kB\nSwapTotal: 0 kB\n"})
    assert rules_of(no_swap) == ["transparent-hugepages"]


def test_overcommit_is_judged_only_with_redis() -> None:
    files = {PLAIN + "vm/overcommit_memory": "0\n"}
    assert rules_of(machine(files)) == []
    with_redis = machine(files | {"/proc/77/comm": "redis-server\n"})
    assert rules_of(with_redis) == ["overcommit-memory"]


def test_the_open_files_limit_compares_with_peak_connections_times_headroom() -> None:
    files = {f"/proc/{SERVER_PID}/limits": "Max open files  4096  4096  files\n"}
    assert rules_of(machine(files)) == []  # 1,024 default × 2 = 2,048 fits
    found = rules_of(machine(files), run_document(vus=3000, inbound=3000))
    assert "open-files-limit" in found


def test_fs_file_max_below_one_process_need_fires_too() -> None:
    files = {
        f"/proc/{SERVER_PID}/limits": "Max open files  1024  1024  files\n",
        PLAIN + "fs/file-max": "50000\n",
    }
    assert rules_of(machine(files)) == ["open-files-limit", "file-max"]


def test_memory_max_near_the_runs_peak_rss_fires() -> None:
    files = {f"{CGROUP_DIR}/memory.max": str(2 * GIB) + "\n"}
    assert "cgroup-memory" not in rules_of(machine(files), run_document(rss=GIB))
    assert "cgroup-memory" in rules_of(machine(files), run_document(rss=int(1.8 * GIB)))


def test_an_undersized_machine_is_high() -> None:
    system = machine({f"{CGROUP_DIR}/cpu.max": "200000 100000\n"})
    peaks = RunPeaks.of(run_document(cpu=1.9, rss=GIB))
    audit = audit_system(read_system(system, server_pid=SERVER_PID), peaks)
    sizing = next(f for f in audit.findings if f.rule == "instance-sizing")
    assert sizing.severity is Severity.HIGH
    assert "give the server at least 3 cores" in sizing.recommendation


def test_a_container_and_a_run_without_server_samples_leave_notes() -> None:
    document = run_document()
    document["resources"]["server"] = []
    system = machine({"/.dockerenv": ""})
    audit = audit_system(read_system(system), RunPeaks.of(document))
    assert any(n.startswith("a container (/.dockerenv exists)") for n in audit.notes)
    assert any(n.startswith("instance sizing needs") for n in audit.notes)


def test_kernel_findings_carry_the_setting_for_tune() -> None:
    system = machine({PLAIN + "net/core/somaxconn": "128\n", PLAIN + "vm/swappiness": "60\n"})
    audit = audit_system(read_system(system, server_pid=SERVER_PID))
    settings = {s.key: (s.current, s.recommended) for s in audit.settings}
    assert settings == {"net.core.somaxconn": ("128", "4096"), "vm.swappiness": ("60", "1")}
    assert audit.to_dict()["settings"][0]["persist"].startswith(
        "echo 'net.core.somaxconn = 4096' | sudo tee -a /etc/sysctl.d/90-redline.conf"
    )
