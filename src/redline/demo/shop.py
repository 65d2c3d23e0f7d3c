"""A loopback shop backed by PostgreSQL or MySQL/MariaDB, with the N+1 query pattern or without it.

    python -m redline.demo.shop --dsn postgresql://user:pw@127.0.0.1:5432/shop --setup
    python -m redline.demo.shop --dsn ... --port 8001 --mode nplus1   # a query per item
    python -m redline.demo.shop --dsn ... --port 8002 --mode join     # one query per request
    python -m redline.demo.shop --dsn mysql://user:pw@127.0.0.1:3306/shop --setup

Each request shows one order: ``nplus1`` reads the order's item ids and then
each item by its id (the ORM pattern that issues one query per row); ``join``
reads the same in one query. ``--setup`` creates the tables and the data
(``--orders`` orders of ``--items`` items) and exits. The DSN's scheme picks
the database (:data:`BACKENDS`): PostgreSQL here, through psycopg;
MySQL/MariaDB in :mod:`redline.demo.shop_mysql`, through PyMySQL.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import random
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import psycopg

from redline.demo._keepalive import answer_requests
from redline.plan import Dsn, parse_dsn

__all__ = ["BACKENDS", "MODES", "Backend", "main"]

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
SETUP = [
    "DROP TABLE IF EXISTS order_items, items, orders",
    "CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL)",
    "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price int NOT NULL)",
    "CREATE TABLE order_items (order_id int REFERENCES orders, item_id int REFERENCES items,"
    " PRIMARY KEY (order_id, item_id))",
]
#: A pool of the database's connections (psycopg's or PyMySQL's).
Pool = asyncio.Queue[Any]
ReadOrder = Callable[[Any, int], Awaitable[list[Any]]]


async def _nplus1(conn: psycopg.AsyncConnection[Any], order: int) -> list[Any]:
    ids = await (await conn.execute(
        "SELECT item_id FROM order_items WHERE order_id = %s", (order,)
    )).fetchall()  # fmt: skip
    rows = []
    for (item_id,) in ids:  # one query per item: the N+1 pattern, on purpose
        cursor = await conn.execute("SELECT name, price FROM items WHERE id = %s", (item_id,))
        rows.append(await cursor.fetchone())
    return rows


async def _join(conn: psycopg.AsyncConnection[Any], order: int) -> list[Any]:
    cursor = await conn.execute(
        "SELECT i.name, i.price FROM order_items oi JOIN items i ON i.id = oi.item_id"
        " WHERE oi.order_id = %s",
        (order,),
    )
    return await cursor.fetchall()


#: How each mode reads an order.
MODES: dict[str, Callable[[psycopg.AsyncConnection[Any], int], Awaitable[list[Any]]]] = {
    "nplus1": _nplus1,
    "join": _join,
}


@dataclass(frozen=True)
class Backend:
    """What the shop needs of one database: connect, create the data, read an order."""

    connect: Callable[[Dsn], Awaitable[Any]]
    setup: Callable[[Dsn, int, int], Coroutine[Any, Any, None]]
    #: How each mode reads an order (the keys of :data:`MODES`).
    modes: dict[str, ReadOrder]
    #: The driver's errors, reported in one line.
    errors: tuple[type[BaseException], ...]


def _postgres() -> Backend:
    return Backend(_connect, _setup, MODES, (psycopg.Error,))


def _mysql() -> Backend:
    from redline.demo import shop_mysql  # PyMySQL only when asked for

    return Backend(shop_mysql.connect, shop_mysql.setup, shop_mysql.MODES, shop_mysql.ERRORS)


#: The database behind the shop, by the DSN's scheme.
BACKENDS: dict[str, Callable[[], Backend]] = {"postgresql": _postgres, "mysql": _mysql}


async def _answer(pool: Pool, read: ReadOrder, orders: int) -> bytes:
    conn = await pool.get()
    try:
        rows = await read(conn, random.randint(1, orders))  # noqa: S311 - demo data
    finally:
        pool.put_nowait(conn)
    body = ("[" + ",".join(f'["{name}",{price}]' for name, price in rows) + "]").encode()
    return _OK + str(len(body)).encode() + b"\r\n\r\n" + body


async def _connect(dsn: Dsn, *, inline: bool = False) -> psycopg.AsyncConnection[Any]:
    # inline: values sent inside the statement's text (as psycopg2 and most ORMs on it do),
    # not bound apart ($1), so the database's sessions show them.
    factory = psycopg.AsyncClientCursor if inline else psycopg.AsyncCursor
    return await psycopg.AsyncConnection.connect(
        host=dsn.host, port=dsn.port, dbname=dsn.database, user=dsn.user,
        password=dsn.password(), autocommit=True, application_name="redline-demo-shop",
        cursor_factory=factory,
    )  # fmt: skip


async def _setup(dsn: Dsn, orders: int, items: int) -> None:
    async with await _connect(dsn) as conn:
        for statement in SETUP:
            await conn.execute(statement)
        await conn.execute(
            "INSERT INTO items SELECT n, 'item ' || n, n %% 100 FROM generate_series(1, %s) n",
            (orders * items,),
        )
        await conn.execute(
            "INSERT INTO orders SELECT n, 'customer ' || n FROM generate_series(1, %s) n", (orders,)
        )
        await conn.execute(
            "INSERT INTO order_items SELECT o, (o - 1) * %s + k FROM generate_series(1, %s) o,"
            " generate_series(1, %s) k",
            (items, orders, items),
        )
        await conn.execute("ANALYZE")


async def _serve(args: argparse.Namespace, dsn: Dsn, backend: Backend) -> None:
    pool: Pool = asyncio.Queue()
    for _ in range(args.connections):
        pool.put_nowait(await backend.connect(dsn))
    read = backend.modes[args.mode]
    server = await asyncio.start_server(
        lambda r, w: answer_requests(r, w, lambda _: _answer(pool, read, args.orders)),
        "127.0.0.1", args.port, backlog=1024,
    )  # fmt: skip
    sys.stdout.write(f"shop ({args.mode}) on http://127.0.0.1:{args.port}/\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Set up the data, or serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", required=True, help="postgresql://user:pw@host:port/db or mysql://..."
    )
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--mode", choices=sorted(MODES), default="nplus1")
    parser.add_argument("--connections", type=int, default=4, help="the app's pool size")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20, help="items per order")
    parser.add_argument("--setup", action="store_true", help="create the data and exit")
    parser.add_argument(
        "--inline-values", action="store_true",
        help="PostgreSQL: values inside the statements' text (client-side binding)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    dsn = parse_dsn(args.dsn, field="--dsn", schemes=tuple(BACKENDS))
    backend = BACKENDS[dsn.scheme]()
    if args.inline_values and dsn.scheme == "postgresql":
        backend = dataclasses.replace(backend, connect=functools.partial(_connect, inline=True))
    errors: tuple[type[BaseException], ...] = (OSError, *backend.errors)
    try:
        if args.setup:
            asyncio.run(backend.setup(dsn, args.orders, args.items))
        else:
            asyncio.run(_serve(args, dsn, backend))
    except KeyboardInterrupt:
        pass
    except errors as exc:
        sys.exit(f"error: shop: {exc}")


if __name__ == "__main__":
    main()
