"""The TCP sockets of our network namespace, asked of the kernel over netlink (``sock_diag``).

``/proc/net/tcp`` has the kernel print every socket of the namespace as text,
TIME_WAIT included, and has us parse it: ~20 ms with a few thousand sockets,
the usual state of a machine during and after a load test. A ``sock_diag``
dump (the interface ``ss`` uses, see sock_diag(7)) sends fixed binary records
instead and lets the kernel leave out TIME_WAIT sockets, which belong to no
process (their inode is 0), so they could never count for a process tree.

Only the fields the probes need are read from each record: state, ports and
inode. Records whose inode the caller does not ask for are skipped before any
object is made, since most sockets on a load-test machine are the client's.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
import struct
from collections.abc import Container

from redline.probes._tcp import TCP_STATES, TcpSocket

__all__ = ["NETLINK_SOCK_DIAG", "STATES_BUT_TIME_WAIT", "dump_request", "parse_dump", "tcp_sockets"]

#: The netlink protocol of socket diagnostics (linux/netlink.h).
NETLINK_SOCK_DIAG = 4
#: The request type of an inet_diag_req_v2 (linux/sock_diag.h).
SOCK_DIAG_BY_FAMILY = 20
#: nlmsghdr flags of a dump request: NLM_F_REQUEST | NLM_F_DUMP.
DUMP_FLAGS = 0x1 | 0x300
#: nlmsghdr types that end a dump: an error, or the end of the dump.
NLMSG_ERROR, NLMSG_DONE = 2, 3
#: The state code of TIME_WAIT (include/net/tcp_states.h).
TIME_WAIT = 6
#: Bit ``1 << state`` of every TCP state but TIME_WAIT (and NEW_SYN_RECV, 12:
#: half-open connections, which have no inode either).
STATES_BUT_TIME_WAIT = sum(1 << code for code in TCP_STATES if code != TIME_WAIT)
#: Bytes to receive at once: the kernel sends a dump in buffers of at most 32 KiB.
RECV_BYTES = 65536

#: struct nlmsghdr: length, type, flags, sequence, port id.
_HEADER = struct.Struct("=IHHII")
#: struct inet_diag_req_v2 with an all-zero socket id (no filter but family and states).
_REQUEST = struct.Struct("=BBBxI48x")
#: What is read of each reply: from nlmsghdr its length and type; from struct
#: inet_diag_msg that follows, the state (byte 1), the ports (bytes 4-7, in
#: network byte order) and the inode (byte 68, after the 48-byte socket id
#: and expires, rqueue, wqueue and uid).
_RECORD_FORMAT = "=IH10x" + "xB2xHH" + "60x" + "I"
_RECORD = struct.Struct(_RECORD_FORMAT)
_ERRNO = struct.Struct("=i")


def dump_request(family: int, states: int = STATES_BUT_TIME_WAIT) -> bytes:
    """A netlink request for every TCP socket of ``family`` in one of ``states`` (a bitmask)."""
    body = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, states)
    return _HEADER.pack(_HEADER.size + len(body), SOCK_DIAG_BY_FAMILY, DUMP_FLAGS, 1, 0) + body


def parse_dump(data: bytes, inodes: Container[int], into: list[TcpSocket]) -> bool:
    """Append to ``into`` the records of one received buffer whose inode is in ``inodes``.

    Returns:
        True once the dump's last message (``NLMSG_DONE``) was in ``data``.

    Raises:
        OSError: the kernel answered with an error (e.g. EPERM).
    """
    offset, end = _parse_uniform(data, inodes, into), len(data)
    while offset + _HEADER.size <= end:
        length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
        if kind == NLMSG_DONE:
            return True
        if kind == NLMSG_ERROR:
            code = -_ERRNO.unpack_from(data, offset + _HEADER.size)[0]
            raise OSError(code, f"sock_diag: {os.strerror(code)}")
        _, _, state, local_port, remote_port, inode = _RECORD.unpack_from(data, offset)
        if inode in inodes:
            into.append(_socket(state, local_port, remote_port, inode))
        offset += (length + 3) & ~3  # messages are 4-byte aligned (NLMSG_ALIGN)
    return False


def _parse_uniform(data: bytes, inodes: Container[int], into: list[TcpSocket]) -> int:
    """Parse ``data``'s records at C speed when they all have the first one's length.

    A dump's records are all one length per family (the same attributes
    follow each), so ``struct.iter_unpack`` can read them all at once, which
    took a third off parsing 2,000 sockets. Returns where the general loop
    is to go on: after the records (at the final ``NLMSG_DONE``, if any), or
    0 when the lengths differ.
    """
    if len(data) < _RECORD.size:
        return 0
    length: int = _HEADER.unpack_from(data)[0]
    if length % 4 or length < _RECORD.size:
        return 0
    count = len(data) // length
    records = list(_uniform_struct(length).iter_unpack(memoryview(data)[: count * length]))
    if {(r[0], r[1]) for r in records} != {(length, SOCK_DIAG_BY_FAMILY)}:
        return 0
    into.extend(_socket(r[2], r[3], r[4], r[5]) for r in records if r[5] in inodes)
    return count * length


@functools.cache
def _uniform_struct(length: int) -> struct.Struct:
    """A reply of ``length`` bytes: what :data:`_RECORD` reads, then its attributes skipped."""
    return struct.Struct(f"{_RECORD_FORMAT}{length - _RECORD.size}x")


def _socket(state: int, local_port: int, remote_port: int, inode: int) -> TcpSocket:
    name = TCP_STATES.get(state) or f"unknown_{state:02X}"
    return TcpSocket(socket.ntohs(local_port), socket.ntohs(remote_port), name, inode)


def tcp_sockets(inodes: Container[int]) -> list[TcpSocket]:
    """The TCP sockets (IPv4 and IPv6) of our network namespace whose inode is in ``inodes``.

    TIME_WAIT sockets are left out by the kernel.

    Raises:
        OSError: netlink sock_diag is not available or not permitted here.
    """
    found: list[TcpSocket] = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as sock:
        for family in (socket.AF_INET, socket.AF_INET6):
            sock.send(dump_request(family))
            while not parse_dump(_receive(sock), inodes, found):
                pass
    return found


def _receive(sock: socket.socket) -> bytes:
    data = sock.recv(RECV_BYTES)
    if not data:
        # A dump always ends with NLMSG_DONE; an empty read means the socket broke.
        raise OSError(errno.EIO, "sock_diag: the dump ended without NLMSG_DONE")
    return data
