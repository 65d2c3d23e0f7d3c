"""The run history's schema: one list of migration steps, applied in order.

The database's version is ``PRAGMA user_version`` (0 for a new file). Opening a
database applies, in one transaction, every step past its version; a database
newer than this redline is refused rather than guessed at.

Version history:
    1: ``runs`` (one row per run: listing figures and the whole results
       document as JSON) and ``baselines`` (a unique name for a run).
    2: ``runs.tags`` (a JSON array of strings) and an index on
       ``(name, started_at)`` for listing one plan's runs.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from redline.errors import ReportError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

#: The statements that take a database from version ``i`` to ``i + 1`` (``MIGRATIONS[i]``).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            started_at TEXT NOT NULL,
            elapsed_s REAL NOT NULL,
            status TEXT NOT NULL,
            partial INTEGER NOT NULL,
            target TEXT NOT NULL,
            test_type TEXT,
            rps REAL NOT NULL,
            p95_us INTEGER,
            error_rate REAL NOT NULL,
            document TEXT NOT NULL
        )
        """,
        "CREATE INDEX runs_started_at ON runs (started_at)",
        """
        CREATE TABLE baselines (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            run_id TEXT NOT NULL REFERENCES runs (id),
            created_at TEXT NOT NULL
        )
        """,
    ),
    (
        "ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
        "CREATE INDEX runs_name_started_at ON runs (name, started_at)",
    ),
    (
        # The run's verdict, for listing: its status unless it completed, then
        # whether every threshold held. Filled in for runs stored before.
        "ALTER TABLE runs ADD COLUMN verdict TEXT NOT NULL DEFAULT ''",
        """
        UPDATE runs SET verdict = CASE
            WHEN status != 'completed' THEN status
            WHEN EXISTS (
                SELECT 1 FROM json_each(document, '$.thresholds')
                WHERE json_extract(value, '$.passed') = 0
            ) THEN 'thresholds failed'
            ELSE 'passed'
        END
        """,
    ),
)
#: The version this redline writes.
SCHEMA_VERSION = len(MIGRATIONS)


def _version(connection: sqlite3.Connection) -> int:
    row = connection.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Bring the database at ``path`` up to :data:`SCHEMA_VERSION` in one transaction.

    ``connection`` must be in autocommit mode (``isolation_level=None``). The
    version is read again under the write lock, so two processes opening a new
    database at once apply each step once.

    Raises:
        ReportError: the database is newer than this redline.
    """
    if _version(connection) == SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        found = _version(connection)
        if found > SCHEMA_VERSION:
            raise ReportError(
                f"{path}: database schema version {found} is newer than this redline "
                f"({SCHEMA_VERSION}); upgrade redline"
            )
        for steps in MIGRATIONS[found:]:
            for statement in steps:
                connection.execute(statement)
        # PRAGMA does not take parameters; the value is our own integer.
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
