"""Netlink sock_diag: request and reply layout on built messages, and one real query."""

from __future__ import annotations

import os
import socket
import struct

import pytest

from redline.probes._inet_diag import (
    STATES_BUT_TIME_WAIT,
    dump_request,
    parse_dump,
    tcp_sockets,
)
from redline.probes._tcp import TcpSocket

HEADER = struct.Struct("=IHHII")


def record(state: int, sport: int, dport: int, inode: int, extra: bytes = b"") -> bytes:
    """One inet_diag_msg reply as the kernel sends it, with ``extra`` attribute bytes."""
    body = struct.pack(">BBBBHH", socket.AF_INET, state, 0, 0, sport, dport)
    body += bytes(44)  # the rest of the socket id: addresses, interface, cookie
    body += struct.pack("=IIIII", 0, 0, 0, 1000, inode) + extra
    padding = bytes(-len(body) % 4)  # the next message starts 4-byte aligned
    return HEADER.pack(HEADER.size + len(body), 20, 2, 1, 0) + body + padding


def done() -> bytes:
    return HEADER.pack(HEADER.size + 4, 3, 2, 1, 0) + struct.pack("=i", 0)


def test_request_layout() -> None:
    request = dump_request(socket.AF_INET6)
    length, kind, flags, _, _ = HEADER.unpack_from(request)
    assert (length, len(request), kind, flags) == (72, 72, 20, 0x301)
    family, protocol, ext, states = struct.unpack_from("=BBBxI", request, 16)
    assert (family, protocol, ext) == (socket.AF_INET6, socket.IPPROTO_TCP, 0)
    assert states == STATES_BUT_TIME_WAIT
    assert not states & (1 << 6) and states & (1 << 1) and states & (1 << 10)


def test_only_the_asked_inodes_are_kept_and_done_ends_the_dump() -> None:
    data = record(10, 8080, 0, 7) + record(1, 8080, 40000, 8, b"\x05\x00\x08\x00\x00\x00\x00")
    data += record(1, 40000, 8080, 9)
    found: list[TcpSocket] = []
    assert parse_dump(data, {7, 8}, found) is False
    assert found == [TcpSocket(8080, 0, "listen", 7), TcpSocket(8080, 40000, "established", 8)]
    assert parse_dump(done(), {7, 8}, found) is True


def test_an_error_reply_raises_with_its_errno() -> None:
    error = HEADER.pack(HEADER.size + 4, 2, 0, 1, 0) + struct.pack("=i", -1)
    with pytest.raises(PermissionError, match="sock_diag"):
        parse_dump(error, set(), [])


def test_a_real_listening_socket_is_found_by_its_inode() -> None:
    with socket.socket() as listener, socket.socket(socket.AF_INET6) as listener6:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener6.bind(("::1", 0))
        listener6.listen()
        inodes = {os.fstat(s.fileno()).st_ino for s in (listener, listener6)}
        ports = {s.getsockname()[1] for s in (listener, listener6)}
        try:
            found = tcp_sockets(inodes)
        except PermissionError:
            pytest.skip("netlink sock_diag is not permitted here")
    assert {s.inode for s in found} == inodes
    assert {s.local_port for s in found} == ports
    assert {s.state for s in found} == {"listen"}
