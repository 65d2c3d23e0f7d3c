"""Kernel, OS and container settings judged against what a service needs.

:func:`audit_system` turns :class:`~redline.probes.SystemFacts` into
Findings. Each names the current value, the recommended one, why (with the
figure it was compared to), and the exact command to change it. The figure
is a run's measured peak when one is given (:class:`RunPeaks`), else a
stated default (:data:`DEFAULT_CONNECTIONS`).

Findings about a kernel parameter also carry a :class:`KernelSetting`, from
which ``redline system tune`` builds its Changes.

Glossary:

- **accept queue (listen backlog)**: connections the kernel has completed
  but the server has not yet ``accept()``-ed; its size is the backlog the
  server asked of ``listen()``, capped at ``net.core.somaxconn``. When it is
  full, new connections are dropped and the client retries after 1 s or more.
- **headroom**: the factor a measured peak is multiplied by before it is
  compared with a limit, so the limit is not met at the next busier hour.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from redline.diagnose._finding import Category, Evidence, Finding, Severity, ranked
from redline.diagnose._timeline import Timeline
from redline.probes._system import THP_PATH, SystemFacts, sysctl_path
from redline.units import format_bytes

__all__ = [
    "DEFAULT_CONNECTIONS",
    "KernelSetting",
    "RunPeaks",
    "SystemAudit",
    "audit_system",
]

#: Concurrent connections assumed without a run: a modest production server.
DEFAULT_CONNECTIONS = 1024
#: net.core.somaxconn and tcp_max_syn_backlog at least this (Linux's default since 5.4).
RECOMMENDED_BACKLOG = 4096
#: Open files per peak connection: its socket, and one more upstream (database, cache, proxy).
FD_HEADROOM = 2.0
#: The open-files limit recommended at least (systemd's and most distributions' hard limit).
RECOMMENDED_NOFILE = 65536
#: Linux's default ip_local_port_range (32768-60999) holds this many ports.
DEFAULT_PORTS = 28232
#: The widest usual local port range: every port above the well-known ones.
WIDE_PORT_RANGE = "1024 65535"
#: Outgoing connections and TIME_WAIT sockets at this share of the local ports are a risk.
PORT_USE_SHARE = 0.5
#: TIME_WAIT sockets at this share of the local ports call for tcp_tw_reuse.
TIME_WAIT_SHARE = 0.25
#: vm.swappiness above this on a database host (PostgreSQL, MongoDB and MySQL advise 1-10).
DATABASE_SWAPPINESS_MAX = 10
#: The swappiness recommended on a database host.
DATABASE_SWAPPINESS = 1
#: A measured peak is compared with a limit after multiplying it by this.
SIZING_HEADROOM = 1.3
#: A limit this close to used is reported.
NEAR_LIMIT_SHARE = 0.8
#: CPU periods throttled at this share or more make cgroup throttling HIGH.
THROTTLED_HIGH_SHARE = 0.1
#: pids.max below this is low for a server (threads count as pids).
LOW_PIDS_MAX = 1024
#: Where ``sysctl --system`` reads persistent settings from; redline's file in it.
SYSCTL_D_FILE = "/etc/sysctl.d/90-redline.conf"
#: Sources named in the evidence.
SYSCTL_SOURCE = "/proc/sys"
CGROUP_SOURCE = "cgroup v2 ({path})"


@dataclass(frozen=True)
class KernelSetting:
    """A kernel parameter to change: a sysctl, or transparent huge pages under /sys.

    The commands are what a person would type; ``redline system tune --apply``
    writes ``path`` itself (the same effect) and journals the value before.
    """

    #: The sysctl key (``net.core.somaxconn``), or ``transparent_hugepage``.
    key: str
    #: The file that holds it.
    path: str
    current: str
    recommended: str

    @property
    def is_sysctl(self) -> bool:
        return self.path.startswith("/proc/sys/")

    def command(self, value: str) -> str:
        """The command that sets it to ``value`` now (not across a reboot)."""
        if self.is_sysctl:
            shown = f'"{value}"' if " " in value else value
            return f"sysctl -w {self.key}={shown}"
        return f"echo {value} > {self.path}"

    @property
    def verify_command(self) -> str:
        return f"sysctl -n {self.key}" if self.is_sysctl else f"cat {self.path}"

    @property
    def persist_command(self) -> str:
        """How to keep it after a reboot."""
        if self.is_sysctl:
            return (
                f"echo '{self.key} = {self.recommended}' | sudo tee -a {SYSCTL_D_FILE} "
                "&& sudo sysctl --system"
            )
        return f"add transparent_hugepage={self.recommended} to the kernel command line"

    def to_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "path": self.path,
            "current": self.current,
            "recommended": self.recommended,
            "command": self.command(self.recommended),
            "persist": self.persist_command,
        }


@dataclass(frozen=True)
class RunPeaks:
    """What a run used at its busiest: the figures the settings are compared with."""

    run_id: str
    #: Concurrent connections: the server's inbound ones where it was sampled, else the VUs.
    connections: int
    time_wait: int
    #: The server's CPU in cores, its RSS and its busiest process's open files (None
    #: when the run sampled no server).
    server_cpu_cores: float | None
    server_rss_bytes: int | None
    server_open_fds: int | None

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> RunPeaks:
        """The peaks of a results document (a stored run or a results file)."""
        timeline = Timeline.of(document)
        connections, time_wait, cpu, rss, fds = 0, 0, [], [], []
        for second in timeline.seconds:
            server, host = second.server or {}, second.host or {}
            inbound = sum((server.get("tcp_inbound_by_local_port") or {}).values())
            vus = int((second.generator or {}).get("active_vus", 0))
            connections = max(connections, inbound, vus)
            time_wait = max(time_wait, int(host.get("tcp_time_wait", 0)))
            cpu += [float(server["cpu"])] if server.get("cpu") is not None else []
            rss += [int(server["rss_bytes"])] if server.get("rss_bytes") is not None else []
            fds += [int(server.get("max_open_fds_per_process") or 0)] if server else []
        return cls(
            run_id=timeline.run_id,
            connections=connections,
            time_wait=time_wait,
            server_cpu_cores=max(cpu) if cpu else None,
            server_rss_bytes=max(rss) if rss else None,
            server_open_fds=max(fds) if fds else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Needs:
    """The connections the settings must hold, and where that figure came from."""

    connections: int
    #: Says where ``connections`` came from, for the evidence.
    basis: str
    peaks: RunPeaks | None

    @classmethod
    def of(cls, peaks: RunPeaks | None) -> Needs:
        if peaks is None or peaks.connections == 0:
            basis = f"a stated default of {DEFAULT_CONNECTIONS:,} (no --run given)"
            return cls(DEFAULT_CONNECTIONS, basis, peaks)
        basis = f"run {peaks.run_id}'s peak concurrent connections"
        return cls(peaks.connections, basis, peaks)


@dataclass(frozen=True)
class Advice:
    """A rule's finding, and the kernel parameter it would change, if any."""

    finding: Finding
    setting: KernelSetting | None = None


