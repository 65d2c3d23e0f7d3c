"""The demo shop's MySQL/MariaDB side (``python -m redline.demo.shop --dsn mysql://...``).

The same tables, data and two ways to read an order as the PostgreSQL side in
:mod:`redline.demo.shop`, through PyMySQL. PyMySQL blocks, so each request's
queries run in a thread (:func:`asyncio.to_thread`) on a connection of the
shop's pool, which bounds how many run at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Final

import pymysql  # type: ignore[import-untyped]

from redline.plan import Dsn

__all__ = ["ERRORS", "MODES", "connect", "setup"]

#: The driver's errors, which the shop reports in one line.
ERRORS: Final = (pymysql.err.Error,)
SETUP: Final = (
    "DROP TABLE IF EXISTS order_items, items, orders",
    "CREATE TABLE orders (id int PRIMARY KEY, customer varchar(64) NOT NULL)",
    "CREATE TABLE items (id int PRIMARY KEY, name varchar(64) NOT NULL, price int NOT NULL)",
    "CREATE TABLE order_items (order_id int NOT NULL, item_id int NOT NULL,"
    " PRIMARY KEY (order_id, item_id), FOREIGN KEY (order_id) REFERENCES orders (id),"
    " FOREIGN KEY (item_id) REFERENCES items (id))",
)
#: How long connecting and each statement may take.
TIMEOUT_S: Final = 5


def _open(dsn: Dsn) -> Any:
    return pymysql.connect(
        host=dsn.host, port=dsn.port, user=dsn.user or "", password=dsn.password() or "",
        database=dsn.database, autocommit=True, charset="utf8mb4", connect_timeout=TIMEOUT_S,
        read_timeout=TIMEOUT_S, write_timeout=TIMEOUT_S, program_name="redline-demo-shop",
    )  # fmt: skip


async def connect(dsn: Dsn) -> Any:
    """A connection for the shop's pool."""
    return await asyncio.to_thread(_open, dsn)


def _nplus1(conn: Any, order: int) -> list[Any]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT item_id FROM order_items WHERE order_id = %s", (order,))
        rows = []
        for (item_id,) in cursor.fetchall():  # one query per item: the N+1 pattern, on purpose
            cursor.execute("SELECT name, price FROM items WHERE id = %s", (item_id,))
            rows.append(cursor.fetchone())
    return rows


def _join(conn: Any, order: int) -> list[Any]:
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT i.name, i.price FROM order_items oi JOIN items i ON i.id = oi.item_id"
            " WHERE oi.order_id = %s",
            (order,),
        )
        return list(cursor.fetchall())


def _in_thread(read: Callable[[Any, int], list[Any]]) -> Callable[[Any, int], Awaitable[list[Any]]]:
    async def run(conn: Any, order: int) -> list[Any]:
        return await asyncio.to_thread(read, conn, order)

    return run


#: How each mode reads an order (the same modes as PostgreSQL's).
MODES: Final = {"nplus1": _in_thread(_nplus1), "join": _in_thread(_join)}


def _setup(dsn: Dsn, orders: int, items: int) -> None:
    conn = _open(dsn)
    try:
        with conn.cursor() as cursor:
            for statement in SETUP:
                cursor.execute(statement)
            cursor.executemany(
                "INSERT INTO items VALUES (%s, %s, %s)",
                [(n, f"item {n}", n % 100) for n in range(1, orders * items + 1)],
            )
            cursor.executemany(
                "INSERT INTO orders VALUES (%s, %s)",
                [(n, f"customer {n}") for n in range(1, orders + 1)],
            )
            pairs = [(o, o * items - k) for o in range(1, orders + 1) for k in range(items)]
            cursor.executemany("INSERT INTO order_items VALUES (%s, %s)", pairs)
            cursor.execute("ANALYZE TABLE orders, items, order_items")
            cursor.fetchall()
    finally:
        conn.close()


async def setup(dsn: Dsn, orders: int, items: int) -> None:
    """Create the tables and the data (``orders`` orders of ``items`` items each)."""
    await asyncio.to_thread(_setup, dsn, orders, items)
