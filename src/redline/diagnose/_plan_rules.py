"""Rules on one statement's PostgreSQL plan (EXPLAIN's JSON) that turn its nodes into Findings.

:func:`plan_findings` walks the plan tree and asks each rule about each node.
Every finding's ``location`` names the node as EXPLAIN prints it
(``Seq Scan on orders``) and its path from the top of the plan
(``Limit > Sort > Seq Scan on orders``), after the query's fingerprint when one
is given. The rules:

- **pg-seq-scan-filter**: a sequential scan of a large table (at least
  :data:`LARGE_SCAN_ROWS` rows) whose filter throws away more than
  :data:`FILTER_REMOVED_SHARE` of them. With ANALYZE it counts ``Rows Removed
  by Filter`` against ``Actual Rows``; from estimates alone it compares
  ``Plan Rows`` with the table's row count (``pg_class.reltuples``) passed in
  ``table_rows``, and says nothing when that count is not given (the plan alone
  does not say how many rows the filter removes).
- **pg-row-misestimate** (ANALYZE only): the planner's rows off by
  :data:`MISESTIMATE_FACTOR` or more either way, where the larger count is at
  least :data:`MISESTIMATE_MIN_ROWS`. Only the node where the error starts is
  named (none of its inputs is off by as much), and an overestimate below a
  node that may stop early (Limit, Merge Join, semi and anti joins) is not one.
- **pg-disk-spill**: a sort (``Sort Space Type: Disk``), hash (``Hash Batches``
  above 1) or hash aggregate (``HashAgg Batches`` above 1, ``Disk Usage``)
  that ran out of ``work_mem``; the recommendation gives the memory it needs.
- **pg-nested-loop-scan**: a nested loop whose inner side runs at least
  :data:`NESTED_LOOP_MIN_LOOPS` times and is a sequential scan, or throws away
  at least :data:`INNER_ROWS_REMOVED_PER_LOOP` rows per loop. From estimates,
  the outer side's rows stand for the loops.
- **pg-lossy-bitmap** (ANALYZE): a bitmap heap scan whose bitmap outgrew
  ``work_mem`` and went lossy (``Lossy Heap Blocks`` above 0).
- **pg-heap-fetches** (ANALYZE): an index-only scan that fetched heap rows for
  more than :data:`HEAP_FETCH_SHARE` of the rows it returned: the visibility map
  is stale, VACUUM is due.
- **pg-shared-reads** (ANALYZE, BUFFERS): a node that itself (its inputs'
  blocks subtracted) read at least :data:`SHARED_READ_MIN_BLOCKS` blocks from
  outside shared buffers, at least :data:`SHARED_READ_SHARE` of the blocks it
  touched.

Glossary (EXPLAIN's fields): ``Plan Rows`` and ``Actual Rows`` are per loop;
``Actual Loops`` is how many times the node ran; ``Rows Removed by Filter`` is
per loop; ``Heap Fetches`` and the block counts are totals over all loops, and
a node's block counts include its inputs'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.errors import ConfigError
from redline.units import one_line

__all__ = ["plan_findings"]

#: A sequential scan of at least this many rows is a large one.
LARGE_SCAN_ROWS = 10_000
#: ...and of at least this many, a severe one.
SEVERE_SCAN_ROWS = 100_000
#: A filter that throws away more than this share of the rows scanned is selective.
FILTER_REMOVED_SHARE = 0.9
#: Planned and actual rows this many times apart (either way) are a misestimate.
MISESTIMATE_FACTOR = 10.0
#: ...when the larger of the two is at least this many rows (tiny counts are noise).
MISESTIMATE_MIN_ROWS = 100
#: An in-memory sort or hash aggregate needs about this many times what it wrote
#: to disk (measured on PostgreSQL 15: sorts 1.45-2.3x, a hash aggregate 2.5x).
SPILL_MEMORY_FACTOR = 2.5
#: hash_mem_multiplier's default on PostgreSQL 15: hash tables may use work_mem times this.
DEFAULT_HASH_MEM_MULTIPLIER = 2.0
#: A nested loop's inner side run at least this many times is worth a look.
NESTED_LOOP_MIN_LOOPS = 1_000
#: ...when each run throws away at least this many rows (or it is a Seq Scan).
INNER_ROWS_REMOVED_PER_LOOP = 100
#: A loop-and-scan of at least this many rows in all is severe.
SEVERE_NESTED_LOOP_ROWS = 1_000_000
#: Bytes of work_mem a bitmap needs per heap page held exactly (a tidbitmap page
#: entry and its hash slot, PostgreSQL 15); measured: 1,030 pages went lossy at
#: 64kB and exact at 256kB.
BITMAP_BYTES_PER_PAGE = 64
#: A bitmap's suggested memory is this many times the estimate, for headroom.
BITMAP_HEADROOM = 2.0
#: An index-only scan fetching heap rows for more than this share of its rows needs VACUUM.
HEAP_FETCH_SHARE = 0.4
#: ...when it returned at least this many rows.
HEAP_FETCH_MIN_ROWS = 1_000
#: A node reading at least this share of its blocks from outside shared buffers...
SHARED_READ_SHARE = 0.5
#: ...and at least this many blocks (8 MB of 8 kB blocks).
SHARED_READ_MIN_BLOCKS = 1_000
#: ...is severe from this many blocks on (100 MB).
SEVERE_SHARED_READ_BLOCKS = 12_800
#: PostgreSQL's block size (the default build).
BLOCK_BYTES = 8192
#: Where the figures of ANALYZE-only rules come from.
ANALYZE_SOURCE = "EXPLAIN (ANALYZE)"
#: How much of the query text a finding quotes.
QUERY_QUOTE_CHARS = 200
#: Nodes below which a node may stop before reading all its rows.
_EARLY_STOPPERS = ("Limit", "Merge Join")
_EARLY_STOPPING_JOINS = ("Semi", "Anti")


@dataclass(frozen=True)
class _Node:
    """One plan node with what the rules need to know about where it sits."""

    fields: Mapping[str, Any]
    children: tuple[Mapping[str, Any], ...]
    label: str
    path: str
    #: Workers planned by the nearest Gather above (parallel-aware estimates are per worker).
    workers: int
    #: A node above may stop before this one has given all its rows.
    may_stop_early: bool

    def get(self, key: str, default: float = 0.0) -> float:
        value = self.fields.get(key, default)
        return float(value) if isinstance(value, int | float) else default

    @property
    def loops(self) -> float:
        return self.get("Actual Loops")


@dataclass(frozen=True)
class _Context:
    query: str
    fingerprint: str | None
    analyzed: bool
    table_rows: Mapping[str, float]
    #: What the plan was made for (a sample's values, or a generic plan); "" when not known.
    planned_for: str = ""

    @property
    def source(self) -> str:
        source = "EXPLAIN (ANALYZE, BUFFERS)" if self.analyzed else "EXPLAIN (estimates)"
        return f"{source}, {self.planned_for}" if self.planned_for else source


_Rule = Callable[[_Node, _Context], Finding | None]


def plan_findings(
    plan: Mapping[str, Any],
    *,
    query: str,
    fingerprint: str | None = None,
    table_rows: Mapping[str, float] | None = None,
    planned_for: str = "",
) -> list[Finding]:
    """Findings on the nodes of one plan, in plan order (top first), each rule in turn.

    Args:
        plan: EXPLAIN's JSON object, the one with ``"Plan"`` (as
            :func:`redline.probes._explain.explain` returns it).
        query: the statement, quoted in each finding's evidence.
        fingerprint: the query's id (e.g. pg_stat_statements' queryid), put first
            in each location.
        table_rows: rows per table (``pg_class.reltuples``), by name as the plan
            shows it (``Relation Name``): lets the sequential-scan rule work from
            estimates when the plan was not analyzed.
        planned_for: what the plan was made for (the values of a sample, or a
            generic plan), added to each finding's evidence source.

    Raises:
        ConfigError: ``plan`` has no ``"Plan"`` object.
    """
    root = plan.get("Plan")
    if not isinstance(root, Mapping):
        raise ConfigError(
            f"plan: expected EXPLAIN's JSON object with a 'Plan' key, got keys {sorted(plan)!r}"
        )
    context = _Context(query, fingerprint, "Actual Loops" in root, table_rows or {}, planned_for)
    return [
        finding
        for node in _walk(root, parents=(), workers=0, may_stop_early=False)
        for rule in RULES
        if (finding := rule(node, context)) is not None
    ]


def _walk(
    fields: Mapping[str, Any], *, parents: tuple[str, ...], workers: int, may_stop_early: bool
) -> Iterator[_Node]:
    label = _label(fields)
    path = (*parents, label)
    children = tuple(c for c in fields.get("Plans") or () if isinstance(c, Mapping))
    yield _Node(fields, children, label, " > ".join(path), workers, may_stop_early)
    below_workers = int(fields.get("Workers Planned", workers))
    stops = (
        may_stop_early
        or fields.get("Node Type") in _EARLY_STOPPERS
        or fields.get("Join Type") in _EARLY_STOPPING_JOINS
    )
    for child in children:
        yield from _walk(child, parents=path, workers=below_workers, may_stop_early=stops)


def _label(fields: Mapping[str, Any]) -> str:
    kind = str(fields.get("Node Type", "?"))
    if kind == "Aggregate":
        kind = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate"}.get(
            str(fields.get("Strategy")), kind
        )
    if fields.get("Parallel Aware"):
        kind = f"Parallel {kind}"
    relation, alias = fields.get("Relation Name"), fields.get("Alias")
    if relation:
        using = f" using {fields['Index Name']}" if fields.get("Index Name") else ""
        named = f" {alias}" if alias and alias != relation else ""
        return f"{kind}{using} on {relation}{named}"
    if fields.get("Index Name"):
        return f"{kind} on {fields['Index Name']}"
    return kind


# -- the rules ----------------------------------------------------------------


def _seq_scan_filter(node: _Node, context: _Context) -> Finding | None:
    if node.fields.get("Node Type") != "Seq Scan" or "Filter" not in node.fields:
        return None
    figures = _scan_figures(node, context)
    if figures is None:
        return None
    scanned, kept, how = figures
    if scanned < LARGE_SCAN_ROWS or (scanned - kept) <= FILTER_REMOVED_SHARE * scanned:
        return None
    removed_share = (scanned - kept) / scanned
    return _finding(
        node,
        context,
        rule="pg-seq-scan-filter",
        severity=Severity.HIGH if scanned >= SEVERE_SCAN_ROWS else Severity.MEDIUM,
        confidence=0.8 if context.analyzed else 0.6,
        title=f"{node.label} reads {scanned:,.0f} rows to keep {kept:,.0f} "
        f"({removed_share:.2%} thrown away by the filter)",
        evidence=(
            Evidence("rows scanned", f"{scanned:,.0f} ({how})", context.source),
            Evidence("rows kept", f"{kept:,.0f}", context.source),
            Evidence("filter", str(node.fields["Filter"]), context.source),
        ),
        recommendation=f"index the column(s) of the filter {node.fields['Filter']} on "
        f"{node.fields.get('Relation Name')} (redline's index advisor tests candidates "
        "with HypoPG)",
        expected_effect=f"an index scan reading about {kept:,.0f} rows instead of {scanned:,.0f}",
    )


def _scan_figures(node: _Node, context: _Context) -> tuple[float, float, str] | None:
    """Rows a scan read and kept per execution of the statement, and how that is known."""
    if context.analyzed:
        if node.loops <= 0:
            return None
        # A parallel scan's loops share one pass over the table; otherwise each loop is one pass.
        per = node.loops if node.fields.get("Parallel Aware") else 1.0
        kept = node.get("Actual Rows") * per
        return kept + node.get("Rows Removed by Filter") * per, kept, "actual"
    relation = str(node.fields.get("Relation Name", ""))
    total = context.table_rows.get(relation)
    if total is None:
        return None
    share = node.workers + 1 if node.fields.get("Parallel Aware") else 1
    return float(total), min(node.get("Plan Rows") * share, float(total)), "table's reltuples"


def _misestimate(node: _Node, context: _Context) -> Finding | None:
    factor = _misestimate_factor(node.fields)
    if factor is None or any(_misestimate_factor(c) is not None for c in node.children):
        return None
    planned, actual = node.get("Plan Rows"), node.get("Actual Rows")
    if planned > actual and node.may_stop_early:
        return None
    direction = "fewer" if planned > actual else "more"
    return _finding(
        node,
        context,
        rule="pg-row-misestimate",
        severity=Severity.MEDIUM,
        confidence=0.6,
        title=f"{node.label}: {factor:,.0f}x {direction} rows than planned "
        f"({actual:,.0f} actual, {planned:,.0f} estimated per loop)",
        evidence=(
            Evidence("rows estimated per loop", f"{planned:,.0f}", context.source),
            Evidence("rows actual per loop", f"{actual:,.0f}", context.source),
            Evidence("loops", f"{node.loops:,.0f}", context.source),
        ),
        recommendation=_statistics_advice(node),
        expected_effect="estimates within 10x of the real rows, so the planner picks join "
        "methods, join order and memory for the rows there are",
    )


def _misestimate_factor(fields: Mapping[str, Any]) -> float | None:
    loops, planned, actual = (
        float(fields.get(k, 0) or 0) for k in ("Actual Loops", "Plan Rows", "Actual Rows")
    )
    if loops <= 0 or max(planned, actual) < MISESTIMATE_MIN_ROWS:
        return None
    factor = max(planned, actual) / max(min(planned, actual), 1.0)
    return factor if factor >= MISESTIMATE_FACTOR else None


def _statistics_advice(node: _Node) -> str:
    table = node.fields.get("Relation Name")
    condition = node.fields.get("Filter") or node.fields.get("Index Cond")
    columns = _condition_columns(str(condition)) if condition else []
    if table and len(columns) >= 2:
        # Dependencies alone: measured on PostgreSQL 15, (dependencies, mcv) kept an
        # estimate of 1 row for a value outside the MCV list; (dependencies) gave 298 of 300.
        names, name = ", ".join(columns), f"redline_{table}_{'_'.join(columns)}_stats"
        return (
            f"the columns {names} of {table} may be correlated: CREATE STATISTICS {name} "
            f"(dependencies) ON {names} FROM {table}; ANALYZE {table}"
        )
    if table:
        return (
            f"ANALYZE {table}; if the estimate stays off, raise the statistics target of "
            f"the columns it filters on (ALTER TABLE {table} ALTER COLUMN ... SET STATISTICS "
            "1000) or add extended statistics (CREATE STATISTICS) on correlated columns"
        )
    return (
        "ANALYZE the tables below this node; correlated join or filter columns need "
        "extended statistics (CREATE STATISTICS)"
    )


def _condition_columns(condition: str) -> list[str]:
    """The columns a plan's condition text names, in order, once each."""
    try:
        tree = sqlglot.parse_one(condition, read="postgres")
    except sqlglot.errors.SqlglotError:
        return []
    return list(dict.fromkeys(c.name for c in tree.find_all(exp.Column)))