@dataclass(frozen=True)
class SystemAudit:
    """The facts, the findings (worst first) and the kernel parameters to change."""

    facts: SystemFacts
    peaks: RunPeaks | None
    findings: list[Finding]
    settings: list[KernelSetting]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "facts": self.facts.to_dict(),
            "peaks": None if self.peaks is None else self.peaks.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "settings": [s.to_dict() for s in self.settings],
            "notes": list(self.notes),
        }


def audit_system(facts: SystemFacts, peaks: RunPeaks | None = None) -> SystemAudit:
    """Judge the settings in ``facts`` against ``peaks`` (else :data:`DEFAULT_CONNECTIONS`)."""
    needs = Needs.of(peaks)
    advice = [a for rule in RULES for a in rule(facts, needs)]
    notes = list(facts.notes)
    if facts.container:
        notes.append(
            f"a container ({facts.container}): kernel settings belong to the host; "
            "change them there (system tune --apply refuses here)"
        )
    if peaks is not None and peaks.server_cpu_cores is None:
        notes.append("instance sizing needs a run that sampled the server (--server-pid)")
    return SystemAudit(
        facts=facts,
        peaks=peaks,
        findings=ranked(a.finding for a in advice),
        settings=[a.setting for a in advice if a.setting is not None],
        notes=notes,
    )


def _at_least(value: int, floor: int) -> int:
    """``floor``, or the power of two at or above ``value`` when that is larger."""
    return max(floor, 1 << math.ceil(math.log2(max(value, 1))))


