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

Or, like Locust, as user types with weighted tasks; each VU becomes one user
type, in proportion to the types' weights, and each iteration runs one of its
tasks, chosen by weight::

    @scenario.user(weight=3)
    class Browser(User):
        async def on_start(self) -> None:      # once per VU, before its first task
            await self.request("login")

        @task(5)
        async def browse(self) -> None:
            response = await self.request("home")
            response.check(b"welcome" in response.body, "home says welcome")

        @task(1)
        async def search(self) -> None:
            await self.request("search")

Run it with ``redline run scenario.py``. A failed check marks the request that
was checked as failed (``check_failed``, ``extract_failed``), as a plan's
``expect_status`` and ``extract`` do; the iteration goes on. A request that
fails outright (refused, timeout, ...) gives a :class:`Response` with status 0
and ``error`` set. An exception ends the iteration and is counted as a
``script_error`` of the request it followed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any, TypeVar

__all__ = ["Iteration", "Response", "Scenario", "Session", "User", "task"]

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
        #: User types and their weights, in the order they were declared.
        self.users: list[tuple[type[User], int]] = []

    def iteration(self, function: Iteration) -> Iteration:
        """Decorator: the ``async`` function each iteration runs."""
        self.iteration_function = function
        return function

    def user(self, *, weight: int = 1) -> Callable[[UserType], UserType]:
        """Class decorator: a user type, ``weight`` of the mix (a whole number, 1..1000)."""
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 1000:
            raise ValueError(f"user weight: {weight!r} is out of range; allowed 1..1000")

        def register(cls: UserType) -> UserType:
            if not (isinstance(cls, type) and issubclass(cls, User)):
                raise TypeError(
                    f"@scenario.user: {cls!r} is not a subclass of redline.scenario.User"
                )
            if not _tasks_of(cls):
                raise TypeError(f"user type {cls.__name__}: no @task methods; give it at least one")
            self.users.append((cls, weight))
            return cls

        return register


