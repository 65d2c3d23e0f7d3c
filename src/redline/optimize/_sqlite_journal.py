"""The journal in SQLite: every Change's intent durable before it runs, its result after.

:class:`SqliteJournal` implements :class:`~redline.optimize.Journal` in one
SQLite file beside the run history (:func:`default_journal_path`:
``.redline/journal.db``). Each write is its own transaction, committed with
``journal_mode=WAL`` and ``synchronous=FULL``, so when :meth:`SqliteJournal.intent`
returns the entry is on disk: a ``kill -9`` between the intent and the change,
or between the change and its result, leaves an entry that
:meth:`SqliteJournal.to_undo` returns and ``redline rollback`` undoes.

Two tables: ``entries`` holds each Change, what its undo needs (``state``),
the run that made it and its latest status; ``events`` keeps every status an
entry went through (intent, applied, undone...), for ``redline changes`` and
for people reading the file with ``sqlite3``.

:func:`import_jsonl` brings in a ``kernel-changes.jsonl`` that
``redline system tune --apply`` wrote before this journal existed (once: the
file is then renamed ``*.imported``).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redline.errors import ConfigError
from redline.optimize._change import Change
from redline.optimize._journal import TO_UNDO, JournalEntry, JournalStatus, JsonLinesJournal

__all__ = ["JOURNAL_NAME", "SqliteJournal", "default_journal_path", "import_jsonl"]

#: The journal's file name, in the folder of the run history.
JOURNAL_NAME = "journal.db"
#: The JSON-lines journal ``system tune`` kept before this one, imported once.
LEGACY_JSONL_NAME = "kernel-changes.jsonl"
#: The suffix a legacy journal gets once imported.
IMPORTED_SUFFIX = ".imported"
#: How long a writer waits for another process's transaction, in milliseconds.
BUSY_TIMEOUT_MS = 10_000
#: The journal's schema version (``PRAGMA user_version``).
#:
#: 1. entries (id, seq, at, run_id, change, state, status, detail, updated_at) and
#:    events (entry_id, at, status, detail).
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    run_id TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    change TEXT NOT NULL,
    state TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_run_id ON entries (run_id);
CREATE TABLE IF NOT EXISTS events (
    entry_id TEXT NOT NULL REFERENCES entries (id),
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
"""


def default_journal_path(history: Path) -> Path:
    """The journal beside the run history database ``history`` (``.redline/journal.db``)."""
    return history.parent / JOURNAL_NAME