def _disk_spill(node: _Node, context: _Context) -> Finding | None:
    spill = _sort_spill(node) or _hash_spill(node) or _hash_aggregate_spill(node)
    if spill is None:
        return None
    suggested = _memory_text(spill.needed_kb)
    multiplier = (
        f" (a hash table may use work_mem x hash_mem_multiplier, {DEFAULT_HASH_MEM_MULTIPLIER:g} "
        "by default, so less may do)"
        if spill.is_hash
        else ""
    )
    temp = node.get("Temp Written Blocks")
    extra = (Evidence("temp blocks written", _blocks_text(temp), ANALYZE_SOURCE),) if temp else ()
    return _finding(
        node,
        context,
        rule="pg-disk-spill",
        severity=Severity.MEDIUM,
        confidence=0.8,
        title=f"{node.label}: the {spill.noun} spilled to disk (work_mem too small); "
        f"about {_kb_text(spill.needed_kb)} needed in memory",
        evidence=(*spill.evidence, *extra),
        recommendation=f"raise work_mem to {suggested} for this query or its role "
        f"(SET LOCAL work_mem = '{suggested}', ALTER ROLE ... SET work_mem){multiplier}; "
        "each sort and hash of every session may take that much",
        expected_effect=f"the {spill.noun} runs in memory: no temporary files",
    )


