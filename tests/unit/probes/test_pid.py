"""One process's /proc files: the parsers, on captured texts."""

from __future__ import annotations

import os
from pathlib import Path

from redline.probes._pid import (
    _open_files,
    parse_limits_nofile,
    parse_pid_stat,
    parse_proc_io,
    parse_smaps_rollup_uss,
    read_text,
    status_value,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "proc"


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_pid_stat_with_spaces_in_the_command_name() -> None:
    stat = parse_pid_stat(text("pid_stat"))
    assert (stat.name, stat.state, stat.ppid, stat.utime_ticks, stat.stime_ticks) == (
        "python -m my",
        "S",
        1,
        250,
        50,
    )
    assert stat.threads == 3


def test_pid_stat_with_parentheses_in_the_command_name() -> None:
    stat = parse_pid_stat(text("pid_stat").replace("(python -m my)", "(a) b (c)"))
    assert (stat.name, stat.state, stat.utime_ticks) == ("a) b (c", "S", 250)


def test_status_values_in_bytes_where_the_file_says_kb() -> None:
    status = text("status")
    assert status_value(status, "VmRSS") == 21164 * 1024
    assert status_value(status, "voluntary_ctxt_switches") == 150
    assert status_value(status, "nonvoluntary_ctxt_switches") == 7
    assert status_value(status, "VmSwap") == 0


def test_uss_io_and_fd_limit() -> None:
    assert parse_smaps_rollup_uss(text("smaps_rollup")) == (400 + 11000) * 1024
    assert parse_proc_io(text("io")) == (4096, 8192)
    assert parse_limits_nofile(text("limits")) == 20000
    assert parse_limits_nofile("Max open files  unlimited  unlimited  files\n") is None


def test_read_text_reads_past_one_read(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 100_000 + b"\xff")
    assert read_text(str(big)) == "x" * 100_000 + "\ufffd"


def test_open_files_counts_every_descriptor_and_keeps_socket_inodes(tmp_path: Path) -> None:
    os.symlink("socket:[77]", tmp_path / "3")
    os.symlink("/var/log/app.log", tmp_path / "4")
    assert _open_files(str(tmp_path)) == (2, frozenset({77}))


def test_a_descriptor_closed_while_read_is_skipped(tmp_path: Path) -> None:
    os.symlink("socket:[77]", tmp_path / "3")
    (tmp_path / "4").write_text("")  # not a link: readlink fails, as for a closed descriptor
    assert _open_files(str(tmp_path)) == (2, frozenset({77}))
    assert _open_files(str(tmp_path / "gone")) == (0, frozenset())
