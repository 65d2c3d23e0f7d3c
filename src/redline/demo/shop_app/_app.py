"""The shop's endpoints: one small function per endpoint, its planted bottleneck named beside it.

Each endpoint is a Starlette handler plus, where there is data to fetch, a
plain data function (``order_detail``, ``search_brand``, ...) that takes a
``sqlite3.Connection``: the handlers stay thin, and tests call the data
functions directly (with ``set_trace_callback`` to count statements).
Synchronous handlers (``def``) run in Starlette's thread pool, so only the
one planted blocking call (``GET /invoice/{id}``) stalls the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from redline.demo.shop_app._db import Database, connect
from redline.demo.shop_app._pool import ConnectionPool

__all__ = [
    "CHECKOUT_WORK_S",
    "INVOICE_RENDER_S",
    "PRICE_CACHE",
    "RATES",
    "SEARCH_SQL",
    "build_app",
    "checkout_total",
    "order_detail",
    "price_quote",
    "recommend",
    "search_brand",
]

#: The statements the app runs (queries.sql lists the same, for ``redline db analyze``).
PRODUCT_SQL = "SELECT id, category_id, name, brand, price_cents, rating FROM products WHERE id = ?"
CATEGORIES_SQL = (
    "SELECT c.id, c.name, COUNT(p.id) AS products FROM categories c"
    " JOIN products p ON p.category_id = c.id GROUP BY c.id ORDER BY c.id"
)
ORDER_SQL = "SELECT id, customer, placed_day FROM orders WHERE id = ?"
ORDER_ITEMS_SQL = "SELECT product_id, quantity FROM order_items WHERE order_id = ?"
SEARCH_SQL = (
    "SELECT id, name, brand, price_cents, rating FROM products WHERE brand = ? ORDER BY price_cents"
)
NEIGHBOURS_SQL = (
    "SELECT id, price_cents, rating, weight_g, brand FROM products"
    " WHERE category_id = ? ORDER BY abs(price_cents - ?) LIMIT ?"
)
ORDER_TOTAL_SQL = (
    "SELECT SUM(p.price_cents * i.quantity) FROM order_items i"
    " JOIN products p ON p.id = i.product_id WHERE i.order_id = ?"
)

#: Products of the category a recommendation compares with each other (pairwise).
RECOMMENDATION_POOL = 250
#: Recommendations returned.
RECOMMENDATIONS = 5
#: The "PDF rendering" of an invoice: a blocking sleep inside ``async def`` (planted).
INVOICE_RENDER_S = 0.05
#: The awaited work a checkout does while it holds a pool connection (the payment call).
CHECKOUT_WORK_S = 0.02
#: The price cache's time bucket: entries are keyed by it, so the key space never ends.
PRICE_BUCKET_S = 1.0
#: Exchange rates from cents of USD.
RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.0, "CHF": 0.88}
#: Planted: the price cache, a module-level dict that is never evicted.
PRICE_CACHE: dict[tuple[str, int, str, int], dict[str, Any]] = {}
#: Days of price history each cached quote carries (so each entry weighs a few KiB).
PRICE_HISTORY_DAYS = 365


def _database(request: Request) -> sqlite3.Connection:
    shop: Shop = request.app.state.shop
    return shop.database.connection()


def _id(request: Request, name: str = "id") -> int:
    value: int = request.path_params[name]
    return value


def _not_found(what: str, key: object) -> JSONResponse:
    return JSONResponse({"error": f"{what} {key!r} not found"}, status_code=404)


# --- clean endpoints -------------------------------------------------------------------------


async def health(request: Request) -> JSONResponse:
    """``GET /health``: clean."""
    return JSONResponse({"status": "ok"})


def get_product(request: Request) -> JSONResponse:
    """``GET /products/{id}``: clean, a primary-key read."""
    row = _database(request).execute(PRODUCT_SQL, (_id(request),)).fetchone()
    return JSONResponse(dict(row)) if row is not None else _not_found("product", _id(request))


def list_categories(request: Request) -> JSONResponse:
    """``GET /categories``: clean, 50 rows grouped over the indexed products(category_id)."""
    rows = _database(request).execute(CATEGORIES_SQL).fetchall()
    return JSONResponse({"categories": [dict(row) for row in rows]})


# --- 1. N+1 queries --------------------------------------------------------------------------


def order_detail(conn: sqlite3.Connection, order_id: int) -> dict[str, Any] | None:
    """An order with its products: 2 queries, then one more per item (planted N+1)."""
    order = conn.execute(ORDER_SQL, (order_id,)).fetchone()
    if order is None:
        return None
    items = []
    for product_id, quantity in conn.execute(ORDER_ITEMS_SQL, (order_id,)).fetchall():
        # PLANTED N+1: one query per item, where one JOIN on order_items would do.
        product = conn.execute(PRODUCT_SQL, (product_id,)).fetchone()
        items.append({"product": dict(product), "quantity": quantity})
    return {**dict(order), "items": items}


def get_order(request: Request) -> JSONResponse:
    """``GET /orders/{id}``: planted N+1 in :func:`order_detail`."""
    order = order_detail(_database(request), _id(request))
    return JSONResponse(order) if order is not None else _not_found("order", _id(request))


# --- 2. missing index ------------------------------------------------------------------------


def search_brand(conn: sqlite3.Connection, brand: str) -> list[dict[str, Any]]:
    """Products of one brand (planted: products.brand has no index, so this scans the table)."""
    # PLANTED missing index: WHERE brand = ? scans all products; fix: index on products(brand).
    return [dict(row) for row in conn.execute(SEARCH_SQL, (brand,)).fetchall()]


def search(request: Request) -> JSONResponse:
    """``GET /search?brand=X``: planted missing index in :func:`search_brand`."""
    brand = request.query_params.get("brand")
    if not brand:
        return JSONResponse({"error": "brand is required, e.g. ?brand=brand-7"}, status_code=400)
    return JSONResponse({"brand": brand, "products": search_brand(_database(request), brand)})


# --- 3. CPU-heavy quadratic handler ----------------------------------------------------------


def _similarity(a: sqlite3.Row, b: sqlite3.Row) -> float:
    price = abs(a["price_cents"] - b["price_cents"]) / 100_000
    rating = abs(a["rating"] - b["rating"]) / 4
    weight = abs(a["weight_g"] - b["weight_g"]) / 20_000
    score: float = 1.0 - (price + rating + weight) / 3
    return score - (0.0 if a["brand"] == b["brand"] else 0.2)


def recommend(conn: sqlite3.Connection, product_id: int) -> list[int] | None:
    """Products like this one: every pair of the category's nearest products compared (O(n²))."""
    product = conn.execute(PRODUCT_SQL, (product_id,)).fetchone()
    if product is None:
        return None
    pool = conn.execute(
        NEIGHBOURS_SQL, (product["category_id"], product["price_cents"], RECOMMENDATION_POOL)
    ).fetchall()
    target = next((row for row in pool if row["id"] == product_id), pool[0])
    scored = []
    for candidate in pool:
        # PLANTED quadratic CPU: each candidate against every other, in pure Python.
        affinity = sum(_similarity(candidate, other) for other in pool) / len(pool)
        scored.append((_similarity(target, candidate) + affinity, candidate["id"]))
    scored.sort(reverse=True)
    return [pid for _, pid in scored if pid != product_id][:RECOMMENDATIONS]