@dataclass(frozen=True)
class _Spill:
    #: What spilled: sort, hash, hash aggregate.
    noun: str
    evidence: tuple[Evidence, ...]
    #: About how much memory it needs to stay off disk.
    needed_kb: float
    #: Bounded by work_mem x hash_mem_multiplier rather than work_mem.
    is_hash: bool


def _sort_spill(node: _Node) -> _Spill | None:
    disk, method = _sort_disk_kb(node.fields)
    if disk <= 0:
        return None
    evidence = (
        Evidence("sort method", method, ANALYZE_SOURCE),
        Evidence("sort space on disk", _kb_text(disk), ANALYZE_SOURCE),
    )
    return _Spill("sort", evidence, disk * SPILL_MEMORY_FACTOR, is_hash=False)


def _sort_disk_kb(fields: Mapping[str, Any]) -> tuple[float, str]:
    """The most a sort wrote to disk (kB; its workers' and incremental groups' too), and how."""
    sorts = [fields, *(fields.get("Workers") or ())]
    disk = [
        (float(s.get("Sort Space Used", 0)), str(s.get("Sort Method", "external")))
        for s in sorts
        if isinstance(s, Mapping) and s.get("Sort Space Type") == "Disk"
    ]
    for key in ("Full-sort Groups", "Pre-sorted Groups"):
        group = fields.get(key)
        if isinstance(group, Mapping) and isinstance(group.get("Sort Space Disk"), Mapping):
            used = float(group["Sort Space Disk"].get("Peak Sort Space Used", 0))
            disk.append((used, ", ".join(group.get("Sort Methods Used") or ["external"])))
    return max(disk, default=(0.0, ""))


