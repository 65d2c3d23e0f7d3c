"""kill -9 a process applying config file edits, then roll back: the exact bytes come back.

The worker (crash_worker.py) stops at a file barrier (a) after the journal's intent and
before the edit, (b) after the edit and before its result, or (c) in the middle of a
rollback, and is killed there with SIGKILL.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from redline.optimize import ChangeKind, FileEditApplier, JournalStatus, SqliteJournal, rollback
from tests.integration.optimize.crashing import kill_at, run_worker

#: Bytes that a text round trip could change: CRLF, no last newline, non-ASCII, a tab.
ORIGINALS = {
    "one.conf": b"workers = 2\r\nname = caf\xc3\xa9\n",
    "two.conf": b"timeout\t= 30\nkeepalive = on",
    "three.conf": b"# empty but for this\n",
}


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    paths = []
    for name, data in ORIGINALS.items():
        path = tmp_path / name
        path.write_bytes(data)
        path.with_name(name + ".new").write_bytes(data.replace(b"=", b"= 9 #") + b"\nadded\n")
        paths.append(path)
    return paths


def digest(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def undo_all(journal: Path):
    return rollback(SqliteJournal(journal), {ChangeKind.FILE_EDIT: FileEditApplier()})


@pytest.mark.parametrize("pause", ["after-intent:3", "after-apply:3"])
def test_a_kill_mid_apply_is_rolled_back_to_the_exact_bytes(files, tmp_path, pause) -> None:
    journal, before = tmp_path / "journal.db", digest(files)
    kill_at(journal, tmp_path / "barrier", "file-apply", *map(str, files), pause=pause)
    entries = SqliteJournal(journal).entries()
    assert [e.status for e in entries] == [
        JournalStatus.APPLIED,
        JournalStatus.APPLIED,
        JournalStatus.INTENT,  # the process died before its result
    ]
    changed = files[2].read_bytes() != ORIGINALS["three.conf"]
    assert changed is (pause == "after-apply:3")
    outcomes = undo_all(journal)
    assert [o.ok for o in outcomes] == [True, True, True]
    if pause == "after-intent:3":
        assert outcomes[0].detail.startswith("already the original")
    assert digest(files) == before
    assert {p.name: p.read_bytes() for p in files} == ORIGINALS
    assert undo_all(journal) == []  # rollback twice is a no-op
    assert digest(files) == before


def test_a_failing_undo_is_reported_and_the_others_still_undone(files, tmp_path) -> None:
    journal = tmp_path / "journal.db"
    kill_at(journal, tmp_path / "barrier", "file-apply", *map(str, files), pause="after-apply:3")
    backup = Path(SqliteJournal(journal).entries()[1].state["backup"])
    backup.unlink()
    outcomes = undo_all(journal)
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].detail == f"{files[1]}: its backup {backup} is missing; left as it is"
    assert files[0].read_bytes() == ORIGINALS["one.conf"]
    assert files[2].read_bytes() == ORIGINALS["three.conf"]
    (left,) = SqliteJournal(journal).to_undo()
    assert (left.change.target, left.status) == (str(files[1]), JournalStatus.UNDO_FAILED)


def test_a_kill_mid_rollback_resumes(files, tmp_path) -> None:
    journal, before = tmp_path / "journal.db", digest(files)
    run_worker(journal, tmp_path / "barrier", "file-apply", *map(str, files))
    assert digest(files) != before
    kill_at(journal, tmp_path / "barrier", "rollback", pause="after-undo:2")
    statuses = [e.status for e in SqliteJournal(journal).entries()]
    assert statuses == [JournalStatus.APPLIED, JournalStatus.APPLIED, JournalStatus.UNDONE]
    assert files[1].read_bytes() == ORIGINALS["two.conf"]  # undone, its result never written
    outcomes = undo_all(journal)
    assert [(o.ok, o.detail.split(" (")[0]) for o in outcomes][0] == (True, "already the original")
    assert digest(files) == before and undo_all(journal) == []
