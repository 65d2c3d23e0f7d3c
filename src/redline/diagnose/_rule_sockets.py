"""Network and sockets: accept queues that overflow, descriptors and ports running out.

- **listen-queue overflows** (host ``ListenOverflows``): connections arrived
  faster than the server accepted them and its backlog was full;
- **file descriptors**: the busiest server process near its open-files limit;
- **ephemeral ports**: sockets in TIME_WAIT near the size of the local port
  range, on the generator's side (this host) too.
"""

from __future__ import annotations

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._timeline import Timeline

__all__ = ["sockets"]

#: A limit this close to used is reported.
NEAR_LIMIT_SHARE = 0.8
#: TIME_WAIT sockets at this share of the ephemeral ports are a risk.
TIME_WAIT_SHARE = 0.5
HOST_SOURCE = "host (/proc/net/netstat, /proc/net/sockstat)"
SERVER_SOURCE = "server process tree (/proc/PID/fd, /proc/PID/limits)"


def sockets(timeline: Timeline) -> list[Finding]:
    """Findings on listen queues, file descriptors and ephemeral ports."""
    return [
        f
        for f in (_listen_overflows(timeline), _descriptors(timeline), _time_wait(timeline))
        if f is not None
    ]


def _listen_overflows(timeline: Timeline) -> Finding | None:
    hosts = [s for s in timeline.seconds if s.host]
    overflows = sum(int(s.host.get("listen_overflows", 0)) for s in hosts if s.host)
    if overflows == 0:
        return None
    first = next(s for s in hosts if s.host and s.host.get("listen_overflows"))
    somaxconn = timeline.host_info("somaxconn")
    cap = f" (net.core.somaxconn = {somaxconn})" if somaxconn else ""
    return Finding(
        rule="listen-overflow",
        category=Category.NETWORK,
        severity=Severity.HIGH,
        confidence=0.8,
        title=f"Accept queue overflowed {overflows:,} times: connections arrive faster than "
        "the server accepts them",
        evidence=(
            Evidence(
                "listen-queue overflows",
                f"{overflows:,}, first at second {first.second} ({first.load:g} {timeline.unit})",
                HOST_SOURCE,
            ),
        ),
        location=f"the server's listen backlog{cap}",
        recommendation="raise the listen backlog (the server's backlog setting and "
        "net.core.somaxconn) and accept faster (more acceptor workers)",
        expected_effect="no SYNs dropped: fewer connect timeouts and resets at this load",
    )


def _descriptors(timeline: Timeline) -> Finding | None:
    worst = None
    for s in timeline.seconds:
        server = s.server or {}
        limit, used = server.get("fd_soft_limit"), server.get("max_open_fds_per_process", 0)
        if limit and used >= NEAR_LIMIT_SHARE * limit and (worst is None or used > worst[0]):
            worst = (used, limit, s)
    if worst is None:
        return None
    used, limit, second = worst
    return Finding(
        rule="fd-limit",
        category=Category.CONFIGURATION,
        severity=Severity.CRITICAL if used >= limit - 1 else Severity.HIGH,
        confidence=0.9,
        title=f"Open files near the limit: a server process holds {used:,} of {limit:,}",
        evidence=(
            Evidence(
                "most open descriptors in one process",
                f"{used:,} at second {second.second} ({second.load:g} {timeline.unit})",
                SERVER_SOURCE,
            ),
            Evidence("soft limit (RLIMIT_NOFILE)", f"{limit:,}", SERVER_SOURCE),
        ),
        location="setting: the server's open-files limit (ulimit -n, LimitNOFILE=)",
        recommendation="raise the server's open-files limit, and check for descriptors "
        "that are never closed",
        expected_effect="no EMFILE failures to accept or open at this load",
    )


def _time_wait(timeline: Timeline) -> Finding | None:
    ports = timeline.host_info("ephemeral_ports")
    counts = [int(s.host.get("tcp_time_wait", 0)) for s in timeline.seconds if s.host]
    if not ports or not counts or max(counts) < TIME_WAIT_SHARE * ports:
        return None
    return Finding(
        rule="time-wait",
        category=Category.NETWORK,
        severity=Severity.HIGH if max(counts) >= NEAR_LIMIT_SHARE * ports else Severity.MEDIUM,
        confidence=0.7,
        title=f"Ephemeral ports running out: {max(counts):,} sockets in TIME_WAIT of "
        f"{ports:,} local ports",
        evidence=(
            Evidence("sockets in TIME_WAIT (most)", f"{max(counts):,}", HOST_SOURCE),
            Evidence(
                "ephemeral port range", f"{ports:,} ports", "/proc/sys/net/ipv4/ip_local_port_range"
            ),
        ),
        location="this host's ephemeral ports (the generator's side when it opens connections)",
        recommendation="keep connections alive instead of opening one per request; widen "
        "net.ipv4.ip_local_port_range; enable net.ipv4.tcp_tw_reuse for outgoing connections",
        expected_effect="no connect failures (EADDRNOTAVAIL) at this connection rate",
    )
