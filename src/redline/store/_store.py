"""The run history: every run saved in one SQLite file, found again by id or name.

Glossary:

- **run id**: the id a run gets when it starts (``20260612-101530-3fa9c2``).
  Anywhere an id is taken, a unique prefix of it will do, as with git.
- **document**: the run's results file (:func:`redline.report.results_to_dict`,
  per-second histograms included), stored whole as JSON text; the other columns
  of ``runs`` are copies of its figures, for listing and filtering.
- **partial**: the run stopped before its plan's end for another reason than its
  purpose (interrupted, aborted, failed). Partial runs are stored and marked.
- **baseline**: a unique name for a run, for comparisons to refer to.

Concurrency: the database is in WAL mode; every write is one ``BEGIN IMMEDIATE``
transaction and waits up to :data:`BUSY_TIMEOUT_S` for another writer, so two
runs that finish at once are both saved.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from redline.diagnose import TestReport
from redline.errors import ConfigError, ReportError
from redline.load import RunResult, RunStatus
from redline.metrics import RunSeries
from redline.report import results_to_dict
from redline.store._schema import migrate

__all__ = ["BUSY_TIMEOUT_S", "Baseline", "RunStore", "RunSummary", "StoredRun"]

#: How long a write waits for another process's write to finish before failing.
BUSY_TIMEOUT_S: Final = 30.0
#: Between tries to switch a new database to WAL while another process does.
WAL_RETRY_S: Final = 0.02
#: The columns :class:`RunSummary` is read from, in its field order.
SUMMARY_COLUMNS: Final = (
    "id, name, started_at, elapsed_s, status, partial, target, test_type, "
    "rps, p95_us, error_rate, tags, verdict"
)
#: How many candidates an ambiguous prefix error names.
AMBIGUOUS_SHOWN: Final = 3


@dataclass(frozen=True)
class RunSummary:
    """One stored run as listed: the figures copied out of its document."""

    id: str
    #: The plan's name.
    name: str
    started_at: datetime
    elapsed_s: float
    status: RunStatus
    #: True for interrupted, aborted and failed runs (see the module glossary).
    partial: bool
    #: The first request's origin, ``scheme://host:port`` ("" when unknown).
    target: str
    #: The plan's test type (``"stress"``), or None for a plain run.
    test_type: str | None
    #: Requests per second over the whole run.
    rps: float
    #: 95th percentile response time over the whole run, µs (None: no requests).
    p95_us: int | None
    #: Failed requests as a fraction of all requests.
    error_rate: float
    tags: tuple[str, ...]
    #: ``passed``, ``thresholds failed``, or the status of a run that did not complete.
    verdict: str = ""

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> RunSummary:
        """Build from a row of :data:`SUMMARY_COLUMNS`."""
        (run_id, name, started, elapsed, status, partial, target, test_type) = row[:8]
        rps, p95_us, error_rate, tags, verdict = row[8:]
        return cls(
            id=run_id,
            name=name,
            started_at=datetime.fromisoformat(started),
            elapsed_s=elapsed,
            status=RunStatus(status),
            partial=bool(partial),
            target=target,
            test_type=test_type,
            rps=rps,
            p95_us=p95_us,
            error_rate=error_rate,
            tags=tuple(json.loads(tags)),
            verdict=verdict,
        )


@dataclass(frozen=True)
class StoredRun:
    """One stored run: its summary and its whole results document."""

    summary: RunSummary
    #: The results file as :func:`redline.report.results_to_dict` made it.
    document: dict[str, Any]

    @property
    def id(self) -> str:
        """The run's full id."""
        return self.summary.id

    def series(self) -> RunSeries:
        """The run's per-second, per-endpoint statistics, rebuilt exactly.

        Raises:
            ReportError: the document holds no such series.
        """
        return RunSeries.from_dict(self.document.get("series") or {})


@dataclass(frozen=True)
class Baseline:
    """A name given to a stored run."""

    name: str
    run_id: str
    created_at: datetime


