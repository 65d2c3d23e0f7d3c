"""The HTTP/1.1 client of the load engine, in one import.

The hot path is split by role: :mod:`~redline.load._wire` holds the data
(endpoints, prepared requests, error kinds), :mod:`~redline.load._connection`
the keep-alive connection on ``asyncio.Protocol`` + ``httptools``, and
:mod:`~redline.load._timeouts` the periodic timeout sweep. Executors import
from here.

Example::

    endpoint = Endpoint.from_url("http://127.0.0.1:8080")
    request = PreparedRequest.build(
        name="home", method="GET", url="/", headers=None, body=None, endpoint=endpoint
    )
    sweeper = TimeoutSweeper(MonotonicClock(), timeout_s=10.0)
    sweeper.start()
    connection = await open_connection(endpoint, timeout_s=5.0)
    sweeper.watch(connection)
    connection.send(request, handler, clock.now_ns())  # handler.on_response(...) follows
"""

from __future__ import annotations

from redline.load._connection import Connection, open_connection
from redline.load._timeouts import DEFAULT_SWEEP_PERIOD_S, TimeoutSweeper
from redline.load._wire import (
    DEFAULT_PORTS,
    USER_AGENT,
    ConnectFailed,
    Endpoint,
    ErrorKind,
    PreparedRequest,
    ResponseHandler,
)

__all__ = [
    "DEFAULT_PORTS",
    "DEFAULT_SWEEP_PERIOD_S",
    "USER_AGENT",
    "ConnectFailed",
    "Connection",
    "Endpoint",
    "ErrorKind",
    "PreparedRequest",
    "ResponseHandler",
    "TimeoutSweeper",
    "open_connection",
]
