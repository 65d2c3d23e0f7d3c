"""A loopback server whose endpoints answer caches well and badly, for the HTTP cache audit.

:class:`CacheServer` is the shared :class:`~tests.integration.recording_server.RecordingServer`
(``127.0.0.1`` port 0, its own thread and loop) answering by :data:`CACHE_ROUTES`; each
route is named for what it does. ``/slow`` never answers in time.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
from collections.abc import Callable

from tests.integration.recording_server import RecordingServer, Request, Response

#: A JSON body well over the audit's 1 KiB threshold, which gzip shrinks to a few percent.
BIG_JSON = b'{"items": [' + b'{"id": 1, "name": "a thing", "price": 9.5},' * 200 + b"{}]}"
#: The ETag of the endpoints that have one.
ETAG = '"v1"'
#: How long ``/slow`` holds a request.
SLOW_S = 30.0
#: Headers of the well-behaved endpoints.
GOOD = {"Cache-Control": "public, max-age=60", "Content-Type": "application/json"}

_counter = itertools.count()


def plain(request: Request) -> Response:
    return Response(200, b"hello", {"Content-Type": "text/plain"})


def good(request: Request) -> Response:
    """Cache-Control, an ETag that is checked, Vary: Accept-Encoding, gzip when accepted."""
    headers = {**GOOD, "ETag": ETAG, "Vary": "Accept-Encoding"}
    if request.headers.get("If-None-Match") == ETAG:
        return Response(304, b"", headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return Response(
            200, gzip.compress(BIG_JSON, mtime=0), {**headers, "Content-Encoding": "gzip"}
        )
    return Response(200, BIG_JSON, headers)


def etag_ignored(request: Request) -> Response:
    return Response(200, b'{"v": 1}', {**GOOD, "ETag": ETAG})


def big_json(request: Request) -> Response:
    return Response(200, BIG_JSON, GOOD)


def cookie(request: Request) -> Response:
    return Response(200, b'{"v": 1}', {"Content-Type": "application/json", "Set-Cookie": "sid=s1"})


def now(request: Request) -> Response:
    return Response(200, f'{{"n": {next(_counter)}}}'.encode(), GOOD)


def vary_user_agent(request: Request) -> Response:
    return Response(200, b'{"v": 1}', {**GOOD, "Vary": "User-Agent"})


def static_no_store(request: Request) -> Response:
    return Response(200, b"body { color: red }", {"Cache-Control": "no-store",
                                                  "Content-Type": "text/css"})  # fmt: skip


def private(request: Request) -> Response:
    return Response(200, b'{"v": 1}', {**GOOD, "Cache-Control": "private, max-age=60"})


#: What the server does for each path; any other path gets a 404.
CACHE_ROUTES: dict[str, Callable[[Request], Response]] = {
    "/plain": plain,
    "/good": good,
    "/etag-ignored": etag_ignored,
    "/big.json": big_json,
    "/cookie": cookie,
    "/now": now,
    "/vary-ua": vary_user_agent,
    "/app.css": static_no_store,
    "/private": private,
}


def route(request: Request) -> Response:
    handler = CACHE_ROUTES.get(request.path.partition("?")[0])
    return handler(request) if handler is not None else Response(404, b"not found")


class CacheServer(RecordingServer):
    """The recording server answering by :data:`CACHE_ROUTES`; ``/slow`` answers after SLOW_S."""

    def __init__(self) -> None:
        super().__init__(route)

    async def respond(self, request: Request, writer: asyncio.StreamWriter) -> None:
        if request.path == "/slow":
            await asyncio.sleep(SLOW_S)
        await super().respond(request, writer)
