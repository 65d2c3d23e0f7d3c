"""A fixed pool of SQLite connections on an asyncio.Queue: the checkout's (too small) pool."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """``size`` connections; :meth:`connection` waits for a free one and gives it back after.

    ``high_water`` is the most connections ever in use at once: with the pool
    full it equals ``size``, which is how the tests see the cap.
    """

    def __init__(self, connections: Sequence[sqlite3.Connection]) -> None:
        self.size = len(connections)
        self._all = list(connections)
        self._free: asyncio.Queue[sqlite3.Connection] = asyncio.Queue()
        for conn in connections:
            self._free.put_nowait(conn)
        self.in_use = 0
        self.high_water = 0

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[sqlite3.Connection]:
        """A connection for the block's duration (waits while all are taken)."""
        conn = await self._free.get()
        self.in_use += 1
        self.high_water = max(self.high_water, self.in_use)
        try:
            yield conn
        finally:
            self.in_use -= 1
            self._free.put_nowait(conn)

    def close(self) -> None:
        """Close every connection (the pool is unusable after)."""
        for conn in self._all:
            conn.close()
