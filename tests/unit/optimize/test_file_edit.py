"""Config file edits: backup, atomic replace, checksums, idempotent undo, changed-since."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from redline.optimize import (
    ChangeError,
    ChangeKind,
    FileEditApplier,
    SqliteJournal,
    apply_change,
    file_edit_change,
    undo_entry,
)

BEFORE = "workers = 2\ntimeout = 30\n"
AFTER = "workers = 8\ntimeout = 30\n"


def at() -> datetime:
    return datetime(2026, 11, 28, 15, 4, 5, 123456, tzinfo=UTC)


def sha(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "app.conf"
    path.write_text(BEFORE)
    path.chmod(0o640)
    return path


def test_the_change_is_a_readable_diff_of_the_whole_file(conf: Path) -> None:
    change = file_edit_change(conf, BEFORE, AFTER, summary="app.conf: workers 2 -> 8")
    assert change.kind is ChangeKind.FILE_EDIT and change.target == str(conf)
    assert change.apply.splitlines()[2:] == ["@@ -1,2 +1,2 @@", "-workers = 2", "+workers = 8",
                                             " timeout = 30"]  # fmt: skip
    assert change.verify == f"sha256sum {conf}"


@pytest.mark.parametrize(
    ("before", "after"),
    [("a\nb", "a\nb\nc"), ("", "x\n"), ("x\n", "x"), ("x", "y"), ("k = v\n", "")],
)
def test_files_without_a_last_newline_or_empty_round_trip(tmp_path, before, after) -> None:
    path = tmp_path / "f"
    path.write_text(before)
    applier = FileEditApplier(now=at)
    change = file_edit_change(path, before, after, summary="s")
    state = applier.prepare(change)
    applier.apply(change, state)
    assert path.read_bytes() == after.encode()
    applier.undo(change, state)
    assert path.read_bytes() == before.encode()


def test_prepare_backs_up_and_records_both_checksums(conf: Path) -> None:
    state = FileEditApplier(now=at).prepare(file_edit_change(conf, BEFORE, AFTER, summary="s"))
    backup = conf.with_name("app.conf.backup.20261128T150405.123456Z")
    assert state == {
        "path": str(conf),
        "backup": str(backup),
        "before_sha256": sha(BEFORE),
        "after_sha256": sha(AFTER),
    }
    assert backup.read_text() == BEFORE and conf.read_text() == BEFORE  # nothing changed yet


def test_two_backups_in_the_same_instant_do_not_collide(conf: Path) -> None:
    applier, change = FileEditApplier(now=at), file_edit_change(conf, BEFORE, AFTER, summary="s")
    first, second = applier.prepare(change), applier.prepare(change)
    assert second["backup"] == first["backup"] + ".1"


def test_apply_replaces_atomically_keeping_the_mode(conf: Path, monkeypatch) -> None:
    applier, change = FileEditApplier(now=at), file_edit_change(conf, BEFORE, AFTER, summary="s")
    state = applier.prepare(change)
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace
    inode = conf.stat().st_ino

    def spy(src, dst):
        replaced.append((os.path.dirname(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    detail = applier.apply(change, state)
    assert replaced == [(str(conf.parent), str(conf))]  # a temp file in the same folder
    assert conf.read_text() == AFTER and conf.stat().st_ino != inode
    assert conf.stat().st_mode & 0o777 == 0o640
    assert detail == f"sha256 {sha(AFTER)[:12]} (was {sha(BEFORE)[:12]}); backup {state['backup']}"
    assert [p.name for p in conf.parent.iterdir() if p.name.endswith(".redline")] == []


def test_prepare_refuses_a_file_that_is_not_what_was_planned(conf: Path) -> None:
    change = file_edit_change(conf, "workers = 4\n", AFTER, summary="s")
    with pytest.raises(ChangeError, match=r"app.conf: its content is not what the change was"):
        FileEditApplier().prepare(change)
    assert [p.name for p in conf.parent.iterdir()] == ["app.conf"]  # no backup either


def test_prepare_refuses_a_missing_file(tmp_path: Path) -> None:
    change = file_edit_change(tmp_path / "gone.conf", BEFORE, AFTER, summary="s")
    with pytest.raises(ChangeError, match=r"gone.conf: cannot be read: No such file"):
        FileEditApplier().prepare(change)


def test_undo_restores_the_exact_bytes_and_is_idempotent(conf: Path) -> None:
    applier, change = FileEditApplier(now=at), file_edit_change(conf, BEFORE, AFTER, summary="s")
    state = applier.prepare(change)
    applier.apply(change, state)
    assert applier.undo(change, state).startswith("restored from ")
    assert conf.read_bytes() == BEFORE.encode() and conf.stat().st_mode & 0o777 == 0o640
    assert applier.undo(change, state) == f"already the original (sha256 {sha(BEFORE)[:12]})"


def test_undo_before_the_apply_ran_is_a_no_op(conf: Path) -> None:
    applier, change = FileEditApplier(now=at), file_edit_change(conf, BEFORE, AFTER, summary="s")
    state = applier.prepare(change)  # the process died after the intent
    assert applier.undo(change, state).startswith("already the original")


def test_undo_refuses_a_file_changed_since_and_leaves_it(conf: Path) -> None:
    applier, change = FileEditApplier(now=at), file_edit_change(conf, BEFORE, AFTER, summary="s")
    state = applier.prepare(change)
    applier.apply(change, state)
    conf.write_text("workers = 16\n")  # someone edited it by hand
    with pytest.raises(ChangeError, match=r"app.conf changed since the edit \(sha256 \w{12}, "):
        applier.undo(change, state)
    assert conf.read_text() == "workers = 16\n"
    conf.unlink()
    with pytest.raises(ChangeError, match=r"changed since the edit \(it is missing"):
        applier.undo(change, state)


def test_undo_refuses_a_missing_or_altered_backup(conf: Path) -> None:
    applier, change = FileEditApplier(now=at), file_edit_change(conf, BEFORE, AFTER, summary="s")
    state = applier.prepare(change)
    applier.apply(change, state)
    backup = Path(state["backup"])
    backup.write_text("tampered\n")
    with pytest.raises(ChangeError, match=r"its backup .* changed since; left as it is"):
        applier.undo(change, state)
    backup.unlink()
    with pytest.raises(ChangeError, match=r"its backup .* is missing; left as it is"):
        applier.undo(change, state)
    assert conf.read_text() == AFTER


def test_a_change_that_is_not_a_diff_is_refused(conf: Path) -> None:
    change = file_edit_change(conf, BEFORE, AFTER, summary="s")
    bad = type(change)(**{**change.__dict__, "apply": "sed -i s/2/8/ app.conf"})
    with pytest.raises(ChangeError, match=r"the change's apply is not a unified diff"):
        FileEditApplier().prepare(bad)
    same = file_edit_change(conf, BEFORE, BEFORE, summary="s")
    with pytest.raises(ChangeError, match=r"the edit changes nothing"):
        FileEditApplier().prepare(same)


def test_through_the_journal_apply_then_undo(conf: Path, tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    appliers = {ChangeKind.FILE_EDIT: FileEditApplier(now=at)}
    outcome = apply_change(file_edit_change(conf, BEFORE, AFTER, summary="s"), journal, appliers)
    assert outcome.ok and conf.read_text() == AFTER
    (entry,) = journal.to_undo()
    assert undo_entry(entry, journal, appliers).ok and conf.read_text() == BEFORE
    assert journal.to_undo() == []


@pytest.mark.parametrize(
    "before",
    ["a\r\nb\r\n", "form\x0cfeed\n", "sep\u2028arator\nx", "tab\tand caf\u00e9\n", "\n\n\n"],
)
def test_only_newlines_cut_lines_so_the_bytes_come_back_exactly(tmp_path, before) -> None:
    path = tmp_path / "f"
    path.write_bytes(before.encode())
    applier = FileEditApplier(now=at)
    change = file_edit_change(path, before, before + "added\n", summary="s")
    state = applier.prepare(change)
    applier.apply(change, state)
    assert path.read_bytes() == (before + "added\n").encode()
    applier.undo(change, state)
    assert path.read_bytes() == before.encode()
