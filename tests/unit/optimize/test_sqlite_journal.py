"""The SQLite journal: intents durable before the change, results after, entries by run."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.optimize import (
    Change,
    ChangeKind,
    JournalStatus,
    JsonLinesJournal,
    SqliteJournal,
    default_journal_path,
    import_jsonl,
)


def change(n: int = 1) -> Change:
    return Change(
        kind=ChangeKind.FILE_EDIT,
        summary=f"edit {n}",
        apply="--- f\n+++ f\n@@ -1 +1 @@\n-a\n+b\n",
        undo="restore f",
        verify="sha256sum f",
        target=f"/tmp/f{n}",
    )


def fixed_now() -> datetime:
    return datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def test_the_journal_lives_beside_the_run_history(tmp_path: Path) -> None:
    assert default_journal_path(tmp_path / ".redline" / "redline.db") == (
        tmp_path / ".redline" / "journal.db"
    )


def test_an_intent_is_committed_before_intent_returns(tmp_path: Path) -> None:
    path = tmp_path / "j" / "journal.db"
    journal = SqliteJournal(path, run_id="run1", now=fixed_now)
    entry_id = journal.intent(change(), {"path": "/tmp/f1"})
    # Another connection (another process, after a kill -9) sees it at once.
    with sqlite3.connect(path) as other:
        rows = other.execute("SELECT id, status, run_id, at FROM entries").fetchall()
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert rows == [(entry_id, "intent", "run1", "2026-11-28T15:00:00.000+00:00")]
    (pending,) = journal.to_undo()
    assert pending.status is JournalStatus.INTENT and pending.state == {"path": "/tmp/f1"}


def test_results_update_the_status_and_keep_every_event(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db", now=fixed_now)
    first = journal.intent(change(1), {})
    journal.result(first, JournalStatus.APPLIED, "sha256 ab")
    second = journal.intent(change(2), {})
    journal.result(second, JournalStatus.FAILED, "disk full")
    journal.result(first, JournalStatus.UNDONE, "restored")
    entries = journal.entries()
    assert [(e.id, e.status, e.detail) for e in entries] == [
        (first, JournalStatus.UNDONE, "restored"),
        (second, JournalStatus.FAILED, "disk full"),
    ]
    assert [e.id for e in journal.to_undo()] == [second]
    assert [status for _, status, _ in journal.events(first)] == [
        JournalStatus.INTENT,
        JournalStatus.APPLIED,
        JournalStatus.UNDONE,
    ]


def test_entries_are_tagged_with_the_run_and_listed_by_run(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    a = SqliteJournal(path, run_id="run-a").intent(change(1), {})
    b = SqliteJournal(path, run_id="run-b").intent(change(2), {})
    c = SqliteJournal(path).intent(change(3), {}, run_id="run-a")
    journal = SqliteJournal(path)
    assert [e.id for e in journal.entries(run_id="run-a")] == [a, c]
    assert [e.run_id for e in journal.entries()] == ["run-a", "run-b", "run-a"]
    assert [e.id for e in journal.to_undo(run_id="run-a")] == [c, a]  # newest first
    assert journal.entries(run_id="nope") == [] and b


def test_a_missing_journal_has_no_entries_and_is_not_created_by_reading(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "none" / "journal.db")
    assert journal.entries() == [] and journal.to_undo() == []
    assert not (tmp_path / "none").exists()


def test_a_result_for_an_unknown_entry_is_an_error(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    journal.intent(change(), {})
    with pytest.raises(ConfigError, match=r"journal.db: no journal entry 'nope'"):
        journal.result("nope", JournalStatus.APPLIED)


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"this is not an sqlite file at all" * 100),
        lambda p: p.write_bytes(p.read_bytes()[:1500]),  # torn: the file cut short
    ],
)
def test_a_torn_or_corrupt_file_is_a_clear_error(tmp_path: Path, damage) -> None:
    path = tmp_path / "journal.db"
    journal = SqliteJournal(path)
    for n in range(20):
        journal.intent(change(n), {"n": str(n)})
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    damage(path)
    with pytest.raises(ConfigError, match=r"journal.db: not a readable redline journal \("):
        journal.entries()


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (id TEXT)")
    with pytest.raises(ConfigError, match=r"other.db: not a redline journal of schema 1"):
        SqliteJournal(path).entries()


def test_an_unreadable_entry_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    entry_id = SqliteJournal(path).intent(change(), {})
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET change = '{\"kind\": 3}'")
    with pytest.raises(ConfigError, match=rf"journal entry '{entry_id}' is unreadable"):
        SqliteJournal(path).entries()


def test_a_json_lines_journal_is_imported_once(tmp_path: Path) -> None:
    legacy = tmp_path / "kernel-changes.jsonl"
    old = JsonLinesJournal(legacy)
    applied = old.intent(change(1), {"path": "/proc/sys/x", "before": "1", "after": "2"})
    old.result(applied, JournalStatus.APPLIED, "2")
    undone = old.intent(change(2), {})
    old.result(undone, JournalStatus.UNDONE, "1")
    journal = SqliteJournal(tmp_path / "journal.db")
    assert import_jsonl(journal, legacy) == 2
    assert not legacy.exists() and (tmp_path / "kernel-changes.jsonl.imported").exists()
    assert [(e.id, e.status) for e in journal.entries()] == [
        (applied, JournalStatus.APPLIED),
        (undone, JournalStatus.UNDONE),
    ]
    assert journal.entries()[0].state == {"path": "/proc/sys/x", "before": "1", "after": "2"}
    assert import_jsonl(journal, legacy) == 0  # nothing left to import


def test_a_bad_json_lines_journal_is_not_imported(tmp_path: Path) -> None:
    legacy = tmp_path / "kernel-changes.jsonl"
    legacy.write_text(json.dumps({"event": "sideways", "id": "x"}) + "\n")
    with pytest.raises(ConfigError, match=r"kernel-changes.jsonl:1: not a journal event"):
        import_jsonl(SqliteJournal(tmp_path / "journal.db"), legacy)
    assert legacy.exists()