def _kernel_finding(
    *,
    rule: str,
    setting: KernelSetting,
    severity: Severity,
    title: str,
    why: Evidence,
    effect: str,
    category: Category = Category.CONFIGURATION,
) -> Advice:
    """A finding on one kernel parameter, with its current and recommended values."""
    finding = Finding(
        rule=rule,
        category=category,
        severity=severity,
        confidence=0.8,
        title=title,
        evidence=(
            Evidence(setting.key, setting.current, setting.path),
            why,
            Evidence("recommended", setting.recommended, "redline"),
        ),
        location=f"setting: {setting.key}",
        recommendation=f"{setting.command(setting.recommended)}; to keep it after a reboot: "
        f"{setting.persist_command}",
        expected_effect=effect,
    )
    return Advice(finding, setting)


def _sysctl(facts: SystemFacts, key: str, recommended: object) -> KernelSetting:
    return KernelSetting(key, sysctl_path(key), facts.sysctls.get(key) or "?", str(recommended))


def _somaxconn(facts: SystemFacts, needs: Needs) -> list[Advice]:
    value = facts.sysctl_int("net.core.somaxconn")
    if value is None or value >= needs.connections:
        return []
    setting = _sysctl(
        facts, "net.core.somaxconn", _at_least(needs.connections, RECOMMENDED_BACKLOG)
    )
    return [
        _kernel_finding(
            rule="somaxconn",
            setting=setting,
            severity=Severity.HIGH if needs.peaks else Severity.MEDIUM,
            category=Category.NETWORK,
            title=f"net.core.somaxconn caps every listen backlog at {value:,}, below "
            f"{needs.connections:,} concurrent connections",
            why=Evidence("connections to hold at once", f"{needs.connections:,}", needs.basis),
            effect="a burst of connections (a spike, reconnects after a restart) waits in the "
            "accept queue instead of being dropped and retried a second later",
        )
    ]


def _syn_backlog(facts: SystemFacts, needs: Needs) -> list[Advice]:
    value = facts.sysctl_int("net.ipv4.tcp_max_syn_backlog")
    if value is None or value >= needs.connections:
        return []
    setting = _sysctl(
        facts, "net.ipv4.tcp_max_syn_backlog", _at_least(needs.connections, RECOMMENDED_BACKLOG)
    )
    return [
        _kernel_finding(
            rule="syn-backlog",
            setting=setting,
            severity=Severity.MEDIUM,
            category=Category.NETWORK,
            title=f"net.ipv4.tcp_max_syn_backlog holds {value:,} half-open connections, below "
            f"{needs.connections:,} concurrent connections",
            why=Evidence("connections to hold at once", f"{needs.connections:,}", needs.basis),
            effect="a burst of new connections is not answered with SYN cookies or dropped",
        )
    ]


def _listen_backlog(facts: SystemFacts, needs: Needs) -> list[Advice]:
    somaxconn = facts.sysctl_int("net.core.somaxconn")
    found = []
    for listener in facts.listeners:
        if listener.backlog >= needs.connections:
            continue
        capped = somaxconn is not None and listener.backlog >= somaxconn
        cause = (
            f"the server asked for at least {listener.backlog:,} and net.core.somaxconn "
            "capped it: raise somaxconn, then the server's backlog"
            if capped
            else "the server asked listen() for this backlog: raise its backlog setting"
        )
        wanted = _at_least(needs.connections, RECOMMENDED_BACKLOG)
        finding = Finding(
            rule="listen-backlog",
            category=Category.NETWORK,
            severity=Severity.HIGH if needs.peaks else Severity.MEDIUM,
            confidence=0.9,
            title=f"Port {listener.port} accepts a queue of {listener.backlog:,} connections, "
            f"below {needs.connections:,} concurrent connections",
            evidence=(
                Evidence(
                    "listen backlog (accept queue size)",
                    f"{listener.backlog:,}",
                    "sock_diag (ss -ltn: Send-Q)",
                ),
                Evidence("waiting to be accepted now", f"{listener.queued:,}", "sock_diag"),
                Evidence("connections to hold at once", f"{needs.connections:,}", needs.basis),
                Evidence("recommended", f"{wanted:,}", "redline"),
            ),
            location=f"the server's listen socket on port {listener.port}",
            recommendation=f"{cause} (gunicorn --backlog {wanted}, uvicorn --backlog {wanted}, "
            f"nginx listen ... backlog={wanted}, socket.listen({wanted})); check with "
            f"ss -ltn 'sport = :{listener.port}'",
            expected_effect="connections arriving together wait to be accepted instead of "
            "being dropped (ListenOverflows)",
        )
        found.append(Advice(finding))
    return found


