"""A PostgreSQL database's activity each second of a run (``redline run --db DSN``).

A resource probe (see :class:`redline.metrics.ResourceSampler`): connections to
the database by state, sessions waiting on locks, and the database's
transaction, block and temp-file counters as rates, from ``pg_stat_activity``
and ``pg_stat_database``. It holds one connection of its own (left out of the
counts), opened by :meth:`PostgresActivityProbe.prime` and closed by
:meth:`PostgresActivityProbe.close`.
"""

from __future__ import annotations

from typing import Any

import psycopg

from redline.errors import TargetError
from redline.plan import Dsn

__all__ = ["PostgresActivityProbe", "connect_postgres"]

#: Marks redline's own statements, so they can be told from the workload's.
REDLINE_MARK = "/* redline */"
#: How long connecting may take.
CONNECT_TIMEOUT_S = 5

_ACTIVITY = f"""{REDLINE_MARK}
SELECT count(*),
       count(*) FILTER (WHERE state = 'active'),
       count(*) FILTER (WHERE state = 'idle'),
       count(*) FILTER (WHERE state LIKE 'idle in transaction%'),
       count(*) FILTER (WHERE wait_event_type = 'Lock')
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""
_COUNTERS = f"""{REDLINE_MARK}
SELECT xact_commit, xact_rollback, blks_read, blks_hit, temp_bytes, deadlocks
FROM pg_stat_database WHERE datname = current_database()
"""
_COUNTER_NAMES = ("commits", "rollbacks", "blocks_read", "blocks_hit", "temp_bytes", "deadlocks")


def connect_postgres(dsn: Dsn) -> psycopg.Connection[Any]:
    """An autocommit connection to ``dsn``, named ``redline``.

    Raises:
        TargetError: the server cannot be reached or refuses; never shows the password.
    """
    try:
        return psycopg.connect(
            host=dsn.host, port=dsn.port, dbname=dsn.database, user=dsn.user,
            password=dsn.password(), connect_timeout=CONNECT_TIMEOUT_S,
            application_name="redline", autocommit=True,
        )  # fmt: skip
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "no reason given"
        password = dsn.password()
        if password:
            first = first.replace(password, "***")
        raise TargetError(
            f"--db: cannot connect to {dsn}: {first}",
            hint="check that PostgreSQL listens there and the user, password and database",
        ) from None


class PostgresActivityProbe:
    """Connections by state and the database's counters, per second."""

    def __init__(self, dsn: Dsn) -> None:
        self.dsn = dsn
        self.name = f"database {dsn}"
        self._conn: psycopg.Connection[Any] | None = None
        self._last: tuple[int, ...] = ()

    def prime(self) -> None:
        """Connect and take the counters' first reading."""
        self._conn = connect_postgres(self.dsn)
        self._last = self._counters()

    def sample(self, elapsed_s: float) -> dict[str, Any] | None:
        """The connections now and the counters' rates since the last sample."""
        if self._conn is None:
            return None
        try:
            row = self._conn.execute(_ACTIVITY).fetchone()
            now = self._counters()
        except psycopg.Error as exc:
            raise OSError(f"the database stopped answering: {exc}") from None
        per_s = 1.0 / elapsed_s if elapsed_s > 0 else 0.0
        rates = {
            f"{name}_per_s": max(0, b - a) * per_s
            for name, a, b in zip(_COUNTER_NAMES, self._last, now, strict=True)
        }
        self._last = now
        total, active, idle, idle_in_tx, waiting = row or (0, 0, 0, 0, 0)
        return {
            "connections": total,
            "active": active,
            "idle": idle,
            "idle_in_transaction": idle_in_tx,
            "waiting_on_locks": waiting,
            **rates,
        }

    def close(self) -> None:
        """Close the probe's own connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _counters(self) -> tuple[int, ...]:
        assert self._conn is not None, "prime() connects first"
        row = self._conn.execute(_COUNTERS).fetchone()
        return tuple(int(v or 0) for v in row) if row else (0,) * len(_COUNTER_NAMES)