class SqliteJournal:
    """A journal in an SQLite file (created with its folder on the first write).

    Args:
        path: the journal file.
        run_id: the run whose changes this journal records; every intent is tagged
            with it unless :meth:`intent` is given another.
        now: the wall clock for the entries' times (tests pass a fixed one).

    Example::

        journal = SqliteJournal(default_journal_path(Path(".redline/redline.db")), run_id=run)
        outcome = apply_change(change, journal, appliers())
        rollback(journal, appliers(), run_id=run)
    """

    def __init__(
        self,
        path: Path,
        *,
        run_id: str = "",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.path = path
        self.run_id = run_id
        self._now = now

    def intent(self, change: Change, state: Mapping[str, str], *, run_id: str | None = None) -> str:
        """Record, durably, that ``change`` is about to run; return the entry's id."""
        entry_id = uuid.uuid4().hex[:12]
        at = self._stamp()
        with self._write() as db:
            db.execute(
                "INSERT INTO entries (id, at, run_id, kind, change, state, status, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry_id,
                    at,
                    self.run_id if run_id is None else run_id,
                    change.kind.value,
                    json.dumps(change.to_dict(), ensure_ascii=False),
                    json.dumps(dict(state), ensure_ascii=False),
                    JournalStatus.INTENT.value,
                    at,
                ),
            )
            _event(db, entry_id, at, JournalStatus.INTENT, "")
        return entry_id

    def result(self, entry_id: str, status: JournalStatus, detail: str = "") -> None:
        """Record how the apply or the undo of entry ``entry_id`` ended.

        Raises:
            ConfigError: there is no such entry.
        """
        at = self._stamp()
        with self._write() as db:
            updated = db.execute(
                "UPDATE entries SET status = ?, detail = ?, updated_at = ? WHERE id = ?",
                (status.value, detail, at, entry_id),
            ).rowcount
            if updated != 1:
                raise ConfigError(f"{self.path}: no journal entry {entry_id!r}")
            _event(db, entry_id, at, status, detail)

    def entries(self, *, run_id: str | None = None) -> list[JournalEntry]:
        """Every entry (of run ``run_id`` when given), oldest first, with its latest status.

        Raises:
            ConfigError: the file is not a journal, or an entry is unreadable.
        """
        if not self.path.exists():
            return []
        sql = "SELECT id, at, run_id, change, state, status, detail FROM entries"
        params: tuple[str, ...] = ()
        if run_id is not None:
            sql, params = sql + " WHERE run_id = ?", (run_id,)
        with self._read() as db:
            rows = db.execute(sql + " ORDER BY seq", params).fetchall()
        return [self._entry(row) for row in rows]

    def to_undo(self, *, run_id: str | None = None) -> list[JournalEntry]:
        """Entries not yet undone (applied, failed, interrupted, undo failed), newest first."""
        return [e for e in reversed(self.entries(run_id=run_id)) if e.status in TO_UNDO]

    def events(self, entry_id: str) -> list[tuple[str, JournalStatus, str]]:
        """Every status entry ``entry_id`` went through: (time, status, detail), oldest first."""
        if not self.path.exists():
            return []
        with self._read() as db:
            rows = db.execute(
                "SELECT at, status, detail FROM events WHERE entry_id = ? ORDER BY rowid",
                (entry_id,),
            ).fetchall()
        return [(at, _status(self.path, status), detail) for at, status, detail in rows]

    def _entry(self, row: tuple[Any, ...]) -> JournalEntry:
        entry_id, at, run_id, change, state, status, detail = row
        try:
            parsed_change = Change.from_dict(json.loads(change))
            parsed_state = {str(k): str(v) for k, v in json.loads(state).items()}
        except (ValueError, AttributeError, ConfigError) as exc:
            raise ConfigError(
                f"{self.path}: journal entry {entry_id!r} is unreadable: {exc}"
            ) from None
        return JournalEntry(
            id=entry_id,
            change=parsed_change,
            state=parsed_state,
            status=_status(self.path, status),
            detail=detail,
            at=at,
            run_id=run_id,
        )

    def _stamp(self) -> str:
        return self._now().isoformat(timespec="milliseconds")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed and synced (FULL) when the block ends."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            yield db

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, isolation_level=None)) as db:
                _open(db, self.path)
                yield db
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"{self.path}: not a readable redline journal ({exc})",
                hint="move the file aside; `redline changes` starts a new journal",
            ) from None


def _open(db: sqlite3.Connection, path: Path) -> None:
    """Set the durability pragmas and create (or check) the schema."""
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if version != 0 or tables:
        raise ConfigError(
            f"{path}: not a redline journal of schema {SCHEMA_VERSION} (user_version {version})",
            hint="is it another program's database? choose another --history folder",
        )
    db.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")


def _event(
    db: sqlite3.Connection, entry_id: str, at: str, status: JournalStatus, detail: str
) -> None:
    db.execute(
        "INSERT INTO events (entry_id, at, status, detail) VALUES (?, ?, ?, ?)",
        (entry_id, at, status.value, detail),
    )


def _status(path: Path, value: str) -> JournalStatus:
    try:
        return JournalStatus(value)
    except ValueError:
        raise ConfigError(f"{path}: unknown journal status {value!r}") from None


def import_jsonl(journal: SqliteJournal, legacy: Path) -> int:
    """Copy the entries of a JSON-lines journal into ``journal`` once; return how many.

    The entries keep their ids, times and latest status; the file is renamed
    ``<name>.imported`` afterwards so it is not imported again. Nothing happens
    when ``legacy`` does not exist.

    Raises:
        ConfigError: the file is not a JSON-lines journal.
    """
    if not legacy.exists():
        return 0
    old = JsonLinesJournal(legacy).entries()
    with journal._write() as db:
        for entry in old:
            db.execute(
                "INSERT OR IGNORE INTO entries "
                "(id, at, run_id, kind, change, state, status, detail, updated_at) "
                "VALUES (?, ?, '', ?, ?, ?, ?, ?, ?)",
                (
                    entry.id,
                    entry.at,
                    entry.change.kind.value,
                    json.dumps(entry.change.to_dict(), ensure_ascii=False),
                    json.dumps(dict(entry.state), ensure_ascii=False),
                    entry.status.value,
                    entry.detail,
                    entry.at,
                ),
            )
            _event(db, entry.id, entry.at, entry.status, f"imported from {legacy.name}")
    legacy.rename(legacy.with_name(legacy.name + IMPORTED_SUFFIX))
    return len(old)