def _port_range(facts: SystemFacts, needs: Needs) -> list[Advice]:
    bounds = facts.port_range
    if bounds is None:
        return []
    ports = bounds[1] - bounds[0] + 1
    if needs.peaks is not None:
        used = needs.peaks.connections + needs.peaks.time_wait
        if used < PORT_USE_SHARE * ports:
            return []
        why = Evidence(
            "peak connections + sockets in TIME_WAIT", f"{used:,}", f"run {needs.peaks.run_id}"
        )
    elif ports < DEFAULT_PORTS:
        why = Evidence("Linux's default range", f"{DEFAULT_PORTS:,} ports", "32768-60999")
    else:
        return []
    setting = _sysctl(facts, "net.ipv4.ip_local_port_range", WIDE_PORT_RANGE)
    return [
        _kernel_finding(
            rule="port-range",
            setting=setting,
            severity=Severity.MEDIUM if needs.peaks else Severity.LOW,
            category=Category.NETWORK,
            title=f"Only {ports:,} local ports for outgoing connections (a client or proxy "
            "here runs out first)",
            why=why,
            effect="outgoing connections (the generator's, a proxy's to its upstreams) do not "
            "fail with EADDRNOTAVAIL",
        )
    ]


def _tw_reuse(facts: SystemFacts, needs: Needs) -> list[Advice]:
    value, bounds = facts.sysctl_int("net.ipv4.tcp_tw_reuse"), facts.port_range
    if needs.peaks is None or value is None or value == 1 or bounds is None:
        return []
    ports = bounds[1] - bounds[0] + 1
    if needs.peaks.time_wait < TIME_WAIT_SHARE * ports:
        return []
    shown = {0: "off", 2: "loopback only"}.get(value, str(value))
    return [
        _kernel_finding(
            rule="tcp-tw-reuse",
            setting=_sysctl(facts, "net.ipv4.tcp_tw_reuse", 1),
            severity=Severity.MEDIUM,
            category=Category.NETWORK,
            title=f"tcp_tw_reuse is {shown} while the run left {needs.peaks.time_wait:,} sockets "
            f"in TIME_WAIT ({ports:,} local ports)",
            why=Evidence(
                "sockets in TIME_WAIT (peak)",
                f"{needs.peaks.time_wait:,}",
                f"run {needs.peaks.run_id}",
            ),
            effect="new outgoing connections reuse ports held in TIME_WAIT (safe with TCP "
            "timestamps); keeping connections alive avoids the churn altogether",
        )
    ]


def _open_files(facts: SystemFacts, needs: Needs) -> list[Advice]:
    process, wanted = facts.process, math.ceil(needs.connections * FD_HEADROOM)
    if process is None or process.nofile_soft is None or process.nofile_soft >= wanted:
        return []
    target = _at_least(wanted, RECOMMENDED_NOFILE)
    nr_open = facts.sysctl_int("fs.nr_open")
    ceiling = f"; the kernel allows at most fs.nr_open = {nr_open:,}" if nr_open else ""
    finding = Finding(
        rule="open-files-limit",
        category=Category.CONFIGURATION,
        severity=Severity.HIGH if needs.peaks else Severity.MEDIUM,
        confidence=0.9,
        title=f"{process.name} (pid {process.pid}) may open {process.nofile_soft:,} files, "
        f"below {wanted:,} ({needs.connections:,} connections × {FD_HEADROOM:g})",
        evidence=(
            Evidence(
                "open-files limit (soft, hard)",
                f"{process.nofile_soft:,}, {process.nofile_hard or 'unlimited'}",
                f"/proc/{process.pid}/limits",
            ),
            Evidence("open now", f"{process.open_fds}", f"/proc/{process.pid}/fd"),
            Evidence("connections to hold at once", f"{needs.connections:,}", needs.basis),
            Evidence("recommended", f"{target:,}", "redline"),
        ),
        location="setting: the server's open-files limit (RLIMIT_NOFILE)",
        recommendation=f"prlimit --pid {process.pid} --nofile={target}:{target} (now); "
        f"LimitNOFILE={target} in its systemd unit, ulimit -n {target} in its start script, "
        f"or docker run --ulimit nofile={target}:{target} (to keep it){ceiling}",
        expected_effect="no EMFILE failures to accept or open at this concurrency",
    )
    found = [Advice(finding)]
    file_max = facts.sysctl_int("fs.file-max")
    if file_max is not None and file_max < target:
        found += _file_max(facts, file_max, target)
    return found


