"""The demo shop (``redline.demo.shop_app``): its endpoints answer, and each planted
bottleneck is really there (counted in-process where the count must be exact)."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from redline.demo.shop_app import (
    PRICE_CACHE,
    QUERIES_FILE,
    SEARCH_SQL,
    ConnectionPool,
    ensure_database,
    shop_plan,
    write_files,
)
from redline.demo.shop_app._app import checkout_total, order_detail, price_quote
from redline.demo.shop_app._db import connect
from redline.optimize import DatabaseApplier
from redline.plan import load_context, parse_dsn
from redline.probes._sqlite import SqliteProbe, read_queries

#: How long the shop may take to seed nothing (the file exists) and start listening.
START_TIMEOUT_S = 30.0
#: How long a redline subprocess may take.
RUN_TIMEOUT_S = 120.0


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded shop, once for the module (about a second)."""
    path = tmp_path_factory.mktemp("shop") / "shop.db"
    assert ensure_database(path)
    assert not ensure_database(path)  # kept when it exists
    return path


@pytest.fixture(scope="module")
def shop(shop_db: Path) -> Iterator[str]:
    """The shop as a subprocess on a free port, with a pool of 3; stopped by its PID."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "redline.demo.shop_app", "--port", "0", "--db", str(shop_db),
         "--pool", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until it listens (or exits: "")
        assert line.startswith("shop on http://127.0.0.1:"), line
        yield line.removeprefix("shop on ").strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=START_TIMEOUT_S) == 0
        assert proc.stdout is not None
        proc.stdout.close()


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc)


def test_each_endpoint_answers_with_json(shop: str) -> None:
    assert get(shop + "health") == (200, {"status": "ok"})
    status, product = get(shop + "products/17")
    assert status == 200 and product["id"] == 17 and product["brand"].startswith("brand-")
    status, body = get(shop + "categories")
    assert status == 200 and len(body["categories"]) == 50
    assert sum(c["products"] for c in body["categories"]) == 50_000
    status, order = get(shop + "orders/42")
    assert status == 200 and 5 <= len(order["items"]) <= 20
    status, found = get(shop + f"search?brand={product['brand']}")
    assert status == 200 and 17 in [p["id"] for p in found["products"]]
    assert all(p["brand"] == product["brand"] for p in found["products"])
    status, recommended = get(shop + "recommendations/17")
    assert status == 200 and len(recommended["recommended"]) == 5
    assert 17 not in recommended["recommended"]
    status, invoice = get(shop + "invoice/42")
    assert status == 200 and invoice["total_cents"] > 0
    status, quote = get(shop + "price/17?currency=EUR")
    assert status == 200 and quote["price"] == round(product["price_cents"] * 0.92 / 100, 2)
    status, checkout = get(shop + "checkout?order=42")
    assert (status, checkout["pool"]) == (200, 3)
    assert checkout["charged_cents"] == invoice["total_cents"]


def test_bad_requests_are_4xx_with_a_message(shop: str) -> None:
    assert get(shop + "products/999999") == (404, {"error": "product 999999 not found"})
    assert get(shop + "orders/0")[0] == 404
    assert get(shop + "search")[0] == 400
    status, body = get(shop + "price/1?currency=XXX")
    assert status == 400 and "allowed USD" in body["error"]
    assert get(shop + "checkout?order=x")[0] == 400


def test_the_order_endpoint_runs_one_query_per_item(shop_db: Path) -> None:
    conn = connect(shop_db)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        order = order_detail(conn, 42)
    finally:
        conn.close()
    assert order is not None
    items = len(order["items"])
    assert len(statements) == 2 + items  # the order, its item ids, then a query per item
    assert sum("FROM products WHERE id =" in s for s in statements) == items


def _plan_detail(conn: sqlite3.Connection) -> str:
    rows = conn.execute("EXPLAIN QUERY PLAN " + SEARCH_SQL, ("brand-7",)).fetchall()
    return " | ".join(row[3] for row in rows)


def test_the_search_scans_products_until_brand_has_an_index(shop_db: Path) -> None:
    conn = sqlite3.connect(shop_db)
    try:
        assert _plan_detail(conn).startswith("SCAN products")
        conn.execute("BEGIN")
        conn.execute("CREATE INDEX products_brand ON products(brand)")
        assert "SEARCH products USING INDEX products_brand (brand=?)" in _plan_detail(conn)
        conn.execute("ROLLBACK")  # the module's other tests keep the missing index
    finally:
        conn.close()


def test_queries_sql_lists_statements_sqlite_can_plan(shop_db: Path) -> None:
    queries = read_queries(QUERIES_FILE)
    conn = sqlite3.connect(shop_db)
    try:
        for query in queries:
            conn.execute("EXPLAIN QUERY PLAN " + query)
    finally:
        conn.close()
    assert any("WHERE brand =" in query for query in queries)


def test_the_advisor_proposes_the_brand_index_and_it_applies(shop_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    shutil.copy(shop_db, db)
    dsn = parse_dsn("sqlite:///" + str(db).lstrip("/"))
    query = next(q for q in read_queries(QUERIES_FILE) if "WHERE brand =" in q)
    with SqliteProbe(dsn) as probe:
        helpful = [check for check in probe.advise(query) if check.improves]
    assert [(c.candidate.table, c.candidate.columns) for c in helpful] == [
        ("products", ("brand", "price_cents"))
    ]
    change = helpful[0].to_change()
    applier = DatabaseApplier([dsn])
    applier.apply(change, applier.prepare(change))
    conn = sqlite3.connect(db)
    try:
        assert "SEARCH products USING INDEX" in _plan_detail(conn)
    finally:
        conn.close()


def test_the_price_cache_grows_with_each_distinct_request(shop_db: Path) -> None:
    conn = connect(shop_db)
    try:
        before = len(PRICE_CACHE)
        for ref in range(50):
            price_quote(conn, 17, "EUR", f"currency=EUR&ref={ref}", now_s=100.0)
        assert len(PRICE_CACHE) == before + 50
        price_quote(conn, 17, "EUR", "currency=EUR&ref=0", now_s=100.0)  # a hit
        assert len(PRICE_CACHE) == before + 50
        price_quote(conn, 17, "EUR", "currency=EUR&ref=0", now_s=101.0)  # the next second
        assert len(PRICE_CACHE) == before + 51
    finally:
        conn.close()


def test_the_checkout_pool_caps_concurrency(shop_db: Path) -> None:
    async def ten_checkouts() -> ConnectionPool:
        pool = ConnectionPool([connect(shop_db) for _ in range(2)])
        try:
            totals = await asyncio.gather(*(checkout_total(pool, order) for order in range(1, 11)))
        finally:
            pool.close()
        assert all(total is not None and total > 0 for total in totals)
        return pool

    pool = asyncio.run(ten_checkouts())
    assert (pool.size, pool.high_water, pool.in_use) == (2, 2, 0)


def test_shop_plan_aims_every_request_at_the_port() -> None:
    plan = shop_plan(8123)
    assert {spec.name for spec in plan.requests} == {
        "health", "product", "categories", "order", "search", "recommendations", "invoice",
        "price", "checkout",
    }  # fmt: skip
    assert all(spec.url.startswith("http://127.0.0.1:8123/") for spec in plan.requests)


def test_a_short_redline_run_with_server_cmd_stops_the_shop(
    shop_db: Path, unused_port: int, tmp_path: Path
) -> None:
    plan, context = write_files(tmp_path, port=unused_port, db=shop_db)
    text = plan.read_text()
    assert 'executor = { type = "constant-vus", vus = 16, duration = "30s" }' in text
    plan.write_text(text.replace(
        'executor = { type = "constant-vus", vus = 16, duration = "30s" }',
        'executor = { type = "shared-iterations", vus = 8, iterations = 300 }',
    ))  # fmt: skip
    described = load_context(context)
    assert described.plan.requests[0].url == f"http://127.0.0.1:{unused_port}/health"
    assert described.server is not None and described.server.command is not None
    assert described.server.command.endswith(
        f"--port {unused_port} --db {shlex.quote(str(shop_db))} --pool 2"
    )
    assert [str(dsn) for dsn in described.databases] == ["sqlite:///" + str(shop_db).lstrip("/")]
    assert (described.environment, described.expected_peak_rps) == ("local", 200)
    out = tmp_path / "r.json"
    command = f"{shlex.quote(sys.executable)} -m redline.demo.shop_app --port {unused_port}"
    command += f" --db {shlex.quote(str(shop_db))}"
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", str(plan), "--quiet", "--no-save",
         "--out", str(out), "--server-cmd", command],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    assert pid_gone(results["resources"]["server_pid"])
    total = results["summary"]["total"]
    assert (total["count"], total["failures"], total["outcomes"]) == (300, 0, {"200": 300})
    assert set(results["summary"]["endpoints"]) == {spec.name for spec in shop_plan(1).requests}
