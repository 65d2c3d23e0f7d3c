"""In-memory stand-ins for a connection's transport and handler (no sockets)."""

from __future__ import annotations

import asyncio
from typing import Any

from redline.load._http import Connection, ErrorKind


class FakeTransport(asyncio.Transport):
    """Records what the connection does to its transport."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class Recorder:
    """A handler that records every call, and what the connection looked like then."""

    def __init__(self, connection: Connection | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.connection = connection
        self.open_when_called: list[bool] = []

    def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
        self.calls.append(("response", status, body, bytes_in))
        if self.connection is not None:
            self.open_when_called.append(self.connection.is_open)

    def on_error(self, kind: ErrorKind, detail: str) -> None:
        self.calls.append(("error", kind, detail))

    @property
    def only(self) -> tuple[Any, ...]:
        assert len(self.calls) == 1, self.calls
        return self.calls[0]


def connected() -> tuple[Connection, FakeTransport]:
    connection = Connection()
    transport = FakeTransport()
    connection.connection_made(transport)
    return connection, transport