def utc_text(moment: datetime) -> str:
    """``moment`` as sortable ISO text in UTC (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _origin(url: object) -> str | None:
    if not isinstance(url, str) or "://" not in url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _target(plan: Mapping[str, Any]) -> str:
    """The origin of the plan's first request (its scenarios' if it has none of its own)."""
    requests = list(plan.get("requests") or [])
    for scenario in (plan.get("scenarios") or {}).values():
        requests += scenario.get("requests") or []
    for request in requests:
        origin = _origin(request.get("url"))
        if origin is not None:
            return origin
    return _origin(plan.get("base_url")) or ""


def _test_type(document: Mapping[str, Any]) -> str | None:
    analysis = document.get("analysis") or {}
    test = document["plan"].get("test") or {}
    found = analysis.get("type") or test.get("type")
    return str(found) if found else None


def _summary_row(document: Mapping[str, Any], tags: Iterable[str]) -> dict[str, Any]:
    """The ``runs`` columns of a results document."""
    run = document["run"]
    total = document["summary"]["total"]
    return {
        "id": run["id"],
        "name": run["name"],
        "started_at": utc_text(datetime.fromisoformat(run["started_at"])),
        "elapsed_s": run["elapsed_s"],
        "status": RunStatus(run["status"]).value,
        "partial": int(bool(run["partial"])),
        "target": _target(document["plan"]),
        "test_type": _test_type(document),
        "rps": total["rps"],
        "p95_us": total["response"]["p95"],
        "error_rate": total["error_rate"],
        "tags": json.dumps(sorted(set(tags))),
        "verdict": _verdict(document),
        "document": json.dumps(document, separators=(",", ":")),
    }


def _verdict(document: Mapping[str, Any]) -> str:
    """The run's status unless it completed; then whether every threshold held."""
    status = str(document["run"]["status"])
    if status != RunStatus.COMPLETED.value:
        return status
    held = all(t.get("passed", True) for t in document.get("thresholds", []))
    return "passed" if held else "thresholds failed"


