"""The MySQL probe on a throwaway MariaDB 10.11: digests, plans, index checks, health, errors."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from redline.diagnose._mysql_rules import mysql_plan_findings
from redline.errors import ConfigError, TargetError
from redline.plan import parse_dsn
from redline.probes._mysql import MySqlProbe
from redline.probes._sqlite import IndexCandidate
from tests.integration.db.conftest import PG_PASSWORD, MariaDbServer, free_port

ORDERS = 300_000


def connect(dsn_text: str, **options: Any) -> Any:
    dsn = parse_dsn(dsn_text)
    return pymysql.connect(host=dsn.host, port=dsn.port, user=dsn.user, password=dsn.password(),
                           database=dsn.database, autocommit=True, **options)  # fmt: skip


def run(dsn_text: str, *statements: str) -> None:
    conn = connect(dsn_text)
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                cursor.fetchall()
    finally:
        conn.close()


def as_root(server: MariaDbServer, *statements: str) -> None:
    conn = pymysql.connect(unix_socket=str(server.socket), user="root", autocommit=True)
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def shop(mariadb_server: MariaDbServer) -> Iterator[str]:
    """One database for the module: orders (300,000 rows, primary key only) and customers."""
    name = f"shop_{uuid.uuid4().hex[:10]}"
    as_root(mariadb_server, f"CREATE DATABASE {name}")
    dsn = mariadb_server.dsn(name)
    run(
        dsn,
        "CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, customer_id INT, "
        "status VARCHAR(10), total DECIMAL(10,2), created DATE)",
        "INSERT INTO orders (customer_id, status, total, created) SELECT seq % 5000, "
        "IF(seq % 7 = 0, 'open', 'done'), seq % 1000, DATE '2024-01-01' + INTERVAL (seq % 365) DAY "
        f"FROM seq_1_to_{ORDERS}",
        "CREATE TABLE customers (id INT PRIMARY KEY, region VARCHAR(10))",
        "INSERT INTO customers SELECT seq, CONCAT('r', seq % 20) FROM seq_1_to_5000",
        "ANALYZE TABLE orders, customers",
    )
    try:
        yield dsn
    finally:
        as_root(mariadb_server, f"DROP DATABASE {name}")


def findings(dsn_text: str, query: str) -> list[str]:
    with MySqlProbe(parse_dsn(dsn_text)) as probe:
        plan = probe.explain(query)
    return [f.rule for f in mysql_plan_findings(plan, query=query)]


def test_top_digests_rank_the_workload_and_leave_out_redlines_own(mariadb_database: str) -> None:
    run(
        mariadb_database,
        "CREATE TABLE t (id INT PRIMARY KEY, a INT)",
        "INSERT INTO t SELECT seq, seq % 10 FROM seq_1_to_1000",
        *(f"SELECT * FROM t WHERE a = {i}" for i in range(5)),
        "SELECT COUNT(*) FROM t",
    )
    with MySqlProbe(parse_dsn(mariadb_database)) as probe:
        probe.health()
        probe.explain("SELECT * FROM t WHERE a = 1")
        digests = probe.top_digests(limit=50)
    texts = [d.text for d in digests]
    assert not [t for t in texts if t.startswith(("EXPLAIN", "SHOW"))]
    own = ("performance_schema", "information_schema", "sql_mode")
    assert not [t for t in texts if any(word in t for word in own)]
    [lookup] = [d for d in digests if d.text == "SELECT * FROM `t` WHERE `a` = ?"]
    assert (lookup.calls, lookup.rows_sent, lookup.no_index_used) == (5, 500, 5)
    assert (
        lookup.rows_examined >= 5 * 1000 and lookup.examined_per_sent == lookup.rows_examined / 500
    )
    assert lookup.total_ms > 0 and lookup.avg_ms == pytest.approx(lookup.total_ms / 5, rel=0.01)
    assert lookup.sample is None
    assert [d.total_ms for d in digests] == sorted((d.total_ms for d in digests), reverse=True)


def test_a_sample_comes_from_the_history_when_the_server_keeps_it(
    mariadb_server: MariaDbServer, mariadb_database: str
) -> None:
    consumer = "UPDATE performance_schema.setup_consumers SET ENABLED = '{}' WHERE NAME IN {}"
    kept = ("events_statements_current", "events_statements_history_long")
    as_root(mariadb_server, consumer.format("YES", kept))
    try:
        run(mariadb_database, "CREATE TABLE t (a INT)", "SELECT a FROM t WHERE a IN (3, 4)")
        with MySqlProbe(parse_dsn(mariadb_database)) as probe:
            [digest] = [d for d in probe.top_digests() if d.text.startswith("SELECT `a`")]
            assert digest.sample == "SELECT a FROM t WHERE a IN (3, 4)"
            assert "query_block" in probe.explain(digest.sample)
    finally:
        as_root(mariadb_server, consumer.format("NO", kept))


@pytest.mark.parametrize(
    ("rule", "triggers", "does_not"),
    [
        ("mysql-no-index", "SELECT * FROM orders WHERE customer_id = 42",
         "SELECT * FROM orders WHERE id = 42"),
        ("mysql-full-scan", "SELECT SUM(total) FROM orders",
         "SELECT total FROM orders WHERE id < 50"),
        ("mysql-filesort", "SELECT * FROM orders ORDER BY total LIMIT 5",
         "SELECT * FROM orders ORDER BY id LIMIT 5"),
        ("mysql-temporary", "SELECT status, COUNT(*) FROM orders GROUP BY status",
         "SELECT id, COUNT(*) FROM orders WHERE id < 100 GROUP BY id"),
    ],
)  # fmt: skip
def test_each_plan_rule_on_a_real_plan(shop: str, rule: str, triggers: str, does_not: str) -> None:
    assert rule in findings(shop, triggers)
    assert rule not in findings(shop, does_not)


def test_a_digest_text_is_explained_with_stand_in_values(shop: str) -> None:
    text = (
        "SELECT * FROM `orders` WHERE `customer_id` IN (...) AND STATUS = ? "
        "ORDER BY `total` LIMIT ?"
    )
    assert set(findings(shop, text)) >= {"mysql-no-index", "mysql-filesort"}


def test_a_candidate_is_verified_only_when_changes_are_allowed_and_then_dropped(shop: str) -> None:
    query = "SELECT * FROM `orders` WHERE `customer_id` = ? AND STATUS = ? LIMIT ?"
    with MySqlProbe(parse_dsn(shop)) as probe:
        candidates = probe.index_candidates(query)
        assert candidates == [IndexCandidate("orders", ("customer_id", "status"))]
        guess = probe.index_check(query, candidates[0])
        checked = probe.index_check(query, candidates[0], allow_changes=True)
        plan = probe.explain(query)
        left = probe._rows(
            "SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s",
            (parse_dsn(shop).database,), doing="",
        )  # fmt: skip
    assert (guess.verified, guess.used) == (False, None) and "--try-indexes" in guess.reason
    assert (checked.verified, checked.used, checked.improves) == (True, True, True)
    assert checked.rows_before is not None and checked.rows_after is not None
    assert checked.rows_after * 100 < checked.rows_before
    assert {r[0] for r in left} == {"PRIMARY"}
    [finding] = mysql_plan_findings(plan, query=query, checks=[checked])
    assert finding.recommendation.startswith(
        "CREATE INDEX `redline_orders_customer_id_status_idx` ON "
    )
    assert "(verified" in finding.recommendation


def test_an_existing_index_is_no_candidate(mariadb_database: str) -> None:
    run(mariadb_database, "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY ab (a, b))")
    with MySqlProbe(parse_dsn(mariadb_database)) as probe:
        assert probe.index_candidates("SELECT * FROM t WHERE a = 1") == []
        assert probe.index_candidates("SELECT * FROM t WHERE b = 1") == [
            IndexCandidate("t", ("b",))
        ]


def test_health_reads_real_status_values(mariadb_database: str) -> None:
    extra = [connect(mariadb_database) for _ in range(3)]
    try:
        with MySqlProbe(parse_dsn(mariadb_database)) as probe:
            before = probe.health()
            run(
                mariadb_database,
                "SET SESSION tmp_table_size = 16384, max_heap_table_size = 16384",
                "SELECT seq % 20000 AS k, COUNT(*) FROM seq_1_to_40000 GROUP BY k ORDER BY NULL",
            )
            after = probe.health()
    finally:
        for conn in extra:
            conn.close()
    assert "MariaDB" in after.version and after.max_connections == 151
    assert after.threads_connected >= 4 and after.max_used_connections >= 4
    assert after.connections_used_share == pytest.approx(after.max_used_connections / 151)
    assert after.created_tmp_disk_tables > before.created_tmp_disk_tables
    assert after.tmp_disk_share is not None and 0 < after.tmp_disk_share <= 1
    assert after.buffer_pool_read_requests > 0 and after.buffer_pool_hit_ratio is not None
    assert (after.lock_waits, after.replicas) == ((), ())


def test_a_row_lock_wait_is_seen_with_its_blocker(mariadb_database: str) -> None:
    run(
        mariadb_database,
        "CREATE TABLE t (id INT PRIMARY KEY, v INT)",
        "INSERT INTO t VALUES (1, 0)",
    )
    holder = connect(mariadb_database)
    waiter = connect(mariadb_database)
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            with waiter.cursor() as cursor:
                cursor.execute("SET SESSION innodb_lock_wait_timeout = 5")
                cursor.execute("UPDATE t SET v = 2 WHERE id = 1")
        except pymysql.err.MySQLError as exc:  # pragma: no cover - shown if the test fails
            errors.append(exc)

    thread = threading.Thread(target=wait)
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT * FROM t WHERE id = 1 FOR UPDATE")
        thread.start()
        with MySqlProbe(parse_dsn(mariadb_database)) as probe:
            waits = ()
            for _ in range(50):
                waits = probe.health().lock_waits
                if waits:
                    break
                threading.Event().wait(0.05)
        holder.rollback()
        thread.join(timeout=10)
    finally:
        holder.close()
        waiter.close()
    [lock] = waits
    assert lock.waiting_query == "UPDATE t SET v = 2 WHERE id = 1" and lock.blocking_query is None
    assert lock.table is not None and "t" in lock.table and not errors


def test_wrong_password_unknown_database_and_refused_port_are_target_errors(
    mariadb_server: MariaDbServer, mariadb_database: str
) -> None:
    database = parse_dsn(mariadb_database).database
    wrong = mariadb_server.dsn(database, password="not-the-pw-91")
    with pytest.raises(TargetError, match="access denied for user 'redline'") as denied:
        MySqlProbe(parse_dsn(wrong)).__enter__()
    shown = f"{denied.value} {denied.value.hint}"
    assert "not-the-pw-91" not in shown and PG_PASSWORD not in shown
    with pytest.raises(TargetError, match="no database 'missing_db'") as unknown:
        MySqlProbe(parse_dsn(mariadb_server.dsn("missing_db"))).__enter__()
    assert "CREATE DATABASE" in (unknown.value.hint or "")
    refused = f"mysql://redline:{PG_PASSWORD}@127.0.0.1:{free_port()}/{database}"
    with pytest.raises(TargetError, match="cannot connect to 127.0.0.1") as nobody:
        MySqlProbe(parse_dsn(refused)).__enter__()
    assert PG_PASSWORD not in str(nobody.value)


def test_missing_privileges_name_the_grant(
    mariadb_server: MariaDbServer, mariadb_database: str
) -> None:
    database = parse_dsn(mariadb_database).database
    user = f"lim_{uuid.uuid4().hex[:8]}"
    as_root(mariadb_server, f"CREATE USER '{user}'@'%' IDENTIFIED BY 'lim-pw-5'",
            f"GRANT SELECT ON {database}.* TO '{user}'@'%'")  # fmt: skip
    try:
        dsn = parse_dsn(mariadb_server.dsn(database, user=user, password="lim-pw-5"))
        with MySqlProbe(dsn) as probe:
            with pytest.raises(TargetError, match="lacks a privilege") as digests:
                probe.top_digests()
            with pytest.raises(TargetError, match="PROCESS") as health:
                probe.health()
    finally:
        as_root(mariadb_server, f"DROP USER '{user}'@'%'")
    assert digests.value.hint == f"GRANT SELECT ON performance_schema.* TO '{user}'@'%'"
    assert health.value.hint == f"GRANT PROCESS ON *.* TO '{user}'@'%'"


class _Cursor:
    """Answers as a server started with performance_schema=OFF would."""

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def execute(self, sql: str, args: Any = None) -> None:
        self.sql = sql

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [(0,)] if "@@performance_schema" in self.sql else []


class _Connection:
    def cursor(self, *_: object) -> _Cursor:
        return _Cursor()

    def select_db(self, name: str) -> None:
        pass

    def close(self) -> None:
        pass


def test_performance_schema_off_says_how_to_turn_it_on() -> None:
    dsn = parse_dsn("mysql://app:pw@127.0.0.1:3306/shop")
    with MySqlProbe(dsn, connect=lambda **_: _Connection()) as probe:
        with pytest.raises(TargetError, match="performance_schema is OFF") as off:
            probe.top_digests()
    assert "performance_schema=ON" in (off.value.hint or "") and "restart" in (off.value.hint or "")


def test_statements_that_cannot_be_explained_are_config_errors(shop: str) -> None:
    with MySqlProbe(parse_dsn(shop)) as probe:
        with pytest.raises(ConfigError, match="only SELECT, UPDATE, DELETE"):
            probe.explain("SHOW TABLES")
        with pytest.raises(ConfigError, match="doesn't exist"):
            probe.explain("SELECT * FROM no_such_table")
        with pytest.raises(ConfigError, match="cut short"):
            probe.explain("SELECT * FROM orders WHERE id IN (1, 2, ...")
        with pytest.raises(ConfigError, match="limit: expected 1 or more, got 0"):
            probe.top_digests(limit=0)
    with pytest.raises(ConfigError, match="expected mysql://"):
        MySqlProbe(parse_dsn("sqlite:///x.db"))
