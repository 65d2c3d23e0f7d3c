"""PostgresProbe.health and its findings on a throwaway PostgreSQL 15, with data made here.

Each test that writes ends with ``pg_stat_force_next_flush()`` on the writing
connection: PostgreSQL 15 publishes a session's table and index counters at most
once a second otherwise, and the probe reads them from another session.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

from redline.diagnose._db_health import DbHealthConfig, health_findings
from redline.plan import parse_dsn
from redline.probes._postgres import PgHealth, PostgresProbe

#: How long a test waits for the server to show a session's state.
SETTLE_S = 10.0
#: Report every session, however short its wait or idle time.
AT_ONCE = DbHealthConfig(idle_in_transaction_min_s=0, lock_wait_min_s=0)


def connect(dsn_text: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    dsn = parse_dsn(dsn_text)
    return psycopg.connect(
        host=dsn.host,
        port=dsn.port,
        dbname=dsn.database,
        user=dsn.user,
        password=dsn.password(),
        autocommit=autocommit,
    )


def health_of(dsn_text: str) -> PgHealth:
    with PostgresProbe(parse_dsn(dsn_text)) as pg:
        return pg.health()


def test_unused_and_redundant_indexes_but_not_used_or_unique_ones(pg_database: str) -> None:
    with connect(pg_database) as conn:
        conn.execute(
            "CREATE TABLE big (id int PRIMARY KEY, v int, w int, code text, at timestamptz)"
        )
        conn.execute(
            "INSERT INTO big SELECT g, g % 1000, g % 77, 'c' || g, "
            "now() - g * interval '1 s' FROM generate_series(1, 300000) AS g"
        )
        for ddl in (
            "CREATE INDEX big_v_idx ON big (v)",  # a leading part of big_v_w_idx
            "CREATE INDEX big_v_dup ON big (v)",  # the same
            "CREATE INDEX big_v_w_idx ON big (v, w)",  # unused
            "CREATE INDEX big_w_used ON big (w)",  # used below
            "CREATE UNIQUE INDEX big_code_key ON big (code)",  # unique: kept
            "CREATE INDEX big_code_v ON big (code, v)",  # the unique one is not redundant
            "CREATE INDEX big_at_a ON big (at)",  # identical pair: the second goes
            "CREATE INDEX big_at_b ON big (at)",
            "ANALYZE big",
        ):
            conn.execute(ddl)
        conn.execute("SET enable_seqscan = off")
        conn.execute("SELECT count(*) FROM big WHERE w = 5")
        conn.execute("SELECT count(*) FROM big WHERE at = now() AND code = 'c1'")
        conn.execute("SELECT pg_stat_force_next_flush()")
    health = health_of(pg_database)
    unused = {i.name: i for i in health.unused_indexes}
    assert {"big_v_idx", "big_v_dup", "big_v_w_idx"} <= set(unused)
    assert not {"big_w_used", "big_code_key", "big_pkey"} & set(unused)
    assert unused["big_v_w_idx"].size_bytes > 1024**2
    redundant = {r.name: (r.covered_by, r.exact) for r in health.redundant_indexes}
    assert redundant == {
        "big_v_idx": ("big_v_w_idx", False),
        "big_v_dup": ("big_v_w_idx", False),
        "big_at_b": ("big_at_a", True),
    }
    findings = {(f.rule, f.location): f for f in health_findings(health)}
    unused_finding = findings["pg-unused-index", "index public.big_v_w_idx"]
    assert unused_finding.recommendation.startswith("DROP INDEX CONCURRENTLY public.big_v_w_idx;")
    assert "since the statistics began" in unused_finding.title
    assert ("pg-redundant-index", "index public.big_at_b") in findings
    assert ("pg-unused-index", "index public.big_v_idx") not in findings  # said as redundant
    assert not any("big_w_used" in str(loc) or "big_code_key" in str(loc) for _, loc in findings)
    [big] = [t for t in health.tables if t.name == "big"]
    assert big.time_columns == ("at",)


def test_idle_in_transaction_session(pg_database: str) -> None:
    idle = connect(pg_database, autocommit=False)
    try:
        idle.execute("SELECT 42 AS answer")  # opens a transaction, then sits idle in it
        pid = idle.info.backend_pid
        health = health_of(pg_database)
    finally:
        idle.close()
    [session] = [s for s in health.idle_in_transaction if s.pid == pid]
    assert session.query == "SELECT 42 AS answer"
    assert session.database == parse_dsn(pg_database).database
    assert session.transaction_s >= session.idle_s >= 0
    assert health.connections.by_state.get("idle in transaction", 0) >= 1
    [finding] = [f for f in health_findings(health, AT_ONCE) if f.rule == "pg-idle-in-transaction"]
    assert str(pid) in (finding.location or "")
    assert not [f for f in health_findings(health) if f.rule == "pg-idle-in-transaction"]


def test_lock_wait_names_its_blocker(pg_database: str) -> None:
    with connect(pg_database) as conn:
        conn.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int)")
        conn.execute("INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) AS g")
    holder = connect(pg_database, autocommit=False)
    waiter = connect(pg_database)
    holder_pid, waiter_pid = holder.info.backend_pid, waiter.info.backend_pid
    failures: list[BaseException] = []

    def wait_for_the_row() -> None:
        try:
            waiter.execute("SET lock_timeout = '20s'")
            waiter.execute("UPDATE accounts SET balance = balance - 1 WHERE id = 1")
        except BaseException as exc:  # reported in the test's thread below
            failures.append(exc)

    thread = threading.Thread(target=wait_for_the_row, daemon=True)
    try:
        holder.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        thread.start()
        health = _wait_for_lock_wait(pg_database, waiter_pid)
    finally:
        holder.rollback()
        thread.join(timeout=SETTLE_S)
        holder.close()
        waiter.close()
    assert not failures and not thread.is_alive()
    [wait] = [w for w in health.lock_waits if w.pid == waiter_pid]
    assert wait.blocked_by == (holder_pid,)
    assert wait.query == "UPDATE accounts SET balance = balance - 1 WHERE id = 1"
    assert wait.wait_event.startswith("Lock:")
    [blocker] = health.blockers
    assert blocker.pid == holder_pid and not blocker.waiting
    assert blocker.state == "idle in transaction"
    [finding] = [f for f in health_findings(health, AT_ONCE) if f.rule == "pg-lock-wait"]
    assert finding.location == f"pid {holder_pid}"
    assert "balance + 1" in finding.evidence[0].value
    assert f"waiting pid {waiter_pid}" in finding.evidence[1].label


def _wait_for_lock_wait(dsn_text: str, pid: int) -> PgHealth:
    deadline = time.monotonic() + SETTLE_S
    with PostgresProbe(parse_dsn(dsn_text)) as pg:
        while time.monotonic() < deadline:
            health = pg.health()
            if any(w.pid == pid for w in health.lock_waits):
                return health
            time.sleep(0.05)
    raise AssertionError(f"pid {pid} was not seen waiting for a lock")


def test_dead_tuples_after_a_big_delete_without_autovacuum(pg_database: str) -> None:
    with connect(pg_database) as conn:
        conn.execute("CREATE TABLE churn (id int, payload text) WITH (autovacuum_enabled = false)")
        conn.execute("CREATE TABLE steady (id int, payload text)")
        for table in ("churn", "steady"):
            conn.execute(
                f"INSERT INTO {table} SELECT g, repeat('x', 40) "
                "FROM generate_series(1, 300000) AS g"
            )
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("ANALYZE churn")
        conn.execute("ANALYZE steady")
        conn.execute("DELETE FROM churn WHERE id % 3 <> 0")
        conn.execute("SELECT pg_stat_force_next_flush()")
    health = health_of(pg_database)
    tables = {t.name: t for t in health.tables}
    churn, steady = tables["churn"], tables["steady"]
    assert (churn.live_tuples, churn.dead_tuples) == (100_000, 200_000)
    assert churn.modified_since_analyze == 200_000
    assert not churn.autovacuum_enabled and churn.vacuum_age_s is None
    assert churn.estimated_bloat_bytes is not None and steady.estimated_bloat_bytes is not None
    assert 0.55 < churn.estimated_bloat_bytes / churn.size_bytes < 0.75  # 2/3 of rows deleted
    assert steady.estimated_bloat_bytes / steady.size_bytes < 0.15
    rules = {(f.rule, f.location) for f in health_findings(health)}
    assert {
        ("pg-dead-tuples", "table public.churn"),
        ("pg-stale-statistics", "table public.churn"),
    } <= rules
    assert not {loc for _, loc in rules if loc == "table public.steady"}
    assert ("pg-table-bloat", "table public.churn") not in rules  # under 64 MiB
    small_tables = DbHealthConfig(bloat_min_bytes=1024**2)
    bloat = {(f.rule, f.location) for f in health_findings(health, small_tables)}
    assert ("pg-table-bloat", "table public.churn") in bloat
    assert ("pg-table-bloat", "table public.steady") not in bloat


def test_server_wide_figures(pg_database: str) -> None:
    health = health_of(pg_database)
    assert health.server_version.startswith("15.")
    assert health.settings.max_connections == health.connections.max_connections == 100
    assert health.settings.shared_buffers_bytes == 128 * 1024**2  # initdb's default
    assert health.replicas == ()
    assert health.machine is not None and health.machine.ram_bytes > 0
    assert health.machine.cpu_count >= 1
    assert health.stats_reset_age_s is None  # a new database's statistics were never reset
    assert health.to_dict()["settings"]["work_mem_bytes"] == health.settings.work_mem_bytes
    if health.machine.ram_bytes >= 2 * 1024**3:  # 128 MiB is under half of a quarter of it
        locations = {f.location for f in health_findings(health)}
        assert "setting: shared_buffers" in locations
