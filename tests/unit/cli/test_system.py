"""``redline system audit`` and ``tune`` on a machine made of a dict: refusals, apply and undo.

The CLI's source of settings is replaced by a FakeSystem, so nothing here reads
or writes this machine's kernel settings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from redline.cli import _system as system_cli
from redline.cli import main
from redline.optimize import JournalStatus, SqliteJournal
from redline.probes import FakeSystem
from tests.unit.diagnose.test_system_rules import run_document
from tests.unit.probes.system_machines import SERVER_PID, machine

SOMAXCONN = "/proc/sys/net/core/somaxconn"


def redline(
    args: list[str], system: FakeSystem, monkeypatch: pytest.MonkeyPatch, capsys
) -> tuple[int, str, str]:
    """Run the CLI in this process on ``system``: (exit code, stdout, stderr)."""
    monkeypatch.setattr(system_cli, "live_system", lambda: system)
    monkeypatch.setattr(sys, "argv", ["redline", *args])
    monkeypatch.setenv("COLUMNS", "200")
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_tune_without_apply_lists_the_changes_and_writes_nothing(monkeypatch, capsys) -> None:
    system = machine({SOMAXCONN: "128\n"})
    code, out, _ = redline(["system", "tune", "--json"], system, monkeypatch, capsys)
    assert code == 0
    assert json.loads(out) == [
        {
            "kind": "kernel_parameter",
            "summary": "net.core.somaxconn: 128 -> 4096",
            "apply": "sysctl -w net.core.somaxconn=4096",
            "undo": "sysctl -w net.core.somaxconn=128",
            "verify": "sysctl -n net.core.somaxconn",
            "target": "host",
        }
    ]
    assert system.writes == []


def test_tune_apply_is_refused_in_a_container_in_one_line(monkeypatch, capsys) -> None:
    system = machine({SOMAXCONN: "128\n", "/.dockerenv": ""}, uid=0)
    code, _, err = redline(["system", "tune", "--apply"], system, monkeypatch, capsys)
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith("error: system tune --apply: refused in a container (/.dockerenv")
    assert system.writes == []


def test_tune_apply_and_undo_are_refused_without_root(monkeypatch, capsys) -> None:
    for flag in ("--apply", "--undo"):
        system = machine({SOMAXCONN: "128\n"}, uid=1000)
        code, _, err = redline(["system", "tune", flag], system, monkeypatch, capsys)
        assert code == 2
        assert f"system tune {flag}: refused: changing kernel settings needs root" in err
        assert system.writes == []


def test_tune_apply_then_undo_restores_the_value(monkeypatch, capsys, tmp_path: Path) -> None:
    system, history = machine({SOMAXCONN: "128\n"}, uid=0), tmp_path / "h" / "redline.db"
    args = ["system", "tune", "--history", str(history)]
    code, out, _ = redline([*args, "--apply"], system, monkeypatch, capsys)
    assert code == 0, out
    assert "applied: net.core.somaxconn: 128 -> 4096: 4096 (was 128)" in out
    assert system.read(SOMAXCONN) == "4096\n"
    (entry,) = SqliteJournal(tmp_path / "h" / "journal.db").entries()
    assert entry.status is JournalStatus.APPLIED
    assert entry.state == {"path": SOMAXCONN, "before": "128", "after": "4096"}
    code, out, _ = redline([*args, "--undo"], system, monkeypatch, capsys)
    assert code == 0 and "undone: net.core.somaxconn: 128 -> 4096: 128" in out
    assert system.read(SOMAXCONN) == "128\n"
    code, out, _ = redline([*args, "--undo"], system, monkeypatch, capsys)
    assert (code, out.strip()) == (0, "nothing to be undone")


def test_a_failed_change_exits_non_zero(monkeypatch, capsys, tmp_path: Path) -> None:
    system = machine({SOMAXCONN: "128\n"}, uid=0)
    system.refuse = frozenset({SOMAXCONN})
    args = ["system", "tune", "--apply", "--history", str(tmp_path / "redline.db")]
    code, out, _ = redline(args, system, monkeypatch, capsys)
    assert code == 3
    assert f"FAILED: net.core.somaxconn: 128 -> 4096: write {SOMAXCONN}: Invalid argument" in out


def test_audit_compares_with_a_runs_peaks(monkeypatch, capsys, tmp_path: Path) -> None:
    results = tmp_path / "run.json"
    results.write_text(json.dumps(run_document(vus=6000, inbound=6000, cpu=1.0)))
    system = machine(backlog=4096)
    args = ["system", "audit", "--server-pid", str(SERVER_PID), "--run", str(results)]
    code, out, _ = redline(args, system, monkeypatch, capsys)
    assert code == 0
    assert "run run42 peaks: 6,000 connections" in out
    assert "net.core.somaxconn caps every listen backlog at 4,096, below 6,000" in out
    assert "Port 5432 accepts a queue of 4,096 connections, below 6,000" in out
    code, out, _ = redline([*args, "--json"], system, monkeypatch, capsys)
    document = json.loads(out)
    assert document["peaks"]["connections"] == 6000
    assert {"somaxconn", "listen-backlog", "instance-sizing"} <= {
        f["rule"] for f in document["findings"]
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["system", "audit", "--port", "0"], "--port: 0 is out of range; allowed 1..65535"),
        (["system", "audit", "--server-pid", "999999"], "--server-pid: no process 999999 here"),
        (["system", "tune", "--apply", "--undo"], "--apply and --undo: choose one"),
    ],
)
def test_bad_flags_are_one_line_errors(args, message, monkeypatch, capsys) -> None:
    code, _, err = redline(args, machine(), monkeypatch, capsys)
    assert code == 2
    assert err.splitlines()[0] == f"error: {message}"
