"""The virtual user for plans with steps, ``${name}`` templates, header capture or cookies.

:class:`FlowUser` extends the plain :class:`~redline.load._vu.VirtualUser`
rather than adding branches to it, so a plan that needs none of this keeps the
plain hot path exactly as it is. Per iteration it runs every ``[[steps]]``
entry in order (or, without steps, the one request picked by weight):

1. render the request when it has placeholders or the jar has cookies for its
   host; a placeholder whose variable is not set records ``template_failed``;
2. send it, judge the response (checks, extraction), keep its cookies, record it;
3. pause for the step's think time on the clock (never blocking the loop), then
   go on with the next step, unless the step failed with ``on_failure = "stop"``.

Only the first step is timed from the iteration's intended start (the open
model's schedule); later steps are timed from when they are sent.
"""

from __future__ import annotations

from collections.abc import Callable

from redline.clock import NS_PER_US, TimerHandle
from redline.load._action import TEMPLATE_FAILED, Action, Step
from redline.load._cookies import CookieJar
from redline.load._http import ErrorKind
from redline.load._template import MissingVariable
from redline.load._vu import VirtualUser, WorkerContext

__all__ = ["FlowUser"]


class FlowUser(VirtualUser):
    """A VU that runs an iteration's steps in order, with templates and cookies."""

    __slots__ = ("_jar", "_pause", "_step", "_steps")

    def __init__(
        self, ctx: WorkerContext, on_done: Callable[[VirtualUser], None], *, number: int
    ) -> None:
        super().__init__(ctx, on_done, number=number)
        #: The plan's steps; empty: one weighted pick per iteration.
        self._steps: tuple[Step, ...] = ctx.picker.steps
        #: The index of the step in flight (or pausing after).
        self._step = 0
        self._jar = CookieJar() if ctx.picker.cookies else None
        #: The timer of a pause between steps, while one runs.
        self._pause: TimerHandle | None = None

    def start_iteration(self, intended_ns: int, now_ns: int) -> None:
        self._step = 0
        # The base class fills the variables (data feeders), then sends the
        # first step's action (the picker gives it) through _send below.
        super().start_iteration(intended_ns, now_ns)

    def _send(self, action: Action, now_ns: int) -> None:
        template = action.template
        if template is not None:
            jar = self._jar
            cookie = jar.header_for(action.endpoint.host) if jar is not None else None
            if template.has_variables or cookie is not None:
                try:
                    request = template.render(self.variables, cookie)
                except MissingVariable:
                    self._template_failed(action, now_ns)
                    return
                action = action.sending(request)
        super()._send(action, now_ns)

    def _template_failed(self, action: Action, now_ns: int) -> None:
        self._action = action
        action.recorder.record(0, 0, TEMPLATE_FAILED, True, 0, 0)
        # Went on from a timer, not from here: a run of failing steps (or, in
        # a weighted mix, of iterations) must not recurse through the executor.
        self._after_step(failed=True, now_ns=now_ns, from_timer=True)

    def on_response(self, status: int, body: bytes | None, bytes_in: int) -> None:
        """Judge, keep cookies, record, then go on with the next step."""
        if not self.busy:  # aborted: the answer no longer counts
            return
        now = self._now()
        action = self._action
        assert action is not None  # only ever called while an iteration is in flight
        headers = None
        if action.request.keep_headers:
            headers = self._conns[action.slot].response_headers
            if self._jar is not None and headers:
                self._jar.update(action.endpoint.host, headers)
        if action.plain:
            failure: int | str | None = status if status >= 400 else None
        else:
            failure = action.judge(status, body, self.variables, headers)
        action.recorder.record(
            (now - self._sent_ns) // NS_PER_US,
            (now - self._intended_ns) // NS_PER_US,
            status if failure is None else failure,
            failure is not None,
            bytes_in,
            action.bytes_out,
        )
        self._after_step(failed=failure is not None, now_ns=now)

    def on_error(self, kind: ErrorKind, detail: str) -> None:
        """Record the error, then go on with the next step (or stop, as the step says)."""
        if not self.busy:
            return
        now = self._now()
        self._record_error(kind, now)
        self._after_step(failed=True, now_ns=now)

    def _after_step(self, *, failed: bool, now_ns: int, from_timer: bool = False) -> None:
        steps = self._steps
        step = steps[self._step] if steps else None
        if step is None or (failed and step.stop_on_failure):
            self._step = len(steps)  # nothing left: _next ends the iteration
            pause_ns = 0
        else:
            pause_ns = step.think_ns
        if pause_ns or from_timer:
            self._pause = self._ctx.clock.call_at_ns(now_ns + pause_ns, self._next)
        else:
            self._next()

    def _next(self) -> None:
        """Send the next step, or end the iteration after the last."""
        self._pause = None
        if not self.busy:  # aborted while pausing
            return
        now = self._now()
        self._step += 1
        if self._step >= len(self._steps):
            self.done_ns = now
            self._finish()
            return
        self._intended_ns = now  # later steps are timed from their own send
        self._send(self._steps[self._step].action, now)

    def abort(self) -> bool:
        """Stop now; a pause between steps is cancelled, and no request is cut off by it."""
        pause = self._pause
        if pause is not None:
            self._pause = None
            pause.cancel()
        cut_off = super().abort()
        return cut_off and pause is None
