"""``redline changes`` and ``redline rollback`` in this process, on files in the test's tmp dir."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from redline.cli import _system as system_cli
from redline.cli import main
from redline.optimize import (
    Change,
    ChangeKind,
    FileEditApplier,
    SqliteJournal,
    apply_change,
    file_edit_change,
)
from tests.unit.probes.system_machines import machine

SOMAXCONN = "/proc/sys/net/core/somaxconn"


def redline(args: list[str], monkeypatch, capsys, system=None) -> tuple[int, str, str]:
    system = system or machine({SOMAXCONN: "128\n"}, uid=0)
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


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return tmp_path / ".redline" / "redline.db"


def edit(tmp_path: Path, history: Path, name: str, run: str = "run1") -> Path:
    path = tmp_path / name
    path.write_text("a = 1\n")
    journal = SqliteJournal(history.parent / "journal.db", run_id=run)
    change = file_edit_change(path, "a = 1\n", "a = 2\n", summary=f"{name}: a 1 -> 2")
    assert apply_change(change, journal, {ChangeKind.FILE_EDIT: FileEditApplier()}).ok
    return path


def test_changes_lists_the_journal(tmp_path, history, monkeypatch, capsys) -> None:
    edit(tmp_path, history, "one.conf")
    edit(tmp_path, history, "two.conf", run="run2")
    code, out, _ = redline(["changes", "--history", str(history)], monkeypatch, capsys)
    assert code == 0 and "one.conf: a 1 -> 2" in out and "two.conf" in out and "applied" in out
    args = ["changes", "--history", str(history), "--run", "run2", "--json"]
    code, out, _ = redline(args, monkeypatch, capsys)
    (entry,) = json.loads(out)
    assert (entry["run_id"], entry["status"], entry["change"]["kind"]) == (
        "run2",
        "applied",
        "file_edit",
    )


def test_changes_of_an_empty_journal(history, monkeypatch, capsys) -> None:
    code, out, _ = redline(["changes", "--history", str(history)], monkeypatch, capsys)
    assert code == 0 and out.startswith("no changes in ")


def test_rollback_all_then_again(tmp_path, history, monkeypatch, capsys) -> None:
    one, two = edit(tmp_path, history, "one.conf"), edit(tmp_path, history, "two.conf")
    args = ["rollback", "--all", "--yes", "--history", str(history)]
    code, out, _ = redline(args, monkeypatch, capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("undone: ") and "two.conf" in lines[0]
    assert "one.conf" in lines[1] and lines[-1] == "2 undone, 0 not"
    assert one.read_text() == two.read_text() == "a = 1\n"
    code, out, _ = redline(args, monkeypatch, capsys)
    assert (code, out.strip()) == (0, "nothing to roll back")


def test_a_failed_undo_exits_non_zero_and_the_rest_are_undone(
    tmp_path, history, monkeypatch, capsys
) -> None:
    one, two = edit(tmp_path, history, "one.conf"), edit(tmp_path, history, "two.conf")
    two.write_text("edited by hand\n")
    args = ["rollback", "--all", "--yes", "--json", "--history", str(history)]
    code, out, _ = redline(args, monkeypatch, capsys)
    assert code == 3
    assert [r["ok"] for r in json.loads(out)["undone"]] == [False, True]
    assert one.read_text() == "a = 1\n"


def test_a_database_change_without_its_dsn_is_skipped(tmp_path, history, monkeypatch, capsys):
    edit(tmp_path, history, "one.conf")
    journal = SqliteJournal(history.parent / "journal.db")
    target = "postgresql://app:***@127.0.0.1:5432/shop"
    index = Change(kind=ChangeKind.INDEX, summary="index orders (customer_id)",
                   apply="CREATE INDEX CONCURRENTLY i ON orders (customer_id)", undo="DROP INDEX i",
                   verify="...", target=target)  # fmt: skip
    journal.intent(index, {})
    args = ["rollback", "--all", "--yes", "--history", str(history)]
    code, out, _ = redline(args, monkeypatch, capsys)
    assert code == 3
    assert "SKIPPED: " in out and f"needs --db {target} (with its password)" in out
    assert "1 undone, 1 not" in out
    assert [e.change.kind for e in journal.to_undo()] == [ChangeKind.INDEX]


def test_kernel_entries_are_skipped_without_root(tmp_path, history, monkeypatch, capsys):
    system = machine({SOMAXCONN: "128\n"}, uid=0)
    code, _, _ = redline(["system", "tune", "--apply", "--history", str(history)], monkeypatch,
                         capsys, system)  # fmt: skip
    assert code == 0 and system.read(SOMAXCONN) == "4096\n"
    system.uid = 1000
    args = ["rollback", "--all", "--yes", "--history", str(history)]
    code, out, _ = redline(args, monkeypatch, capsys, system)
    assert code == 3 and "rollback: refused: changing kernel settings needs root" in out
    system.uid = 0
    code, out, _ = redline(args, monkeypatch, capsys, system)
    assert code == 0 and system.read(SOMAXCONN) == "128\n"


def test_the_old_kernel_journal_is_imported(tmp_path, history, monkeypatch, capsys) -> None:
    legacy = history.parent / "kernel-changes.jsonl"
    legacy.parent.mkdir(parents=True)
    change = {
        "kind": "kernel_parameter",
        "summary": "net.core.somaxconn: 128 -> 4096",
        "apply": "sysctl -w net.core.somaxconn=4096",
        "undo": "sysctl -w net.core.somaxconn=128",
        "verify": "sysctl -n net.core.somaxconn",
        "target": "host",
    }
    state = {"path": SOMAXCONN, "before": "128", "after": "4096"}
    event = {"at": "2026-11-01T10:00:00+00:00", "event": "intent", "id": "abc123"}
    legacy.write_text(json.dumps({**event, "change": change, "state": state}) + "\n")
    system = machine({SOMAXCONN: "4096\n"}, uid=0)
    code, out, _ = redline(["changes", "--history", str(history)], monkeypatch, capsys, system)
    assert code == 0 and "abc123" in out and "intent" in out
    args = ["rollback", "abc", "--yes", "--history", str(history)]
    code, out, _ = redline(args, monkeypatch, capsys, system)
    assert code == 0 and system.read(SOMAXCONN) == "128\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rollback"], "error: rollback: choose one of ID, --run RUN or --all"),
        (["rollback", "x", "--all"], "error: rollback: choose one of ID, --run RUN or --all"),
        (["rollback", "zzz", "--yes"], "error: ID: no journal entry with id 'zzz'"),
        (["rollback", "--all", "--db", "mongodb:/x"], "error: --db: not a connection string"),
    ],
)
def test_bad_input_is_one_line(args, message, tmp_path, history, monkeypatch, capsys) -> None:
    edit(tmp_path, history, "one.conf")
    code, _, err = redline([*args, "--history", str(history)], monkeypatch, capsys)
    assert code == 2 and err.splitlines()[0].startswith(message)


def test_without_yes_and_no_terminal_it_asks_for_yes(tmp_path, history, monkeypatch, capsys):
    edit(tmp_path, history, "one.conf")
    code, _, err = redline(["rollback", "--all", "--history", str(history)], monkeypatch, capsys)
    assert code == 2 and "rollback: 1 change(s) to undo; add --yes" in err