def recommendations(request: Request) -> JSONResponse:
    """``GET /recommendations/{id}``: planted quadratic CPU in :func:`recommend`."""
    found = recommend(_database(request), _id(request))
    if found is None:
        return _not_found("product", _id(request))
    return JSONResponse({"product": _id(request), "recommended": found})


# --- 4. a blocking call inside an async handler ----------------------------------------------


async def invoice(request: Request) -> JSONResponse:
    """``GET /invoice/{id}``: planted blocking calls inside ``async def``."""
    shop: Shop = request.app.state.shop
    # PLANTED blocking call: a synchronous SQLite read and time.sleep on the event loop
    # (should be awaited, or run in a thread), so every other request waits meanwhile.
    total = shop.loop_connection.execute(ORDER_TOTAL_SQL, (_id(request),)).fetchone()[0]
    if total is None:
        return _not_found("order", _id(request))
    time.sleep(INVOICE_RENDER_S)  # "rendering the PDF"
    return JSONResponse({"order": _id(request), "total_cents": total, "pages": 1})


# --- 5. a cache that grows without bound -----------------------------------------------------


def price_quote(
    conn: sqlite3.Connection, product_id: int, currency: str, query: str, now_s: float
) -> dict[str, Any] | None:
    """A product's price in a currency, memoized in :data:`PRICE_CACHE` (planted: never evicted)."""
    # PLANTED unbounded cache: keyed by the whole query string and a time bucket, never
    # evicted, so every distinct request (and every second) adds an entry for good.
    key = (query, product_id, currency, int(now_s // PRICE_BUCKET_S))
    cached = PRICE_CACHE.get(key)
    if cached is not None:
        return cached
    row = conn.execute(PRODUCT_SQL, (product_id,)).fetchone()
    if row is None:
        return None
    price = row["price_cents"] * RATES[currency] / 100
    history = [round(price * (1 + (day % 7 - 3) / 100), 2) for day in range(PRICE_HISTORY_DAYS)]
    quote = {"product": product_id, "currency": currency, "price": round(price, 2),
             "history": history}  # fmt: skip
    PRICE_CACHE[key] = quote
    return quote


def price(request: Request) -> JSONResponse:
    """``GET /price/{id}?currency=EUR``: planted unbounded cache in :func:`price_quote`."""
    currency = request.query_params.get("currency", "USD")
    if currency not in RATES:
        allowed = ", ".join(RATES)
        return JSONResponse(
            {"error": f"currency {currency!r} is not known; allowed {allowed}"}, status_code=400
        )
    quote = price_quote(
        _database(request), _id(request), currency, request.url.query, time.monotonic()
    )
    return JSONResponse(quote) if quote is not None else _not_found("product", _id(request))


# --- 6. a connection pool too small for the load ---------------------------------------------


async def checkout_total(pool: ConnectionPool, order_id: int) -> int | None:
    """Charge an order: take a pool connection and hold it over the awaited payment call."""
    # PLANTED small pool: --pool connections (default 2), each held for the whole
    # CHECKOUT_WORK_S payment call, so under load requests queue for a connection.
    async with pool.connection() as conn:
        total: int | None = conn.execute(ORDER_TOTAL_SQL, (order_id,)).fetchone()[0]
        await asyncio.sleep(CHECKOUT_WORK_S)  # the payment gateway
    return total


async def checkout(request: Request) -> JSONResponse:
    """``GET /checkout?order=N``: planted small pool in :func:`checkout_total`."""
    shop: Shop = request.app.state.shop
    order = request.query_params.get("order", "1")
    if not order.isdigit():
        return JSONResponse({"error": f"order {order!r} is not a number"}, status_code=400)
    total = await checkout_total(shop.pool, int(order))
    if total is None:
        return _not_found("order", int(order))
    return JSONResponse({"order": int(order), "charged_cents": total, "pool": shop.pool.size})


# --- the app ---------------------------------------------------------------------------------


@dataclass
class Shop:
    """What the handlers share: the thread-pool connections, the event loop's, the pool."""

    database: Database
    loop_connection: sqlite3.Connection
    pool: ConnectionPool


ROUTES = [
    Route("/health", health),
    Route("/products/{id:int}", get_product),
    Route("/categories", list_categories),
    Route("/orders/{id:int}", get_order),
    Route("/search", search),
    Route("/recommendations/{id:int}", recommendations),
    Route("/invoice/{id:int}", invoice),
    Route("/price/{id:int}", price),
    Route("/checkout", checkout),
]


def build_app(path: Path, *, pool_size: int, on_ready: Any = None) -> Starlette:
    """The shop as an ASGI app over an already seeded SQLite file.

    Args:
        path: the shop's database file (see :func:`~redline.demo.shop_app.ensure_database`).
        pool_size: connections in the checkout pool.
        on_ready: called with no arguments once the app has started, if given.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database = Database(path)
        pool = ConnectionPool([connect(path) for _ in range(pool_size)])
        app.state.shop = Shop(database, connect(path), pool)
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            pool.close()
            app.state.shop.loop_connection.close()
            database.close()

    return Starlette(routes=ROUTES, lifespan=lifespan)