def _file_max(facts: SystemFacts, file_max: int, target: int) -> list[Advice]:
    return [
        _kernel_finding(
            rule="file-max",
            setting=_sysctl(facts, "fs.file-max", _at_least(target * 4, RECOMMENDED_NOFILE)),
            severity=Severity.MEDIUM,
            title=f"fs.file-max allows {file_max:,} open files on the whole machine, below one "
            f"process's need of {target:,}",
            why=Evidence("one server process's need", f"{target:,}", "open-files-limit"),
            effect="no ENFILE failures across the machine",
        )
    ]


def _swappiness(facts: SystemFacts, needs: Needs) -> list[Advice]:
    value = facts.sysctl_int("vm.swappiness")
    if value is None or value <= DATABASE_SWAPPINESS_MAX or not facts.databases:
        return []
    if not facts.swap_total_bytes:
        return []  # without swap there is nothing to swap to: the setting changes nothing
    return [
        _kernel_finding(
            rule="swappiness",
            setting=_sysctl(facts, "vm.swappiness", DATABASE_SWAPPINESS),
            severity=Severity.MEDIUM,
            category=Category.MEMORY,
            title=f"vm.swappiness is {value} on a host running {', '.join(facts.databases)}",
            why=Evidence("databases running here", ", ".join(facts.databases), "/proc/*/comm"),
            effect="the database's caches stay in memory instead of being swapped out to make "
            "room for the page cache",
        )
    ]


def _transparent_hugepages(facts: SystemFacts, needs: Needs) -> list[Advice]:
    if facts.transparent_hugepages != "always" or not facts.databases:
        return []
    setting = KernelSetting("transparent_hugepage", THP_PATH, "always", "never")
    return [
        _kernel_finding(
            rule="transparent-hugepages",
            setting=setting,
            severity=Severity.MEDIUM,
            category=Category.MEMORY,
            title=f"Transparent huge pages are 'always' on a host running "
            f"{', '.join(facts.databases)}",
            why=Evidence(
                "databases running here (PostgreSQL, Redis and MongoDB advise against THP)",
                ", ".join(facts.databases),
                "/proc/*/comm",
            ),
            effect="no latency spikes from huge-page compaction and copy-on-write of 2 MiB "
            "pages (Redis forks, PostgreSQL's shared memory)",
        )
    ]


def _overcommit(facts: SystemFacts, needs: Needs) -> list[Advice]:
    value = facts.sysctl_int("vm.overcommit_memory")
    if value is None or value == 1 or "Redis" not in facts.databases:
        return []
    return [
        _kernel_finding(
            rule="overcommit-memory",
            setting=_sysctl(facts, "vm.overcommit_memory", 1),
            severity=Severity.LOW,
            category=Category.MEMORY,
            title=f"vm.overcommit_memory is {value} on a host running Redis",
            why=Evidence(
                "Redis's own start-up warning",
                "overcommit_memory should be 1",
                "redis.io/docs admin",
            ),
            effect="Redis's background save (fork) does not fail under memory pressure",
        )
    ]


def _governor(facts: SystemFacts, needs: Needs) -> list[Advice]:
    slow = {g: n for g, n in facts.governors.items() if g == "powersave"}
    if not slow:
        return []
    finding = Finding(
        rule="cpu-governor",
        category=Category.CPU,
        severity=Severity.MEDIUM,
        confidence=0.7,
        title=f"{slow['powersave']} CPUs run the powersave frequency governor",
        evidence=tuple(
            Evidence(f"governor {g}", f"{n} CPUs", "/sys/devices/system/cpu/cpu*/cpufreq")
            for g, n in sorted(facts.governors.items())
        ),
        location="setting: CPU frequency governor",
        recommendation="cpupower frequency-set -g performance (or echo performance | sudo tee "
        "/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor); to keep it, the tuned "
        "profile throughput-performance",
        expected_effect="CPUs at full speed under load: lower and steadier latency",
    )
    return [Advice(finding)]


