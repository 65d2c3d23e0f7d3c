"""A MySQL or MariaDB database during a run (``redline run ... --db mysql://...``).

- :class:`MySqlStatementWatch`: the database's statement digests
  (``performance_schema.events_statements_summary_by_digest``) read when the
  run starts and when it ends; the difference, digest by digest, is what the
  run's requests made the database do. It is kept as PostgreSQL's
  :class:`~redline.probes._postgres.QueryStats`, so the N+1 and database-time
  rules and the report read both databases alike.
- :class:`MySqlActivityProbe`: a resource probe (see
  :class:`redline.metrics.ResourceSampler`) read each second: sessions in the
  database by command, threads, row lock waits, and the server's counters as
  rates (``*_per_s``).

**A digest as QueryStats.** ``queryid`` is the digest's first 63 bits (the
digest is a hex hash: SHA-256 on MySQL 8, MD5 on MariaDB), ``query`` its
normalized text (values are ``?``), ``rows`` the rows sent plus the rows
affected. ``shared_hit``, ``shared_read``, ``temp_read`` and
``temp_written`` are 0: MySQL keeps no buffer pool figures per statement (the
activity probe has the server's).

**Redline's own statements** carry the ``/* redline */`` mark, but digests drop
comments: they are kept out because each probe's connection runs them with
``information_schema`` as its default schema, and digests are read for the
database's schema only (see :mod:`redline.probes._mysql`).
"""

from __future__ import annotations

import time
from typing import Any, Final

from redline.errors import RedlineError
from redline.plan import Dsn
from redline.probes._mysql import DigestStat, MySqlProbe
from redline.probes._postgres import QueryStats, statements_delta

__all__ = ["MySqlActivityProbe", "MySqlStatementWatch"]

#: Statements kept with a run (the most time first), as for PostgreSQL.
KEPT_STATEMENTS: Final = 200
#: How long the last reading waits for the run's last statements to reach the digests.
SETTLE_S: Final = 0.1
#: The leading bits of a digest that make its ``queryid`` (63: a positive SQLite integer).
_QUERYID_BITS: Final = 63
#: Status gauges sampled as they are: the figure's name and the status variable.
GAUGES: Final = {
    "threads_connected": "Threads_connected",
    "threads_running": "Threads_running",
    "row_lock_waits": "Innodb_row_lock_current_waits",
}
#: Status counters sampled as rates (``NAME_per_s``): the figure's name and the variable.
COUNTERS: Final = {
    "questions": "Questions",
    "commits": "Com_commit",
    "rollbacks": "Com_rollback",
    "buffer_pool_reads": "Innodb_buffer_pool_reads",
    "buffer_pool_read_requests": "Innodb_buffer_pool_read_requests",
    "tmp_disk_tables": "Created_tmp_disk_tables",
    "slow_queries": "Slow_queries",
}
#: Statements the probe sends between two readings of ``Questions`` (status, sessions).
_OWN_QUESTIONS: Final = 2
#: Where the run's statements come from, as findings cite it.
SOURCE = "performance_schema statement digests, before and after the run"


class MySqlStatementWatch:
    """The statements a run caused: the digests at its start and at its end.

    :meth:`check` connects before the run (so a refusal stops it before any load);
    the runner calls :meth:`start` and :meth:`stop` (a ``RunWatcher``).

    Example::

        watch = MySqlStatementWatch(parse_dsn("mysql://app:pw@127.0.0.1:3306/shop"))
        watch.check()
        watch.start(0)
        ...  # the load
        statements = watch.stop()
    """

    def __init__(self, dsn: Dsn) -> None:
        self.dsn = dsn
        self._probe = MySqlProbe(dsn)
        self._before: dict[int, QueryStats] = {}
        self.statements: list[QueryStats] = []

    def check(self) -> None:
        """Connect and read the digests once: errors here come before the load.

        Raises:
            TargetError: the server refuses, the user or password is wrong, the
                database does not exist, performance_schema or its digest consumer is
                off; the message names ``--db`` and the DSN (redacted).
        """
        try:
            self._probe.__enter__()
            self._before = self._snapshot()
        except RedlineError as exc:
            self._probe.close()
            raise type(exc)(f"--db {self.dsn}: {exc.message}", hint=exc.hint) from None

    def start(self, start_ns: int) -> None:
        """The reading the run's statements are counted from."""
        self._before = self._snapshot()

    def to_dict(self) -> dict[str, Any]:
        """For the results file: the DSN (redacted) and the statements, most time first."""
        ran = self.statements[:KEPT_STATEMENTS]
        return {"dsn": str(self.dsn), "source": SOURCE,
                "statements": [s.to_dict() for s in ran]}  # fmt: skip

    def stop(self) -> list[QueryStats]:
        """What ran since :meth:`start`, most time first; closes the connection."""
        # The server adds a statement to its digest after sending the answer: the run's
        # last statements reach the table a moment after the run's last response.
        time.sleep(SETTLE_S)
        try:
            self.statements = statements_delta(self._before, self._snapshot())
        finally:
            self._probe.close()
        return self.statements

    def _snapshot(self) -> dict[int, QueryStats]:
        stats = (query_stats(d) for d in self._probe.digest_totals().values())
        return {s.queryid: s for s in stats}


