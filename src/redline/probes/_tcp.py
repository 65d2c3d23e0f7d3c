"""The kernel's TCP tables (``/proc/net/tcp`` and ``tcp6``), parsed.

Each line is one socket: local and remote address as hex ``ADDR:PORT``, the
state as a hex code (include/net/tcp_states.h), and the socket's inode, which
``/proc/PID/fd/*`` links to as ``socket:[INODE]``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

__all__ = ["TCP_STATES", "TcpSocket", "count_states", "parse_tcp_table", "read_tcp_tables"]

#: State codes of /proc/net/tcp (include/net/tcp_states.h), by name in lower case.
TCP_STATES = {
    1: "established",
    2: "syn_sent",
    3: "syn_recv",
    4: "fin_wait1",
    5: "fin_wait2",
    6: "time_wait",
    7: "close",
    8: "close_wait",
    9: "last_ack",
    10: "listen",
    11: "closing",
}


class TcpSocket(NamedTuple):
    """One socket of a TCP table (a named tuple: a thousand are made per sample, and
    a tuple is made at a fraction of a frozen dataclass's cost)."""

    local_port: int
    remote_port: int
    state: str
    inode: int


def parse_tcp_table(text: str) -> list[TcpSocket]:
    """Every socket of a ``/proc/net/tcp`` or ``tcp6`` text (the header line skipped)."""
    sockets = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        state = TCP_STATES.get(int(fields[3], 16), f"unknown_{fields[3]}")
        sockets.append(
            TcpSocket(
                local_port=int(fields[1].rsplit(":", 1)[1], 16),
                remote_port=int(fields[2].rsplit(":", 1)[1], 16),
                state=state,
                inode=int(fields[9]),
            )
        )
    return sockets


def read_tcp_tables(net_dir: Path) -> list[TcpSocket]:
    """The sockets of ``tcp`` and ``tcp6`` in ``net_dir``; a missing table counts as empty."""
    sockets: list[TcpSocket] = []
    for name in ("tcp", "tcp6"):
        try:
            sockets.extend(parse_tcp_table((net_dir / name).read_text()))
        except FileNotFoundError:
            continue
    return sockets


def count_states(sockets: Iterable[TcpSocket]) -> dict[str, int]:
    """How many sockets are in each state, by state name."""
    return dict(Counter([s.state for s in sockets]))