def _cgroup_cpu(facts: SystemFacts, needs: Needs) -> list[Advice]:
    cgroup = facts.cgroup
    throttled = 0 if cgroup is None else cgroup.cpu_stat.get("nr_throttled", 0)
    if cgroup is None or throttled == 0:
        return []
    periods = cgroup.cpu_stat.get("nr_periods", 0)
    share = throttled / periods if periods else 0.0
    quota = f"{cgroup.cpu_max_cores:g} cores" if cgroup.cpu_max_cores else "no quota here"
    finding = Finding(
        rule="cgroup-cpu-throttled",
        category=Category.CPU,
        severity=Severity.HIGH if share >= THROTTLED_HIGH_SHARE else Severity.MEDIUM,
        confidence=0.9,
        title=f"The cgroup's CPU quota throttled it in {throttled:,} of {periods:,} periods "
        f"({share:.1%})",
        evidence=(
            Evidence("cpu.max", quota, CGROUP_SOURCE.format(path=cgroup.path)),
            Evidence("periods throttled", f"{throttled:,} of {periods:,}", "cpu.stat"),
            Evidence(
                "time throttled",
                f"{cgroup.cpu_stat.get('throttled_usec', 0) / 1e6:,.1f} s",
                "cpu.stat",
            ),
        ),
        location=f"cgroup {cgroup.path}",
        recommendation="raise the CPU limit (docker run --cpus, Kubernetes resources.limits.cpu, "
        "systemd CPUQuota=) or remove it and keep the request; or use fewer worker threads "
        "than the quota's cores",
        expected_effect="no stalls of up to a period (100 ms) each time the quota runs out: "
        "shorter tail latency",
    )
    return [Advice(finding)]


def _cgroup_memory(facts: SystemFacts, needs: Needs) -> list[Advice]:
    cgroup = facts.cgroup
    if cgroup is None or cgroup.memory_max_bytes is None:
        return []
    peak_rss = needs.peaks.server_rss_bytes if needs.peaks else None
    used, basis = (
        (peak_rss, f"run {needs.peaks.run_id}'s peak server RSS")
        if peak_rss is not None and needs.peaks is not None
        else (cgroup.memory_current_bytes or 0, "memory.current (now)")
    )
    kills = cgroup.memory_events.get("oom_kill", 0)
    at_max = cgroup.memory_events.get("max", 0)
    if used < NEAR_LIMIT_SHARE * cgroup.memory_max_bytes and not kills and not at_max:
        return []
    wanted = math.ceil(used * SIZING_HEADROOM)
    finding = Finding(
        rule="cgroup-memory",
        category=Category.MEMORY,
        severity=Severity.HIGH if kills or used >= cgroup.memory_max_bytes else Severity.MEDIUM,
        confidence=0.85,
        title=f"Memory near the cgroup's limit: {_gib(used)} of memory.max "
        f"{_gib(cgroup.memory_max_bytes)}" + (f"; {kills:,} processes OOM-killed" if kills else ""),
        evidence=(
            Evidence(
                "memory.max", _gib(cgroup.memory_max_bytes), CGROUP_SOURCE.format(path=cgroup.path)
            ),
            Evidence("memory used", _gib(used), basis),
            Evidence("memory.events max, oom_kill", f"{at_max:,}, {kills:,}", "memory.events"),
            Evidence(f"recommended (used × {SIZING_HEADROOM:g})", _gib(wanted), "redline"),
        ),
        location=f"cgroup {cgroup.path}",
        recommendation=f"raise the memory limit to at least {_gib(wanted)} (docker run --memory, "
        "Kubernetes resources.limits.memory, systemd MemoryMax=), or lower the server's "
        "memory use (caches, worker count)",
        expected_effect="no reclaim stalls at the limit and no OOM kills",
    )
    return [Advice(finding)]


