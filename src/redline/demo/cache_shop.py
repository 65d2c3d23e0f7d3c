"""A loopback service that reads its items through Redis (cache-aside), for ``run --cache``.

    python -m redline.demo.cache_shop --cache redis://127.0.0.1:6379 --port 8003
    python -m redline.demo.cache_shop --cache ... --keys 20000 --value-bytes 1000  # evicts
    python -m redline.demo.cache_shop --cache ... --no-store        # never fills the cache
    python -m redline.demo.cache_shop --cache ... --slow-every 100  # a slow command now and then

Each request picks one of ``--keys`` items at random and GETs it from Redis;
on a miss it makes the item (``--value-bytes`` of text) and SETs it with a TTL
of ``--ttl-s`` (unless ``--no-store``: every lookup then misses). Every
``--slow-every``-th request also runs a Lua loop of ``--slow-loops``
iterations, which holds Redis for tens of milliseconds: a slow command in its
slowlog. A key space larger than Redis's ``maxmemory`` makes it evict.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys

import redis.asyncio as aioredis
from redis import RedisError

from redline.demo._keepalive import answer_requests
from redline.plan import Dsn, parse_dsn

__all__ = ["main"]

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
#: A loop that holds Redis's one command thread (EVAL runs to its end).
SLOW_SCRIPT = "local i = 0 while i < tonumber(ARGV[1]) do i = i + 1 end return i"


async def _answer(
    client: aioredis.Redis, args: argparse.Namespace, counter: itertools.count[int]
) -> bytes:
    key = f"item:{random.randrange(args.keys)}"  # noqa: S311 - demo data
    value = await client.get(key)
    if value is None:
        value = (key + ":").encode().ljust(args.value_bytes, b"x")
        if not args.no_store:
            await client.set(key, value, ex=args.ttl_s)
    if args.slow_every and next(counter) % args.slow_every == 0:
        await client.eval(SLOW_SCRIPT, 0, args.slow_loops)
    body = value if isinstance(value, bytes) else str(value).encode()
    return _OK + str(len(body)).encode() + b"\r\n\r\n" + body


async def _serve(args: argparse.Namespace, dsn: Dsn) -> None:
    client = aioredis.Redis(
        host=dsn.host, port=dsn.port, db=int(dsn.database or 0), username=dsn.user,
        password=dsn.password(), max_connections=args.connections,
    )  # fmt: skip
    await client.ping()
    counter = itertools.count(1)
    server = await asyncio.start_server(
        lambda r, w: answer_requests(r, w, lambda _: _answer(client, args, counter)),
        "127.0.0.1", args.port, backlog=1024,
    )  # fmt: skip
    sys.stdout.write(f"cache shop on http://127.0.0.1:{args.port}/ (cache {dsn})\n")
    sys.stdout.flush()
    try:
        async with server:
            await server.serve_forever()
    finally:
        await client.aclose()


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True, help="redis://[user:password@]host:port[/db]")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--keys", type=int, default=100, help="items requests pick from")
    parser.add_argument("--value-bytes", type=int, default=200)
    parser.add_argument("--ttl-s", type=int, default=300)
    parser.add_argument("--no-store", action="store_true", help="never SET after a miss")
    parser.add_argument("--slow-every", type=int, default=0, help="a slow command every N")
    parser.add_argument("--slow-loops", type=int, default=3_000_000)
    parser.add_argument("--connections", type=int, default=8, help="the app's pool size")
    args = parser.parse_args(argv)
    dsn = parse_dsn(args.cache, field="--cache", schemes=("redis",))
    try:
        asyncio.run(_serve(args, dsn))
    except KeyboardInterrupt:
        pass
    except (OSError, RedisError) as exc:
        sys.exit(f"error: cache shop: {exc}")


if __name__ == "__main__":
    main()