class RunStore:
    """The run history in one SQLite file.

    Open it with :meth:`open`, as a context manager; every method is one
    transaction. Library errors: :class:`~redline.errors.ConfigError` for an
    unknown or ambiguous run id or a baseline name already taken,
    :class:`~redline.errors.ReportError` when the file cannot be used.

    Example::

        with RunStore.open(Path(".redline/redline.db")) as store:
            run_id = store.save(result, analyze_run(result))
            store.set_baseline("before-index", run_id)
            store.get(run_id[:10]).series().total().response.value_at_percentile(95)
    """

    def __init__(
        self, connection: sqlite3.Connection, path: Path, now: Callable[[], datetime]
    ) -> None:
        self._db = connection
        self.path = path
        self._now = now

    @classmethod
    def open(cls, path: Path, *, now: Callable[[], datetime] | None = None) -> RunStore:
        """Open (creating or upgrading it) the history at ``path``.

        Args:
            path: the database file; its folder is created if missing.
            now: the wall clock for baselines' ``created_at`` (tests pass a fixed one).

        Raises:
            ReportError: the file cannot be created or opened, is not a database,
                or was written by a newer redline.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"{path}: cannot create its folder: {exc.strerror}") from None
        with _translated(path):
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            with _translated(path):
                _enable_wal(connection)
                connection.execute("PRAGMA foreign_keys = ON")
                migrate(connection, path)
        except BaseException:
            connection.close()
            raise
        return cls(connection, path, now or (lambda: datetime.now(UTC)))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once so that it waits for other writers."""
        with _translated(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, params: Iterable[object] = ()) -> builtins.list[tuple[Any, ...]]:
        with _translated(self.path):
            return self._db.execute(sql, tuple(params)).fetchall()

    # -- runs ------------------------------------------------------------------

    def save(
        self, result: RunResult, analysis: TestReport | None = None, *, tags: Iterable[str] = ()
    ) -> str:
        """Store a run (partial ones too) with its analysis; return its id."""
        return self.save_document(results_to_dict(result, analysis), tags=tags)

    def save_document(self, document: Mapping[str, Any], *, tags: Iterable[str] = ()) -> str:
        """Store a results document (schema_version 2); return its run id.

        Raises:
            ConfigError: a run with this id is already stored.
        """
        row = _summary_row(document, tags)
        columns = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        with self._write() as db:
            try:
                db.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})", row)
            except sqlite3.IntegrityError:
                raise ConfigError(f"run {row['id']!r} is already stored") from None
        return str(row["id"])

    def set_verdict(self, run_id: str, verdict: str) -> None:
        """Record a later verdict on a stored run (the regression gate's, after the run)."""
        full_id = self.resolve(run_id)
        with self._write() as db:
            db.execute("UPDATE runs SET verdict = ? WHERE id = ?", (verdict, full_id))

    def list(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> builtins.list[RunSummary]:
        """Stored runs, newest first, filtered by plan name, tag and start time.

        Args:
            name: only runs of the plan with this name.
            tag: only runs with this tag.
            since: only runs that started at or after this time.
            until: only runs that started before this time.
            limit: at most this many runs (1 or more); None for all.

        Raises:
            ConfigError: ``limit`` is below 1.
        """
        if limit is not None and limit < 1:
            raise ConfigError(f"--limit: {limit!r} is out of range; allowed 1 or more")
        clauses: builtins.list[str] = []
        params: builtins.list[object] = []
        for clause, value in (
            ("name = ?", name),
            ("EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE value = ?)", tag),
            ("started_at >= ?", None if since is None else utc_text(since)),
            ("started_at < ?", None if until is None else utc_text(until)),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._read(
            f"SELECT {SUMMARY_COLUMNS} FROM runs {where} ORDER BY started_at DESC, id DESC LIMIT ?",
            [*params, -1 if limit is None else limit],
        )
        return [RunSummary.from_row(row) for row in rows]

    def resolve(self, run_id: str) -> str:
        """The full id of the one stored run whose id is or begins with ``run_id``.

        Raises:
            ConfigError: no run, or more than one, has such an id.
        """
        if not run_id:
            raise ConfigError("run id: '' is empty; give a run id or a unique prefix of one")
        rows = self._read(
            "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT ?",
            (len(run_id), run_id, AMBIGUOUS_SHOWN + 1),
        )
        ids = [str(row[0]) for row in rows]
        if run_id in ids:
            return run_id
        if not ids:
            raise ConfigError(
                f"run {run_id!r}: no stored run has this id", hint="list runs with `redline runs`"
            )
        if len(ids) > 1:
            shown = ", ".join(ids[:AMBIGUOUS_SHOWN])
            more = ", ..." if len(ids) > AMBIGUOUS_SHOWN else ""
            raise ConfigError(
                f"run {run_id!r} is ambiguous: it matches {shown}{more}",
                hint="give more of the id",
            )
        return ids[0]

    def get(self, run_id: str) -> StoredRun:
        """The stored run with this id (or unique prefix).

        Raises:
            ConfigError: no run, or more than one, has such an id.
        """
        full_id = self.resolve(run_id)
        rows = self._read(f"SELECT {SUMMARY_COLUMNS}, document FROM runs WHERE id = ?", [full_id])
        if not rows:  # deleted between the two reads
            raise ConfigError(f"run {run_id!r}: no stored run has this id")
        *summary, document = rows[0]
        return StoredRun(RunSummary.from_row(tuple(summary)), json.loads(document))

    def delete(self, run_id: str, *, force: bool = False) -> str:
        """Delete a run; return its full id.

        Args:
            run_id: the run's id or a unique prefix of it.
            force: also delete the baselines that name it (else they keep it).

        Raises:
            ConfigError: no run, or more than one, has such an id; or a baseline
                names it and ``force`` is false.
        """
        full_id = self.resolve(run_id)
        with self._write() as db:
            names = [r[0] for r in db.execute(_BASELINES_OF, (full_id,)).fetchall()]
            if names and not force:
                raise ConfigError(
                    f"run {full_id!r} is the baseline {', '.join(map(repr, names))}",
                    hint="pass --force to delete the run and its baselines",
                )
            db.execute("DELETE FROM baselines WHERE run_id = ?", (full_id,))
            db.execute("DELETE FROM runs WHERE id = ?", (full_id,))
        return full_id

    def gc(self, *, keep: int) -> builtins.list[str]:
        """Keep the ``keep`` newest runs of each plan name, and every baseline's run.

        Per plan name, so that a plan run often does not push out the history of
        one run rarely. Returns the ids deleted, oldest first.

        Raises:
            ConfigError: ``keep`` is negative.
        """
        if keep < 0:
            raise ConfigError(f"--keep: {keep!r} is out of range; allowed 0 or more")
        with self._write() as db:
            rows = db.execute(
                "SELECT id FROM (SELECT id, started_at, ROW_NUMBER() OVER "
                "(PARTITION BY name ORDER BY started_at DESC, id DESC) AS newest FROM runs) "
                "WHERE newest > ? AND id NOT IN (SELECT run_id FROM baselines) "
                "ORDER BY started_at, id",
                (keep,),
            ).fetchall()
            ids = [str(row[0]) for row in rows]
            db.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in ids])
        return ids

    # -- baselines -------------------------------------------------------------

    def set_baseline(self, name: str, run_id: str, *, force: bool = False) -> Baseline:
        """Name a run as a baseline.

        Raises:
            ConfigError: the name is empty; no run, or more than one, has such an
                id; or the name is taken and ``force`` is false.
        """
        if not name.strip():
            raise ConfigError(f"--name: {name!r} is empty; give the baseline a name")
        full_id = self.resolve(run_id)
        baseline = Baseline(name, full_id, self._now())
        with self._write() as db:
            taken = db.execute("SELECT run_id FROM baselines WHERE name = ?", (name,)).fetchone()
            if taken is not None and not force:
                raise ConfigError(
                    f"baseline {name!r} is taken (run {taken[0]})",
                    hint="pass --force to point it at this run, or choose another name",
                )
            db.execute(
                "INSERT INTO baselines (name, run_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET run_id = excluded.run_id, "
                "created_at = excluded.created_at",
                (name, full_id, utc_text(baseline.created_at)),
            )
        return baseline

    def baselines(self) -> builtins.list[Baseline]:
        """Every baseline, by name."""
        rows = self._read("SELECT name, run_id, created_at FROM baselines ORDER BY name")
        return [Baseline(n, r, datetime.fromisoformat(c)) for n, r, c in rows]

    def baseline(self, name: str) -> Baseline:
        """The baseline called ``name``.

        Raises:
            ConfigError: there is no such baseline.
        """
        rows = self._read("SELECT name, run_id, created_at FROM baselines WHERE name = ?", (name,))
        if not rows:
            raise ConfigError(
                f"baseline {name!r} does not exist", hint="list them with `redline baseline list`"
            )
        found, run_id, created = rows[0]
        return Baseline(found, run_id, datetime.fromisoformat(created))


_BASELINES_OF: Final = "SELECT name FROM baselines WHERE run_id = ? ORDER BY name"


def _enable_wal(connection: sqlite3.Connection) -> None:
    """Switch to WAL, waiting (up to the busy timeout) for another process doing the same.

    SQLite answers "database is locked" at once, without its busy handler, when two
    connections change a new file's journal mode together: retry here instead.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(WAL_RETRY_S)


@contextlib.contextmanager
def _translated(path: Path) -> Iterator[None]:
    """SQLite's errors as one-line :class:`ReportError` naming the file."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise ReportError(
            f"{path}: {exc}",
            hint="another redline may hold the database; check the path and its permissions",
        ) from None
    except sqlite3.DatabaseError as exc:
        raise ReportError(
            f"{path}: not a usable redline database ({exc})",
            hint="pass --history with another path",
        ) from None