def _cgroup_pids(facts: SystemFacts, needs: Needs) -> list[Advice]:
    cgroup = facts.cgroup
    if cgroup is None or cgroup.pids_max is None:
        return []
    current = cgroup.pids_current or 0
    if cgroup.pids_max >= LOW_PIDS_MAX and current < NEAR_LIMIT_SHARE * cgroup.pids_max:
        return []
    finding = Finding(
        rule="cgroup-pids",
        category=Category.CONFIGURATION,
        severity=Severity.HIGH if current >= NEAR_LIMIT_SHARE * cgroup.pids_max else Severity.LOW,
        confidence=0.8,
        title=f"pids.max is {cgroup.pids_max:,} ({current:,} in use): threads and processes "
        "beyond it fail to start",
        evidence=(
            Evidence("pids.max", f"{cgroup.pids_max:,}", CGROUP_SOURCE.format(path=cgroup.path)),
            Evidence("pids.current", f"{current:,}", "pids.current"),
            Evidence("low below", f"{LOW_PIDS_MAX:,}", "redline"),
        ),
        location=f"cgroup {cgroup.path}",
        recommendation=f"raise it to {max(LOW_PIDS_MAX * 4, cgroup.pids_max * 2):,} or more "
        "(docker run --pids-limit, systemd TasksMax=, Kubernetes podPidsLimit)",
        expected_effect="no EAGAIN from fork() or pthread_create() at peak",
    )
    return [Advice(finding)]


def _sizing(facts: SystemFacts, needs: Needs) -> list[Advice]:
    peaks = needs.peaks
    if peaks is None or peaks.server_cpu_cores is None or peaks.server_rss_bytes is None:
        return []
    cores = _cores(facts)
    memory = _memory(facts)
    need_cores = peaks.server_cpu_cores * SIZING_HEADROOM
    need_memory = math.ceil(peaks.server_rss_bytes * SIZING_HEADROOM)
    short = (cores is not None and need_cores > cores) or (
        memory is not None and need_memory > memory
    )
    finding = Finding(
        rule="instance-sizing",
        category=Category.CAPACITY,
        severity=Severity.HIGH if short else Severity.INFO,
        confidence=0.7,
        title=f"The measured peak needs {need_cores:.1f} cores and {_gib(need_memory)} "
        f"(peak × {SIZING_HEADROOM:g}); this machine has "
        f"{'?' if cores is None else f'{cores:g}'} cores and "
        f"{'?' if memory is None else _gib(memory)}",
        evidence=(
            Evidence(
                "peak server CPU", f"{peaks.server_cpu_cores:.2f} cores", f"run {peaks.run_id}"
            ),
            Evidence("peak server RSS", _gib(peaks.server_rss_bytes), f"run {peaks.run_id}"),
            Evidence(
                "cores here",
                "?" if cores is None else f"{cores:g}",
                "/sys/devices/system/cpu/online, cpu.max",
            ),
            Evidence(
                "memory here", "?" if memory is None else _gib(memory), "/proc/meminfo, memory.max"
            ),
        ),
        location="the server's machine (instance size)",
        recommendation=(
            f"give the server at least {_cores_text(math.ceil(need_cores))} and {_gib(need_memory)}"
            if short
            else f"the machine fits the run's peak with {SIZING_HEADROOM:g}× headroom; "
            f"{_cores_text(math.ceil(need_cores))} and {_gib(need_memory)} would do"
        ),
        expected_effect="the run's peak load fits with headroom for a busier hour",
    )
    return [Advice(finding)]


def _cores(facts: SystemFacts) -> float | None:
    quota = facts.cgroup.cpu_max_cores if facts.cgroup else None
    values = [v for v in (facts.cpus, quota) if v is not None]
    return float(min(values)) if values else None


def _memory(facts: SystemFacts) -> int | None:
    limit = facts.cgroup.memory_max_bytes if facts.cgroup else None
    values = [v for v in (facts.mem_total_bytes, limit) if v is not None]
    return min(values) if values else None


def _cores_text(cores: int) -> str:
    return "1 core" if cores == 1 else f"{cores} cores"


def _gib(size: float) -> str:
    return format_bytes(size)


RULES: tuple[Callable[[SystemFacts, Needs], list[Advice]], ...] = (
    _somaxconn,
    _syn_backlog,
    _listen_backlog,
    _port_range,
    _tw_reuse,
    _open_files,
    _swappiness,
    _transparent_hugepages,
    _overcommit,
    _governor,
    _cgroup_cpu,
    _cgroup_memory,
    _cgroup_pids,
    _sizing,
)
