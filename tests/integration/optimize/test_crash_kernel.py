"""kill -9 a process applying kernel parameters (a FakeSystem kept in a JSON file, never
this machine's kernel), then roll back: every value comes back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redline.optimize import ChangeKind, JournalStatus, KernelApplier, SqliteJournal, rollback
from redline.probes import FakeSystem
from tests.integration.optimize.crashing import kill_at, run_worker

VALUES = {
    "/proc/sys/net/core/somaxconn": "128\n",
    "/proc/sys/net/ipv4/tcp_fin_timeout": "60\n",
    "/proc/sys/vm/swappiness": "60\n",
}
SETTINGS = ["net.core.somaxconn=4096", "net.ipv4.tcp_fin_timeout=15", "vm.swappiness=1"]


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    path = tmp_path / "system.json"
    path.write_text(json.dumps(VALUES))
    return path


def files(machine: Path) -> dict[str, str]:
    return {k: v.strip() for k, v in json.loads(machine.read_text()).items()}


def undo_all(journal: Path, machine: Path):
    system = FakeSystem(files=json.loads(machine.read_text()), uid=0)
    outcomes = rollback(
        SqliteJournal(journal), {ChangeKind.KERNEL_PARAMETER: KernelApplier(system)}
    )
    machine.write_text(json.dumps(system.files))
    return outcomes


@pytest.mark.parametrize("pause", ["after-intent:2", "after-apply:2"])
def test_a_kill_mid_apply_is_rolled_back(machine, tmp_path, pause) -> None:
    journal = tmp_path / "journal.db"
    kill_at(journal, tmp_path / "barrier", "kernel-apply", str(machine), *SETTINGS, pause=pause)
    assert [e.status for e in SqliteJournal(journal).entries()] == [
        JournalStatus.APPLIED,
        JournalStatus.INTENT,
    ]
    expected = "15" if pause == "after-apply:2" else "60"
    assert files(machine)["/proc/sys/net/ipv4/tcp_fin_timeout"] == expected
    assert [o.ok for o in undo_all(journal, machine)] == [True, True]
    assert files(machine) == {k: v.strip() for k, v in VALUES.items()}
    assert undo_all(journal, machine) == []


def test_a_kill_mid_rollback_resumes_and_a_failing_undo_does_not_stop_the_rest(
    machine, tmp_path
) -> None:
    journal = tmp_path / "journal.db"
    run_worker(journal, tmp_path / "barrier", "kernel-apply", str(machine), *SETTINGS)
    assert files(machine)["/proc/sys/vm/swappiness"] == "1"
    kill_at(journal, tmp_path / "barrier", "rollback", str(machine), pause="after-undo:1")
    assert files(machine)["/proc/sys/vm/swappiness"] == "60"
    system = FakeSystem(files=json.loads(machine.read_text()), uid=0)
    system.refuse = frozenset({"/proc/sys/net/ipv4/tcp_fin_timeout"})
    outcomes = rollback(
        SqliteJournal(journal), {ChangeKind.KERNEL_PARAMETER: KernelApplier(system)}
    )
    assert [(o.ok, o.detail) for o in outcomes] == [
        (True, "already 60"),
        (False, "write /proc/sys/net/ipv4/tcp_fin_timeout: Invalid argument"),
        (True, "128"),
    ]
    system.refuse = frozenset()
    machine.write_text(json.dumps(system.files))
    assert [o.ok for o in undo_all(journal, machine)] == [True]
    assert files(machine) == {k: v.strip() for k, v in VALUES.items()}
