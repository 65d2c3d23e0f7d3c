"""A PostgreSQL database's activity each second of a run (``redline run --db DSN``).

A resource probe (see :class:`redline.metrics.ResourceSampler`): connections to
the database by state (and max_connections), sessions waiting on locks, and the database's
transaction, block and temp-file counters as rates, from ``pg_stat_activity``
and ``pg_stat_database``. It holds one connection of its own (left out of the
counts), opened by :meth:`PostgresActivityProbe.prime` and closed by
:meth:`PostgresActivityProbe.close`. It also keeps samples of the statements
the sessions were running with their literal values
(:attr:`PostgresActivityProbe.samples`), from which ``redline db analyze
--samples RUN`` plans statements for real values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from redline.plan import Dsn
from redline.probes._postgres import (
    REDLINE_MARK,
    PostgresProbe,
    QueryStats,
    connect,
    statements_delta,
)
from redline.probes._query_samples import (
    ACTIVITY_TEXT_LIMIT,
    PLACEHOLDER,
    QuerySample,
    QuerySamples,
)

__all__ = ["PostgresActivityProbe", "StatementWatch"]

_ACTIVITY = f"""{REDLINE_MARK}
SELECT count(*) AS connections,
       count(*) FILTER (WHERE state = 'active') AS active,
       count(*) FILTER (WHERE state = 'idle') AS idle,
       count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_transaction,
       count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting_on_locks
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""
#: What each session runs, or (idle) ran last, for the samples (redline's own left out).
_RUNNING = f"""{REDLINE_MARK}
SELECT query FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND query <> '' AND query NOT LIKE '/* redline */%'
"""
_COUNTERS = f"""{REDLINE_MARK}
SELECT xact_commit AS commits, xact_rollback AS rollbacks, blks_read AS blocks_read,
       blks_hit AS blocks_hit, temp_bytes, deadlocks
FROM pg_stat_database WHERE datname = current_database()
"""
#: Statements kept with a run (the most time first).
KEPT_STATEMENTS = 200
_COUNTER_NAMES = ("commits", "rollbacks", "blocks_read", "blocks_hit", "temp_bytes", "deadlocks")


class StatementWatch:
    """The statements a run caused: a snapshot at its start and one at its end.

    :meth:`check` connects before the run (so a refusal stops it before any load);
    the runner calls :meth:`start` and :meth:`stop` (a ``RunWatcher``).
    """

    def __init__(self, dsn: Dsn) -> None:
        self.dsn = dsn
        self._probe = PostgresProbe(dsn)
        self._before: dict[int, QueryStats] = {}
        self.statements: list[QueryStats] = []

    def check(self) -> None:
        """Connect and read the statements once: errors here come before the load."""
        self._probe.__enter__()
        self._before = self._probe.statements_snapshot()

    def start(self, start_ns: int) -> None:
        """The snapshot the run's statements are counted from."""
        self._before = self._probe.statements_snapshot()

    def to_dict(self) -> dict[str, Any]:
        """For the results file: the DSN (redacted) and the statements, most time first."""
        ran = self.statements[:KEPT_STATEMENTS]
        return {"dsn": str(self.dsn), "source": "pg_stat_statements, before and after the run",
                "statements": [s.to_dict() for s in ran]}  # fmt: skip

    def stop(self) -> list[QueryStats]:
        """What ran since :meth:`start`, most time first; closes the connection."""
        try:
            self.statements = statements_delta(self._before, self._probe.statements_snapshot())
        finally:
            self._probe.__exit__(None, None, None)
        return self.statements


class PostgresActivityProbe:
    """Connections by state and the database's counters, per second."""

    def __init__(self, dsn: Dsn) -> None:
        self.dsn = dsn
        self.name = f"database {dsn}"
        self._conn: psycopg.Connection[dict[str, Any]] | None = None
        self._last: tuple[int, ...] = ()
        self._max_connections = 0
        #: Statements seen running with their values, for planning them later.
        self.samples = QuerySamples()

    def prime(self) -> None:
        """Connect and take the counters' first reading."""
        self._conn = connect(self.dsn)
        self._last = self._counters()
        row = self._conn.execute(f"{REDLINE_MARK} SHOW max_connections").fetchone() or {}
        self._max_connections = int(row.get("max_connections") or 0)

    def sample(self, elapsed_s: float) -> dict[str, Any] | None:
        """The connections now and the counters' rates since the last sample."""
        if self._conn is None:
            return None
        try:
            row = self._conn.execute(_ACTIVITY).fetchone() or {}
            now = self._counters()
            self._keep_samples(r["query"] for r in self._conn.execute(_RUNNING).fetchall())
        except psycopg.Error as exc:  # the sampler drops the probe with this note
            raise OSError(f"the database stopped answering: {exc}") from None
        per_s = 1.0 / elapsed_s if elapsed_s > 0 else 0.0
        rates = {
            f"{name}_per_s": max(0, b - a) * per_s
            for name, a, b in zip(_COUNTER_NAMES, self._last, now, strict=True)
        }
        self._last = now
        sessions = {k: int(v or 0) for k, v in row.items()}
        return {**sessions, "max_connections": self._max_connections, **rates}

    def _keep_samples(self, texts: Iterable[str]) -> None:
        for text in texts:
            # A statement with placeholders shows here without its values, and one at
            # the length limit may have been cut.
            if text and len(text) < ACTIVITY_TEXT_LIMIT and not PLACEHOLDER.search(text):
                self.samples.add(QuerySample(text, None, "the load run"))

    def close(self) -> None:
        """Close the probe's own connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _counters(self) -> tuple[int, ...]:
        assert self._conn is not None, "prime() connects first"
        row = self._conn.execute(_COUNTERS).fetchone() or {}
        return tuple(int(row.get(name) or 0) for name in _COUNTER_NAMES)