class Response:
    """What a request gave back, with checks that mark it failed when they fail."""

    __slots__ = ("body", "error", "failure", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes,
        error: str | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        #: The HTTP status, or 0 when there was no response.
        self.status = status
        #: The response body (empty when there was no response).
        self.body = body
        #: Why there was no response (``"refused"``, ``"timeout"``...), else None.
        self.error = error
        #: The outcome recorded for a failed check, else None.
        self.failure: str | None = error
        #: The response's header fields, as received, when the plan keeps them
        #: (``cookies=True``); else empty.
        self.headers = headers or []

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None; needs ``cookies=True``."""
        wanted = name.lower().encode()
        for field, value in self.headers:
            if field.lower() == wanted:
                return value.decode("latin-1")
        return None

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

    def check(self, condition: object, name: str) -> bool:
        """A named check: when ``condition`` is false, the request counts as failed.

        The failure is recorded as the outcome ``check:NAME``, so the summary's
        errors list shows how often each check failed. The iteration goes on.
        """
        if condition:
            return True
        if self.failure is None:
            self.failure = f"check:{name}"
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
    """What ``await session.request(name)`` (or ``session.get(path)``) yields to the VU
    that drives the iteration. ``path`` is None for a request of the plan, by name."""

    __slots__ = ("body", "headers", "method", "name", "path")

    def __init__(
        self,
        name: str,
        *,
        method: str = "GET",
        path: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> None:
        self.name = name
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def __await__(self) -> Generator[_Send, Response, Response]:
        response = yield self
        return response


class Session:
    """One VU's view of the scenario: send the plan's requests by name, or any path on
    the plan's ``base_url`` (:meth:`get`, :meth:`post`, :meth:`send`); keep variables."""

    __slots__ = ("number", "user", "variables")

    def __init__(self, number: int = 0) -> None:
        #: The VU's number within its worker (0, 1, ...).
        self.number = number
        #: Values kept across this VU's iterations.
        self.variables: dict[str, Any] = {}
        #: The VU's user object, when the scenario declares user types.
        self.user: User | None = None

    def request(self, name: str) -> Awaitable[Response]:
        """Send the plan's request called ``name``; await it for the :class:`Response`."""
        return _Send(name)

    def send(
        self,
        method: str,
        path: str,
        *,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> Awaitable[Response]:
        """Send ``method path`` to the plan's ``base_url``; figures are kept under ``name``.

        ``path`` starts with ``/`` (the host is the plan's, checked before the run).
        Give a ``name`` to paths that vary (``/items/123``), so they count as one
        endpoint; without one, the path is the name.
        """
        return _Send(name or path, method=method, path=path, headers=headers, body=body)

    def get(
        self, path: str, *, name: str | None = None, headers: Mapping[str, str] | None = None
    ) -> Awaitable[Response]:
        """``GET path`` on the plan's ``base_url`` (see :meth:`send`)."""
        return self.send("GET", path, name=name, headers=headers)

    def post(
        self,
        path: str,
        *,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> Awaitable[Response]:
        """``POST path`` on the plan's ``base_url`` (see :meth:`send`)."""
        return self.send("POST", path, name=name, headers=headers, body=body)


#: A method marked by :func:`task` carries its weight under this attribute.
_TASK_WEIGHT = "_redline_task_weight"

TaskFunction = Callable[[Any], Awaitable[None]]
F = TypeVar("F", bound=TaskFunction)


def task(weight: int = 1) -> Callable[[F], F]:
    """Method decorator: a task of a :class:`User`, chosen in proportion to ``weight``."""
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 1000:
        raise ValueError(f"task weight: {weight!r} is out of range; allowed 1..1000")

    def mark(function: F) -> F:
        setattr(function, _TASK_WEIGHT, weight)
        return function

    return mark


class User:
    """One simulated user of a type: its tasks share ``variables`` and its requests.

    Subclass it, mark ``async`` methods with :func:`task`, and register the class
    with :meth:`Scenario.user`. ``on_start`` runs once per VU, before its first task;
    ``on_stop`` once as it leaves.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        #: Values kept across this user's iterations (the VU's variables).
        self.variables = session.variables
        self._tasks = _tasks_of(type(self))
        self._task_table = [t for t, w in self._tasks for _ in range(w)]
        self._random = random.Random(session.number)
        self._started = False

    @property
    def number(self) -> int:
        """The VU's number within its worker."""
        return self._session.number

    def request(self, name: str) -> Awaitable[Response]:
        """Send the plan's request called ``name``; await it for the :class:`Response`."""
        return _Send(name)

    def get(
        self, path: str, *, name: str | None = None, headers: Mapping[str, str] | None = None
    ) -> Awaitable[Response]:
        """``GET path`` on the plan's ``base_url`` (see :meth:`Session.send`)."""
        return self._session.get(path, name=name, headers=headers)

    def post(
        self,
        path: str,
        *,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> Awaitable[Response]:
        """``POST path`` on the plan's ``base_url`` (see :meth:`Session.send`)."""
        return self._session.post(path, name=name, headers=headers, body=body)

    async def on_start(self) -> None:
        """Runs once per VU before its first task (log in, fetch a token...)."""

    async def on_stop(self) -> None:
        """Runs once as the VU leaves the run (log out...), if it ran ``on_start``.

        It runs when the VU leaves on schedule (the end of the duration, a
        ramp-down, its iterations done) in a closed-model executor; not when
        the run is interrupted or cut off at the end of its graceful stop.
        """

    def _wants_stop(self) -> bool:
        return self._started and type(self).on_stop is not User.on_stop

    async def _run_one(self) -> None:
        if not self._started:
            self._started = True
            await self.on_start()
        chosen = self._task_table[int(self._random.random() * len(self._task_table))]
        await chosen(self)


UserType = TypeVar("UserType", bound=type[User])


def _tasks_of(cls: type[User]) -> list[tuple[TaskFunction, int]]:
    found: list[tuple[TaskFunction, int]] = []
    for name in dir(cls):
        member = getattr(cls, name, None)
        weight = getattr(member, _TASK_WEIGHT, None)
        if callable(member) and isinstance(weight, int):
            found.append((member, weight))
    return found


def user_type_for(number: int, users: list[tuple[type[User], int]]) -> type[User]:
    """The user type of VU ``number``: smooth weighted round-robin over the weights.

    Every prefix of VUs follows the mix as closely as whole VUs allow (3:1 gives
    A, A, B, A, A, A, B, A...), so a small or ramping VU count keeps the mix.
    """
    total = sum(weight for _, weight in users)
    current = [0] * len(users)
    chosen = 0
    for _ in range(number % total + 1):
        for i, (_, weight) in enumerate(users):
            current[i] += weight
        chosen = max(range(len(users)), key=lambda i: current[i])
        current[chosen] -= total
    return users[chosen][0]


def users_iteration(users: list[tuple[type[User], int]]) -> Iteration:
    """The iteration function that runs user types: one task per iteration."""

    async def iteration(session: Session) -> None:
        user = session.user
        if user is None:
            user = session.user = user_type_for(session.number, users)(session)
        await user._run_one()

    return iteration
