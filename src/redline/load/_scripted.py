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

from pydantic import ValidationError

from redline.clock import NS_PER_US
from redline.load._action import Action, build_action
from redline.load._cookies import CookieJar
from redline.load._http import ErrorKind
from redline.load._vu import VirtualUser, WorkerContext
from redline.metrics import EndpointRecorder
from redline.plan import RequestSpec
from redline.plan._validation import config_errors, first_error
from redline.scenario import Iteration, Response, Session, _Send

__all__ = ["ScriptedUser", "scripted_user_factory"]

#: Outcome recorded when the iteration function raised.
SCRIPT_ERROR = "script_error"


class ScriptedUser(VirtualUser):
    """A VU whose iterations are a scenario's ``async`` function."""

    __slots__ = (
        "_actions",
        "_adhoc",
        "_coro",
        "_jar",
        "_first",
        "_on_gone",
        "_pending",
        "_script",
        "_session",
    )

    def __init__(
        self,
        ctx: WorkerContext,
        on_done: Callable[[VirtualUser], None],
        *,
        number: int,
        script: Iteration,
        actions: Mapping[str, Action],
        adhoc: AdhocActions,
    ) -> None:
        super().__init__(ctx, on_done, number=number)
        self._script = script
        self._actions = actions
        self._adhoc = adhoc
        #: The VU's cookies, when the scenario keeps them (``cookies=True``).
        self._jar = CookieJar() if ctx.picker.cookies else None
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
            if yielded.path is None:
                action = self._actions.get(yielded.name)
                if action is None:
                    self._fail_unknown(yielded.name)
                    return
            else:
                try:
                    action = self._adhoc.action_for(yielded)
                except ValueError as exc:
                    self._end_iteration(exc)
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

    def _send(self, action: Action, now_ns: int) -> None:
        jar, template = self._jar, action.template
        if jar is not None and template is not None:
            cookie = jar.header_for(action.endpoint.host)
            if cookie is not None:
                # A scenario's requests hold no placeholders: only the cookie changes.
                action = action.sending(template.render({}, cookie))
        super()._send(action, now_ns)

    def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
        if not self.busy:
            return
        action = self._action
        assert action is not None  # a request is in flight
        headers = None
        if action.request.keep_headers:
            headers = self._conns[action.slot].response_headers
            if self._jar is not None and headers:
                self._jar.update(action.endpoint.host, headers)
        self._stash(Response(status, body or b"", headers=headers), bytes_in)

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
    script: Iteration, actions: Mapping[str, Action], adhoc: AdhocActions | None = None
) -> Callable[..., VirtualUser]:
    """A ``user_factory`` for :class:`WorkerContext` that makes scripted VUs.

    Args:
        script: the iteration function.
        actions: the plan's requests, by name.
        adhoc: makes the requests a script sends by path; by default, on the
            endpoint of the first of ``actions``, recorded nowhere but the action.
    """
    made = adhoc or AdhocActions(next(iter(actions.values())), register=lambda _a: None)

    def make(
        ctx: WorkerContext, on_done: Callable[[VirtualUser], None], *, number: int
    ) -> VirtualUser:
        return ScriptedUser(ctx, on_done, number=number, script=script, actions=actions, adhoc=made)

    return make


class AdhocActions:
    """The requests a script sends by path (``session.get("/cart")``), each prepared once.

    They go to the plan's ``base_url`` (checked for scope before the run), joined
    as the plan joins its own paths, so a path must start with ``/``. Figures are
    kept per name, and each new name's recorder is handed to ``register`` so the
    worker reports it every second.

    Args:
        base: a plan action on the endpoint the paths are sent to.
        register: called with each newly made action.
        base_url: the plan's ``base_url``; the base action's origin when None.
        cookies: whether the plan keeps cookies (each request then can carry them).
    """

    #: Distinct requests prepared and kept, at most; beyond, each is made anew.
    MAX_KEPT = 1_000
    #: Distinct names (endpoints in the report), at most: give ``name=`` to varying paths.
    MAX_NAMES = 200

    def __init__(
        self,
        base: Action,
        register: Callable[[Action], None],
        *,
        base_url: str | None = None,
        cookies: bool = False,
    ) -> None:
        self._base = base
        self._cookies = cookies
        # Joined as the plan joins its request paths: "http://h/api" + "/cart".
        self._prefix = (base_url or base.endpoint.origin).rstrip("/")
        self._register = register
        self._kept: dict[tuple[object, ...], Action] = {}
        self._recorders: dict[str, EndpointRecorder] = {}

    def action_for(self, send: _Send) -> Action:
        """The action for ``send``; ValueError (a script error) when it cannot be sent."""
        headers = tuple(sorted((send.headers or {}).items()))
        key = (send.method, send.path, send.name, headers, send.body)
        action = self._kept.get(key)
        if action is None:
            action = self._make(send)
            if len(self._kept) < self.MAX_KEPT:
                self._kept[key] = action
        return action

    def _make(self, send: _Send) -> Action:
        path = send.path or ""
        if not path.startswith("/"):
            raise ValueError(
                f"{path!r} is not a path; session.get/post take a path on base_url, "
                "starting with '/'"
            )
        try:
            spec = RequestSpec(
                name=send.name,
                method=send.method,
                url=self._prefix + path,
                headers=dict(send.headers or {}),
                body=send.body,
            )
        except ValidationError as exc:
            raise ValueError(str(first_error(config_errors(exc)))) from None
        recorder = self._recorders.get(send.name)
        if recorder is None:
            if len(self._recorders) >= self.MAX_NAMES:
                raise ValueError(
                    f"more than {self.MAX_NAMES} request names; give name= to paths that vary"
                )
            recorder = self._recorders[send.name] = EndpointRecorder(send.name)
            fresh = True
        else:
            fresh = False
        base = self._base
        action = build_action(
            spec, spec.url, base.endpoint, base.slot, keep_body=True, cookies=self._cookies
        )
        action.recorder = recorder
        if fresh:
            self._register(action)
        return action
