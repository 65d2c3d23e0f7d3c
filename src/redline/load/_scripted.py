"""A virtual user that runs a Python scenario's iteration function.

The coroutine is driven by hand, like a generator: ``await
session.request(name)`` yields a ``_Send`` to this VU, which sends the request
on its keep-alive connection and, when the response arrives, resumes the
coroutine with it. No asyncio task or future is made per request. Anything
else the coroutine awaits (``asyncio.sleep``, an asyncio future) is waited for
the way an asyncio task would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from redline.clock import NS_PER_US
from redline.load._action import Action
from redline.load._http import ErrorKind
from redline.load._vu import VirtualUser, WorkerContext
from redline.scenario import Iteration, Response, Session, _Send

__all__ = ["ScriptedUser", "scripted_user_factory"]

#: Outcome recorded when the iteration function raised.
SCRIPT_ERROR = "script_error"


class ScriptedUser(VirtualUser):
    """A VU whose iterations are a scenario's ``async`` function."""

    __slots__ = ("_actions", "_coro", "_first", "_on_gone", "_pending", "_script", "_session")

    def __init__(
        self,
        ctx: WorkerContext,
        on_done: Callable[[VirtualUser], None],
        *,
        number: int,
        script: Iteration,
        actions: Mapping[str, Action],
    ) -> None:
        super().__init__(ctx, on_done, number=number)
        self._script = script
        self._actions = actions
        self._session = Session(number)
        self._coro: Coroutine[Any, Any, None] | None = None
        #: True until the iteration's first request is sent: only that one
        #: starts at the schedule's intended time; later ones start when sent.
        self._first = False
        #: The last response, recorded once the script has had its say (checks).
        self._pending: tuple[Action, int, int, Response, int] | None = None
        #: Set while the user's on_stop runs: called once it has, as the VU leaves.
        self._on_gone: Callable[[], None] | None = None

    def start_iteration(self, intended_ns: int, now_ns: int) -> None:
        self._intended_ns = intended_ns
        feeders = self._ctx.feeders
        if feeders and not all(feeder.fill(self._session.variables) for feeder in feeders):
            return  # out of data: stay idle, as a plain VU does (see redline.load._feeder)
        self.busy = True
        self._first = True
        self._coro = self._script(self._session)  # type: ignore[assignment]
        self._step(None)

    def _step(self, value: Response | None) -> None:
        """Resume the iteration until it sends a request, waits, or ends."""
        coro = self._coro
        assert coro is not None  # only while an iteration runs
        try:
            yielded = coro.send(value)
        except StopIteration:
            self._end_iteration(None)
            return
        except Exception as exc:  # the user's code failed: count it, end the iteration
            self._end_iteration(exc)
            return
        if type(yielded) is _Send:
            self._flush()
            action = self._actions.get(yielded.name)
            if action is None:
                self._fail_unknown(yielded.name)
                return
            now = self._now()
            if not self._first:
                self._intended_ns = now
            self._first = False
            self._send(action, now)
        else:
            self._wait_for(yielded)

    def leave(self, on_gone: Callable[[], None]) -> None:
        """Leave the run; a user type's ``on_stop`` runs first, with requests if it likes."""
        user = self._session.user
        if user is None or not user._wants_stop():
            super().leave(on_gone)
            return
        self._on_gone = on_gone
        self.busy = True
        self._first = True
        self._intended_ns = self._now()
        self._coro = user.on_stop()
        self._step(None)

    def _wait_for(self, yielded: object) -> None:
        """Wait for something the script awaited that is not a request."""
        loop = asyncio.get_running_loop()
        if yielded is None:  # a bare yield, as in asyncio.sleep(0)
            loop.call_soon(self._resume_if_busy)
        elif isinstance(yielded, asyncio.Future):
            # What asyncio.Task does with a future a coroutine yields.
            yielded._asyncio_future_blocking = False
            yielded.add_done_callback(lambda _: self._resume_if_busy())
        else:
            self._end_iteration(TypeError(f"a scenario awaited {yielded!r}"))

    def _resume_if_busy(self) -> None:
        if self.busy:
            self._step(None)

    def _fail_unknown(self, name: str) -> None:
        known = ", ".join(self._actions)
        self._end_iteration(KeyError(f"no request named {name!r}; the plan has {known}"))

    def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
        if not self.busy:
            return
        self._stash(Response(status, body or b""), bytes_in)

    def on_error(self, kind: ErrorKind, detail: str) -> None:
        if not self.busy:
            return
        self._stash(Response(0, b"", kind.value), 0)

    def _stash(self, response: Response, bytes_in: int) -> None:
        action = self._action
        assert action is not None  # a request is in flight
        now = self._ctx.clock.now_ns()
        service_us = (now - self._sent_ns) // NS_PER_US
        response_us = (now - self._intended_ns) // NS_PER_US
        self._pending = (action, service_us, response_us, response, bytes_in)
        self._step(response)

    def _flush(self, error: BaseException | None = None) -> None:
        """Record the last response, now that the script has checked it (or failed)."""
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        action, service_us, response_us, response, bytes_in = pending
        failure: int | str | None = response.failure
        if failure is None and error is not None:
            failure = SCRIPT_ERROR
        failed = failure is not None or response.status >= 400
        outcome = response.status if failure is None else failure
        action.recorder.record(service_us, response_us, outcome, failed, bytes_in, action.bytes_out)

    def _end_iteration(self, error: BaseException | None) -> None:
        if error is not None:
            message = f"{type(error).__name__}: {error}"
            errors = self._ctx.script_errors
            errors[message] = errors.get(message, 0) + 1
        self._flush(error)
        self._coro = None
        self.done_ns = self._now()
        on_gone = self._on_gone
        if on_gone is not None:  # that was on_stop: the VU leaves now
            self._on_gone = None
            self.close()
            on_gone()
            return
        self._finish()


def scripted_user_factory(
    script: Iteration, actions: Mapping[str, Action]
) -> Callable[..., VirtualUser]:
    """A ``user_factory`` for :class:`WorkerContext` that makes scripted VUs."""

    def make(
        ctx: WorkerContext, on_done: Callable[[VirtualUser], None], *, number: int
    ) -> VirtualUser:
        return ScriptedUser(ctx, on_done, number=number, script=script, actions=actions)

    return make
