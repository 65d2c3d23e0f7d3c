"""N+1 queries and database time, from the statements a run caused."""

from __future__ import annotations

from typing import Any

from redline.diagnose import Category, Severity, diagnose
from redline.diagnose._rule_queries import database_time, n_plus_one
from redline.diagnose._timeline import Timeline
from tests.unit.diagnose.diagnose_docs import Sec, document

ITEM = "SELECT name, price FROM items WHERE id = $1"
ORDER = "SELECT item_id FROM order_items WHERE order_id = $1"


def run_with(statements: list[dict[str, Any]], *, requests: int = 1000, mean_us: float = 5000,
             endpoints: tuple[str, ...] = ("/",)) -> dict[str, Any]:  # fmt: skip
    doc = document([Sec(8, requests // 10, mean_us) for _ in range(10)])
    doc["summary"] = {"total": {"count": requests, "response": {"mean": mean_us}}}
    doc["series"]["endpoints"] = list(endpoints)
    doc["database"] = {"dsn": "postgresql://u:***@127.0.0.1:5432/shop", "statements": statements}
    return doc


def statement(query: str, calls: int, total_ms: float) -> dict[str, Any]:
    return {"queryid": hash(query), "query": query, "calls": calls, "total_ms": total_ms,
            "mean_ms": total_ms / calls}  # fmt: skip


def test_one_statement_per_item_is_an_n_plus_one_on_its_endpoint() -> None:
    doc = run_with([statement(ORDER, 1000, 50.0), statement(ITEM, 20_000, 400.0)])
    [finding] = n_plus_one(Timeline.of(doc))
    assert finding.title == "N+1 queries: 20.0 calls of one statement per request (endpoint /)"
    assert finding.category is Category.DATABASE and finding.severity is Severity.HIGH
    assert ITEM in (finding.location or "")
    assert "JOIN" in finding.recommendation


def test_one_query_per_request_is_not() -> None:
    doc = run_with([statement("SELECT ... JOIN ...", 1000, 80.0)])
    assert n_plus_one(Timeline.of(doc)) == []


def test_several_endpoints_lower_the_confidence_and_say_so() -> None:
    doc = run_with([statement(ITEM, 6000, 60.0)], endpoints=("/a", "/b"))
    [finding] = n_plus_one(Timeline.of(doc))
    assert "(2 endpoints)" in finding.title and finding.confidence < 0.75


def test_database_time_is_reported_when_it_is_most_of_the_latency() -> None:
    slow = run_with([statement("SELECT * FROM orders WHERE customer = $1", 1000, 4000.0)])
    [finding] = database_time(Timeline.of(slow))
    assert finding.title == "The database takes 80% of each request's time (4.00 ms of 5.00 ms)"
    fast = run_with([statement("SELECT 1", 1000, 100.0)])
    assert database_time(Timeline.of(fast)) == []


def test_no_database_section_no_findings() -> None:
    doc = document([Sec(8, 100, 5000) for _ in range(10)])
    assert [f.rule for f in diagnose(doc).findings] == []


def test_mysql_statements_are_cited_from_their_source_and_advised_in_its_dialect() -> None:
    doc = run_with([statement("SELECT name FROM items WHERE id = ?", 20_000, 400.0)])
    doc["database"]["dsn"] = "mysql://u:***@127.0.0.1:3306/shop"
    doc["database"]["source"] = "performance_schema statement digests, before and after the run"
    [finding] = n_plus_one(Timeline.of(doc))
    assert {e.source for e in finding.evidence} == {doc["database"]["source"]}
    assert "WHERE id IN (...)" in finding.recommendation and "ANY($1)" not in finding.recommendation
    [postgres] = n_plus_one(Timeline.of(run_with([statement(ITEM, 20_000, 400.0)])))
    assert "WHERE id = ANY($1)" in postgres.recommendation
    assert {e.source for e in postgres.evidence} == {"pg_stat_statements, before and after the run"}
