"""Machines made of dicts for the system audit: a well-tuned one, and its variations."""

from __future__ import annotations

from redline.probes import FakeSystem, ListenSocket

SERVER_PID = 4242
LISTEN_INODE = 9001
#: A cgroup v2 path of the server, as /proc/PID/cgroup names it.
CGROUP = "/system.slice/app.service"
CGROUP_DIR = "/sys/fs/cgroup" + CGROUP


def tuned_files() -> dict[str, str]:
    """Every file the audit reads, with values that raise no finding."""
    sysctl = {
        "net/core/somaxconn": "4096",
        "net/ipv4/tcp_max_syn_backlog": "4096",
        "net/ipv4/ip_local_port_range": "1024\t65535",
        "net/ipv4/tcp_tw_reuse": "1",
        "net/ipv4/tcp_fin_timeout": "30",
        "fs/file-max": "9223372036854775807",
        "fs/nr_open": "1048576",
        "vm/swappiness": "1",
        "vm/overcommit_memory": "1",
        "kernel/sched_autogroup_enabled": "0",
    }
    files = {f"/proc/sys/{k}": v + "\n" for k, v in sysctl.items()}
    files |= {
        "/proc/meminfo": "MemTotal:       16384000 kB\nSwapTotal:       2097152 kB\n",
        "/sys/devices/system/cpu/online": "0-3\n",
        "/sys/kernel/mm/transparent_hugepage/enabled": "always madvise [never]\n",
        **{
            f"/sys/devices/system/cpu/cpu{n}/cpufreq/scaling_governor": "performance\n"
            for n in range(4)
        },
        f"/proc/{SERVER_PID}/stat": f"{SERVER_PID} (postgres) S 1 ...\n",
        f"/proc/{SERVER_PID}/comm": "postgres\n",
        f"/proc/{SERVER_PID}/limits": (
            "Limit                     Soft Limit           Hard Limit           Units     \n"
            "Max processes             63704                63704                processes \n"
            "Max open files            65536                65536                files     \n"
        ),
        f"/proc/{SERVER_PID}/cgroup": f"0::{CGROUP}\n",
        f"{CGROUP_DIR}/cgroup.controllers": "cpu memory pids\n",
        f"{CGROUP_DIR}/cpu.max": "max 100000\n",
        f"{CGROUP_DIR}/cpu.stat": "usage_usec 100\nnr_periods 0\nnr_throttled 0\n"
        "throttled_usec 0\n",
        f"{CGROUP_DIR}/memory.max": "max\n",
        f"{CGROUP_DIR}/memory.current": "104857600\n",
        f"{CGROUP_DIR}/memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
        f"{CGROUP_DIR}/pids.max": "max\n",
        f"{CGROUP_DIR}/pids.current": "12\n",
        "/proc/1/cgroup": "0::/init.scope\n",
    }
    return files


def machine(
    overrides: dict[str, str | None] | None = None,
    *,
    backlog: int = 4096,
    uid: int = 0,
) -> FakeSystem:
    """The tuned machine with ``overrides`` (a None value removes the file), its server
    (pid :data:`SERVER_PID`) listening on port 5432 with ``backlog``."""
    files = tuned_files()
    for path, text in (overrides or {}).items():
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text
    return FakeSystem(
        files,
        links={
            f"/proc/{SERVER_PID}/fd/0": "/dev/null",
            f"/proc/{SERVER_PID}/fd/3": f"socket:[{LISTEN_INODE}]",
        },
        listening=[
            ListenSocket(5432, backlog, 0, LISTEN_INODE),
            ListenSocket(8080, 511, 2, 777),
        ],
        uid=uid,
    )
