"""The demos' HTTP/1.1 keep-alive loop: read each request's head (and skip its body), answer it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["answer_requests", "content_length"]


def content_length(head: bytes) -> int:
    """The Content-Length a request head declares (0 when none)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or b"0")
    return 0


async def answer_requests(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    answer: Callable[[bytes], Awaitable[bytes]],
) -> None:
    """Answer each request of one connection with ``answer(head)`` until the client leaves."""
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            await reader.readexactly(content_length(head))  # the body, unread
            writer.write(await answer(head))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
