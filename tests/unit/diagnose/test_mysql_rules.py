"""MySQL/MariaDB plan and health rules over built plans and built health figures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from redline.diagnose._finding import Severity
from redline.diagnose._mysql_rules import (
    CONNECTIONS_SHARE,
    mysql_health_findings,
    mysql_plan_findings,
)
from redline.probes._mysql import (
    LockWait,
    MySqlHealth,
    MySqlIndexCheck,
    ReplicaStatus,
    plan_tables,
    stand_in,
)
from redline.probes._sqlite import IndexCandidate


def table(name: str, access: str, rows: int, **extra: Any) -> dict[str, Any]:
    return {"table": {"table_name": name, "access_type": access, "rows": rows, **extra}}


def mariadb(*tables: dict[str, Any], wrap: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"nested_loop": list(tables)}
    if wrap == "filesort":
        block = {"read_sorted_file": {"filesort": {"sort_key": "t.x", **tables[0]}}}
    elif wrap == "group":
        block = {"filesort": {"sort_key": "t.x", "temporary_table": block}}
    return {"query_block": {"select_id": 1, **block}}


SCAN = table("orders", "ALL", 300_000, filtered=100, attached_condition="orders.customer_id = 42")
BY_KEY = table("orders", "const", 1, possible_keys=["PRIMARY"], key="PRIMARY")
QUERY = "SELECT * FROM orders WHERE customer_id = 42"


def rules(findings: list[Any]) -> list[str]:
    return [f.rule for f in findings]


def test_plan_tables_read_mariadb_and_mysql8_forms() -> None:
    [maria] = plan_tables(mariadb(SCAN, wrap="filesort"))
    assert (maria.name, maria.access_type, maria.rows, maria.sorted) == (
        "orders", "ALL", 300_000, True,
    )  # fmt: skip
    mysql8 = {
        "query_block": {
            "ordering_operation": {
                "using_filesort": True,
                "grouping_operation": {
                    "using_temporary_table": True,
                    "table": {"table_name": "o", "access_type": "ALL", "rows_examined_per_scan": 9},
                },
            }
        }
    }
    [mine] = plan_tables(mysql8)
    assert (mine.rows, mine.sorted, mine.temporary) == (9, True, True)


def test_a_condition_no_index_serves_is_reported_once_not_also_as_a_full_scan() -> None:
    [finding] = mysql_plan_findings(mariadb(SCAN), query=QUERY)
    assert finding.rule == "mysql-no-index" and finding.severity is Severity.HIGH
    assert "300,000" in finding.title
    assert mysql_plan_findings(mariadb(BY_KEY), query="SELECT * FROM orders WHERE id = 1") == []


def test_a_small_table_is_no_index_finding() -> None:
    small = table("t", "ALL", 50, attached_condition="t.a = 1")
    assert mysql_plan_findings(mariadb(small), query="SELECT * FROM t WHERE a = 1") == []


def test_a_full_scan_of_a_large_table_with_nothing_to_filter() -> None:
    scan = table("orders", "ALL", 300_000)
    [finding] = mysql_plan_findings(mariadb(scan), query="SELECT SUM(total) FROM orders")
    assert finding.rule == "mysql-full-scan" and "nothing in the statement narrows it" in str(
        finding.evidence
    )
    medium = mysql_plan_findings(mariadb(table("orders", "ALL", 20_000)), query="SELECT 1")
    assert medium[0].severity is Severity.MEDIUM
    assert mysql_plan_findings(mariadb(table("orders", "ALL", 9_999)), query="SELECT 1") == []


def test_filesort_and_temporary_are_reported_by_rows_sorted() -> None:
    scan = table("orders", "ALL", 5_000)
    sorted_ = mysql_plan_findings(mariadb(scan, wrap="filesort"), query="SELECT 1")
    assert rules(sorted_) == ["mysql-filesort"] and sorted_[0].severity is Severity.LOW
    grouped = mysql_plan_findings(mariadb(table("orders", "ALL", 50_000), wrap="group"), query="x")
    assert rules(grouped) == ["mysql-full-scan", "mysql-filesort", "mysql-temporary"]
    assert grouped[2].severity is Severity.MEDIUM


def test_derived_tables_are_not_reported() -> None:
    derived = table("<derived2>", "ALL", 500_000)
    assert mysql_plan_findings(mariadb(derived), query="SELECT 1") == []


def check(**fields: Any) -> MySqlIndexCheck:
    defaults: dict[str, Any] = {
        "candidate": IndexCandidate("orders", ("customer_id",)),
        "schema": "shop",
        "target": "mysql://app:***@127.0.0.1:3306/shop",
        "verified": False,
        "rows_before": 300_000,
        "reason": "building a test index needs allow_changes=True",
    }
    return MySqlIndexCheck(**{**defaults, **fields})


def test_a_verified_index_goes_into_the_recommendation_with_its_effect() -> None:
    after = mariadb(table("orders", "ref", 150, possible_keys=["k"], key="k"))
    fix = check(verified=True, used=True, rows_after=150, plan_after=after, reason="")
    [finding] = mysql_plan_findings(mariadb(SCAN), query=QUERY, checks=[fix])
    assert finding.recommendation.startswith(
        "CREATE INDEX `redline_orders_customer_id_idx` ON `shop`.`orders` (`customer_id`) "
        "ALGORITHM=INPLACE LOCK=NONE; (verified"
    )
    assert finding.expected_effect == "about 150 rows read per execution instead of 300,000"
    assert fix.improves
    change = fix.to_change()
    assert change.undo == "DROP INDEX `redline_orders_customer_id_idx` ON `shop`.`orders`"
    assert "INDEX_NAME = 'redline_orders_customer_id_idx'" in change.verify


def test_an_unverified_candidate_is_offered_as_such() -> None:
    [finding] = mysql_plan_findings(mariadb(SCAN), query=QUERY, checks=[check()])
    assert "(not verified: building a test index needs allow_changes=True)" in (
        finding.recommendation
    )


def test_a_plan_for_a_digest_text_says_its_values_are_stand_ins() -> None:
    digest = "SELECT * FROM `orders` WHERE `customer_id` = ?"
    [plain] = mysql_plan_findings(mariadb(SCAN), query=QUERY)
    [stood] = mysql_plan_findings(mariadb(SCAN), query=digest)
    assert stood.confidence == pytest.approx(plain.confidence * 0.8)
    assert any("stand-ins" in e.value for e in stood.evidence)


def test_stand_in_fills_placeholders_outside_quotes() -> None:
    text = "SELECT * FROM t WHERE a = ? AND b IN (...) AND c = '?' AND d > DATE ? LIMIT ?, ?"
    assert stand_in(text) == (
        "SELECT * FROM t WHERE a = '1' AND b IN ('1') AND c = '?' "
        "AND d > DATE '2000-01-01' LIMIT 0, 10"
    )


HEALTHY = MySqlHealth(
    version="10.11.19-MariaDB",
    uptime_s=3_600,
    buffer_pool_read_requests=1_000_000,
    buffer_pool_reads=100,
    buffer_pool_bytes=128 * 2**20,
    threads_connected=10,
    max_used_connections=20,
    max_connections=151,
    connections=5_000,
    aborted_connects=1,
    aborted_clients=2,
    refused_connections=0,
    created_tmp_tables=1_000,
    created_tmp_disk_tables=10,
    tmp_table_bytes=16 * 2**20,
    row_lock_waits=3,
    row_lock_time_ms=30,
)


def test_a_healthy_server_has_no_findings() -> None:
    assert mysql_health_findings(HEALTHY) == []


@pytest.mark.parametrize(
    ("changes", "rule", "severity"),
    [
        ({"buffer_pool_reads": 20_000}, "mysql-buffer-pool", Severity.MEDIUM),
        ({"buffer_pool_reads": 60_000}, "mysql-buffer-pool", Severity.HIGH),
        ({"max_used_connections": 130}, "mysql-connections", Severity.HIGH),
        ({"refused_connections": 4}, "mysql-connections", Severity.CRITICAL),
        ({"aborted_connects": 60}, "mysql-aborted-connects", Severity.MEDIUM),
        ({"aborted_clients": 60}, "mysql-aborted-clients", Severity.LOW),
        ({"created_tmp_disk_tables": 300}, "mysql-tmp-disk", Severity.MEDIUM),
        ({"row_lock_waits": 20, "row_lock_time_ms": 2_000}, "mysql-row-lock-time", Severity.MEDIUM),
    ],
)
def test_each_health_rule_fires_past_its_threshold(
    changes: dict[str, int], rule: str, severity: Severity
) -> None:
    [finding] = mysql_health_findings(replace(HEALTHY, **changes))
    assert (finding.rule, finding.severity) == (rule, severity)


def test_thresholds_are_not_crossed_just_below_them() -> None:
    below = int(CONNECTIONS_SHARE * 151)
    assert mysql_health_findings(replace(HEALTHY, max_used_connections=below)) == []
    assert mysql_health_findings(replace(HEALTHY, created_tmp_disk_tables=249)) == []
    few = replace(HEALTHY, buffer_pool_read_requests=5_000, buffer_pool_reads=4_000)
    assert mysql_health_findings(few) == []


def test_tmp_disk_finding_names_the_settings_and_share() -> None:
    [finding] = mysql_health_findings(replace(HEALTHY, created_tmp_disk_tables=400))
    assert finding.title == "40% of internal temporary tables went to disk"
    assert finding.location == "setting: tmp_table_size, max_heap_table_size"


def test_lock_waits_now_are_reported_with_the_blocker() -> None:
    wait = LockWait(
        waiting_thread=12, blocking_thread=9, waiting_query="UPDATE orders SET total = 1",
        blocking_query=None, wait_s=2.5, table="`shop`.`orders`",
    )  # fmt: skip
    [finding] = mysql_health_findings(replace(HEALTHY, lock_waits=(wait,)))
    assert finding.rule == "mysql-lock-waits" and finding.severity is Severity.HIGH
    assert "open and idle" in str(finding.evidence)
    short = replace(wait, wait_s=0.2)
    assert mysql_health_findings(replace(HEALTHY, lock_waits=(short,)))[0].severity is (
        Severity.MEDIUM
    )


def test_replication_stopped_or_behind() -> None:
    ok = ReplicaStatus(channel="", io_running=True, sql_running=True, lag_s=2, last_error="")
    assert mysql_health_findings(replace(HEALTHY, replicas=(ok,))) == []
    behind = replace(ok, lag_s=400)
    [lag] = mysql_health_findings(replace(HEALTHY, replicas=(behind,)))
    assert lag.severity is Severity.HIGH and "400 s behind" in lag.title
    stopped = replace(ok, sql_running=False, last_error="Duplicate entry")
    [halt] = mysql_health_findings(replace(HEALTHY, replicas=(stopped,)))
    assert halt.title == "Replication is stopped" and "Duplicate entry" in str(halt.evidence)
