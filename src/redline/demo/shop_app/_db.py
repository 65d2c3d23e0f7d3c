"""The shop's SQLite file: its schema, its seed data, and a connection per thread.

The file is created and seeded by :func:`ensure_database` when it is missing,
into a temporary file renamed into place at the end, so a crash mid-seed never
leaves a half-filled shop. The data is the same on every machine (a fixed
random seed): :data:`PRODUCTS` products in :data:`CATEGORIES` categories from
:data:`BRANDS` brands, and :data:`ORDERS` orders of 5 to 20 items each.

``products.brand`` has **no index on purpose** (the planted missing index,
see :mod:`redline.demo.shop_app`); every other lookup the app makes is by a
primary key or an indexed column.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BRANDS",
    "CATEGORIES",
    "ORDERS",
    "PRODUCTS",
    "Database",
    "connect",
    "SeedConfig",
    "ensure_database",
    "seed",
]

#: Categories of the default seed.
CATEGORIES = 50
#: Products of the default seed.
PRODUCTS = 50_000
#: Distinct brands: about 25 products each, so a brand filter is very selective.
BRANDS = 2_000
#: Orders of the default seed.
ORDERS = 20_000
#: Items per order, both included.
ITEMS_PER_ORDER = (5, 20)
#: The seed of the data's random generator: the same shop on every machine.
RANDOM_SEED = 20_240_611
#: How long a connection waits for another's write lock (e.g. a CREATE INDEX).
BUSY_TIMEOUT_S = 5.0

SCHEMA = """
CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES categories(id),
    name TEXT NOT NULL,
    brand TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    rating REAL NOT NULL,
    weight_g INTEGER NOT NULL
);
CREATE INDEX products_category ON products(category_id);
-- No index on products(brand): the planted missing index (GET /search).
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, placed_day INTEGER NOT NULL);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class SeedConfig:
    """How much data :func:`seed` writes (the defaults are the demo's)."""

    categories: int = CATEGORIES
    products: int = PRODUCTS
    brands: int = BRANDS
    orders: int = ORDERS


def _product_rows(config: SeedConfig, rng: random.Random) -> Iterator[tuple[object, ...]]:
    for product_id in range(1, config.products + 1):
        yield (
            product_id,
            rng.randint(1, config.categories),
            f"product {product_id}",
            f"brand-{rng.randint(1, config.brands)}",
            rng.randint(199, 99_999),
            round(rng.uniform(1.0, 5.0), 1),
            rng.randint(50, 20_000),
        )


def _item_rows(config: SeedConfig, rng: random.Random) -> Iterator[tuple[int, int, int]]:
    for order_id in range(1, config.orders + 1):
        count = rng.randint(*ITEMS_PER_ORDER)
        for product_id in rng.sample(range(1, config.products + 1), count):
            yield order_id, product_id, rng.randint(1, 3)


def seed(conn: sqlite3.Connection, config: SeedConfig = SeedConfig()) -> None:
    """Create the shop's tables in an empty database and fill them, in one transaction."""
    rng = random.Random(RANDOM_SEED)
    with conn:
        conn.executescript(SCHEMA)
        conn.executemany(
            "INSERT INTO categories VALUES (?, ?)",
            ((i, f"category {i}") for i in range(1, config.categories + 1)),
        )
        conn.executemany(
            "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)", _product_rows(config, rng)
        )
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)",
            ((i, f"customer {rng.randint(1, 5_000)}", rng.randint(0, 364))
             for i in range(1, config.orders + 1)),
        )  # fmt: skip
        conn.executemany("INSERT INTO order_items VALUES (?, ?, ?)", _item_rows(config, rng))
    conn.execute("ANALYZE")
    conn.commit()


def ensure_database(path: Path, config: SeedConfig = SeedConfig()) -> bool:
    """Create and seed the shop at ``path`` unless the file exists; True when it seeded."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".seeding")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    try:
        seed(conn, config)
    finally:
        conn.close()
    partial.replace(path)
    return True


def connect(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A read-only connection to the shop (the app never writes), rows as ``sqlite3.Row``."""
    conn = sqlite3.connect(
        path.resolve().as_uri() + "?mode=ro",
        uri=True,
        timeout=BUSY_TIMEOUT_S,
        check_same_thread=check_same_thread,
    )
    conn.row_factory = sqlite3.Row
    return conn


class Database:
    """The shop's file, with one connection per thread (sqlite3 connections are not shared).

    Starlette runs the synchronous handlers in a thread pool; each thread opens
    its own connection the first time it needs one, and :meth:`close` closes them all.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Opened in this thread, closed by close() from another: allowed
            # because no thread uses it after close().
            conn = connect(self.path, check_same_thread=False)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
