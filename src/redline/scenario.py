"""Python scenarios: the flow of an iteration written as an ``async`` function.

A scenario file declares its requests, executor and thresholds as a plan file
does (so every URL is known, and checked for scope, before the load starts),
and adds the code one iteration runs::

    from redline.scenario import Response, Scenario, Session

    scenario = Scenario(
        base_url="http://127.0.0.1:8080",
        requests=[{"name": "login", "method": "POST", "url": "/login", "body": "{}"},
                  {"name": "home", "url": "/"}],
        executor={"type": "constant-vus", "vus": 64, "duration": "30s"},
        thresholds=["p95<300ms"],
    )

    @scenario.iteration
    async def iteration(session: Session) -> None:
        response = await session.request("login")
        response.expect_status(200)
        session.variables["token"] = response.extract(rb'"token": "(\\w+)"')
        await session.request("home")

Run it with ``redline run scenario.py``. A failed check marks the request that
was checked as failed (``check_failed``, ``extract_failed``), as a plan's
``expect_status`` and ``extract`` do; the iteration goes on. A request that
fails outright (refused, timeout, ...) gives a :class:`Response` with status 0
and ``error`` set. An exception ends the iteration and is counted as a
``script_error`` of the request it followed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Generator
from typing import Any

__all__ = ["Iteration", "Response", "Scenario", "Session"]

#: What an iteration function is: given the VU's session, run one iteration.
Iteration = Callable[["Session"], Awaitable[None]]


class Scenario:
    """A scenario: plan keys (as in a TOML plan) and the iteration function.

    Args:
        **plan: the plan's keys: ``requests``, ``executor``, ``base_url``,
            ``thresholds``... exactly as in a TOML plan file.
    """

    def __init__(self, **plan: Any) -> None:
        self.plan: dict[str, Any] = plan
        self.iteration_function: Iteration | None = None

    def iteration(self, function: Iteration) -> Iteration:
        """Decorator: the ``async`` function each iteration runs."""
        self.iteration_function = function
        return function


class Response:
    """What a request gave back, with checks that mark it failed when they fail."""

    __slots__ = ("body", "error", "failure", "status")

    def __init__(self, status: int, body: bytes, error: str | None = None) -> None:
        #: The HTTP status, or 0 when there was no response.
        self.status = status
        #: The response body (empty when there was no response).
        self.body = body
        #: Why there was no response (``"refused"``, ``"timeout"``...), else None.
        self.error = error
        #: The outcome recorded for a failed check, else None.
        self.failure: str | None = error

    @property
    def ok(self) -> bool:
        """True when no error and no failed check (and the status is below 400)."""
        return self.failure is None and self.status < 400

    def expect_status(self, *allowed: int) -> bool:
        """Check the status; when it is not one of ``allowed``, the request counts as failed."""
        if self.status in allowed:
            return True
        if self.failure is None:
            self.failure = "check_failed"
        return False

    def extract(self, pattern: bytes | str) -> bytes | None:
        """The first group of ``pattern`` in the body; no match counts the request as failed."""
        raw = pattern.encode() if isinstance(pattern, str) else pattern
        match = re.search(raw, self.body)
        if match is None:
            if self.failure is None:
                self.failure = "extract_failed"
            return None
        group: bytes = match.group(1)
        return group


class _Send:
    """What ``await session.request(name)`` yields to the VU that drives the iteration."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __await__(self) -> Generator[_Send, Response, Response]:
        response = yield self
        return response


class Session:
    """One VU's view of the scenario: send the plan's requests by name, keep variables."""

    __slots__ = ("variables",)

    def __init__(self) -> None:
        #: Values kept across this VU's iterations.
        self.variables: dict[str, Any] = {}

    def request(self, name: str) -> Awaitable[Response]:
        """Send the plan's request called ``name``; await it for the :class:`Response`."""
        return _Send(name)