def query_stats(digest: DigestStat) -> QueryStats:
    """A digest's totals in PostgreSQL's shape (see the module docstring)."""
    return QueryStats(
        queryid=int(digest.digest, 16) >> max(0, len(digest.digest) * 4 - _QUERYID_BITS),
        query=digest.text,
        calls=digest.calls,
        total_ms=digest.total_ms,
        mean_ms=digest.total_ms / digest.calls if digest.calls else 0.0,
        rows=digest.rows_sent + digest.rows_affected,
        shared_hit=0,
        shared_read=0,
        temp_read=0,
        temp_written=0,
    )


class MySqlActivityProbe:
    """Sessions, threads and lock waits now, and the server's counters' rates, per second.

    Figures of a sample: ``connections``, ``active`` (``Query``/``Execute``),
    ``idle`` (``Sleep``) and ``waiting_on_locks`` (table and metadata locks):
    the sessions in the database, other than redline's; ``threads_connected``
    and ``threads_running``: server-wide, less the probe's own connection (the
    statement watch's idle one counts); ``max_connections``, the server's
    limit (read once);
    ``row_lock_waits``: transactions waiting for an InnoDB row lock now; and
    ``questions_per_s`` (statements, less the probe's own), ``commits_per_s``,
    ``rollbacks_per_s``, ``buffer_pool_reads_per_s`` (pages read from disk),
    ``buffer_pool_read_requests_per_s`` (pages asked of the buffer pool),
    ``tmp_disk_tables_per_s`` and ``slow_queries_per_s``. The counters are the
    server's, so other databases on it count too.

    It holds one connection of its own, opened by :meth:`prime` and closed by
    :meth:`close`.
    """

    def __init__(self, dsn: Dsn) -> None:
        self.dsn = dsn
        self.name = f"database {dsn}"
        self._probe: MySqlProbe | None = None
        self._last: dict[str, int] = {}
        self._max_connections = 0

    def prime(self) -> None:
        """Connect and take the counters' first reading."""
        probe = MySqlProbe(self.dsn)
        try:
            probe.__enter__()
            self._probe = probe
            self._last = self._status()
            # After the status, as each sample reads its sessions: _OWN_QUESTIONS holds.
            limit = probe.global_variables(["max_connections"])
            self._max_connections = limit["max_connections"]
        except RedlineError as exc:  # the sampler drops the probe with this note
            probe.close()
            self._probe = None
            raise OSError(f"cannot read the database: {exc}") from None

    def sample(self, elapsed_s: float) -> dict[str, Any] | None:
        """The sessions now and the counters' rates since the last sample."""
        if self._probe is None:
            return None
        try:
            now = self._status()
            sessions = self._probe.sessions()
        except RedlineError as exc:  # the sampler drops the probe with this note
            raise OSError(f"the database stopped answering: {exc}") from None
        per_s = 1.0 / elapsed_s if elapsed_s > 0 else 0.0
        own = {"questions": _OWN_QUESTIONS}
        rates = {
            f"{name}_per_s": max(0, now[name] - self._last[name] - own.get(name, 0)) * per_s
            for name in COUNTERS
        }
        self._last = now
        gauges = {name: now[name] for name in GAUGES}
        for name in ("threads_connected", "threads_running"):
            gauges[name] = max(0, gauges[name] - 1)  # this probe's connection, reading the status
        return {**sessions, **gauges, "max_connections": self._max_connections, **rates}

    def close(self) -> None:
        """Close the probe's own connection."""
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    def _status(self) -> dict[str, int]:
        assert self._probe is not None, "prime() connects first"
        variables = {**GAUGES, **COUNTERS}
        values = self._probe.global_status(list(variables.values()))
        return {name: values[variable] for name, variable in variables.items()}