def _hash_spill(node: _Node) -> _Spill | None:
    batches = node.get("Hash Batches")
    if node.fields.get("Node Type") != "Hash" or batches <= 1:
        return None
    peak = node.get("Peak Memory Usage")
    planned = node.get("Original Hash Batches")
    evidence = (
        Evidence("hash batches", f"{batches:,.0f} (planned {planned:,.0f})", ANALYZE_SOURCE),
        Evidence("peak memory per batch", _kb_text(peak), ANALYZE_SOURCE),
    )
    return _Spill("hash", evidence, peak * batches, is_hash=True)


def _hash_aggregate_spill(node: _Node) -> _Spill | None:
    batches, disk = node.get("HashAgg Batches"), node.get("Disk Usage")
    if batches <= 1 and disk <= 0:
        return None
    peak = node.get("Peak Memory Usage")
    evidence = (
        Evidence("hash aggregate batches", f"{batches:,.0f}", ANALYZE_SOURCE),
        Evidence("disk usage", _kb_text(disk), ANALYZE_SOURCE),
        Evidence("peak memory", _kb_text(peak), ANALYZE_SOURCE),
    )
    return _Spill("hash aggregate", evidence, peak + disk * SPILL_MEMORY_FACTOR, is_hash=True)


def _nested_loop_scan(node: _Node, context: _Context) -> Finding | None:
    if node.fields.get("Node Type") != "Nested Loop" or len(node.children) < 2:
        return None
    outer, inner = _outer_inner(node.children)
    loops, per_loop, removed = _inner_work(node, outer, inner, context)
    costly = inner.get("Node Type") == "Seq Scan" or removed >= INNER_ROWS_REMOVED_PER_LOOP
    if loops < NESTED_LOOP_MIN_LOOPS or not costly:
        return None
    inner_label = _label(inner)
    join = node.fields.get("Join Filter") or inner.get("Index Cond") or inner.get("Filter")
    evidence = [
        Evidence("inner side", inner_label, context.source),
        Evidence("inner loops", f"{loops:,.0f}", context.source),
        Evidence("rows read per loop", f"{per_loop:,.0f}", context.source),
    ]
    if removed:
        evidence.append(Evidence("rows thrown away per loop", f"{removed:,.0f}", context.source))
    if join:
        evidence.append(Evidence("join condition", str(join), context.source))
    total = loops * per_loop
    return _finding(
        node,
        context,
        rule="pg-nested-loop-scan",
        severity=Severity.HIGH if total >= SEVERE_NESTED_LOOP_ROWS else Severity.MEDIUM,
        confidence=0.7 if context.analyzed else 0.5,
        title=f"{node.label} runs {inner_label} {loops:,.0f} times ({total:,.0f} rows read)",
        evidence=tuple(evidence),
        recommendation=f"index the inner side's join column (join condition: {join or 'unknown'}) "
        "so each loop is one index lookup, or correct the outer side's row estimate so "
        "the planner picks a hash join that reads the inner side once",
        expected_effect=f"up to {total:,.0f} row reads fewer",
    )


