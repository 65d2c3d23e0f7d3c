"""Plan rules: each one on a plan that shows the problem and on one that does not.

The plans are EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output of PostgreSQL 15
cut to the fields that matter, with the figures of real runs
(tests/integration/db/test_explain_rules.py makes the same plans for real).
"""

from __future__ import annotations

from typing import Any

import pytest

from redline.diagnose._finding import Category, Finding, Severity
from redline.diagnose._plan_rules import plan_findings
from redline.errors import ConfigError

QUERY = "SELECT * FROM orders WHERE customer_id = $1"


def node(kind: str, *children: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A plan node; keyword names with underscores become EXPLAIN's spaced field names."""
    out: dict[str, Any] = {"Node Type": kind}
    out.update({k.replace("_", " "): v for k, v in fields.items()})
    if children:
        out["Plans"] = list(children)
    return out


def analyzed(
    kind: str,
    *children: dict[str, Any],
    rows: float,
    planned: float,
    loops: float = 1,
    **fields: Any,
) -> dict[str, Any]:
    return node(kind, *children, Plan_Rows=planned, Actual_Rows=rows, Actual_Loops=loops, **fields)


def findings(root: dict[str, Any], **options: Any) -> list[Finding]:
    return plan_findings({"Plan": root}, query=QUERY, **options)


def rules(root: dict[str, Any], **options: Any) -> list[str]:
    return [f.rule for f in findings(root, **options)]


def evidence(finding: Finding, label: str) -> str:
    return next(e.value for e in finding.evidence if e.label == label)


# -- the sequential scan whose filter throws most rows away ----------------------------------


def seq_scan(*, kept: float, removed: float, loops: float = 1, **fields: Any) -> dict[str, Any]:
    return analyzed(
        "Seq Scan",
        rows=kept,
        planned=kept,
        loops=loops,
        Relation_Name="orders",
        Alias="orders",
        Filter="(customer_id = 42)",
        Rows_Removed_by_Filter=removed,
        **fields,
    )


def test_a_selective_filter_on_a_large_table_is_found_with_its_figures() -> None:
    [finding] = findings(seq_scan(kept=31, removed=299_969), fingerprint="-4711")
    assert finding.rule == "pg-seq-scan-filter"
    assert finding.category is Category.DATABASE
    assert finding.severity is Severity.HIGH
    assert finding.location == "query -4711: Seq Scan on orders"
    assert evidence(finding, "rows scanned") == "300,000 (actual)"
    assert evidence(finding, "rows kept") == "31"
    assert evidence(finding, "filter") == "(customer_id = 42)"
    assert evidence(finding, "query") == QUERY
    assert "customer_id = 42" in finding.recommendation


def test_a_scan_that_keeps_most_rows_or_a_small_table_is_not_a_finding() -> None:
    assert rules(seq_scan(kept=150_000, removed=150_000)) == []  # half kept
    assert rules(seq_scan(kept=10, removed=5_000)) == []  # 5,010 rows: small
    unfiltered = analyzed("Seq Scan", rows=300_000, planned=300_000, Relation_Name="orders")
    assert rules(unfiltered) == []


def test_a_parallel_scan_counts_the_rows_of_all_its_processes() -> None:
    scan = seq_scan(kept=150, removed=149_850, loops=2, Parallel_Aware=True)
    root = analyzed("Gather", scan, rows=300, planned=300, Workers_Planned=1)
    [finding] = findings(root)
    assert evidence(finding, "rows scanned") == "300,000 (actual)"
    assert (
        finding.location
        == "Parallel Seq Scan on orders (plan: Gather > Parallel Seq Scan on orders)"
    )


def test_without_analyze_the_scan_is_judged_against_the_tables_row_count() -> None:
    scan = node("Seq Scan", Relation_Name="orders", Filter="(customer_id = $1)", Plan_Rows=30)
    [finding] = findings(scan, table_rows={"orders": 300_000.0})
    assert finding.rule == "pg-seq-scan-filter"
    assert evidence(finding, "rows scanned") == "300,000 (table's reltuples)"
    assert finding.confidence < 0.8
    assert rules(scan) == []  # no row count: nothing to compare with
    assert rules(scan, table_rows={"orders": 40.0}) == []  # a small table


# -- row estimates -----------------------------------------------------------------------------


def addr_scan(*, rows: float, planned: float) -> dict[str, Any]:
    return analyzed(
        "Seq Scan",
        rows=rows,
        planned=planned,
        Relation_Name="addr",
        Filter="((city = 5) AND (zip = 5))",
        Rows_Removed_by_Filter=1_000,
    )


def test_a_tenfold_underestimate_is_named_where_it_starts_with_extended_statistics() -> None:
    # The Gather above is off as much, but only because its input is.
    root = analyzed("Gather", addr_scan(rows=300, planned=1), rows=300, planned=1)
    [finding] = [f for f in findings(root) if f.rule == "pg-row-misestimate"]
    assert finding.location == "Seq Scan on addr (plan: Gather > Seq Scan on addr)"
    assert "300x more rows than planned" in finding.title
    assert (
        "CREATE STATISTICS redline_addr_city_zip_stats (dependencies) ON city, zip FROM addr"
        in (finding.recommendation)
    )


def test_an_overestimate_counts_too_but_not_below_a_limit_nor_for_tiny_counts() -> None:
    over = addr_scan(rows=20, planned=5_000)
    assert "pg-row-misestimate" in rules(over)
    assert "pg-row-misestimate" not in rules(analyzed("Limit", over, rows=20, planned=20))
    assert "pg-row-misestimate" not in rules(addr_scan(rows=60, planned=1))
    assert "pg-row-misestimate" not in rules(addr_scan(rows=300, planned=100))  # 3x


def test_estimates_alone_say_nothing_about_misestimates() -> None:
    assert rules(node("Seq Scan", Relation_Name="addr", Plan_Rows=1)) == []


# -- sorts and hashes that spill ---------------------------------------------------------------


def test_a_sort_on_disk_asks_for_the_memory_it_needs() -> None:
    sort = analyzed(
        "Sort",
        rows=300_000,
        planned=300_000,
        Sort_Method="external merge",
        Sort_Space_Used=13_272,
        Sort_Space_Type="Disk",
        Temp_Written_Blocks=1_659,
    )
    [finding] = findings(sort)
    assert finding.rule == "pg-disk-spill"
    assert evidence(finding, "sort space on disk") == "13.0 MB"
    assert evidence(finding, "sort method") == "external merge"
    assert "work_mem to 33MB" in finding.recommendation  # 13,272 kB x 2.5
    in_memory = {**sort, "Sort Method": "quicksort", "Sort Space Type": "Memory"}
    assert rules(in_memory) == []


def test_a_parallel_worker_or_an_incremental_sort_on_disk_counts() -> None:
    worker = {
        "Worker Number": 0,
        "Sort Method": "external merge",
        "Sort Space Used": 4_000,
        "Sort Space Type": "Disk",
    }
    sort = analyzed(
        "Sort",
        rows=1,
        planned=1,
        Sort_Method="quicksort",
        Sort_Space_Used=25,
        Sort_Space_Type="Memory",
        Workers=[worker],
    )
    assert rules(sort) == ["pg-disk-spill"]
    groups = {
        "Group Count": 2,
        "Sort Methods Used": ["external merge"],
        "Sort Space Disk": {"Average Sort Space Used": 3504, "Peak Sort Space Used": 3504},
    }
    incremental = {**analyzed("Incremental Sort", rows=1, planned=1), "Pre-sorted Groups": groups}
    [finding] = findings(incremental)
    assert evidence(finding, "sort method") == "external merge"


def test_a_hash_in_batches_asks_for_batches_times_its_peak() -> None:
    inner = analyzed("Seq Scan", rows=300_000, planned=300_000, Relation_Name="orders")
    hash_node = analyzed(
        "Hash",
        inner,
        rows=300_000,
        planned=300_000,
        Hash_Batches=256,
        Original_Hash_Batches=256,
        Peak_Memory_Usage=96,
    )
    [finding] = findings(analyzed("Hash Join", inner, hash_node, rows=1, planned=1))
    assert finding.location == "Hash (plan: Hash Join > Hash)"
    assert "work_mem to 24MB" in finding.recommendation
    assert "hash_mem_multiplier" in finding.recommendation
    one_batch = {**hash_node, "Hash Batches": 1, "Original Hash Batches": 1}
    assert rules(analyzed("Hash Join", inner, one_batch, rows=1, planned=1)) == []


def test_a_hash_aggregate_on_disk_is_found() -> None:
    agg = analyzed(
        "Aggregate",
        rows=300_000,
        planned=300_000,
        Strategy="Hashed",
        HashAgg_Batches=81,
        Peak_Memory_Usage=2_105,
        Disk_Usage=15_024,
    )
    [finding] = findings(agg)
    assert finding.location == "HashAggregate"
    assert "hash aggregate" in finding.title
    in_memory = {**agg, "HashAgg Batches": 1, "Disk Usage": 0}
    assert rules(in_memory) == []


# -- nested loops ---------------------------------------------------------------------------


def nested_loop(inner: dict[str, Any], *, outer_rows: float, **fields: Any) -> dict[str, Any]:
    outer = analyzed(
        "Bitmap Heap Scan",
        rows=outer_rows,
        planned=outer_rows,
        Relation_Name="orders",
        Alias="o",
        Parent_Relationship="Outer",
    )
    return analyzed("Nested Loop", outer, inner, rows=296, planned=295, **fields)


def test_a_nested_loop_scanning_its_inner_table_each_time_is_found() -> None:
    inner = analyzed(
        "Seq Scan",
        rows=2_000,
        planned=2_000,
        loops=1_500,
        Relation_Name="small",
        Alias="s",
        Parent_Relationship="Inner",
    )
    root = nested_loop(
        inner,
        outer_rows=1_500,
        Join_Filter="(o.customer_id = s.id)",
        Rows_Removed_by_Join_Filter=2_999_704,
    )
    [finding] = [f for f in findings(root) if f.rule == "pg-nested-loop-scan"]
    assert finding.title.startswith("Nested Loop runs Seq Scan on small s 1,500 times")
    assert finding.severity is Severity.HIGH  # 3 million rows read
    assert evidence(finding, "join condition") == "(o.customer_id = s.id)"
    assert "o.customer_id = s.id" in finding.recommendation


def test_a_nested_loop_of_index_lookups_or_few_loops_is_fine() -> None:
    lookup = analyzed(
        "Index Scan",
        rows=1,
        planned=1,
        loops=2_000,
        Relation_Name="hf",
        Index_Name="hf_id_idx",
        Parent_Relationship="Inner",
    )
    assert "pg-nested-loop-scan" not in rules(nested_loop(lookup, outer_rows=2_000))
    few = analyzed(
        "Seq Scan",
        rows=2_000,
        planned=2_000,
        loops=50,
        Relation_Name="small",
        Parent_Relationship="Inner",
    )
    assert "pg-nested-loop-scan" not in rules(nested_loop(few, outer_rows=50))


def test_from_estimates_the_outer_rows_stand_for_the_loops() -> None:
    outer = node("Seq Scan", Relation_Name="orders", Plan_Rows=5_000, Parent_Relationship="Outer")
    inner = node("Seq Scan", Relation_Name="small", Plan_Rows=2_000, Parent_Relationship="Inner")
    [finding] = findings(node("Nested Loop", outer, inner, Plan_Rows=10))
    assert evidence(finding, "inner loops") == "5,000"
    assert finding.confidence == 0.5


# -- lossy bitmaps, heap fetches, shared reads -----------------------------------------------


def test_a_lossy_bitmap_asks_for_the_memory_of_its_pages() -> None:
    scan = analyzed(
        "Bitmap Heap Scan",
        rows=90_000,
        planned=89_265,
        Relation_Name="orders",
        Exact_Heap_Blocks=507,
        Lossy_Heap_Blocks=523,
        Rows_Removed_by_Index_Recheck=120_000,
    )
    [finding] = findings(analyzed("Aggregate", scan, rows=1, planned=1))
    assert finding.rule == "pg-lossy-bitmap"
    assert finding.severity is Severity.MEDIUM
    assert "work_mem to 192kB" in finding.recommendation  # 1,030 pages x 64 B x 2
    exact = {**scan, "Exact Heap Blocks": 1_030, "Lossy Heap Blocks": 0}
    assert rules(analyzed("Aggregate", exact, rows=1, planned=1)) == []


def index_only(*, rows: float, fetches: float, loops: float = 1) -> dict[str, Any]:
    return analyzed(
        "Index Only Scan",
        rows=rows,
        planned=rows,
        loops=loops,
        Relation_Name="hf",
        Index_Name="hf_id_idx",
        Heap_Fetches=fetches,
    )


def test_an_index_only_scan_that_visits_the_table_needs_vacuum() -> None:
    [finding] = findings(index_only(rows=49_999, fetches=56_849))
    assert finding.rule == "pg-heap-fetches"
    assert finding.location == "Index Only Scan using hf_id_idx on hf"
    assert "VACUUM hf" in finding.recommendation
    # Heap Fetches is a total over loops; rows are per loop.
    assert rules(index_only(rows=1, fetches=2_300, loops=2_000)) == ["pg-heap-fetches"]


def test_an_index_only_scan_of_a_vacuumed_table_or_few_rows_is_fine() -> None:
    assert rules(index_only(rows=49_999, fetches=0)) == []
    assert rules(index_only(rows=49_999, fetches=10_000)) == []  # 20%
    assert rules(index_only(rows=500, fetches=500)) == []


def big_scan(*, hit: float, read: float) -> dict[str, Any]:
    return analyzed(
        "Seq Scan",
        rows=250,
        planned=249,
        Relation_Name="big",
        Filter="(k = 3)",
        Rows_Removed_by_Filter=2_000,
        Shared_Hit_Blocks=hit,
        Shared_Read_Blocks=read,
    )


def test_a_node_reading_from_outside_shared_buffers_is_named_once() -> None:
    scan = big_scan(hit=2_080, read=5_496)
    # The Aggregate's counts include its input's: it read nothing itself.
    root = analyzed(
        "Aggregate", scan, rows=1, planned=1, Shared_Hit_Blocks=2_080, Shared_Read_Blocks=5_496
    )
    [finding] = findings(root)
    assert finding.rule == "pg-shared-reads"
    assert finding.location == "Seq Scan on big (plan: Aggregate > Seq Scan on big)"
    assert evidence(finding, "blocks read (not in shared buffers)") == "5,496 blocks (42.9 MB)"
    assert "73%" in finding.title  # 5,496 of 7,576


def test_reads_mostly_from_shared_buffers_or_few_blocks_are_fine() -> None:
    assert rules(big_scan(hit=7_000, read=576)) == []
    assert rules(big_scan(hit=100, read=500)) == []


# -- the whole ---------------------------------------------------------------------------


def test_a_healthy_plan_gives_no_findings() -> None:
    lookup = analyzed(
        "Index Scan",
        rows=30,
        planned=30,
        Relation_Name="orders",
        Index_Name="orders_customer_id_idx",
        Index_Cond="(customer_id = 42)",
        Shared_Hit_Blocks=33,
        Shared_Read_Blocks=0,
    )
    assert findings(analyzed("Limit", lookup, rows=10, planned=10)) == []


def test_a_plan_without_its_plan_object_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"plan: expected EXPLAIN's JSON object with a 'Plan'"):
        plan_findings({"QUERY PLAN": []}, query=QUERY)


def test_findings_serialize() -> None:
    [finding] = findings(seq_scan(kept=31, removed=299_969))
    assert Finding.from_dict(finding.to_dict()) == finding
