"""A named request as a virtual user runs it: the prepared bytes, where they
go, the checks on the answer and the recorder that counts the outcome.

Glossary:

- **plain** action: nothing to judge but the status; the hot path skips
  :meth:`Action.judge` for it.
- **step**: one entry of a plan's ``[[steps]]``: an action, the pause after
  it and whether a failure ends the iteration (:class:`Step`).
- **flow**: what a plain :class:`~redline.load._vu.VirtualUser` cannot do:
  steps, ``${name}`` templates, header capture or a cookie jar. A plan that
  needs any of them runs on :class:`~redline.load._flow.FlowUser`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redline.clock import NS_PER_S
from redline.load._checks import Answer, Check, Extractor, compile_checks, compile_extractor
from redline.load._http import Endpoint, PreparedRequest
from redline.load._template import RequestTemplate
from redline.metrics import EndpointRecorder
from redline.plan import Plan, RequestSpec
from redline.plan._steps import OnFailure, StepSpec

__all__ = [
    "Action",
    "ActionPicker",
    "Program",
    "Step",
    "build_action",
    "build_actions",
    "build_steps",
]

#: Outcome recorded when the status or another check does not pass.
CHECK_FAILED = "check_failed"
#: Outcome recorded when an ``extract`` entry finds nothing in the response.
EXTRACT_FAILED = "extract_failed"
#: Outcome recorded when a ``${name}`` placeholder names a variable that is not set.
TEMPLATE_FAILED = "template_failed"


@dataclass(slots=True)
class Action:
    """One named request, ready for the hot path."""

    request: PreparedRequest
    endpoint: Endpoint
    recorder: EndpointRecorder
    expect_status: frozenset[int] | None
    extract: tuple[tuple[str, Extractor], ...]
    bytes_out: int
    #: A small number naming ``endpoint`` within the plan (for fast lookups).
    slot: int
    #: Checks on the body beyond the status (``body_contains``, ``json``).
    checks: tuple[Check, ...] = ()
    #: How to render the request per send (placeholders, cookies), or None.
    template: RequestTemplate | None = None
    #: The plan's steps and cookie setting, shared by every action of the plan.
    program: Program | None = None
    #: True when there is nothing to judge but the status (no checks, no extraction).
    plain: bool = False

    def __post_init__(self) -> None:
        self.plain = self.expect_status is None and not self.extract and not self.checks

    def judge(
        self,
        status: int,
        body: bytes | None,
        into: dict[str, bytes],
        headers: Sequence[tuple[bytes, bytes]] | None = None,
    ) -> int | str | None:
        """Return the failure outcome for a response, or None when it passed.

        Extracted values are stored in ``into`` (the virtual user's variables).
        ``headers`` are the response's header fields, for requests that keep them.
        """
        if self.expect_status is not None:
            if status not in self.expect_status:
                return CHECK_FAILED
        elif status >= 400:
            return status
        answer = Answer(status, body, headers)
        for check in self.checks:
            if not check(answer):
                return CHECK_FAILED
        for name, extract in self.extract:
            value = extract(answer)
            if value is None:
                return EXTRACT_FAILED
            into[name] = value
        return None

    def sending(self, request: PreparedRequest) -> Action:
        """This action with ``request`` (rendered for one send) in place of the prepared one."""
        return Action(
            request=request,
            endpoint=self.endpoint,
            recorder=self.recorder,
            expect_status=self.expect_status,
            extract=self.extract,
            bytes_out=len(request.wire),
            slot=self.slot,
            checks=self.checks,
            template=self.template,
            program=self.program,
        )


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an iteration: the action, the pause after it, what a failure does."""

    action: Action
    #: The pause after the step, before the next one (or the iteration's end).
    think_ns: int
    #: Whether a failed step (error or failed check) ends the iteration.
    stop_on_failure: bool


@dataclass(slots=True)
class Program:
    """How VUs run a plan's actions: its steps (empty: a weighted pick) and cookies."""

    steps: tuple[Step, ...] = ()
    #: Whether each VU keeps a cookie jar.
    cookies: bool = False


def build_actions(plan: Plan, *, keep_bodies: bool = False) -> list[Action]:
    """Prepare every request of ``plan`` once, before the load starts.

    Args:
        plan: the validated plan.
        keep_bodies: keep every response body (a Python scenario may read any).
    """
    endpoints: dict[str, Endpoint] = {}
    actions = []
    for spec in plan.requests:
        url = spec.url  # absolute once the plan is validated
        key = "/".join(url.split("/", 3)[:3])
        if key not in endpoints:
            endpoints[key] = Endpoint.from_url(url, verify_tls=plan.verify_tls)
        slot = list(endpoints).index(key)
        action = _build_action(spec, url, endpoints[key], slot, keep_bodies, plan.cookies)
        actions.append(action)
    by_name = {spec.name: action for spec, action in zip(plan.requests, actions, strict=True)}
    program = Program(steps=build_steps(plan.steps, by_name), cookies=plan.cookies)
    for action in actions:
        action.program = program
    return actions


def build_steps(specs: Sequence[StepSpec], by_name: Mapping[str, Action]) -> tuple[Step, ...]:
    """The steps of ``specs``, each on the action of its request's name."""
    return tuple(
        Step(
            action=by_name[spec.request],
            think_ns=round(spec.think_time_s * NS_PER_S),
            stop_on_failure=spec.on_failure is OnFailure.STOP,
        )
        for spec in specs
    )


def build_action(
    spec: RequestSpec,
    url: str,
    endpoint: Endpoint,
    slot: int,
    *,
    keep_body: bool,
    cookies: bool = False,
) -> Action:
    """One request prepared for the hot path, outside a plan (a script's ``session.get``)."""
    return _build_action(spec, url, endpoint, slot, keep_body, cookies)


def _build_action(
    spec: RequestSpec, url: str, endpoint: Endpoint, slot: int, keep_body: bool, cookies: bool
) -> Action:
    extractions = spec.extractions
    checks = spec.checks
    reads_body = any(not e.reads_headers for e in extractions.values())
    reads_body = reads_body or (checks is not None and checks.reads_body)
    templated = spec.templated
    # With a placeholder, the prepared bytes only validate the request (and
    # name its flags): a stand-in value passes every check a real one must.
    request = PreparedRequest.build(
        name=spec.name,
        method=spec.method,
        url=url.replace("${", "x{") if templated else url,
        headers={k: v.replace("${", "x{") for k, v in spec.headers.items()},
        body=spec.body.encode() if spec.body is not None else None,
        endpoint=endpoint,
        keep_body=keep_body or reads_body,
        keep_headers=cookies or any(e.reads_headers for e in extractions.values()),
    )
    template = None
    if templated or cookies:
        template = RequestTemplate.compile(spec, request, endpoint)
    statuses = spec.passing_statuses
    return Action(
        request=request,
        endpoint=endpoint,
        recorder=EndpointRecorder(spec.name),
        expect_status=frozenset(statuses) if statuses else None,
        extract=tuple((name, compile_extractor(e)) for name, e in extractions.items()),
        bytes_out=len(request.wire),
        slot=slot,
        checks=compile_checks(checks),
        template=template,
    )


class ActionPicker:
    """Chooses the next action by weight: a table lookup, cheap enough per request.

    For a plan with ``[[steps]]`` every iteration starts with the first step,
    so that is what :attr:`only` and :meth:`pick` give; the VU runs the rest.
    """

    __slots__ = ("_table", "_single", "_random", "cookies", "flow", "steps")

    def __init__(
        self,
        actions: Sequence[Action],
        weights: Sequence[int],
        *,
        seed: int,
        steps: tuple[Step, ...] | None = None,
    ) -> None:
        self._table = [a for a, w in zip(actions, weights, strict=True) for _ in range(w)]
        self._random = random.Random(seed)
        program = actions[0].program if actions else None
        if steps is None:  # the plan's own steps (a scenario passes its own)
            steps = program.steps if program is not None else ()
            if not all(any(step.action is a for a in actions) for step in steps):
                steps = ()  # a picker over some of the plan's requests (one of its scenarios)
        #: The plan's steps (empty: one weighted pick per iteration).
        self.steps: tuple[Step, ...] = steps
        #: Whether each VU keeps a cookie jar.
        self.cookies = program is not None and program.cookies
        #: Whether VUs need more than the plain hot path (see the module glossary).
        self.flow = bool(self.steps) or self.cookies or any(_needs_flow(a) for a in actions)
        first = self.steps[0].action if self.steps else None
        self._single = first or (actions[0] if len(actions) == 1 else None)

    @property
    def only(self) -> Action | None:
        """The one action when the plan has a single request, else None."""
        return self._single

    def pick(self) -> Action:
        """The action for the next iteration."""
        if self._single is not None:
            return self._single
        return self._table[int(self._random.random() * len(self._table))]


def _needs_flow(action: Action) -> bool:
    return action.template is not None or action.request.keep_headers