def _inner_work(
    node: _Node, outer: Mapping[str, Any], inner: Mapping[str, Any], context: _Context
) -> tuple[float, float, float]:
    """How often the inner side runs, rows it reads per run, rows thrown away per run."""
    if not context.analyzed:
        share = node.workers + 1 if outer.get("Parallel Aware") else 1
        return float(outer.get("Plan Rows", 0)) * share, float(inner.get("Plan Rows", 0)), 0.0
    loops = float(inner.get("Actual Loops", 0))
    filtered = float(inner.get("Rows Removed by Filter", 0))
    joined_away = node.get("Rows Removed by Join Filter") / max(loops, 1.0)
    return loops, float(inner.get("Actual Rows", 0)) + filtered, filtered + joined_away


def _outer_inner(
    children: tuple[Mapping[str, Any], ...],
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    roles = {c.get("Parent Relationship"): c for c in children}
    return roles.get("Outer", children[0]), roles.get("Inner", children[1])


def _lossy_bitmap(node: _Node, context: _Context) -> Finding | None:
    lossy = node.get("Lossy Heap Blocks")
    if node.fields.get("Node Type") != "Bitmap Heap Scan" or lossy <= 0:
        return None
    exact = node.get("Exact Heap Blocks")
    needed_kb = (exact + lossy) * BITMAP_BYTES_PER_PAGE / 1024 * BITMAP_HEADROOM
    suggested = _memory_text(needed_kb)
    evidence = [
        Evidence("lossy heap blocks", f"{lossy:,.0f}", context.source),
        Evidence("exact heap blocks", f"{exact:,.0f}", context.source),
    ]
    if "Rows Removed by Index Recheck" in node.fields:
        rechecked = node.get("Rows Removed by Index Recheck")
        evidence.append(Evidence("rows removed by recheck", f"{rechecked:,.0f}", context.source))
    return _finding(
        node,
        context,
        rule="pg-lossy-bitmap",
        severity=Severity.MEDIUM if lossy >= exact else Severity.LOW,
        confidence=0.8,
        title=f"{node.label}: the bitmap went lossy for {lossy:,.0f} of "
        f"{exact + lossy:,.0f} heap blocks (work_mem too small)",
        evidence=tuple(evidence),
        recommendation=f"raise work_mem to {suggested} for this query (about "
        f"{BITMAP_BYTES_PER_PAGE} bytes per heap block, doubled for headroom)",
        expected_effect="an exact bitmap: no rechecking every row of the lossy blocks",
    )


def _heap_fetches(node: _Node, context: _Context) -> Finding | None:
    if node.fields.get("Node Type") != "Index Only Scan" or "Heap Fetches" not in node.fields:
        return None
    rows, fetches = node.get("Actual Rows") * node.loops, node.get("Heap Fetches")
    if rows < HEAP_FETCH_MIN_ROWS or fetches <= HEAP_FETCH_SHARE * rows:
        return None
    table = node.fields.get("Relation Name", "the table")
    return _finding(
        node,
        context,
        rule="pg-heap-fetches",
        severity=Severity.MEDIUM,
        confidence=0.7,
        title=f"{node.label} went to the table for {fetches:,.0f} of {rows:,.0f} rows: "
        "the visibility map is out of date",
        evidence=(
            Evidence("heap fetches", f"{fetches:,.0f}", context.source),
            Evidence("rows returned", f"{rows:,.0f}", context.source),
        ),
        recommendation=f"VACUUM {table}, and let autovacuum visit it more often "
        f"(ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.02))",
        expected_effect="an index-only scan that reads the index alone",
    )


def _shared_reads(node: _Node, context: _Context) -> Finding | None:
    if "Shared Read Blocks" not in node.fields:
        return None
    read = node.get("Shared Read Blocks") - sum(
        float(c.get("Shared Read Blocks", 0)) for c in node.children
    )
    hit = node.get("Shared Hit Blocks") - sum(
        float(c.get("Shared Hit Blocks", 0)) for c in node.children
    )
    if read < SHARED_READ_MIN_BLOCKS or read < SHARED_READ_SHARE * (read + max(hit, 0.0)):
        return None
    evidence = [
        Evidence("blocks read (not in shared buffers)", _blocks_text(read), context.source),
        Evidence("blocks found in shared buffers", _blocks_text(max(hit, 0.0)), context.source),
    ]
    if node.get("I/O Read Time"):
        evidence.append(
            Evidence("I/O read time", f"{node.get('I/O Read Time'):,.1f} ms", context.source)
        )
    return _finding(
        node,
        context,
        rule="pg-shared-reads",
        severity=Severity.MEDIUM if read >= SEVERE_SHARED_READ_BLOCKS else Severity.LOW,
        confidence=0.5,
        title=f"{node.label} read {read / (read + max(hit, 0.0)):.0%} of its blocks from "
        "outside shared buffers",
        evidence=tuple(evidence),
        recommendation="read less (an index, fewer rows or columns), or give shared_buffers "
        "room for the working set; a first run after a restart reads cold, so measure "
        "again warm before resizing",
        expected_effect=f"up to {_blocks_text(read)} fewer reads from the OS cache or disk",
    )


#: Every rule, in the order its findings are listed for a node.
RULES: tuple[_Rule, ...] = (
    _seq_scan_filter,
    _misestimate,
    _disk_spill,
    _nested_loop_scan,
    _lossy_bitmap,
    _heap_fetches,
    _shared_reads,
)


# -- shared helpers ---------------------------------------------------------------


def _finding(
    node: _Node,
    context: _Context,
    *,
    rule: str,
    severity: Severity,
    confidence: float,
    title: str,
    evidence: tuple[Evidence, ...],
    recommendation: str,
    expected_effect: str,
) -> Finding:
    query = one_line(context.query, QUERY_QUOTE_CHARS, ellipsis="...")
    where = node.label if node.path == node.label else f"{node.label} (plan: {node.path})"
    prefix = f"query {context.fingerprint}: " if context.fingerprint else ""
    return Finding(
        rule=rule,
        category=Category.DATABASE,
        severity=severity,
        confidence=confidence,
        title=title,
        evidence=(Evidence("query", query, "the statement explained"), *evidence),
        location=prefix + where,
        recommendation=recommendation,
        expected_effect=expected_effect,
    )


def _memory_text(kb: float) -> str:
    """``kb`` rounded up as work_mem takes it: whole MB from 1 MB, else 64 kB steps."""
    if kb > 1024:
        return f"{math.ceil(kb / 1024)}MB"
    return f"{max(1, math.ceil(kb / 64)) * 64}kB"


def _kb_text(kb: float) -> str:
    return f"{kb / 1024:,.1f} MB" if kb >= 1024 else f"{kb:,.0f} kB"


def _blocks_text(blocks: float) -> str:
    return f"{blocks:,.0f} blocks ({_kb_text(blocks * BLOCK_BYTES / 1024)})"
